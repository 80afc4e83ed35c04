"""Small-cell suppression: small counts hidden, and complementary cells
hidden until no reader can work a hidden count out of what is shown.

The reader of tests/analysis/disclosure.py checks that claim on its own
terms (atoms, non-negative counts); it shares no code with the suppression.
"""

import itertools
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analysis.forms import AGE_GROUPS
from analysis.indicators import compute_indicators
from analysis.suppression import (
    Lattice,
    breakdown_axis,
    period_axis,
    protect,
    tree_axis,
)
from analysis.units import load_units
from tests.analysis.disclosure import recovered
from tests.analysis.helpers import cell
from tests.factories import indicators as f

# A small lattice: three months and their quarter, a province with two
# districts of two and three communes, two sexes and two age groups.
MONTHS = [
    (date(2026, 7, 1), date(2026, 7, 31)),
    (date(2026, 8, 1), date(2026, 8, 31)),
    (date(2026, 9, 1), date(2026, 9, 30)),
]
PARENT = [-1, 0, 0, 1, 1, 2, 2, 2]
SLOTS = [3, 4, 5, 6, 7]


def small_lattice(commune_breakdowns: bool = True) -> Lattice:
    periods = period_axis([*MONTHS, (date(2026, 7, 1), date(2026, 9, 30))])
    units, breakdowns = tree_axis(PARENT), breakdown_axis(2, 2)
    published = np.ones((periods.size, units.size, breakdowns.size), dtype=bool)
    if not commune_breakdowns:
        published[:, 3:, 1:] = False
    return Lattice(periods, units, breakdowns, published.ravel())


def atom_masks(lattice: Lattice) -> np.ndarray:
    """cells x atoms (month, commune, sex, age): which atoms each cell sums."""
    periods, units, breakdowns = lattice.axes
    atoms = list(itertools.product(range(3), SLOTS, range(2), range(2)))
    masks = np.zeros((lattice.n_cells, len(atoms)), dtype=bool)
    for j, (month, slot, sex, age) in enumerate(atoms):
        for p, g in itertools.product(range(periods.size), range(units.size)):
            if periods.contains[p, month] and units.contains[g, slot]:
                for b in (0, 1 + sex, 3 + age):
                    masks[(p * units.size + g) * breakdowns.size + b, j] = True
    return masks


def month_commune_masks(n_months: int, n_communes: int) -> np.ndarray:
    """cells x atoms (month, commune) of a lattice of the months and their
    total by the province and its communes."""
    shape = (n_months + 1, n_communes + 1, n_months, n_communes)
    masks = np.zeros(shape, dtype=bool)
    for p, u in itertools.product(range(n_months + 1), range(n_communes + 1)):
        months = [p] if p < n_months else slice(None)
        communes = [u - 1] if u else slice(None)
        masks[p, u][
            np.ix_(np.arange(n_months)[months], np.arange(n_communes)[communes])
        ] = True
    return masks.reshape(shape[0] * shape[1], -1)


def exposed(lattice, hidden, masks, atom_counts, threshold=5) -> list[int]:
    values = masks @ atom_counts
    published = np.flatnonzero(lattice.published)
    shown = [(masks[c], values[c]) for c in published if not hidden[c]]
    hide = [(masks[c], values[c]) for c in published if hidden[c]]
    return recovered(shown, hide, threshold=threshold)


@pytest.mark.parametrize("commune_breakdowns", [True, False])
@pytest.mark.parametrize("seed", range(80))
def test_protect__random_tables__no_small_count_can_be_worked_out(
    seed, commune_breakdowns
):
    rng = np.random.default_rng(seed)
    lattice = small_lattice(commune_breakdowns)
    masks = atom_masks(lattice)
    atom_counts = rng.poisson(rng.choice([0.05, 0.3, 1, 4]), masks.shape[1])

    hidden = protect(lattice, (masks @ atom_counts)[None], 5)

    values = masks @ atom_counts
    assert not (lattice.published & (values > 0) & (values < 5) & ~hidden).any()
    assert exposed(lattice, hidden, masks, atom_counts) == []


