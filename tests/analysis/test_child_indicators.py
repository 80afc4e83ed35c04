"""CP-01 to CP-06 from the child case form, expected values worked out by hand.

The dataset (2026, communes 30280 and 30283 of district 883 Long Xuyên, 30316
of district 884 Châu Đốc):

case A, 30280: 10/07 CSC, health support, managed (male, 8)
               20/08 follow-up: CSC, support "none", managed
               01/10 (Q4): CSC, health support, not managed
case B, 30280: 05/07 CSC, psych + education, not managed (female, 12)
case C, 30283: CSC, health, managed, sex and age missing
case D, 30283: CSC, health: REJECTED
case E, 30283: CSC, health: DELETED
case F, 30283: CSC, health: not reviewed (pending)
case G, 30283: CSC, health: edited (pending)
case H, 30316: at risk, managed, family support
case I, 30316: at risk, managed, no support
case J, 30316: at risk, not managed, health support
case K, 30280: 30/06 (Q2) CSC, no support

Q3, approved only: the CSC cases are A (latest in Q3: 20/08), B, C.
"""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from analysis.indicators import compute_indicators
from tests.analysis.helpers import cell, fraction
from tests.factories import indicators as f

JUL, AUG = date(2026, 7, 10), date(2026, 8, 20)


@pytest.fixture
def tables():
    c = f.child
    children = [
        c(case_id="A", commune="30280", visit_date=JUL, is_csc="1",
          support_received="health", is_managed="1", sex="1", age_years="8"),
        c(case_id="A", commune="30280", visit_date=AUG, is_csc="1",
          support_received="none", is_managed="1", sex="1", age_years="8"),
        c(case_id="A", commune="30280", visit_date=date(2026, 10, 1), is_csc="1",
          support_received="health", is_managed="0", sex="1", age_years="8"),
        c(case_id="B", commune="30280", visit_date=date(2026, 7, 5), is_csc="1",
          support_received="psych education", is_managed="0", sex="2",
          age_years="12"),
        c(case_id="C", commune="30283", is_csc="1", support_received="health",
          is_managed="1", sex=None, age_years=None),
        c(case_id="D", commune="30283", is_csc="1", support_received="health",
          review_state="rejected"),
        c(case_id="E", commune="30283", is_csc="1", support_received="health",
          deleted_at=datetime(2026, 9, 1, tzinfo=UTC)),
        c(case_id="F", commune="30283", is_csc="1", support_received="health",
          review_state=None),
        c(case_id="G", commune="30283", is_csc="1", support_received="health",
          review_state="edited"),
        c(case_id="H", district="884", commune="30316", at_risk_csc="1",
          is_managed="1", support_received="family_support"),
        c(case_id="I", district="884", commune="30316", at_risk_csc="1",
          is_managed="1"),
        c(case_id="J", district="884", commune="30316", at_risk_csc="1",
          is_managed="0", support_received="health"),
        c(case_id="K", commune="30280", visit_date=date(2026, 6, 30), is_csc="1"),
    ]  # fmt: skip
    return f.tables(children=children)


def run(tables, period="2026Q3", **kwargs):
    return compute_indicators(tables, periods=[period], threshold=1, **kwargs).frame


def test_cp01__q3__latest_record_of_each_case_counts_once(tables):
    frame = run(tables)

    # A's latest Q3 record has support "none": B and C only are assisted.
    assert fraction(cell(frame, "CP-01", "89")) == (2, 3, pytest.approx(200 / 3))
    assert fraction(cell(frame, "CP-01", "30280")) == (1, 2, 50.0)
    assert fraction(cell(frame, "CP-01", "30283")) == (1, 1, 100.0)
    assert fraction(cell(frame, "CP-01", "883")) == (2, 3, pytest.approx(200 / 3))


def test_cp01__year__record_after_the_quarter_is_the_latest(tables):
    frame = run(tables, period="2026")

    # Cases A (01/10 record: health), B, C, K (Q2, no support).
    assert fraction(cell(frame, "CP-01", "89")) == (3, 4, 75.0)


