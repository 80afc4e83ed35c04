"""What the forms ask, checked against the plan where a rule is easy to get
wrong in a spreadsheet."""

from server.forms import FORMS_DIR
from server.forms.sensitivity import Sensitivity, read_markings
from server.forms.xlsx import read_sheet

COMMUNE = FORMS_DIR / "ag_commune_drugfree.xlsx"
TIP = FORMS_DIR / "ag_tip_review.xlsx"
REHAB = "${n_rehab_family_vol} + ${n_rehab_comm_vol} + ${n_rehab_comm_comp}"


def _rows(xlsx) -> dict:
    """Field name -> its survey row."""
    return {r.get("name"): r for r in read_sheet(xlsx, "survey")}


def _groups(xlsx) -> dict[str, str]:
    """Field name -> the group it sits in."""
    where, stack = {}, []
    for row in read_sheet(xlsx, "survey"):
        kind = row.get("type")
        if kind == "begin_group":
            stack.append(row.get("name"))
        elif kind == "end_group":
            stack.pop()
        elif stack:
            where[row.get("name")] = stack[-1]
    return where


def test_commune_form__gbv_model__in_its_own_group_not_the_recognition_result():
    groups = _groups(COMMUNE)
    assert groups["gbv_model"] == "grp_gbv"
    assert {f for f, g in groups.items() if g == "grp_gbv"} == {"gbv_model"}


def test_commune_form__methadone__continuing_and_new_asked_apart_as_the_plan_splits():
    # Plan line 291: "duy trì 555 người, điều trị mới 445 người".
    rows = _rows(COMMUNE)
    assert "n_methadone" not in rows
    for name in ("n_methadone_maintained", "n_methadone_new"):
        assert rows[name].get("type") == "integer"
        assert rows[name].get("constraint") == ". >= 0"
        assert not rows[name].get("relevant")


def test_commune_form__dr01__counselled_and_managed_users_counted_over_one_year():
    # Plan line 291: every drug user with a management file reached and
    # counselled. The counselled are counted over the year, so the users
    # managed are too (a stock at 31/12 would leave out those who left).
    rows = _rows(COMMUNE)
    assert "n_users_registered" not in rows
    assert "trong năm" in rows["n_users_managed"].get("label::Vietnamese (vi)")
    assert "during the year" in rows["n_users_managed"].get("label::English (en)")
    counselled = rows["n_users_counselled"]
    assert counselled.get("constraint") == ". >= 0 and . <= ${n_users_managed}"


def test_commune_form__voc_trained__label_and_limit_both_family_and_community():
    # DR-10b, plan line 295: training "tại cộng đồng" is the part outside the
    # centre; the limit is every person in family or community rehab.
    row = _rows(COMMUNE)["n_voc_trained"]
    assert "gia đình, cộng đồng" in row.get("label::Vietnamese (vi)")
    assert "family or community" in row.get("label::English (en)")
    assert row.get("constraint") == f". >= 0 and . <= {REHAB}"


def test_commune_form__dr08__job_referrals_a_part_of_the_post_rehab_managed():
    # Plan line 293: the completers under post-rehab management, "trong đó"
    # job referral and job-search support for 200 of them.
    row = _rows(COMMUNE)["n_job_referral_post"]
    assert row.get("relevant") == "${n_postrehab_managed} > 0"
    assert row.get("constraint") == ". >= 0 and . <= ${n_postrehab_managed}"
    assert "dòng 293" in row.get("hint::Vietnamese (vi)")


def test_commune_form__dr11_dr12__loans_and_job_introductions_within_rehab():
    # Plan line 295: loans for 100 and job introduction for 200 of the
    # persons in rehab; the commune's part is family and community rehab (as
    # DR-09 and DR-10b), and DR-11 counts post-rehab persons too (line 293).
    rows = _rows(COMMUNE)
    inrehab, loans = rows["n_job_referral_inrehab"], rows["n_loans"]
    assert inrehab.get("constraint") == f". >= 0 and . <= {REHAB}"
    assert "gia đình, cộng đồng" in inrehab.get("label::Vietnamese (vi)")
    post = "coalesce(${n_postrehab_managed}, 0)"
    assert loans.get("constraint") == f". >= 0 and . <= {REHAB} + {post}"
    for row in (inrehab, loans):
        assert "dòng 295" in row.get("hint::Vietnamese (vi)")
        assert row.get("constraint_message::English (en)").startswith("Cannot exceed")


def test_tip_form__age_and_district__asked_whatever_the_consent():
    rows = _rows(TIP)
    age = rows["age_declared"]
    assert (age.get("type"), age.get("required")) == ("integer", "yes")
    assert age.get("relevant") == "${dob} = ''"
    assert age.get("constraint") == ". >= 0 and . <= 100"
    assert "${age_declared}" in rows["age_at_receipt"].get("calculation")
    district = rows["res_district"]
    assert district.get("relevant") == "${nationality_status}!='foreigner'"
    assert district.get("required") == "yes"
    # The commune and the exact date of birth identify: asked with consent.
    for name in ("res_commune", "dob"):
        assert "${consent}='1'" in rows[name].get("relevant")


def test_tip_form__district_and_age__not_marked_identifying_the_commune_is():
    markings = read_markings(TIP)
    assert "res_district" not in markings and "age_declared" not in markings
    assert markings["res_commune"] == Sensitivity.PERSONAL
