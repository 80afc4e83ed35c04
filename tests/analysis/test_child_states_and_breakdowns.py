"""CP-03 to CP-06 by hand, across communes, by sex and age group, with
missing sex and age, review states and the switch for pending submissions.

CP-04, CP-05, CP-06, Q3 2026 (visited 15/07; boys aged 8 unless said):

approved, counted:
C1 30280           abused, plan; CSC, managed.
C2 30280 girl, 12  high risk of abuse, no plan; CSC, not managed.
C3 30283 sex missing  abused, plan; at risk, managed, health support.
C4 30283 girl, age missing  at risk, managed, support "none".
C5 30316 boy, 4    high risk, plan; CSC, managed.
C6 30316 girl, 14  at risk, not managed, health support.
C7 30316 girl, 9   at risk, managed, psych support; abuse not known (98).

not counted by default:
C8  30280 no review yet: abused, plan; CSC, managed.
C9  30283 hasIssues: at risk, managed, health support.
C10 30280 rejected: abused, plan; CSC, managed.
C11 30283 deleted: at risk, managed, health support.
C12 30316 edited (pending): high risk, no plan; CSC, not managed.

Approved only:
- CP-04 abused or high risk: C1 C2 C3 C5; with a plan: C1 C3 C5 = 3 of 4.
- CP-05 at risk: C3 C4 C6 C7; managed with support: C3 C7 = 2 of 4.
- CP-06 CSC: C1 C2 C5; managed: C1 C5 = 2 of 3.
"""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from analysis.indicators import compute_indicators
from tests.analysis.helpers import cell, fraction
from tests.factories import indicators as f

MY_LONG = {"commune": "30283"}
CHAU_PHU_B = {"district": "884", "commune": "30316"}
ABUSED_PLAN = {"abused": "1", "has_plan": "1"}
AT_RISK_HELPED = {"at_risk_csc": "1", "is_managed": "1", "support_received": "health"}
CSC_MANAGED = {"is_csc": "1", "is_managed": "1"}


@pytest.fixture
def tables():
    c = f.child
    children = [
        c(case_id="C1", **ABUSED_PLAN, **CSC_MANAGED),
        c(case_id="C2", sex="2", age_years="12", high_risk_abuse="1",
          has_plan="0", is_csc="1", is_managed="0"),
        c(case_id="C3", **MY_LONG, sex=None, **ABUSED_PLAN, **AT_RISK_HELPED),
        c(case_id="C4", **MY_LONG, sex="2", age_years=None, at_risk_csc="1",
          is_managed="1", support_received="none"),
        c(case_id="C5", **CHAU_PHU_B, age_years="4", high_risk_abuse="1",
          has_plan="1", **CSC_MANAGED),
        c(case_id="C6", **CHAU_PHU_B, sex="2", age_years="14", at_risk_csc="1",
          is_managed="0", support_received="health"),
        c(case_id="C7", **CHAU_PHU_B, sex="2", age_years="9", at_risk_csc="1",
          is_managed="1", support_received="psych", abused="98"),
        c(case_id="C8", review_state=None, **ABUSED_PLAN, **CSC_MANAGED),
        c(case_id="C9", **MY_LONG, review_state="hasIssues", **AT_RISK_HELPED),
        c(case_id="C10", review_state="rejected", **ABUSED_PLAN,
          **CSC_MANAGED),
        c(case_id="C11", **MY_LONG, deleted_at=datetime(2026, 9, 1, tzinfo=UTC),
          **AT_RISK_HELPED),
        c(case_id="C12", **CHAU_PHU_B, review_state="edited", edits=1,
          high_risk_abuse="1", has_plan="0", is_csc="1", is_managed="0"),
    ]  # fmt: skip
    return f.tables(children=children)


def run(tables, **kwargs):
    return compute_indicators(tables, periods=["2026Q3"], threshold=1, **kwargs).frame


def at(frame, code, unit, breakdown="total", group="", **kwargs):
    row = cell(frame, code, unit, breakdown=breakdown, group=group, **kwargs)
    return fraction(row)[:2]


