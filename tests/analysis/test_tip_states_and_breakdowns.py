"""TV-01 to TV-04 and TV-06 by hand: review states, a superseded review, the
switch for pending submissions, missing sex and age, zero denominators, a
commune with no data, and the sex and age-group cells.

Q3 2026 (received 15/07 unless said; women aged 25 unless said). "needs" and
"got" are support_needed and support_received; protection is for the victim
unless said.

approved, counted:
V1 30280  victim; needs essential, got essential + psych; protection applied.
V2 30283  man, 16; victim; needs medical, got "none"; no protection needed.
V3 30316  sex missing, 40; victim; needs "none", got essential; protection for
          herself and 1 relative, measure "none".
V4 30280  age missing; victim; needs legal_aid, got legal_aid + psych;
          protection needed but refused.
V5 30280  girl, 12; not verified.
V6 30283  two approved reviews: the first (submitted 01/08) not verified, the
          second (01/09) a victim; needs essential, got essential; protection
          for 2 relatives, relocation applied.
V7 30316  man, 30; approved review (01/08) not verified; a later review
          (01/09, not yet reviewed) a victim needing and getting essential.

not counted by default:
P1 30280  no review yet; victim; needs essential, got essential.
P2 30280  hasIssues; not verified.
E1 30280  edited (pending), held in its latest version: victim; needs psych,
          got psych + essential.
R1 30280  rejected; victim; got essential.
D1 30280  deleted; victim; got essential.
Q2 30280  received 30/06 (Q2); victim; got essential.

Approved only, one review per case (V6 and V7 by their latest approved one):
cases V1..V7. Victims V1 V2 V3 V4 V6.
- TV-01 verified: V1 V2 V3 V4 V6 = 5 of 7.
- TV-02 any regime got: V1 V3 V4 V6 = 4 of 5 (V2 got none).
- TV-03 needs stated: V1 V2 V4 V6 (V3 "none"); all met: V1 V4 V6 = 3 of 4.
- TV-04 persons: V1 1 (protected), V3 1 + 1 (not), V6 2 (protected), V4
  refused: 3 of 5.
- TV-06 got psych with another regime: V1 V4 = 2 of 5.
"""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from analysis.indicators import compute_indicators
from tests.analysis.helpers import cell, fraction
from tests.factories import indicators as f

AUG, SEP = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
CHAU_DOC = {"res_district": "884", "res_commune": "30316"}
MY_LONG = {"res_commune": "30283"}


@pytest.fixture
def tables():
    t = f.tip
    victim = {"verif_started": "1", "id_outcome": "victim"}
    tips = [
        t(case_id="V1", **victim, support_needed="essential",
          support_received="essential psych", protection_needed="1",
          protection_for="victim", protection_measures="secret_private"),
        t(case_id="V2", **MY_LONG, sex="1", age_at_receipt="16", **victim,
          support_needed="medical", support_received="none",
          protection_needed="0"),
        t(case_id="V3", **CHAU_DOC, sex=None, age_at_receipt="40", **victim,
          support_needed="none", support_received="essential",
          protection_needed="1", protection_for="victim relatives",
          n_relatives_protect=1, protection_measures="none"),
        t(case_id="V4", age_at_receipt=None, **victim,
          support_needed="legal_aid", support_received="legal_aid psych",
          protection_needed="1", protection_for="victim",
          protection_refused="1"),
        t(case_id="V5", age_at_receipt="12", verif_started="0"),
        t(case_id="V6", **MY_LONG, verif_started="0", submission_date=AUG),
        t(case_id="V6", **MY_LONG, **victim, support_needed="essential",
          support_received="essential", protection_needed="1",
          protection_for="relatives", n_relatives_protect=2,
          protection_measures="relocation", submission_date=SEP),
        t(case_id="V7", **CHAU_DOC, sex="1", age_at_receipt="30",
          verif_started="0", submission_date=AUG),
        t(case_id="V7", **CHAU_DOC, sex="1", age_at_receipt="30", **victim,
          support_needed="essential", support_received="essential",
          review_state=None, submission_date=SEP),
        t(case_id="P1", **victim, support_needed="essential",
          support_received="essential", review_state=None),
        t(case_id="P2", verif_started="0", review_state="hasIssues"),
        t(case_id="E1", submission_id="uuid:e1", instance_id="uuid:e1-v2",
          edits=1, review_state="edited", **victim, support_needed="psych",
          support_received="psych essential"),
        t(case_id="R1", **victim, support_received="essential",
          review_state="rejected"),
        t(case_id="D1", **victim, support_received="essential",
          deleted_at=datetime(2026, 9, 5, tzinfo=UTC)),
        t(case_id="Q2", receipt_date=date(2026, 6, 30), **victim,
          support_received="essential"),
    ]  # fmt: skip
    return f.tables(tips=tips)


