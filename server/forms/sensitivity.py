"""Which fields of each form are identifying (P) or sensitive (S).

The designer marks them in the survey sheet's ``bind::trogiup:sensitivity``
column with ``P``, ``S`` or ``P+S`` (the settings sheet declares the
``trogiup`` namespace in ``namespaces``). pyxform copies the marking onto the
field's bind as a ``trogiup:sensitivity`` attribute: metadata about the field,
never data, which ODK Validate, Central and Collect accept and ignore (checked
with pyxform 4.5 and ODK Validate). So the marking travels with every form
version to Central, where sync reads it from the XForm; this module reads it
from the XLSX sources, for the server code that works from ``forms/``."""

import enum
from functools import cache
from pathlib import Path

from server.errors import InvalidInput
from server.forms import FORMS_DIR
from server.forms.xlsx import Row, form_id, read_sheet, xlsforms

COLUMN = "bind::trogiup:sensitivity"


class Sensitivity(enum.StrEnum):
    PERSONAL = "P"
    SENSITIVE = "S"
    BOTH = "P+S"


def parse_marking(cell: str) -> Sensitivity | None:
    """A cell of the column as a marking (case and spaces ignored), None when
    empty; ``ValueError`` for any other value."""
    value = cell.upper().replace(" ", "")
    return Sensitivity(value) if value else None


def markings(rows: list[Row]) -> tuple[dict[str, Sensitivity], list[tuple[int, str]]]:
    """Of a survey sheet's rows: field name -> marking (unmarked fields absent),
    and (row, what to fix) for every cell of the column that is not a marking."""
    found: dict[str, Sensitivity] = {}
    problems = []
    for row in rows:
        try:
            marking = parse_marking(row.get(COLUMN))
        except ValueError:
            problems.append(
                (row.number, f"{COLUMN} must be P, S or P+S, not {row.get(COLUMN)!r}")
            )
            continue
        if marking is not None:
            found[row.get("name")] = marking
    return found, problems


def read_markings(xlsx: Path) -> dict[str, Sensitivity]:
    """Field name -> marking for one XLSForm; unmarked fields are absent."""
    found, problems = markings(read_sheet(xlsx, "survey"))
    if problems:
        row, what = problems[0]
        raise InvalidInput(
            f"form {form_id(xlsx)}, sheet 'survey', row {row}: {what}",
            form=form_id(xlsx),
            row=row,
        )
    return found


def all_markings(forms_dir: Path = FORMS_DIR) -> dict[str, dict[str, Sensitivity]]:
    """xml_form_id -> field name -> marking, for every XLSForm in the folder."""
    return {form_id(x): read_markings(x) for x in xlsforms(forms_dir)}


@cache
def _cached(forms_dir: Path) -> dict[str, frozenset[str]]:
    return {f: frozenset(m) for f, m in all_markings(forms_dir).items()}


def sensitive_fields(xml_form_id: str, forms_dir: Path = FORMS_DIR) -> frozenset[str]:
    """Names of the fields marked P, S or P+S in ``xml_form_id`` (empty for a
    form that is not in the folder)."""
    return _cached(forms_dir).get(xml_form_id, frozenset())