def test_cp04_cp05_cp06__province__approved_only(tables):
    frame = run(tables)

    assert fraction(cell(frame, "CP-04", "89")) == (3, 4, 75.0)
    assert fraction(cell(frame, "CP-05", "89")) == (2, 4, 50.0)
    assert fraction(cell(frame, "CP-06", "89")) == (2, 3, pytest.approx(200 / 3))


def test_cp04_cp05_cp06__by_commune_and_district(tables):
    frame = run(tables)

    # CP-04: Mỹ Bình C1 (plan) and C2 (none); Mỹ Long C3; Châu Phú B C5.
    assert at(frame, "CP-04", "30280") == (1, 2)
    assert at(frame, "CP-04", "30283") == (1, 1)
    assert at(frame, "CP-04", "30316") == (1, 1)
    assert at(frame, "CP-04", "883") == (2, 3)
    assert at(frame, "CP-04", "884") == (1, 1)
    # CP-05: Mỹ Long C3 (helped) and C4 (no support); Châu Phú B C6 (not
    # managed) and C7 (helped); no child at risk in Mỹ Bình.
    assert at(frame, "CP-05", "30283") == (1, 2)
    assert at(frame, "CP-05", "30316") == (1, 2)
    assert at(frame, "CP-05", "30280") == (0, 0)
    assert cell(frame, "CP-05", "30280")["status"] == "zero_denominator"
    assert at(frame, "CP-05", "883") == (1, 2)
    # CP-06: Mỹ Bình C1 (managed) and C2 (not); Châu Phú B C5; none in Mỹ Long.
    assert at(frame, "CP-06", "30280") == (1, 2)
    assert at(frame, "CP-06", "30316") == (1, 1)
    assert at(frame, "CP-06", "883") == (1, 2)
    assert cell(frame, "CP-06", "30283")["status"] == "zero_denominator"


def test_cp04_cp05_cp06__by_sex__missing_sex_in_its_own_cell(tables):
    frame = run(tables)

    def by_sex(code, group):
        return at(frame, code, "89", "sex", group)

    # CP-04: boys C1, C5 with plans; girl C2 without; C3's sex missing.
    assert by_sex("CP-04", "Nam") == (2, 2)
    assert by_sex("CP-04", "Nữ") == (0, 1)
    assert by_sex("CP-04", "Không rõ giới tính") == (1, 1)
    # CP-05: girls C4, C6, C7 (C7 helped); C3's sex missing; no boy at risk.
    assert by_sex("CP-05", "Nam") == (0, 0)
    assert by_sex("CP-05", "Nữ") == (1, 3)
    assert by_sex("CP-05", "Không rõ giới tính") == (1, 1)
    # CP-06: boys C1, C5 managed; girl C2 not.
    assert by_sex("CP-06", "Nam") == (2, 2)
    assert by_sex("CP-06", "Nữ") == (0, 1)


def test_cp04_cp05_cp06__by_age_group__missing_age_in_its_own_cell(tables):
    frame = run(tables)

    def by_age(code, group, unit="89"):
        return at(frame, code, unit, "age_group", group)

    # CP-04: C5 is 4; C1 and C3 are 8; C2 is 12.
    assert by_age("CP-04", "0-5") == (1, 1)
    assert by_age("CP-04", "6-10") == (2, 2)
    assert by_age("CP-04", "11-15") == (0, 1)
    assert by_age("CP-04", "Không rõ tuổi") == (0, 0)
    # CP-05: C3 (8) and C7 (9) helped; C6 (14) not; C4's age missing.
    assert by_age("CP-05", "6-10") == (2, 2)
    assert by_age("CP-05", "11-15") == (0, 1)
    assert by_age("CP-05", "Không rõ tuổi") == (0, 1)
    # At district level: Châu Đốc's C6 and C7.
    assert by_age("CP-05", "6-10", unit="884") == (1, 1)
    assert by_age("CP-05", "11-15", unit="884") == (0, 1)
    # CP-06: C5 (4) and C1 (8) managed; C2 (12) not.
    assert by_age("CP-06", "0-5") == (1, 1)
    assert by_age("CP-06", "6-10") == (1, 1)
    assert by_age("CP-06", "11-15") == (0, 1)