def test_cp01__commune_with_no_data__zero_denominator_shown(tables):
    frame = run(tables)

    row = cell(frame, "CP-01", "30316")
    assert (row["numerator"], row["denominator"]) == (0, 0)
    assert pd.isna(row["value"])
    assert row["status"] == "zero_denominator"
    empty = cell(frame, "CP-01", "30285")  # Phường Đông Xuyên: no record at all
    assert empty["status"] == "zero_denominator"
    assert empty["n_approved"] == 0


def test_cp01__review_states__counted_per_commune(tables):
    frame = run(tables)

    row = cell(frame, "CP-01", "30283")
    # C approved; F and G pending; D rejected; E deleted is not there at all.
    assert (row["n_approved"], row["n_pending"], row["n_rejected"]) == (1, 2, 1)


def test_cp01__include_pending__counts_all_not_rejected(tables):
    frame = run(tables, include_pending=True)

    # Adds F and G (assisted); D stays out (rejected), E (deleted) too.
    assert fraction(cell(frame, "CP-01", "89")) == (4, 5, 80.0)


def test_cp01__by_sex_and_age__missing_values_in_unknown_cell(tables):
    frame = run(tables)

    male = cell(frame, "CP-01", "89", breakdown="sex", group="Nam")
    female = cell(frame, "CP-01", "89", breakdown="sex", group="Nữ")
    unknown = cell(frame, "CP-01", "89", breakdown="sex", group="Không rõ giới tính")
    assert fraction(male)[:2] == (0, 1)
    assert fraction(female)[:2] == (1, 1)
    assert fraction(unknown)[:2] == (1, 1)
    assert fraction(cell(frame, "CP-01", "89", breakdown="age_group",
                         group="6-10"))[:2] == (0, 1)  # fmt: skip
    assert fraction(cell(frame, "CP-01", "89", breakdown="age_group",
                         group="11-15"))[:2] == (1, 1)  # fmt: skip
    assert fraction(cell(frame, "CP-01", "89", breakdown="age_group",
                         group="Không rõ tuổi"))[:2] == (1, 1)  # fmt: skip


def test_cp06__managed_share_of_csc(tables):
    frame = run(tables)

    # A (20/08 managed) and C managed; B not.
    assert fraction(cell(frame, "CP-06", "89")) == (2, 3, pytest.approx(200 / 3))


def test_cp05__at_risk_managed_with_intervention(tables):
    frame = run(tables)

    # H managed with support; I managed, no support; J supported, not managed.
    row = cell(frame, "CP-05", "884")
    assert fraction(row) == (1, 3, pytest.approx(100 / 3))


def test_cp02__denominator_from_population_table__missing_commune_means_none(
    tables,
):
    chau_doc = ["30316", "30319", "30322", "30325", "30328", "30331", "30334"]
    population = pd.DataFrame(
        {
            "commune_code": ["30280", "30283", *chau_doc],
            "year": 2026,
            "children_under16": [1000, 500, 200, 100, 100, 100, 100, 100, 100],
        }
    )
    frame = run(tables, child_population=population)

    assert fraction(cell(frame, "CP-02", "30280")) == (2, 1000, 0.2)
    assert fraction(cell(frame, "CP-02", "30283")) == (1, 500, 0.2)
    # Every commune of Châu Đốc has a figure: 200 + 6 x 100; no CSC there.
    assert fraction(cell(frame, "CP-02", "884")) == (0, 800, 0.0)
    # Long Xuyên has 11 communes without a figure: no denominator, no value.
    row = cell(frame, "CP-02", "883")
    assert row["status"] == "no_denominator"
    assert pd.isna(row["denominator"]) and pd.isna(row["value"])


def test_cp02__empty_population_table__no_denominator_anywhere(tables):
    frame = run(tables)

    rows = frame[frame["indicator"] == "CP-02"]
    assert set(rows["status"]) == {"no_denominator"}
    assert rows["value"].isna().all()


