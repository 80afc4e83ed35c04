"""Every indicator the plan sources from a form can be computed from it."""

import csv
from pathlib import Path

import pytest

from server.forms import FORMS_DIR
from server.forms.indicator_fields import (
    COMMUNES_REFERENCE,
    INDICATOR_FIELDS,
    SOURCE_FORMS,
)
from server.forms.units import load_units
from server.forms.xlsx import form_id, read_sheet

# The catalogue as kept in the repository by the indicators code; the shared
# domain copy when working beside it.
CATALOGUES = (
    Path(__file__).resolve().parents[2] / "analysis" / "data" / "indicators.csv",
    Path("/work/shared/domain/indicators.csv"),
)
INDICATORS = next((p for p in CATALOGUES if p.is_file()), CATALOGUES[0])


def _form_indicators() -> list[dict[str, str]]:
    with open(INDICATORS, encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["source_form"] in SOURCE_FORMS]


def _field_types() -> dict[tuple[str, str], str]:
    types = {}
    for xlsx in FORMS_DIR.glob("*.xlsx"):
        for row in read_sheet(xlsx, "survey"):
            types[form_id(xlsx), row.get("name")] = row.get("type").split()[0]
    return types


FORM_INDICATORS = _form_indicators()
FIELD_TYPES = _field_types()


def test_indicator_fields__the_catalogue__has_24_form_indicators():
    assert len(FORM_INDICATORS) == 24
    assert {r["code"] for r in FORM_INDICATORS} == set(INDICATOR_FIELDS)


@pytest.mark.parametrize("row", FORM_INDICATORS, ids=lambda r: r["code"])
def test_indicator_fields__numerator_and_denominator_fields__exist_with_types(row):
    entry = INDICATOR_FIELDS[row["code"]]
    is_count = row["denominator"].strip() == "count"
    assert (entry.denominator is None) == is_count
    terms = [entry.numerator] + ([entry.denominator] if entry.denominator else [])
    for term in terms:
        assert term.fields or term.reference, f"{row['code']}: nothing to count"
        for field in term.fields:
            found = FIELD_TYPES.get((field.form, field.name))
            assert found == field.type, f"{row['code']}: {field} is {found}"
    own_form = SOURCE_FORMS[row["source_form"]]
    assert any(f.form == own_form for f in entry.numerator.fields)


def test_indicator_fields__all_communes_reference__is_the_156_communes():
    uses = [
        i
        for i in INDICATOR_FIELDS.values()
        if i.denominator and i.denominator.reference == COMMUNES_REFERENCE
    ]
    assert {i.code for i in uses} == {"DR-13", "DR-17", "PR-02"}
    assert len(load_units(FORMS_DIR)) == 156


def test_indicator_fields__cp02_denominator__is_a_commune_level_question():
    term = INDICATOR_FIELDS["CP-02"].denominator
    assert [(f.form, f.name, f.type) for f in term.fields] == [
        ("ag_commune_drugfree", "n_children_u16", "integer")
    ]
