"""The one administrative unit list (11 districts, 156 communes, 2016-2020 GSO
codes) and the two media files every form's cascade reads from it.

The list is kept once, in ``forms/an_giang_units_2016_2020.csv``; the
``districts.csv`` and ``communes.csv`` that Collect reads are generated from it
at build time, so a correction is made in one place."""

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from server.errors import InvalidInput

UNITS_FILE = "an_giang_units_2016_2020.csv"
COLUMNS = (
    "district_code",
    "district_name_vi",
    "district_type",
    "commune_code",
    "commune_name_vi",
    "commune_type",
)
# The plan's denominators (117/156 communes, 11 districts) refer to this list.
EXPECTED_DISTRICTS = 11
EXPECTED_COMMUNES = 156


@dataclass(frozen=True)
class Commune:
    district_code: str
    district_name: str
    district_type: str
    code: str
    name: str
    type: str


def load_units(forms_dir: Path) -> list[Commune]:
    """The communes of the unit list, checked: codes unique, 11 districts and
    156 communes, names in NFC."""
    path = forms_dir / UNITS_FILE
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise InvalidInput(
                f"{path}: the header must be {','.join(COLUMNS)}", path=str(path)
            )
        communes = [_commune(row, path, n) for n, row in enumerate(reader, start=2)]
    _check_counts(communes, path)
    return communes


def _commune(row: dict[str, str], path: Path, line: int) -> Commune:
    values = {
        k: unicodedata.normalize("NFC", (v or "").strip()) for k, v in row.items()
    }
    if not (values["district_code"].isdigit() and len(values["district_code"]) == 3):
        raise InvalidInput(
            f"{path}, line {line}: district_code must be 3 digits", path=str(path)
        )
    if not (values["commune_code"].isdigit() and len(values["commune_code"]) == 5):
        raise InvalidInput(
            f"{path}, line {line}: commune_code must be 5 digits", path=str(path)
        )
    return Commune(
        district_code=values["district_code"],
        district_name=values["district_name_vi"],
        district_type=values["district_type"],
        code=values["commune_code"],
        name=values["commune_name_vi"],
        type=values["commune_type"],
    )


def _check_counts(communes: list[Commune], path: Path) -> None:
    codes = [c.code for c in communes]
    if len(set(codes)) != len(codes):
        raise InvalidInput(f"{path}: a commune code appears twice", path=str(path))
    districts = {c.district_code for c in communes}
    if (len(districts), len(communes)) != (EXPECTED_DISTRICTS, EXPECTED_COMMUNES):
        raise InvalidInput(
            f"{path}: expected {EXPECTED_DISTRICTS} districts and "
            f"{EXPECTED_COMMUNES} communes (the plan's 2016-2020 list), found "
            f"{len(districts)} and {len(communes)}",
            path=str(path),
        )


def districts_csv(communes: list[Commune]) -> bytes:
    """``districts.csv`` for ``select_one_from_file``: name = GSO code."""
    seen: dict[str, Commune] = {}
    for c in communes:
        seen.setdefault(c.district_code, c)
    rows = [(c.district_code, c.district_name, c.district_type) for c in seen.values()]
    return _csv(("name", "label", "district_type"), rows)


def communes_csv(communes: list[Commune]) -> bytes:
    """``communes.csv``: filtered on ``district`` by the forms' choice_filter."""
    rows = [(c.code, c.name, c.district_code, c.type) for c in communes]
    return _csv(("name", "label", "district", "commune_type"), rows)


def media_files(forms_dir: Path) -> dict[str, bytes]:
    communes = load_units(forms_dir)
    return {
        "districts.csv": districts_csv(communes),
        "communes.csv": communes_csv(communes),
    }


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
