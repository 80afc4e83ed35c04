"""CP-02's denominator: the reference table first, the commune assessments'
``n_children_u16`` where it has no figure. Expected values worked out by hand."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from analysis.indicators import compute_indicators
from analysis.population import child_population
from tests.analysis.helpers import cell, fraction
from tests.factories import indicators as f

EARLY = datetime(2026, 3, 1, tzinfo=UTC)
LATE = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture
def assessments():
    c = f.commune
    return f.table(
        "ag_commune_drugfree",
        [
            # In the reference table too: the reference wins.
            c(commune="30280", n_children_u16=480),
            # Assessed twice: the later submission wins.
            c(commune="30283", n_children_u16=250, submission_date=EARLY),
            c(commune="30283", n_children_u16=300, submission_date=LATE),
            c(commune="30285", n_children_u16=200, review_state=None),
            c(commune="30286", n_children_u16=100, review_state="rejected"),
            c(commune="30289", n_children_u16=50, deleted_at=LATE),
            c(commune="30292", n_children_u16=None),
        ],
    )


REFERENCE = pd.DataFrame(
    {"commune_code": ["30280"], "year": [2026], "children_under16": [500]}
)


def figures(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["commune_code"], frame["children_under16"], strict=True))


def test_child_population__reference_first_then_latest_approved_assessment(
    assessments,
):
    table = child_population(REFERENCE, assessments, include_pending=False)

    assert figures(table) == {"30280": 500, "30283": 300}


def test_child_population__include_pending__adds_unreviewed_never_rejected(
    assessments,
):
    table = child_population(REFERENCE, assessments, include_pending=True)

    assert figures(table) == {"30280": 500, "30283": 300, "30285": 200}


def test_cp02__denominator_from_the_commune_assessment():
    children = [
        f.child(commune="30283", is_csc="1"),
        f.child(commune="30283", is_csc="1"),
        f.child(commune="30283", is_csc="0"),
    ]
    communes = [f.commune(commune="30283", n_children_u16=400)]
    tables = f.tables(children=children, communes=communes)

    frame = compute_indicators(tables, periods=["2026"], threshold=1).frame

    # 2 children in special circumstances among 400 under 16: 0.5%.
    assert fraction(cell(frame, "CP-02", "30283")) == (2, 400, 0.5)
    # The other communes of Long Xuyên gave no figure: no district denominator.
    assert cell(frame, "CP-02", "883")["status"] == "no_denominator"
