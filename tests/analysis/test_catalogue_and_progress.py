"""The catalogue against the plan, periods, and progress against targets."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.catalogue import load_catalogue
from analysis.indicators import SPECS, compute_indicators
from analysis.periods import PeriodError, parse_period
from analysis.progress import compare_with, progress
from tests.analysis.helpers import cell
from tests.factories import indicators as f


def test_catalogue__every_row_of_the_domain_csv():
    source = pd.read_csv("/work/shared/domain/indicators.csv", dtype=str)
    catalogue = load_catalogue()

    assert list(catalogue) == list(source["code"])
    assert len(catalogue) == 67


def test_catalogue__two_figures_for_one_target__both_kept_with_sections():
    cp04 = load_catalogue()["CP-04"]

    figures = {(t.section, t.value, t.compared) for t in cp04.targets}
    assert figures == {("III.2.1.b", 90.0, True), ("I.2", 70.0, False)}
    tv06 = {(t.section, t.value) for t in load_catalogue()["TV-06"].targets}
    assert tv06 == {("I.2", 90.0), ("III.4.1.b", 100.0)}


def test_catalogue__target_year_decides_between_two_compared_figures():
    pr02 = load_catalogue()["PR-02"]

    assert pr02.target_for(2016).value == 75
    assert pr02.target_for(2017).value == 75
    assert pr02.target_for(2019).value == 100
    assert pr02.target_for(2026).value == 100


def test_form_sourced_indicators__each_has_a_computation():
    from_forms = {c for c, ind in load_catalogue().items() if ind.has_data_source}

    assert from_forms == set(SPECS)


def test_other_register__listed_as_no_data_source_yet():
    frame = compute_indicators(f.tables(), periods=["2026"], level="district").frame

    row = cell(frame, "SA-01", "89")
    assert row["status"] == "no_source"
    assert row["status_vi"] == "chưa có nguồn dữ liệu"
    assert row["target_compared"] == ">=55 % (2020, III.1.1.b)"
    assert row["other_targets"] == ">=60 % (2020, I.2)"


def test_outputs_show_which_target_is_compared():
    frame = compute_indicators(f.tables(), periods=["2026"], codes=["CP-04"]).frame

    row = cell(frame, "CP-04", "89")
    assert row["target_section"] == "III.2.1.b"
    assert row["target"] == 90
    assert row["other_targets"] == ">=70 % (2020, I.2)"


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2024Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("Đợt 2:2026-03-15..2026-04-15", date(2026, 3, 15), date(2026, 4, 15)),
    ],
)
def test_parse_period__year_quarter_month_round(text, start, end):
    period = parse_period(text)

    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    "text", ["2026Q5", "2026-13", "Q3", "x:2026-02-01..2026-01-01"]
)
def test_parse_period__unreadable__says_what_to_write(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_progress__after_target_year__met_or_not():
    dr13 = load_catalogue()["DR-13"]
    comparison = compare_with(dr13, parse_period("2026"))

    gap, on_track = progress(np.array([80.0, 70.0, np.nan]), comparison)

    assert comparison.figure == 75
    assert list(gap[:2]) == [-5.0, 5.0]
    assert list(on_track) == [True, False, None]


def test_progress__before_target_year__straight_line_from_the_baseline():
    # CP-02: 4.5% (placed in 2016) down to 3.5% in 2020; in 2018 the line is at
    # 4.5 - 1.0 x 2/4 = 4.0.
    cp02 = load_catalogue()["CP-02"]
    comparison = compare_with(cp02, parse_period("2018"))

    gap, on_track = progress(np.array([3.9, 4.2]), comparison)

    assert comparison.expected == pytest.approx(4.0)
    assert list(on_track) == [True, False]
    assert gap == pytest.approx([0.4, 0.7])


def test_progress__before_target_year_without_baseline__undecided_unless_met():
    cp01 = load_catalogue()["CP-01"]
    comparison = compare_with(cp01, parse_period("2018"))

    _, on_track = progress(np.array([95.0, 50.0]), comparison)

    assert list(on_track) == [True, None]


def test_progress__caller_start_value__draws_the_line_from_it():
    cp01 = load_catalogue()["CP-01"]
    # 50% observed in 2016, 90% in 2020: the line is at 70% in 2018.
    comparison = compare_with(cp01, parse_period("2018"), start=(2016, 50.0))

    _, on_track = progress(np.array([71.0, 69.0]), comparison)

    assert list(on_track) == [True, False]


def test_progress__cumulative_count_target__pro_rated_to_the_period():
    # DR-11: 100 people over 2016-2020 (1,827 days); 2026 has 365 days.
    dr11 = load_catalogue()["DR-11"]
    comparison = compare_with(dr11, parse_period("2026"))

    gap, on_track = progress(np.array([3.0]), comparison)

    assert comparison.figure == pytest.approx(100 * 365 / 1827)
    assert gap[0] == pytest.approx(100 * 365 / 1827 - 3)
    assert on_track[0] is False


def test_progress__plan_period_as_round__full_count_target():
    dr11 = load_catalogue()["DR-11"]
    comparison = compare_with(dr11, parse_period("Kế hoạch:2016-01-01..2020-12-31"))

    assert comparison.figure == pytest.approx(100)


def test_progress__reduce_target__on_track_when_the_growth_is_below_zero():
    cp03 = load_catalogue()["CP-03"]
    comparison = compare_with(cp03, parse_period("2026Q3"))

    gap, on_track = progress(np.array([-20.0, 0.0, 15.0, np.nan]), comparison)

    assert list(on_track) == [True, False, False, None]
    assert np.isnan(gap).all()


def test_period__a_moment_in_utc__placed_by_its_vietnam_date():
    # 30 September 20:00 UTC is 1 October 03:00 in Vietnam: Q4, not Q3.
    late = pd.Timestamp("2026-09-30T20:00:00Z")
    early = pd.Timestamp("2026-09-30T16:59:00Z")  # 23:59 in Vietnam: Q3
    children = [
        f.child(is_csc="1", support_received="health", visit_date=late),
        f.child(is_csc="1", support_received="health", visit_date=early),
    ]
    tables = f.tables(children=children)

    frame = compute_indicators(tables, periods=["2026Q3", "2026Q4"], threshold=1).frame

    q3 = cell(frame, "CP-01", "89", period="2026Q3")
    q4 = cell(frame, "CP-01", "89", period="2026Q4")
    assert (q3["denominator"], q4["denominator"]) == (1, 1)
