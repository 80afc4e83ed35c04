"""Small-cell suppression: primary cells below the threshold, and the
complementary cells that stop a hidden cell being recovered from a total."""

from datetime import date

import numpy as np
import pandas as pd

from analysis.indicators import compute_indicators
from analysis.suppression import COMPLEMENTARY, NOT_SUPPRESSED, PRIMARY, suppress
from tests.analysis.helpers import cell
from tests.factories import indicators as f


def test_suppress__lone_small_cell__smallest_other_part_hidden_too():
    # Cell 0 is the row total 20 = 3 + 8 + 9. Hiding only the 3 leaks it:
    # 20 - 8 - 9 = 3. The 8 must go as well.
    counts = np.array([20.0, 3.0, 8.0, 9.0])
    groups = [(0, np.array([1, 2, 3]))]

    status = suppress([counts], groups, threshold=5)

    assert list(status) == [NOT_SUPPRESSED, PRIMARY, COMPLEMENTARY, NOT_SUPPRESSED]


def test_suppress__zero_cells_are_shown_and_chosen_last():
    counts = np.array([12.0, 2.0, 0.0, 10.0])
    groups = [(0, np.array([1, 2, 3]))]

    status = suppress([counts], groups, threshold=5)

    # Hiding the zero would not help: 12 - 0 - 10 = 2. The 10 goes.
    assert list(status) == [NOT_SUPPRESSED, PRIMARY, NOT_SUPPRESSED, COMPLEMENTARY]


def test_suppress__only_part_left__total_hidden():
    counts = np.array([4.0, 4.0])
    groups = [(0, np.array([1]))]

    status = suppress([counts], groups, threshold=5)

    assert list(status) == [PRIMARY, PRIMARY]


def test_suppress__chain_across_two_margins():
    # A 2 x 2 table with margins: cells a b / c d, row totals r1 r2, column
    # totals k1 k2, grand total g. Only a is small. Hiding a forces a partner in
    # its row and in its column, which forces a fourth cell: the classic
    # rectangle that no margin can undo.
    a, b, c, d = 2.0, 10.0, 11.0, 12.0
    values = [a, b, c, d, a + b, c + d, a + c, b + d, a + b + c + d]
    ids = {"a": 0, "b": 1, "c": 2, "d": 3, "r1": 4, "r2": 5, "k1": 6, "k2": 7}
    groups = [
        (ids["r1"], np.array([0, 1])),
        (ids["r2"], np.array([2, 3])),
        (ids["k1"], np.array([0, 2])),
        (ids["k2"], np.array([1, 3])),
        (8, np.array([ids["r1"], ids["r2"]])),
        (8, np.array([ids["k1"], ids["k2"]])),
    ]

    status = suppress([np.asarray(values)], groups, threshold=5)

    hidden = {name for name, i in ids.items() if status[i] != NOT_SUPPRESSED}
    assert {"a", "b", "c", "d"} <= hidden
    for total, parts in groups:
        members = [total, *parts]
        assert sum(status[m] != NOT_SUPPRESSED for m in members) != 1


def _abused(commune: str, district: str, n: int, **fields) -> list[dict]:
    return [
        f.child(commune=commune, district=district, abused="1", has_plan="1", **fields)
        for _ in range(n)
    ]


def _hidden(row: pd.Series) -> bool:
    return row["status"] == "suppressed" and pd.isna(row["numerator"])


def test_cp04__naive_suppression_would_leak_through_the_district_total():
    # District 883: 3 children in 30280 (small), 10 in 30283. Shown alone, the
    # district total 13 minus 30283's 10 gives 30280's 3 back.
    children = _abused("30280", "883", 3) + _abused("30283", "883", 10)
    frame = compute_indicators(
        f.tables(children=children), periods=["2026Q3"], level="all"
    ).frame

    small = cell(frame, "CP-04", "30280")
    other = cell(frame, "CP-04", "30283")
    district = cell(frame, "CP-04", "883")
    assert _hidden(small) and small["suppression"] == "primary"
    # Either the other commune or the district total must be hidden too.
    assert _hidden(other) or _hidden(district)
    assert other["suppression"] == "complementary"


def test_cp04__no_group_with_a_single_hidden_cell_in_any_output():
    children = (
        _abused("30280", "883", 3, sex="2")
        + _abused("30283", "883", 10)
        + _abused("30316", "884", 7, sex="2")
        + _abused("30319", "884", 6)
    )
    frame = compute_indicators(
        f.tables(children=children), periods=["2026Q3"], level="all"
    ).frame
    rows = frame[frame["indicator"] == "CP-04"]

    for district in ("883", "884"):
        parts = rows[(rows["parent_code"] == district) & (rows["breakdown"] == "total")]
        total = cell(rows, "CP-04", district)
        n_hidden = int(parts["status"].eq("suppressed").sum()) + _hidden(total)
        assert n_hidden != 1, district
    for unit in ("30280", "30283", "30316", "30319", "883", "884", "89"):
        unit_rows = rows[rows["unit_code"] == unit]
        for margin in ("sex", "age_group"):
            part = unit_rows[unit_rows["breakdown"].isin(["total", margin])]
            assert int(part["status"].eq("suppressed").sum()) != 1, (unit, margin)


def test_cp04__sex_margin__small_sex_cell_and_a_partner_hidden():
    # 30283: 10 boys and 2 girls. Girls (2) are small; the boys' cell must go
    # too or 12 - 10 = 2 leaks.
    children = _abused("30283", "883", 10, sex="1") + _abused(
        "30283", "883", 2, sex="2"
    )
    frame = compute_indicators(f.tables(children=children), periods=["2026Q3"]).frame

    girls = cell(frame, "CP-04", "30283", breakdown="sex", group="Nữ")
    boys = cell(frame, "CP-04", "30283", breakdown="sex", group="Nam")
    total = cell(frame, "CP-04", "30283")
    assert _hidden(girls)
    assert _hidden(boys) or _hidden(total)


def test_threshold_is_configurable():
    children = _abused("30280", "883", 3)
    tables = f.tables(children=children)

    shown = compute_indicators(tables, periods=["2026Q3"], threshold=3).frame
    hidden = compute_indicators(tables, periods=["2026Q3"], threshold=4).frame

    assert cell(shown, "CP-04", "30280")["numerator"] == 3
    assert _hidden(cell(hidden, "CP-04", "30280"))


def test_cp03__small_count_a_year_earlier_is_suppressed():
    children = [
        *_abused("30280", "883", 6, abuse_date=date(2026, 8, 1)),
        *_abused("30280", "883", 2, abuse_date=date(2025, 8, 1)),
    ]
    frame = compute_indicators(f.tables(children=children), periods=["2026Q3"]).frame

    assert _hidden(cell(frame, "CP-03", "30280"))


def test_suppressed_cell__review_state_counts_hidden_too():
    children = _abused("30280", "883", 3)
    frame = compute_indicators(f.tables(children=children), periods=["2026Q3"]).frame

    row = cell(frame, "CP-04", "30280")
    assert pd.isna(row["n_approved"]) and pd.isna(row["value"])


def test_not_sensitive_indicator__small_counts_shown():
    children = [f.child(is_csc="1", support_received="health")]
    frame = compute_indicators(f.tables(children=children), periods=["2026Q3"]).frame

    assert cell(frame, "CP-01", "30280")["numerator"] == 1