@pytest.mark.parametrize("seed", range(40))
def test_protect__several_counts__none_worked_out(seed):
    # A numerator, its denominator and their difference, as a family has.
    rng = np.random.default_rng(seed)
    lattice = small_lattice(commune_breakdowns=False)
    masks = atom_masks(lattice)
    den = rng.poisson(1.5, masks.shape[1])
    num = rng.binomial(den, 0.7)
    counts = np.array([masks @ num, masks @ den, masks @ (den - num)])

    hidden = protect(lattice, counts, 5)

    for atom_counts in (num, den, den - num):
        assert exposed(lattice, hidden, masks, atom_counts) == []


def test_protect__lone_small_part__a_partner_hidden_so_the_total_does_not_give_it():
    # One district's July: total 20 = communes 3 + 8 + 9 (in the naive
    # table only the 3 would go, and 20 - 8 - 9 gives it back).
    lattice = Lattice(
        period_axis(MONTHS[:1]), tree_axis([-1, 0, 0, 0]), breakdown_axis(1, 1)
    )
    counts = np.array([[20.0, 3.0, 8.0, 9.0]])

    hidden = protect(lattice, counts, 5)

    assert hidden.tolist() == [False, True, True, False]


def test_protect__a_shown_zero_counts_as_known_below_it():
    # Commune 1: July 2 (small), August 0, September 6; commune 2: 6, 0, 0.
    # The province's August, 0, is shown. A reader knows every commune's
    # August is 0 then, even where it is hidden: a protection blind to that
    # leaves July = quarter - August - September, with September given by
    # the province's September less commune 2's.
    lattice = Lattice(
        period_axis([*MONTHS, (date(2026, 7, 1), date(2026, 9, 30))]),
        tree_axis([-1, 0, 0]),
        breakdown_axis(1, 1),
    )
    masks = month_commune_masks(3, 2)
    values = masks @ np.array([[2, 6], [0, 0], [6, 0]]).ravel()

    hidden = protect(lattice, values[None], 5)

    assert hidden[1]  # commune 1's July
    shown = [(masks[c], values[c]) for c in range(12) if not hidden[c]]
    hide = [(masks[c], values[c]) for c in range(12) if hidden[c]]
    assert recovered(shown, hide, threshold=5) == []


def test_determined__zeros_under_a_shown_zero__taken_as_known():
    # A table and hidden cells found by search (seed 560) where two hidden 1s
    # can be worked out only by a reader who knows that everything under a
    # shown zero is zero.
    lattice = small_lattice(commune_breakdowns=False)
    masks = atom_masks(lattice)
    rng = np.random.default_rng(560)
    atom_counts = rng.poisson(0.4, masks.shape[1])
    values = masks @ atom_counts
    hidden = lattice.published & (rng.random(lattice.n_cells) < 0.35)

    plain = lattice.determined(hidden)
    knowing = lattice.determined(hidden, lattice.zero_known(hidden, values))

    cells = np.flatnonzero(knowing & ~plain)
    assert cells.tolist() == [55, 60] and values[cells].tolist() == [1, 1]
    published = np.flatnonzero(lattice.published)
    shown = [(masks[c], values[c]) for c in published if not hidden[c]]
    assert recovered(shown, [(masks[c], values[c]) for c in cells], threshold=5) == [
        0,
        1,
    ]


# Four months and their total, by four communes and the province: the months
# 1-2 x communes 1-2 and the months 3-4 x communes 3-4 hidden, and one bridge,
# month 2 x commune 3. No relation is ever left with one unknown, yet the
# relations together fix the bridge: only the full solve sees it.
BRIDGE_MONTHS = [(date(2026, m, 1), date(2026, m + 1, 1)) for m in range(1, 5)]
BRIDGE_HIDDEN = [(0, 1), (0, 2), (1, 1), (1, 2), (2, 3), (2, 4), (3, 3), (3, 4)]
BRIDGE = (1, 3)


