"""DR-* and PR-02 from the drug-free commune assessment, worked out by hand.

2026 assessments: 30280 and 30283 (district 883), 30316 (884, rejected),
a duplicate older 2026 submission for 30280, a deleted one for 30319, and a
2025 assessment for 30280.
"""

from datetime import UTC, datetime

import pandas as pd
import pytest

from analysis.indicators import compute_indicators
from tests.analysis.helpers import cell, fraction
from tests.factories import indicators as f

LATE = datetime(2027, 1, 20, tzinfo=UTC)
EARLY = datetime(2027, 1, 5, tzinfo=UTC)


@pytest.fixture
def tables():
    m = f.commune
    communes = [
        m(commune="30280", period_year=2026, submission_date=LATE,
          recog_status="new", drug_comm="1", prost_comm_quarters=4,
          vswt_status="new", n_users_managed=10, n_users_counselled=8,
          n_rehab_family_vol=2, n_rehab_comm_vol=1, n_rehab_comm_comp=1,
          n_decision_compulsory=4, n_decision_executed=3, n_completed_return=2,
          n_postrehab_managed=2, n_job_referral_post=1, n_voc_counsel=3,
          n_voc_trained=2, n_job_referral_inrehab=1, n_loans=1),
        m(commune="30283", period_year=2026, recog_status="maintained",
          drug_comm="1", prost_comm_quarters=3, vswt_status="active",
          n_users_managed=5, n_users_counselled=5, n_loans=2),
        m(district="884", commune="30316", period_year=2026, review_state="rejected",
          recog_status="lost", vswt_status="consolidated", n_loans=50),
        m(commune="30280", period_year=2026, submission_date=EARLY,
          recog_status="not_achieved", n_users_managed=100, n_loans=100),
        m(district="884", commune="30319", period_year=2026, recog_status="new",
          deleted_at=LATE),
        m(commune="30280", period_year=2025, recog_status="new",
          n_users_managed=20, n_users_counselled=10, n_loans=5),
    ]  # fmt: skip
    return f.tables(communes=communes)


def run(tables, period="2026"):
    return compute_indicators(tables, periods=[period], threshold=1)


def test_dr13__share_of_the_fixed_156_communes(tables):
    frame = run(tables).frame

    assert fraction(cell(frame, "DR-13", "89")) == (2, 156, pytest.approx(200 / 156))
    assert fraction(cell(frame, "DR-13", "883")) == (2, 13, pytest.approx(200 / 13))
    # 30316's only assessment was rejected, 30319's deleted: none recognised.
    assert fraction(cell(frame, "DR-13", "884")) == (0, 7, 0.0)
    assert fraction(cell(frame, "DR-13", "30280")) == (1, 1, 100.0)
    # A commune with no assessment still counts in the denominator.
    assert fraction(cell(frame, "DR-13", "30285")) == (0, 1, 0.0)


def test_dr17_pr02_dr14__communes_meeting_the_criterion(tables):
    frame = run(tables).frame

    assert fraction(cell(frame, "DR-17", "89"))[:2] == (2, 156)
    # Only 30280 communicates every quarter.
    assert fraction(cell(frame, "PR-02", "89"))[:2] == (1, 156)
    # Only 30280's team is new or consolidated (30316's answer was rejected).
    assert cell(frame, "DR-14", "89")["value"] == 1


def test_rates_and_counts__sum_of_commune_counts(tables):
    frame = run(tables).frame

    assert fraction(cell(frame, "DR-01", "89")) == (13, 15, pytest.approx(1300 / 15))
    assert cell(frame, "DR-04", "89")["value"] == 4
    assert fraction(cell(frame, "DR-06", "89")) == (3, 4, 75.0)
    assert fraction(cell(frame, "DR-07", "89")) == (2, 2, 100.0)
    assert cell(frame, "DR-08", "89")["value"] == 1
    assert fraction(cell(frame, "DR-09", "89")) == (3, 4, 75.0)
    assert cell(frame, "DR-10b", "89")["value"] == 2
    assert cell(frame, "DR-11", "89")["value"] == 3
    assert cell(frame, "DR-12", "89")["value"] == 1


def test_duplicate_commune_year__latest_submission_counts_and_is_reported(tables):
    result = run(tables)

    # The older 2026 submission for 30280 (100 users, 100 loans) is not counted.
    assert cell(result.frame, "DR-11", "30280")["value"] == 1
    assert any("phiếu thừa cho một xã" in w for w in result.warnings)


def test_zero_denominator__commune_without_decisions(tables):
    frame = run(tables).frame

    row = cell(frame, "DR-06", "30283")
    assert (row["numerator"], row["denominator"]) == (0, 0)
    assert row["status"] == "zero_denominator"


def test_round_over_two_years__sums_flows_and_keeps_latest_status(tables):
    frame = run(tables, period="2016-2020 đợt:2025-01-01..2026-12-31").frame

    # Flows add 2025 to 2026: counselled 8+5+10 of managed 10+5+20.
    assert fraction(cell(frame, "DR-01", "89"))[:2] == (23, 35)
    assert cell(frame, "DR-11", "89")["value"] == 8
    # A commune is recognised once, in its latest year.
    assert fraction(cell(frame, "DR-13", "89"))[:2] == (2, 156)


def test_quarter__annual_form_shows_no_value(tables):
    frame = run(tables, period="2026Q3").frame

    row = cell(frame, "DR-13", "89")
    assert row["status"] == "annual_only"
    assert pd.isna(row["value"])


def test_commune_form__no_sex_or_age_breakdown(tables):
    frame = run(tables).frame

    assert set(frame.loc[frame["indicator"] == "DR-13", "breakdown"]) == {"total"}
