import csv
import io
import shutil
import unicodedata

import pytest

from server.errors import InvalidInput
from server.forms import FORMS_DIR
from server.forms.units import UNITS_FILE, load_units, media_files
from server.forms.xlsx import read_sheet


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_media_files__eleven_districts_and_156_communes_with_gso_codes():
    media = media_files(FORMS_DIR)
    districts, communes = _rows(media["districts.csv"]), _rows(media["communes.csv"])
    assert len(districts) == 11
    assert len(communes) == 156
    assert {"name": "883", "label": "Thành phố Long Xuyên"}.items() <= districts[
        0
    ].items()
    assert {d["name"] for d in districts} == {c["district"] for c in communes}
    assert all(len(c["name"]) == 5 and c["name"].isdigit() for c in communes)


def test_every_form__cascades_district_then_commune_from_the_media_files():
    for xlsx in FORMS_DIR.glob("*.xlsx"):
        rows = read_sheet(xlsx, "survey")
        by_type = {r.get("type"): r for r in rows}
        communes = by_type["select_one_from_file communes.csv"]
        district = by_type["select_one_from_file districts.csv"].get("name")
        assert communes.get("choice_filter") == f"district=${{{district}}}"


def test_load_units__names__nfc_and_keyed_by_gso_code():
    communes = {c.code: c for c in load_units(FORMS_DIR)}
    assert communes["30280"].name == "Phường Mỹ Bình"
    assert communes["30280"].district_code == "883"
    assert all(unicodedata.is_normalized("NFC", c.name) for c in communes.values())


def test_load_units__missing_commune__refused(tmp_path):
    lines = (FORMS_DIR / UNITS_FILE).read_text(encoding="utf-8").splitlines()
    (tmp_path / UNITS_FILE).write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="156 communes"):
        load_units(tmp_path)


def test_load_units__bad_code__error_names_the_line(tmp_path):
    shutil.copy(FORMS_DIR / UNITS_FILE, tmp_path / UNITS_FILE)
    text = (tmp_path / UNITS_FILE).read_text(encoding="utf-8")
    (tmp_path / UNITS_FILE).write_text(text.replace(",30283,", ",3028x,"), "utf-8")
    with pytest.raises(InvalidInput, match="line 3: commune_code must be 5 digits"):
        load_units(tmp_path)


def test_unit_list__any_other_copy_in_the_repository__identical():
    """The list is kept once in forms/; a copy elsewhere (analysis/ may not
    import server code) must not drift from it."""
    repo = FORMS_DIR.parent
    source = (FORMS_DIR / UNITS_FILE).read_bytes()
    copies = [
        p
        for p in repo.glob("*/**/*units*2016_2020*.csv")
        if ".venv" not in p.parts and "build" not in p.parts and p.parent != FORMS_DIR
    ]
    for copy in copies:
        assert copy.read_bytes() == source, f"{copy} differs from forms/{UNITS_FILE}"