def test_cp04__abused_or_high_risk_with_plan():
    c = f.child
    children = [
        c(abused="1", has_plan="1"),
        c(abused="1", has_plan="0"),
        c(abused="0", high_risk_abuse="1", has_plan="1"),
        c(abused="98", high_risk_abuse="0"),  # not known: outside the denominator
        c(abused="0", high_risk_abuse="0"),
    ]
    frame = run(f.tables(children=children))

    assert fraction(cell(frame, "CP-04", "30280")) == (2, 3, pytest.approx(200 / 3))


def test_cp03__growth_against_the_same_quarter_a_year_earlier():
    c = f.child
    children = [
        *(
            c(abused="1", abuse_date=date(2026, 8, d), visit_date=date(2026, 10, 5))
            for d in (1, 2, 3)
        ),
        *(
            c(abused="1", abuse_date=date(2025, 8, d), visit_date=date(2025, 8, 9))
            for d in (1, 2)
        ),
        c(abused="1", abuse_date=date(2026, 6, 30)),  # Q2: neither period
    ]
    frame = run(f.tables(children=children))

    # 3 now, 2 a year earlier: (3 - 2) / 2.
    assert fraction(cell(frame, "CP-03", "89")) == (1, 2, 50.0)


def test_cp03__nothing_a_year_earlier__zero_denominator():
    children = [f.child(abused="1", abuse_date=date(2026, 8, 1))]
    frame = run(f.tables(children=children))

    row = cell(frame, "CP-03", "89")
    assert row["status"] == "zero_denominator"
    assert (row["numerator"], row["denominator"]) == (1, 0)


def test_month_and_round_periods__select_by_visit_date(tables):
    month = run(tables, period="2026-07")
    # July: A (10/07), B (05/07), C, D..J (15/07 by default); approved CSC: A, B, C.
    assert fraction(cell(month, "CP-01", "89"))[:2] == (3, 3)
    campaign = run(tables, period="Đợt 1:2026-06-01..2026-07-31")
    # Adds K (30/06, no support).
    assert fraction(cell(campaign, "CP-01", "89"))[:2] == (3, 4)
    assert cell(campaign, "CP-01", "89")["period"] == "Đợt 1"


def test_edited_and_approved__counts_once_with_its_latest_answers():
    # The typed table holds an edited submission once, in its latest version.
    edited = f.child(is_csc="1", support_received="health", edits=2,
                     instance_id="uuid:v3", review_state="approved")  # fmt: skip
    frame = run(f.tables(children=[edited]))

    assert fraction(cell(frame, "CP-01", "89")) == (1, 1, 100.0)
    assert cell(frame, "CP-01", "89")["n_approved"] == 1


def test_age_group__from_date_of_birth_when_age_missing():
    child = f.child(is_csc="1", age_years=None, dob=date(2014, 1, 1))
    frame = run(f.tables(children=[child]))

    # 15/07/2026 - 01/01/2014 = 12 years.
    row = cell(frame, "CP-01", "89", breakdown="age_group", group="11-15")
    assert row["denominator"] == 1


def test_population_table_without_its_columns__says_which_are_missing():
    with pytest.raises(ValueError, match="children_under16"):
        run(f.tables(), child_population=pd.DataFrame({"commune_code": ["30280"]}))


def test_record_without_visit_date__not_counted_and_reported():
    undated = f.child(is_csc="1", visit_date=None)
    result = compute_indicators(
        f.tables(children=[undated]), periods=["2026"], threshold=1
    )

    assert cell(result.frame, "CP-01", "89")["denominator"] == 0
    assert any("không có visit_date" in w for w in result.warnings)


def test_cp03__february_after_a_leap_year__compared_with_the_whole_february():
    # Feb 2025: 3 abused children; Feb 2024 (29 days): 2, one on the 29th.
    # Growth = (3 - 2) / 2 = 50%.
    c = f.child
    children = [
        *(c(abused="1", abuse_date=date(2025, 2, d)) for d in (3, 10, 28)),
        c(abused="1", abuse_date=date(2024, 2, 10)),
        c(abused="1", abuse_date=date(2024, 2, 29)),
    ]

    frame = run(f.tables(children=children), period="2025-02")

    assert fraction(cell(frame, "CP-03", "89")) == (1, 2, 50.0)
