"""Checks of an XLSForm's design that pyxform does not make, run by the build
before converting: each problem is a ``FormBuildError`` naming the form, the
sheet, the row and what to fix.

- Sensitivity markings are P, S or P+S (``sensitivity.COLUMN``).
- Vietnamese is the default language and English the second: every label,
  hint, constraint message and required message, on the survey and choices
  sheets, is given in both ``::Vietnamese (vi)`` and ``::English (en)`` or in
  neither (pyxform would silently show a blank or the other language).
- Every text is in Unicode NFC. Vietnamese typed or pasted with combining
  marks looks the same in Excel but compares and sorts differently, and
  Collect, Central and the typed tables would carry both spellings.
"""

import unicodedata
from pathlib import Path

from server.errors import FormBuildError
from server.forms.sensitivity import markings
from server.forms.xlsx import Row, read_sheet

LANGUAGES = ("Vietnamese (vi)", "English (en)")
DEFAULT_LANGUAGE = LANGUAGES[0]
TRANSLATED = ("label", "hint", "constraint_message", "required_message")
SHEETS = ("survey", "choices", "settings")


def design_problems(xlsx: Path, xml_form_id: str) -> list[FormBuildError]:
    sheets = {name: read_sheet(xlsx, name) for name in SHEETS}
    _, marking_problems = markings(sheets["survey"])
    found = [("survey", row, what) for row, what in marking_problems]
    found += _language_problems(sheets)
    found += _nfc_problems(sheets)
    return [
        FormBuildError(
            f"{what}. Fix it in {xlsx.name} and build again.",
            form=xml_form_id,
            sheet=sheet,
            row=row,
        )
        for sheet, row, what in found
    ]


def _language_problems(sheets: dict[str, list[Row]]) -> list[tuple[str, int, str]]:
    found = []
    settings = sheets["settings"][0] if sheets["settings"] else Row(2, {})
    if settings.get("default_language") != DEFAULT_LANGUAGE:
        what = f"default_language must be '{DEFAULT_LANGUAGE}'"
        found.append(("settings", settings.number, what))
    for sheet in ("survey", "choices"):
        for row in sheets[sheet]:
            found += [(sheet, row.number, what) for what in _untranslated(row)]
    return found


def _untranslated(row: Row) -> list[str]:
    problems = []
    for base in TRANSLATED:
        if row.get(base):
            problems.append(
                f"'{base}' has no language: write it in '{base}::{LANGUAGES[0]}' "
                f"and '{base}::{LANGUAGES[1]}'"
            )
            continue
        given = [lang for lang in LANGUAGES if row.get(f"{base}::{lang}")]
        if given and len(given) < len(LANGUAGES):
            missing = next(lang for lang in LANGUAGES if lang not in given)
            problems.append(f"'{base}::{missing}' is empty: give the {base} in both")
    return problems


def _nfc_problems(sheets: dict[str, list[Row]]) -> list[tuple[str, int, str]]:
    return [
        (
            sheet,
            row.number,
            f"'{column}' is not in Unicode NFC (letters with separate combining "
            "marks): retype it, or paste it as plain text from a normalised source",
        )
        for sheet, rows in sheets.items()
        for row in rows
        for column, value in row.values.items()
        if unicodedata.normalize("NFC", value) != value
    ]