def bridge_lattice() -> Lattice:
    months = [(a, b - timedelta(days=1)) for a, b in BRIDGE_MONTHS]
    periods = period_axis([*months, (months[0][0], months[-1][1])])
    return Lattice(periods, tree_axis([-1, 0, 0, 0, 0]), breakdown_axis(1, 1))


def bridge_values() -> np.ndarray:
    """2 in each hidden month x commune, 20 in every other: the hidden cells
    are the only small ones."""
    atoms = np.full((4, 4), 20)
    for p, u in [*BRIDGE_HIDDEN, BRIDGE]:
        atoms[p, u - 1] = 2
    return month_commune_masks(4, 4) @ atoms.ravel()


def test_determined__a_cell_no_chain_reaches__found_by_the_full_solve():
    lattice = bridge_lattice()
    cells = [p * 5 + u for p, u in [*BRIDGE_HIDDEN, BRIDGE]]
    hidden = np.isin(np.arange(25), cells)
    bridge = cells[-1]

    assert not lattice.determined(hidden, full=False).any()
    assert np.flatnonzero(lattice.determined(hidden)).tolist() == [bridge]
    # The reader agrees: the bridge's 2 is worked out of what is shown.
    masks, values = month_commune_masks(4, 4), bridge_values()
    shown = [(masks[c], values[c]) for c in range(25) if not hidden[c]]
    hide = [(masks[c], values[c]) for c in cells]
    assert recovered(shown, hide, threshold=5) == [cells.index(bridge)]


def test_protect__a_cell_no_chain_reaches__given_a_complement():
    # The same cells as the small counts: the full solve must see the bridge.
    lattice, masks, values = (
        bridge_lattice(),
        month_commune_masks(4, 4),
        bridge_values(),
    )

    hidden = protect(lattice, values[None], 5)

    shown = [(masks[c], values[c]) for c in range(25) if not hidden[c]]
    hide = [(masks[c], values[c]) for c in range(25) if hidden[c]]
    assert recovered(shown, hide, threshold=5) == []
    # The small cells alone would leave the bridge to be worked out.
    assert hidden.sum() > len(BRIDGE_HIDDEN) + 1


def test_protect__fixed_cells_stay_hidden_and_complements_come_from_movable_ones():
    lattice = Lattice(
        period_axis(MONTHS[:1]), tree_axis([-1, 0, 0, 0]), breakdown_axis(1, 1)
    )
    counts = np.array([[20.0, 3.0, 8.0, 9.0]])
    movable = np.array([False, False, False, True])

    hidden = protect(lattice, counts, 5, movable=movable)

    assert hidden.tolist() == [False, True, False, True]


# The indicators: one family, one pattern, every output. -----------------------

AGES = AGE_GROUPS["ag_child_case"]
UNITS = load_units()
SLOT = {code: i for i, code in enumerate(UNITS.slot_codes) if code != "?"}
PERIODS = ["2026", "2026Q3", "2026-07", "2026-08", "2026-09"]


def _child_records(rng, n: int) -> list[dict]:
    communes = ["30280", "30283", "30286", "30289", "30316", "30319"]
    districts = {c: "883" if c < "30300" else "884" for c in communes}
    records = []
    for _ in range(n):
        commune = str(rng.choice(communes))
        abused = rng.random() < 0.7
        records.append(
            f.child(
                commune=commune,
                district=districts[commune],
                visit_date=date(2026, int(rng.integers(6, 11)), 10),
                sex=str(rng.choice(["1", "2", "1"])),
                age_years=str(int(rng.integers(0, 16))),
                abused="1" if abused else "0",
                high_risk_abuse="0" if abused else "1",
                has_plan=str(rng.choice(["1", "0"])),
                review_state=str(rng.choice(["approved", "approved", "hasIssues"])),
            )
        )
    return records