def test_cp05__commune_cells__broken_down_cp04__totals_only(tables):
    frame = run(tables, level="commune")

    # CP-05 is not small-cell suppressed: Mỹ Long's C3 (sex missing, helped)
    # and C4 (a girl, not helped) each have a cell.
    assert at(frame, "CP-05", "30283", "sex", "Không rõ giới tính") == (1, 1)
    assert at(frame, "CP-05", "30283", "sex", "Nữ") == (0, 1)
    assert at(frame, "CP-05", "30283", "age_group", "Không rõ tuổi") == (0, 1)
    # CP-04 (abuse) is shown by commune as totals only.
    cp04 = frame[frame["indicator"] == "CP-04"]
    assert set(cp04["breakdown"]) == {"total"}


def test_child__review_states__every_submission_counted_in_its_state(tables):
    frame = run(tables)

    # Mỹ Bình: C1 C2 approved, C8 pending, C10 rejected. Mỹ Long: C3 C4
    # approved, C9 pending (C11 deleted). Châu Phú B: C5 C6 C7 approved, C12
    # (edited) pending. The same counts for every indicator of the form.
    expected = {"30280": (2, 1, 1), "30283": (2, 1, 0), "30316": (3, 1, 0)}
    expected["89"] = (7, 3, 1)
    for code in ("CP-04", "CP-05", "CP-06"):
        for unit, states in expected.items():
            row = cell(frame, code, unit)
            assert (row["n_approved"], row["n_pending"], row["n_rejected"]) == states


def test_cp04_cp05_cp06__include_pending__counts_all_not_rejected(tables):
    frame = run(tables, include_pending=True)

    # Adds C8 (abused, plan; CSC managed), C9 (at risk, helped) and C12 (high
    # risk, no plan; CSC not managed); C10 rejected and C11 deleted stay out.
    assert fraction(cell(frame, "CP-04", "89")) == (4, 6, pytest.approx(400 / 6))
    assert fraction(cell(frame, "CP-05", "89")) == (3, 5, 60.0)
    assert fraction(cell(frame, "CP-06", "89")) == (3, 5, 60.0)
    assert at(frame, "CP-05", "30283") == (2, 3)
    assert at(frame, "CP-06", "30316") == (1, 2)


def test_cp05__commune_with_no_data__zero_denominator(tables):
    frame = run(tables)

    row = cell(frame, "CP-05", "30285")  # Phường Đông Xuyên: no record
    assert (row["numerator"], row["denominator"]) == (0, 0)
    assert pd.isna(row["value"]) and row["status"] == "zero_denominator"
    assert (row["n_approved"], row["n_pending"], row["n_rejected"]) == (0, 0, 0)


# CP-03 ------------------------------------------------------------------------
#
# Abused children by the date of the abuse, Q3 2026 against Q3 2025 (boys
# aged 8 unless said; visited on 20/09 of the year unless said):
#
# now  A1 30280            approved, 01/08/2026
#      A2 30280 girl, 12   approved, 20/07/2026; visited twice (one case)
#      A3 30316 sex and age missing, approved, 10/09/2026
#      A4 30283 girl, 4    no review yet, 15/08/2026
#      A5 30283 girl, 4    rejected, 16/08/2026
#      A6 30283            deleted, 17/08/2026
#      A7 30283 girl, 12   edited (pending), 18/08/2026
# then B1 30280            approved, 01/08/2025
#      B2 30316 girl, 12   approved, 10/07/2025
#      B3 30283 girl, 12   hasIssues, 01/09/2025
#      B4 30283            rejected, 02/09/2025
#
# Approved only: now A1 A2 A3 = 3, then B1 B2 = 2: (3 - 2) / 2 = 50%.


