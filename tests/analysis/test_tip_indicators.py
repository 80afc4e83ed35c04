"""TV-01 to TV-04 and TV-06 from the trafficking-victim review, by hand.

Q3 2026 cases (women unless said):
T1 verified victim; needs essential + medical, got essential + medical +
   psych; protection for herself and 2 relatives, measure applied.
T2 verified victim; needs essential + loan, got essential; protection for
   herself, measure "none".
T3 first record not verified, later record verified, not a victim.
T5 not verified.
T6 verified victim, a foreign man with no residence: no need stated,
   protection needed but refused.
T7 verified victim received 2026-06-30 (Q2).
"""

from datetime import UTC, date, datetime

import pytest

from analysis.indicators import compute_indicators
from tests.analysis.helpers import cell, fraction
from tests.factories import indicators as f


@pytest.fixture
def tables():
    t = f.tip
    later = datetime(2026, 9, 1, tzinfo=UTC)
    tips = [
        t(case_id="T1", verif_started="1", id_outcome="victim",
          support_needed="essential medical",
          support_received="essential medical psych", protection_needed="1",
          protection_for="victim relatives", n_relatives_protect=2,
          protection_measures="secret_private"),
        t(case_id="T2", receipt_date=date(2026, 8, 1), verif_started="1",
          id_outcome="victim", support_needed="essential loan",
          support_received="essential", protection_needed="1",
          protection_for="victim", protection_measures="none"),
        t(case_id="T3", receipt_date=date(2026, 8, 5), verif_started="0"),
        t(case_id="T3", receipt_date=date(2026, 8, 5), verif_started="1",
          id_outcome="not_victim", submission_date=later),
        t(case_id="T5", verif_started="0"),
        t(case_id="T6", verif_started="1", id_outcome="victim", sex="1",
          nationality_status="foreigner", res_district=None, res_commune=None,
          protection_needed="1", protection_refused="1"),
        t(case_id="T7", receipt_date=date(2026, 6, 30), verif_started="1",
          id_outcome="victim"),
    ]  # fmt: skip
    return f.tables(tips=tips)


def run(tables):
    return compute_indicators(tables, periods=["2026Q3"], threshold=1).frame


def test_tv01__received_cases_verified(tables):
    frame = run(tables)

    # T1, T2, T3 (latest record verified), T6 of T1, T2, T3, T5, T6.
    assert fraction(cell(frame, "TV-01", "89")) == (4, 5, 80.0)


def test_tv02__victims_with_any_support(tables):
    frame = run(tables)

    assert fraction(cell(frame, "TV-02", "89")) == (2, 3, pytest.approx(200 / 3))


def test_tv03__victims_whose_every_need_was_met(tables):
    frame = run(tables)

    # T1 got all she needed; T2 did not get the loan; T6 stated no need.
    assert fraction(cell(frame, "TV-03", "89")) == (1, 2, 50.0)


def test_tv02_tv03__none_answered__no_support_and_no_need():
    t = f.tip
    tips = [
        t(case_id="N1", verif_started="1", id_outcome="victim",
          support_needed="none", support_received="none"),
        t(case_id="N2", verif_started="1", id_outcome="victim",
          support_needed="medical", support_received="none"),
        t(case_id="N3", verif_started="1", id_outcome="victim",
          support_needed="none", support_received="essential"),
    ]  # fmt: skip
    frame = run(f.tables(tips=tips))

    # N3 alone received a regime; N2 alone stated a need, and it was not met.
    assert fraction(cell(frame, "TV-02", "89"))[:2] == (1, 3)
    assert fraction(cell(frame, "TV-03", "89"))[:2] == (0, 1)


def test_tv04__victims_and_relatives_protected(tables):
    frame = run(tables)

    # T1 weighs 1 + 2 relatives, protected; T2 weighs 1, not; T6 refused.
    assert fraction(cell(frame, "TV-04", "89")) == (3, 4, 75.0)


def test_tv06__victims_counselled_and_supported(tables):
    frame = run(tables)

    # Only T1 received counselling (psych) with another support.
    assert fraction(cell(frame, "TV-06", "89")) == (1, 3, pytest.approx(100 / 3))


def test_victim_without_residence__in_unknown_district_row(tables):
    frame = compute_indicators(
        tables, periods=["2026Q3"], threshold=1, level="district"
    ).frame

    unknown = cell(frame, "TV-02", "?", level="district")
    assert fraction(unknown)[:2] == (0, 1)
    assert fraction(cell(frame, "TV-02", "883"))[:2] == (2, 2)


def test_tv02__by_sex(tables):
    frame = run(tables)

    assert fraction(cell(frame, "TV-02", "89", breakdown="sex", group="Nữ"))[:2] == (
        2,
        2,
    )
    assert fraction(cell(frame, "TV-02", "89", breakdown="sex", group="Nam"))[:2] == (
        0,
        1,
    )


def test_without_consent__declared_age_and_district_place_the_victim():
    # No consent: no commune, no date of birth; the age (17) and the district
    # (883) are asked. A review whose calculated age is empty reads age_declared.
    victim = f.tip(case_id="NC", consent="0", verif_started="1",
                   id_outcome="victim", support_received="essential",
                   res_commune=None, age_at_receipt=None,
                   age_declared="17")  # fmt: skip
    frame = compute_indicators(
        f.tables(tips=[victim]), periods=["2026Q3"], threshold=1, level="district"
    ).frame

    assert fraction(cell(frame, "TV-02", "883"))[:2] == (1, 1)
    assert cell(frame, "TV-02", "?", level="district")["denominator"] == 0
    teen = cell(frame, "TV-02", "883", breakdown="age_group", group="16-17")
    assert fraction(teen)[:2] == (1, 1)