def _atom_of(record: dict) -> tuple[int, int, int, int]:
    month = record["visit_date"].month - 1
    sex = {"1": 0, "2": 1}.get(record["sex"], 2)
    years = int(record["age_years"])
    age = next(i for i, (lo, hi) in enumerate(AGES) if lo <= years <= hi)
    return month, SLOT[record["commune"]], sex, age


def _row_mask(row: pd.Series, shape, ages=AGES) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    start = pd.Timestamp(row["period_start"]).month - 1
    end = pd.Timestamp(row["period_end"]).month
    if row["level"] == "province":
        slots = slice(None)
    elif row["level"] == "district":
        d = UNITS.district_codes.index(row["unit_code"])
        slots = np.flatnonzero(UNITS.slot_district == d)
    elif row["unit_code"] == "?":  # the "commune not known" slot of a district
        slots = [156 + UNITS.district_codes.index(row["parent_code"])]
    else:
        slots = [SLOT[row["unit_code"]]]
    sexes, group = slice(None), slice(None)
    if row["breakdown"] == "sex":
        sexes = [["Nam", "Nữ", "Không rõ giới tính"].index(row["group"])]
    if row["breakdown"] == "age_group":
        labels = [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in ages]
        group = [[*labels, "Không rõ tuổi"].index(row["group"])]
    index = np.ix_(range(start, end), np.arange(UNITS.n_slots)[slots],
                   np.arange(3)[sexes], np.arange(len(ages) + 1)[group])  # fmt: skip
    mask[index] = True
    return mask.ravel()


@pytest.mark.parametrize("seed", range(12))
def test_cp04__random_data__no_hidden_count_can_be_worked_out_of_one_output(seed):
    rng = np.random.default_rng(seed)
    records = _child_records(rng, int(rng.integers(8, 60)))
    frame = compute_indicators(
        f.tables(children=records), periods=PERIODS, codes=["CP-04"]
    ).frame

    shape = (12, UNITS.n_slots, 3, len(AGES) + 1)
    counted = [r for r in records if r["review_state"] == "approved"]
    num, den = np.zeros(shape), np.zeros(shape)
    for r in counted:
        den[_atom_of(r)] += 1
        num[_atom_of(r)] += r["has_plan"] == "1"
    masks = [_row_mask(row, shape) for _, row in frame.iterrows()]
    hidden = frame["status"].eq("suppressed").tolist()
    assert any(hidden)
    for atoms in (num.ravel(), den.ravel(), (den - num).ravel()):
        shown = [
            (m, atoms[m].sum()) for m, h in zip(masks, hidden, strict=True) if not h
        ]
        hide = [(m, atoms[m].sum()) for m, h in zip(masks, hidden, strict=True) if h]
        assert recovered(shown, hide, threshold=5) == []


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
    assert _hidden(small)
    assert _hidden(other) or _hidden(district)


def test_cp04__a_month_is_not_the_quarter_less_the_other_months():
    # 30280 in Q3: 2 in July, 5 in August, 5 in September. July is small;
    # showing the quarter, August and September would give it back.
    children = [
        *_abused("30280", "883", 2, visit_date=date(2026, 7, 10)),
        *_abused("30280", "883", 5, visit_date=date(2026, 8, 10)),
        *_abused("30280", "883", 5, visit_date=date(2026, 9, 10)),
        *_abused("30283", "883", 40, visit_date=date(2026, 8, 10)),
    ]
    periods = ["2026Q3", "2026-07", "2026-08", "2026-09"]
    frame = compute_indicators(f.tables(children=children), periods=periods).frame

    rows = [cell(frame, "CP-04", "30280", period=p) for p in periods]
    assert _hidden(rows[1])
    assert sum(_hidden(r) for r in rows) >= 2


def test_same_pattern_whatever_level_or_period_is_asked():
    rng = np.random.default_rng(7)
    tables = f.tables(children=_child_records(rng, 40))
    everything = compute_indicators(tables, periods=PERIODS, codes=["CP-04"]).frame
    one = compute_indicators(
        tables, periods=["2026-08"], level="district", codes=["CP-04"]
    ).frame

    key = ["period", "level", "unit_code", "breakdown", "group"]
    both = one.merge(everything, on=key, suffixes=("", "_all"))
    assert len(both) == len(one)
    assert both["status"].eq(both["status_all"]).all()