def run(tables, **kwargs):
    return compute_indicators(tables, periods=["2026Q3"], threshold=1, **kwargs).frame


def test_tip__approved_only__one_review_per_case(tables):
    frame = run(tables)

    assert fraction(cell(frame, "TV-01", "89")) == (5, 7, pytest.approx(500 / 7))
    assert fraction(cell(frame, "TV-02", "89")) == (4, 5, 80.0)
    assert fraction(cell(frame, "TV-03", "89")) == (3, 4, 75.0)
    assert fraction(cell(frame, "TV-04", "89")) == (3, 5, 60.0)
    assert fraction(cell(frame, "TV-06", "89")) == (2, 5, 40.0)


def test_tip__later_review_of_a_case__replaces_the_earlier_one(tables):
    frame = run(tables)

    # Mỹ Long holds V2 and V6: V6 counts once, by its second review (a victim
    # who got what she needed), not by its first (not verified).
    assert fraction(cell(frame, "TV-01", "30283"))[:2] == (2, 2)
    assert fraction(cell(frame, "TV-02", "30283"))[:2] == (1, 2)
    assert fraction(cell(frame, "TV-03", "30283"))[:2] == (1, 2)
    # V6 weighs its 2 relatives, protected; V2 needed no protection.
    assert fraction(cell(frame, "TV-04", "30283"))[:2] == (2, 2)


def test_tip__later_review_not_yet_approved__the_approved_one_counts(tables):
    frame = run(tables)

    # Châu Phú B: V3 and V7. V7's approved review is not verified, so it is
    # outside every victim count; V3 alone is a victim, with no need stated.
    assert fraction(cell(frame, "TV-01", "30316"))[:2] == (1, 2)
    assert fraction(cell(frame, "TV-02", "30316"))[:2] == (1, 1)


def test_tip__review_states__every_submission_counted_in_its_state(tables):
    frame = run(tables)

    # Mỹ Bình: V1 V4 V5 approved; P1 (none), P2 (hasIssues), E1 (edited)
    # pending; R1 rejected; D1 deleted and Q2 (Q2) absent.
    row = cell(frame, "TV-02", "30280")
    assert (row["n_approved"], row["n_pending"], row["n_rejected"]) == (3, 3, 1)
    # Both reviews of V6 are submissions: V2, V6 and V6 approved.
    assert cell(frame, "TV-02", "30283")["n_approved"] == 3
    # The province: V1 V2 V3 V4 V5 V6 V6 V7 approved; V7's later review, P1,
    # P2, E1 pending; R1 rejected.
    province = cell(frame, "TV-01", "89")
    assert (province["n_approved"], province["n_pending"]) == (8, 4)
    assert province["n_rejected"] == 1


def test_tip__approved_only__pending_rejected_and_deleted_left_out(tables):
    frame = run(tables)

    # Mỹ Bình: V1, V4, V5 only. TV-02: V1 and V4 got support, 2 of 2; P1,
    # E1, R1 and D1 (all supported victims) would change it.
    assert fraction(cell(frame, "TV-01", "30280"))[:2] == (2, 3)
    assert fraction(cell(frame, "TV-02", "30280"))[:2] == (2, 2)


def test_tip__include_pending__counts_all_not_rejected(tables):
    frame = run(tables, include_pending=True)

    # Cases V1..V6, V7 by its later review, P1, P2, E1 (R1 rejected, D1
    # deleted, Q2 outside the quarter). Verified: V1 V2 V3 V4 V6 V7 P1 E1.
    assert fraction(cell(frame, "TV-01", "89")) == (8, 10, 80.0)
    # Victims: those 8; all got a regime but V2.
    assert fraction(cell(frame, "TV-02", "89")) == (7, 8, 87.5)
    # Needs stated: V1 V2 V4 V6 V7 P1 E1; all met but V2's.
    assert fraction(cell(frame, "TV-03", "89")) == (6, 7, pytest.approx(600 / 7))
    # P1, E1 and V7 needed no protection: unchanged.
    assert fraction(cell(frame, "TV-04", "89")) == (3, 5, 60.0)
    # Psych with another regime: V1, V4 and E1 in its latest version.
    assert fraction(cell(frame, "TV-06", "89")) == (3, 8, 37.5)


def test_tip__edited_submission__counts_once_with_its_latest_answers(tables):
    only_edited = tables["ag_tip_review"].query("case_id == 'E1'")
    frame = run({"ag_tip_review": only_edited}, include_pending=True)

    # One row, its latest answers: psych + essential, so counselled (TV-06).
    assert fraction(cell(frame, "TV-06", "89")) == (1, 1, 100.0)
    row = cell(frame, "TV-06", "89")
    assert (row["n_approved"], row["n_pending"], row["n_rejected"]) == (0, 1, 0)


