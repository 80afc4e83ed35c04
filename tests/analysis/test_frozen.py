"""Frozen inputs: the figures again from them, and nothing that names a person."""

import io
from datetime import date

import numpy as np
import pandas as pd

from analysis.frozen import fingerprint, freeze, submissions, thaw
from analysis.indicators import child_population_for, compute_indicators, prepare_tables
from analysis.output import records
from tests.factories import indicators as f

NAME = "Nguyễn Thị Bé Hai"


def _tables():
    children = [
        f.child(is_csc="1", support_received="health", child_name=NAME,
                dob=date(2015, 3, 4), address_detail="ấp Mỹ Hòa, tổ 5"),
        f.child(commune="30283", abused="1", has_plan="1", review_state="hasIssues"),
    ]  # fmt: skip
    communes = [f.commune(commune="30280", n_children_u16=900)]
    tips = [f.tip(verif_started="1", id_outcome="victim", victim_name=NAME)]
    return f.tables(children=children, communes=communes, tips=tips)


def _frozen(tables):
    population = child_population_for(tables, include_pending=False)
    return freeze(prepare_tables(tables), population), population


def test_thaw__gives_the_same_figures_as_the_tables():
    tables = _tables()
    blob, population = _frozen(tables)
    periods = ["2026", "2026Q3"]

    prepared, thawed_population = thaw(blob)

    direct = compute_indicators(tables, periods=periods)
    again = compute_indicators(
        prepared=prepared, child_population=thawed_population, periods=periods
    )
    assert records(again.frame) == records(direct.frame)
    pd.testing.assert_frame_equal(
        thawed_population, population.reset_index(drop=True), check_dtype=False
    )


def test_freeze__no_name_date_of_birth_or_address_among_what_is_kept():
    blob, _ = _frozen(_tables())

    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        kept = {name: archive[name] for name in archive.files}
    texts = [str(v) for array in kept.values() for v in array.ravel().tolist()]
    days = {int(v) for name, a in kept.items() if "/days/" in name for v in a}
    assert not [t for t in texts if NAME in t or "Mỹ Hòa" in t]
    assert (date(2015, 3, 4) - date(1970, 1, 1)).days not in days
    # What the counting needs is there: the child's age group, not the date.
    assert not any(name.endswith("/dob") for name in kept)


def test_submissions__every_version_read_with_its_review_state():
    prepared, _ = thaw(_frozen(_tables())[0])

    listed = submissions(prepared)

    assert list(listed.columns) == [
        "xml_form_id", "submission_id", "instance_id", "review_state",
    ]  # fmt: skip
    assert len(listed) == 4
    assert set(listed["review_state"]) == {"approved", "hasIssues"}


def test_fingerprint__changes_with_a_review_state_or_the_parameters():
    tables = _tables()
    blob, _ = _frozen(tables)
    same, _ = _frozen(tables)
    tables["ag_child_case"].loc[1, "review_state"] = "approved"
    other, _ = _frozen(tables)
    parameters = {"periods": ["2026"]}

    assert fingerprint(blob, parameters) == fingerprint(same, parameters)
    assert fingerprint(other, parameters) != fingerprint(blob, parameters)
    assert fingerprint(blob, {"periods": ["2025"]}) != fingerprint(blob, parameters)