def test_include_pending__hides_at_least_what_approved_only_hides():
    rng = np.random.default_rng(11)
    tables = f.tables(children=_child_records(rng, 40))

    approved = compute_indicators(tables, periods=["2026Q3"], codes=["CP-04"]).frame
    pending = compute_indicators(
        tables, periods=["2026Q3"], codes=["CP-04"], include_pending=True
    ).frame

    hidden = approved["status"].eq("suppressed")
    assert pending["status"].eq("suppressed")[hidden.to_numpy()].all()


def _tips(rng, n: int) -> list[dict]:
    communes = ["30280", "30283", "30316"]
    return [
        f.tip(
            res_commune=(c := str(rng.choice(communes))),
            res_district="883" if c < "30300" else "884",
            receipt_date=date(2026, int(rng.integers(7, 10)), 5),
            verif_started="1",
            id_outcome=str(rng.choice(["victim", "victim", "not_victim"])),
            support_received=str(rng.choice(["essential", "psych medical", ""]))
            or None,
            review_state=str(rng.choice(["approved", "approved", "approved", None])),
        )
        for _ in range(n)
    ]


def test_trafficking__indicators_sharing_a_denominator_hide_the_same_cells():
    # TV-02 and TV-06 divide by the same victims: hiding different cells in
    # each would let one give the other's away.
    frame = compute_indicators(
        f.tables(tips=_tips(np.random.default_rng(3), 45)), periods=["2026Q3"]
    ).frame
    tip = frame[frame["indicator"].isin(["TV-01", "TV-02", "TV-03", "TV-04", "TV-06"])]

    hidden = tip.pivot_table(
        index=["unit_code", "breakdown", "group"],
        columns="indicator",
        values="status",
        aggfunc=lambda s: (s == "suppressed").any(),
    )
    assert hidden.any().any()
    assert hidden.eq(hidden.iloc[:, [0]].to_numpy()).all().all()


def test_trafficking__small_review_state_counts_hidden_and_not_recoverable():
    tips = _tips(np.random.default_rng(5), 45)
    frame = compute_indicators(f.tables(tips=tips), periods=["2026Q3"]).frame
    rows = frame[frame["indicator"] == "TV-01"]

    pending = rows["n_pending"]
    assert not ((pending > 0) & (pending < 5)).any()
    assert pending.isna().any()
    # Nothing hidden can be worked out of the shown counts of either state.
    ages = AGE_GROUPS["ag_tip_review"]
    shape = (12, UNITS.n_slots, 3, len(ages) + 1)
    masks = [_row_mask(row, shape, ages) for _, row in rows.iterrows()]
    hidden = pending.isna().tolist()
    for approved, column in ((True, "n_approved"), (False, "n_pending")):
        atoms = np.zeros(shape)
        for tip in (t for t in tips if (t["review_state"] == "approved") == approved):
            month = tip["receipt_date"].month - 1
            atoms[month, SLOT[tip["res_commune"]], 1, 2] += 1  # Nữ, 18-29
        atoms = atoms.ravel()
        sums = [atoms[m].sum() for m in masks]
        # The atoms give back every shown count (so the masks are right).
        shown_sums = [v for v, h in zip(sums, hidden, strict=True) if not h]
        assert rows[column][~pending.isna()].tolist() == shown_sums
        shown = [(m, v) for m, v, h in zip(masks, sums, hidden, strict=True) if not h]
        hide = [(m, v) for m, v, h in zip(masks, sums, hidden, strict=True) if h]
        assert recovered(shown, hide, threshold=5) == []


def test_sensitive_indicator__communes_shown_as_totals_only():
    children = _abused("30280", "883", 12)
    frame = compute_indicators(f.tables(children=children), periods=["2026Q3"]).frame

    communes = frame[(frame["indicator"] == "CP-04") & (frame["level"] == "commune")]
    assert set(communes["breakdown"]) == {"total"}
    open_ = frame[(frame["indicator"] == "CP-06") & (frame["level"] == "commune")]
    assert {"total", "sex", "age_group"} <= set(open_["breakdown"])


