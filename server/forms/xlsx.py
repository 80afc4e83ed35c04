"""Reading an XLSForm's sheets as rows keyed by column header, with the row
numbers a designer sees in Excel (the header is row 1)."""

from dataclasses import dataclass
from pathlib import Path

import openpyxl


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


def read_sheet(path: Path, sheet: str) -> list[Row]:
    """The non-empty rows of ``sheet`` (empty list when the sheet is absent)."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet not in workbook.sheetnames:
            return []
        rows = workbook[sheet].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        return [
            Row(number, _values(header, cells))
            for number, cells in enumerate(rows, start=2)
            if any(c not in (None, "") for c in cells)
        ]
    finally:
        workbook.close()


def _values(header: list[str], cells: tuple) -> dict[str, str]:
    return {
        name: str(cell).strip()
        for name, cell in zip(header, cells, strict=False)
        if name and cell not in (None, "")
    }


def form_id(path: Path) -> str:
    """The settings sheet's form_id, else the file name (as pyxform does)."""
    settings = read_sheet(path, "settings")
    return (settings[0].get("form_id") if settings else "") or path.stem


def xlsforms(forms_dir: Path) -> list[Path]:
    """The XLSForms of a folder, without the ``~$name.xlsx`` lock files Excel
    leaves beside a workbook it has open."""
    return sorted(p for p in forms_dir.glob("*.xlsx") if not p.name.startswith("~$"))