def test_tip__by_sex__missing_sex_in_its_own_cell_and_in_the_total(tables):
    frame = run(tables)

    def by_sex(code, group, unit="89"):
        return fraction(cell(frame, code, unit, breakdown="sex", group=group))[:2]

    # Men: V2, V7 (not verified). Women: V1 V4 V5 V6. Sex missing: V3.
    assert by_sex("TV-01", "Nam") == (1, 2)
    assert by_sex("TV-01", "Nữ") == (3, 4)
    assert by_sex("TV-01", "Không rõ giới tính") == (1, 1)
    # 1 + 3 + 1 = 5 of 2 + 4 + 1 = 7, the total.
    assert by_sex("TV-02", "Nam") == (0, 1)
    assert by_sex("TV-02", "Nữ") == (3, 3)
    assert by_sex("TV-02", "Không rõ giới tính") == (1, 1)
    # TV-04 persons: V3's 2 (sex missing, not protected); women V1 1, V6 2.
    assert by_sex("TV-04", "Nữ") == (3, 3)
    assert by_sex("TV-04", "Không rõ giới tính") == (0, 2)


def test_tip__by_age_group__missing_age_in_its_own_cell_and_in_the_total(tables):
    frame = run(tables)

    def by_age(code, group, unit="89"):
        row = cell(frame, code, unit, breakdown="age_group", group=group)
        return fraction(row)[:2], row["status"]

    # 0-15: V5; 16-17: V2; 18-29: V1, V6; 30+: V3, V7; age missing: V4.
    assert by_age("TV-01", "0-15") == ((0, 1), "ok")
    assert by_age("TV-01", "16-17") == ((1, 1), "ok")
    assert by_age("TV-01", "18-29") == ((2, 2), "ok")
    assert by_age("TV-01", "30+") == ((1, 2), "ok")
    assert by_age("TV-01", "Không rõ tuổi") == ((1, 1), "ok")
    # V5, the only girl under 16, is no victim: no denominator in the cell.
    assert by_age("TV-02", "0-15") == ((0, 0), "zero_denominator")
    assert by_age("TV-03", "Không rõ tuổi") == ((1, 1), "ok")
    assert by_age("TV-03", "16-17") == ((0, 1), "ok")


def test_tip__district_cells__by_sex_and_age_group(tables):
    frame = run(tables, level="district")

    def at(code, unit, breakdown="total", group=""):
        row = cell(frame, code, unit, breakdown=breakdown, group=group)
        return fraction(row)[:2]

    # Long Xuyên (883): V1 V2 V4 V5 V6; victims V1 V2 V4 V6, V2 got nothing.
    assert at("TV-02", "883") == (3, 4)
    assert at("TV-02", "883", "sex", "Nam") == (0, 1)
    assert at("TV-02", "883", "sex", "Nữ") == (3, 3)
    assert at("TV-02", "883", "sex", "Không rõ giới tính") == (0, 0)
    assert at("TV-02", "883", "age_group", "18-29") == (2, 2)
    # Châu Đốc (884): V3 (sex missing, 40) and V7 (a man of 30, not verified).
    assert at("TV-01", "884") == (1, 2)
    assert at("TV-01", "884", "sex", "Nam") == (0, 1)
    assert at("TV-01", "884", "sex", "Không rõ giới tính") == (1, 1)
    assert at("TV-01", "884", "age_group", "30+") == (1, 2)
    # Every victim has a district: the unknown district is empty.
    assert at("TV-01", "?") == (0, 0)


def test_tip__zero_denominators__no_value_and_their_status(tables):
    frame = run(tables, level="district")

    # Châu Đốc: V3 stated no need and V7's approved review is no victim.
    row = cell(frame, "TV-03", "884")
    assert (row["numerator"], row["denominator"]) == (0, 0)
    assert pd.isna(row["value"]) and row["status"] == "zero_denominator"
    assert cell(frame, "TV-03", "883")["status"] == "ok"


def test_tip__commune_with_no_data__listed_with_zeros_totals_only(tables):
    frame = run(tables, level="commune")

    # Phường Đông Xuyên (30285) has no review at all.
    for code in ("TV-01", "TV-02", "TV-03", "TV-04", "TV-06"):
        row = cell(frame, code, "30285")
        assert (row["numerator"], row["denominator"]) == (0, 0)
        assert pd.isna(row["value"]) and row["status"] == "zero_denominator"
        states = (row["n_approved"], row["n_pending"], row["n_rejected"])
        assert states == (0, 0, 0)
    # Trafficking indicators are shown by commune as totals only.
    communes = frame[frame["indicator"] == "TV-02"]
    assert set(communes["breakdown"]) == {"total"}
    assert len(communes[communes["unit_code"] == "30285"]) == 1
