"""Small XLSForms written on the fly, and copies of the real forms folder."""

import shutil
from pathlib import Path

import openpyxl

from server.forms import FORMS_DIR

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
    row 2, in the order given."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(survey_header)
    for row in survey:
        sheet.append(row)
    if choices:
        choice_sheet = workbook.create_sheet("choices")
        choice_sheet.append(("list_name", "name", "label"))
        for row in choices:
            choice_sheet.append(row)
    values = {"form_id": form_id, "form_title": form_id.replace("_", " ")}
    values.update(settings or {})
    settings_sheet = workbook.create_sheet("settings")
    settings_sheet.append(tuple(values))
    settings_sheet.append(tuple(values.values()))
    workbook.save(path)
    return path


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
