"""Every indicator the plan sources from a form can be computed from it."""

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import sources
from analysis.forms import prepare_form
from analysis.indicators import SPECS
from analysis.population import from_assessments
from server.forms import FORMS_DIR
from server.forms.indicator_fields import (
    BREAKDOWN_FIELDS,
    CHILD,
    CHILD_KEYS,
    COMMUNE,
    COMMUNE_KEYS,
    COMMUNES_REFERENCE,
    INDICATOR_FIELDS,
    SOURCE_FORMS,
    TIP,
    TIP_KEYS,
)
from server.forms.samples import generate
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


# What analysis/ reads, measured: each answer column of the synthetic
# submissions is taken away in turn, and the per-record numerators and
# denominators (or the placing of records) that change are the ones computed
# from it. analysis/ may not import the server, so this is what keeps its
# reading and the table above from drifting apart.

KEYS = {
    CHILD: {f.name for f in CHILD_KEYS},
    COMMUNE: {f.name for f in COMMUNE_KEYS},
    TIP: {f.name for f in TIP_KEYS},
}
# Enough reviews that the rare answers occur: a refused protection is about
# one review in 250.
SAMPLES = {CHILD: 400, COMMUNE: 400, TIP: 800}


def _frame(documents: list[str]) -> pd.DataFrame:
    """Submissions as a typed table holds them, leaves by name, answers as text."""
    rows = []
    for n, document in enumerate(documents):
        root = ET.fromstring(document)  # noqa: S314 (our own synthetic XML)
        row = {e.tag: e.text for e in root.iter() if len(e) == 0 and e.text}
        row.update(submission_id=f"s{n}", review_state="approved")
        rows.append({**row, "submission_date": "2019-06-01T00:00:00Z"})
    return pd.DataFrame(rows)


def _by_source(prepared) -> dict[str, np.ndarray]:
    """Per-record arrays in the frame's row order (prepare_form sorts them)."""
    arrays = {f"values {k}": v for k, v in prepared.values.items()}
    arrays |= {f"days {k}": v for k, v in prepared.days.items()}
    arrays |= {"slot": prepared.slot, "sex": prepared.sex, "age": prepared.age}
    arrays |= {"case": prepared.case} if prepared.year is None else {}
    arrays |= {"year": prepared.year} if prepared.year is not None else {}
    unsorted = {}
    for name, array in arrays.items():
        unsorted[name] = np.empty_like(array)
        unsorted[name][prepared.source_row] = array
    return unsorted


def _changed(before: dict, after: dict) -> set[str]:
    return {k for k in before if not np.array_equal(before[k], after[k])}


@pytest.fixture(scope="module")
def frames(built_forms) -> dict[str, pd.DataFrame]:
    """form -> a table of its synthetic submissions, every answer a column."""
    found = {}
    for form, count in SAMPLES.items():
        xform = built_forms[form].xform.read_text(encoding="utf-8")
        documents = generate(xform, count=count, seed=5, years=(2018, 2019, 2020))
        found[form] = _frame(documents)
    return found


@pytest.fixture(scope="module")
def readings(frames) -> dict[str, dict[str, set[str]]]:
    """form -> array name -> the answer columns it changes with."""
    found = {}
    for form, frame in frames.items():
        base = _by_source(prepare_form(form, frame))
        reads: dict[str, set[str]] = {name: set() for name in base}
        for column in set(frame.columns) - set(sources.STANDARD) - {"submission_id"}:
            after = _by_source(prepare_form(form, frame.drop(columns=column)))
            for name in _changed(base, after):
                reads[name].add(column)
        if form == COMMUNE:
            reads["population"] = _population_reads(frame)
        found[form] = reads
    return found


def _population_reads(frame: pd.DataFrame) -> set[str]:
    base = from_assessments(frame, include_pending=False)
    return {
        column
        for column in set(frame.columns) - set(sources.STANDARD)
        if not base.equals(
            from_assessments(frame.drop(columns=column), include_pending=False)
        )
    }


