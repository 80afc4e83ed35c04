"""Checks of an XLSForm's design that pyxform does not make, run by the build
before converting: each problem is a ``FormBuildError`` naming the form, the
sheet, the row and what to fix."""

from pathlib import Path

from server.errors import FormBuildError
from server.forms.sensitivity import marking_problems


def design_problems(xlsx: Path, xml_form_id: str) -> list[FormBuildError]:
    return [
        FormBuildError(
            f"{what}. Fix it in {xlsx.name} and build again.",
            form=xml_form_id,
            sheet="survey",
            row=row,
        )
        for row, what in marking_problems(xlsx)
    ]