@pytest.fixture
def abuse_tables():
    def abused(case_id, on: date, **kwargs):
        kwargs.setdefault("visit_date", date(on.year, 9, 20))
        return f.child(case_id=case_id, abused="1", abuse_date=on, **kwargs)

    now, then = date(2026, 8, 1), date(2025, 8, 1)
    children = [
        abused("A1", now),
        abused("A2", date(2026, 7, 20), sex="2", age_years="12",
               visit_date=date(2026, 7, 25)),
        abused("A2", date(2026, 7, 20), sex="2", age_years="12",
               visit_date=date(2026, 9, 1)),
        abused("A3", date(2026, 9, 10), **CHAU_PHU_B, sex=None,
               age_years=None),
        abused("A4", date(2026, 8, 15), **MY_LONG, sex="2", age_years="4",
               review_state=None),
        abused("A5", date(2026, 8, 16), **MY_LONG, sex="2", age_years="4",
               review_state="rejected"),
        abused("A6", date(2026, 8, 17), **MY_LONG,
               deleted_at=datetime(2026, 9, 20, tzinfo=UTC)),
        abused("A7", date(2026, 8, 18), **MY_LONG, sex="2", age_years="12",
               review_state="edited", edits=1),
        abused("B1", then),
        abused("B2", date(2025, 7, 10), **CHAU_PHU_B, sex="2",
               age_years="12"),
        abused("B3", date(2025, 9, 1), **MY_LONG, sex="2", age_years="12",
               review_state="hasIssues"),
        abused("B4", date(2025, 9, 2), **MY_LONG, review_state="rejected"),
    ]  # fmt: skip
    return f.tables(children=children)


def test_cp03__province_and_districts__growth_on_a_year_earlier(abuse_tables):
    frame = run(abuse_tables)

    assert fraction(cell(frame, "CP-03", "89")) == (1, 2, 50.0)
    # Long Xuyên: A1 A2 now, B1 then: (2 - 1) / 1. Châu Đốc: A3 now, B2 then.
    assert fraction(cell(frame, "CP-03", "883")) == (1, 1, 100.0)
    assert fraction(cell(frame, "CP-03", "884")) == (0, 1, 0.0)
    # Mỹ Long: nothing approved in either year.
    row = cell(frame, "CP-03", "30283")
    assert (row["numerator"], row["denominator"]) == (0, 0)
    assert row["status"] == "zero_denominator"


def test_cp03__by_sex_and_age_group(abuse_tables):
    frame = run(abuse_tables)

    # Boys: A1 now, B1 then. Girls: A2 now, B2 then. Sex missing: A3 now only.
    assert at(frame, "CP-03", "89", "sex", "Nam") == (0, 1)
    assert at(frame, "CP-03", "89", "sex", "Nữ") == (0, 1)
    unknown = cell(frame, "CP-03", "89", breakdown="sex", group="Không rõ giới tính")
    assert (unknown["numerator"], unknown["denominator"]) == (1, 0)
    assert unknown["status"] == "zero_denominator"
    # Aged 8: A1 and B1; aged 12: A2 and B2; age missing: A3.
    assert at(frame, "CP-03", "89", "age_group", "6-10") == (0, 1)
    assert at(frame, "CP-03", "89", "age_group", "11-15") == (0, 1)
    assert at(frame, "CP-03", "89", "age_group", "Không rõ tuổi") == (1, 0)
    assert at(frame, "CP-03", "89", "age_group", "0-5") == (0, 0)
    # By district: Long Xuyên's boys A1 against B1, girls A2 against none.
    assert at(frame, "CP-03", "883", "sex", "Nam") == (0, 1)
    assert at(frame, "CP-03", "883", "sex", "Nữ") == (1, 0)


def test_cp03__review_states__of_the_period_dated_by_abuse(abuse_tables):
    frame = run(abuse_tables)

    # The period's own submissions: Mỹ Long A4 and A7 pending, A5 rejected
    # (A6 deleted); Mỹ Bình A1 and A2's two visits approved.
    row = cell(frame, "CP-03", "30283")
    assert (row["n_approved"], row["n_pending"], row["n_rejected"]) == (0, 2, 1)
    assert cell(frame, "CP-03", "30280")["n_approved"] == 3
    province = cell(frame, "CP-03", "89")
    assert (province["n_approved"], province["n_pending"]) == (4, 2)
    assert province["n_rejected"] == 1


def test_cp03__include_pending__both_years_count_all_not_rejected(abuse_tables):
    frame = run(abuse_tables, include_pending=True)

    # Now A1 A2 A3 A4 A7 = 5; then B1 B2 B3 = 3: (5 - 3) / 3.
    assert fraction(cell(frame, "CP-03", "89")) == (2, 3, pytest.approx(200 / 3))
    # Mỹ Long: A4 A7 now, B3 then.
    assert fraction(cell(frame, "CP-03", "30283")) == (1, 1, 100.0)