def _declared(term, form: str) -> set[str]:
    """A term's answer fields: calculate fields left out (analysis recomputes
    every flag from the answers), and the keys that place every record."""
    return {
        f.name
        for f in term.fields
        if f.form == form and f.type != "calculate" and f.name not in KEYS[form]
    }


def _analysis_reads(code: str, part: str, readings) -> set[str]:
    spec = SPECS[code]
    reads = readings[spec.form]
    if part == "den" and spec.denominator == "previous":
        part = "num"
    if part == "den" and spec.denominator == "population":
        return readings[COMMUNE]["population"] - KEYS[COMMUNE]
    read = set(reads.get(f"values {code}:{part}", set()))
    if spec.date and spec.date not in KEYS[spec.form]:
        read |= reads[f"days {spec.date}"]
    return read - KEYS[spec.form]


@pytest.mark.java
@pytest.mark.parametrize("code", sorted(INDICATOR_FIELDS))
def test_indicator_fields__declared__are_exactly_what_analysis_reads(code, readings):
    entry = INDICATOR_FIELDS[code]
    form = SPECS[code].form
    assert _declared(entry.numerator, form) == _analysis_reads(code, "num", readings)
    if entry.denominator is not None and not entry.denominator.reference:
        declared = _declared(entry.denominator, entry.denominator.fields[0].form)
        assert declared == _analysis_reads(code, "den", readings)


@pytest.mark.java
def test_indicator_fields__everything_analysis_reads__is_fetched_by_sources(readings):
    for form, reads in readings.items():
        fetched = set(sources.STANDARD) | set(sources.COLUMNS[form])
        assert set().union(*reads.values()) <= fetched, form
        declared = {
            f.name
            for i in INDICATOR_FIELDS.values()
            for term in (i.numerator, i.denominator)
            if term is not None
            for f in term.fields
            if f.form == form and f.type != "calculate"
        }
        assert declared | KEYS[form] <= fetched, form


def test_indicator_fields__breakdown_fields__exist_with_types_and_are_fetched():
    for form, fields in BREAKDOWN_FIELDS.items():
        for field in fields:
            assert FIELD_TYPES.get((form, field.name)) == field.type, field
            assert field.name in sources.COLUMNS[form], field


@pytest.mark.java
def test_indicator_fields__what_sex_and_age_read__is_in_breakdown_fields(readings):
    for form, reads in readings.items():
        declared = {f.name for f in BREAKDOWN_FIELDS.get(form, ())}
        assert reads["sex"] | reads["age"] <= declared, form


@pytest.mark.java
@pytest.mark.parametrize("form", sorted(BREAKDOWN_FIELDS))
def test_indicator_fields__breakdown_fields_taken_away__change_sex_and_age(
    form, frames
):
    # Taken away one at a time, a breakdown field may change nothing (the
    # trafficking age falls back from age_at_receipt to age_declared), so
    # they are taken away together.
    names = [f.name for f in BREAKDOWN_FIELDS[form]]
    frame = frames[form]
    assert set(names) <= set(frame.columns)
    base = _by_source(prepare_form(form, frame))
    without = _by_source(prepare_form(form, frame.drop(columns=names)))
    assert {"sex", "age"} <= _changed(base, without)


@pytest.mark.java
def test_indicator_fields__the_columns_sources_fetch__alone_give_every_figure(frames):
    # Taking columns away one at a time misses an answer that stands in for
    # another: the age falls back on dob, which sources never fetch.
    for form, frame in frames.items():
        fetched = [c for c in (*sources.STANDARD, *sources.COLUMNS[form]) if c in frame]
        base = _by_source(prepare_form(form, frame))
        only_fetched = _by_source(prepare_form(form, frame[fetched]))
        assert not _changed(base, only_fetched), form
