"""Small XLSForms written on the fly, and copies of the real forms folder."""

import shutil
from pathlib import Path

import openpyxl

from server.forms import FORMS_DIR
from server.forms.checks import LANGUAGES

SURVEY_HEADER = ("type", "name", "label", "relevant", "constraint", "calculation")


def write_xlsform(
    path: Path,
    survey: list[tuple[str, ...]],
    *,
    form_id: str = "tiny_form",
    choices: list[tuple[str, str, str]] = (),
    survey_header: tuple[str, ...] = SURVEY_HEADER,
    settings: dict[str, str] | None = None,
) -> Path:
    """An XLSX with survey, choices and settings sheets; survey rows start at
    row 2, in the order given. A plain ``label`` column is written as the
    same text in both languages, so that a test form builds; name the
    ``label::<language>`` columns in the header to test languages."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    for row in _in_both_languages(survey_header, survey):
        sheet.append(row)
    if choices:
        choice_sheet = workbook.create_sheet("choices")
        for row in _in_both_languages(("list_name", "name", "label"), choices):
            choice_sheet.append(row)
    values = {
        "form_id": form_id,
        "form_title": form_id.replace("_", " "),
        "default_language": LANGUAGES[0],
    }
    values.update(settings or {})
    settings_sheet = workbook.create_sheet("settings")
    settings_sheet.append(tuple(values))
    settings_sheet.append(tuple(values.values()))
    workbook.save(path)
    return path


def _in_both_languages(header: tuple[str, ...], rows) -> list[tuple]:
    if "label" not in header:
        return [header, *rows]
    at = header.index("label")
    labels = tuple(f"label::{language}" for language in LANGUAGES)
    return [
        (*header[:at], *labels, *header[at + 1 :]),
        *((*r[:at], r[at], r[at], *r[at + 1 :]) if len(r) > at else r for r in rows),
    ]


def forms_folder(tmp: Path, *, with_forms: bool = True) -> Path:
    """A copy of the real forms folder (unit list, and the XLSForms unless
    ``with_forms`` is false), for tests that add or change a form."""
    folder = tmp / "forms"
    folder.mkdir()
    shutil.copy(FORMS_DIR / "an_giang_units_2016_2020.csv", folder)
    if with_forms:
        for xlsx in FORMS_DIR.glob("*.xlsx"):
            shutil.copy(xlsx, folder)
    return folder


def set_label(xlsx: Path, field: str, label: str) -> None:
    """Change the Vietnamese label of ``field`` in a real form, as a designer
    would in Excel."""
    workbook = openpyxl.load_workbook(xlsx)
    sheet = workbook["survey"]
    header = [c.value for c in sheet[1]]
    name_col = header.index("name")
    label_col = header.index("label::Vietnamese (vi)")
    for row in sheet.iter_rows(min_row=2):
        if row[name_col].value == field:
            row[label_col].value = label
    workbook.save(xlsx)