def test_threshold_is_configurable():
    children = _abused("30280", "883", 3) + _abused("30283", "883", 10)
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


def test_campaign_round_of_whole_months__hidden_where_its_quarter_is():
    children = _abused("30280", "883", 3) + _abused("30283", "883", 10)
    frame = compute_indicators(
        f.tables(children=children),
        periods=["2026Q3", "Đợt 3:2026-07-01..2026-09-30"],
        codes=["CP-04"],
    ).frame

    quarter = frame[frame["period"] == "2026Q3"]["status"].tolist()
    round_ = frame[frame["period"] == "Đợt 3"]["status"].tolist()
    assert quarter == round_


def test_campaign_round_of_part_months__its_cells_protected_too():
    children = (
        _abused("30280", "883", 3, visit_date=date(2026, 7, 20))
        + _abused("30283", "883", 10, visit_date=date(2026, 7, 20))
        + _abused("30283", "883", 10, visit_date=date(2026, 7, 5))
    )
    frame = compute_indicators(
        f.tables(children=children),
        periods=["2026-07", "Đợt giữa tháng:2026-07-15..2026-08-14"],
        codes=["CP-04"],
    ).frame

    mid = frame[frame["period"] == "Đợt giữa tháng"]
    assert _hidden(cell(mid, "CP-04", "30280"))
    assert _hidden(cell(mid, "CP-04", "30283")) or _hidden(cell(mid, "CP-04", "883"))


def test_campaign_round_of_part_months__every_indicator__hidden_and_said_so():
    children = _abused("30280", "883", 30, visit_date=date(2026, 7, 20))
    tips = _tips(np.random.default_rng(2), 30)
    result = compute_indicators(
        f.tables(children=children, tips=tips),
        periods=["Đợt giữa tháng:2026-07-15..2026-08-14"],
    )

    frame = result.frame
    sensitive = frame[frame["indicator"].isin(["CP-03", "CP-04", "TV-01", "TV-06"])]
    assert sensitive["status"].eq("suppressed").all()
    assert any("không gồm trọn các tháng" in w for w in result.warnings)
    # The other indicators are shown for the round as for any period.
    assert cell(frame, "CP-01", "89")["status"] != "suppressed"


def test_trafficking__the_two_settings_never_differ_by_a_small_count_where_shown():
    # 30280: 10 approved victims and 2 awaiting review; 30316: 20 approved.
    # Side by side, approved only (10) and every one not rejected (12) would
    # count the 2 awaiting review: the second setting hides 30280 (and what
    # would give it back), the default one need not.
    def victims(commune, district, n, **fields):
        return [
            f.tip(res_commune=commune, res_district=district, verif_started="1",
                  id_outcome="victim", support_received="essential", **fields)
            for _ in range(n)
        ]  # fmt: skip

    tips = (
        victims("30280", "883", 10)
        + victims("30280", "883", 2, review_state=None)
        + victims("30316", "884", 20)
    )
    tables = f.tables(tips=tips)
    approved = compute_indicators(tables, periods=["2026Q3"]).frame
    everything = compute_indicators(
        tables, periods=["2026Q3"], include_pending=True
    ).frame

    assert cell(approved, "TV-02", "30280")["denominator"] == 10
    assert cell(everything, "TV-02", "30280")["status"] == "suppressed"
    key = ["indicator", "level", "unit_code", "breakdown", "group"]
    both = approved.merge(everything, on=key, suffixes=("", "_all"))
    shown = both[
        (both["status_all"] != "suppressed") & both["indicator"].str.match("TV")
    ]
    for column in ("numerator", "denominator"):
        gap = (shown[f"{column}_all"] - shown[column]).abs().dropna()
        assert not ((gap > 0) & (gap < 5)).any(), column
