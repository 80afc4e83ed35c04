import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from server.errors import InvalidInput
from server.forms import FORMS_DIR
from server.forms.samples import generate
from server.forms.units import load_units
from server.forms.xlsx import read_sheet

COMMUNES = {c.code: c.district_code for c in load_units(FORMS_DIR)}
NAME_FIELDS = (
    "child_name",
    "caregiver_name",
    "collector_name",
    "full_name",
    "resp_name",
)
SYNTHETIC_NAME = re.compile(r"^(Trẻ|Người Chăm Sóc|Cán Bộ|Nạn Nhân) Mẫu \d+$")


def _answers(document: str) -> dict[str, str]:
    # Our own generator's output, not untrusted input.
    root = ET.fromstring(document)  # noqa: S314
    return {e.tag: (e.text or "") for e in root.iter() if len(e) == 0}


def _samples(built_forms, form_id: str, count: int = 300, seed: int = 11):
    xform = built_forms[form_id].xform.read_text(encoding="utf-8")
    return [_answers(d) for d in generate(xform, count=count, seed=seed)]


def _survey(form_id: str):
    return read_sheet(FORMS_DIR / f"{form_id}.xlsx", "survey")


def _choices(form_id: str) -> dict[str, set[str]]:
    lists: dict[str, set[str]] = {}
    for row in read_sheet(FORMS_DIR / f"{form_id}.xlsx", "choices"):
        lists.setdefault(row.get("list_name"), set()).add(row.get("name"))
    return lists


FORMS = ("ag_child_case", "ag_commune_drugfree", "ag_tip_review")


@pytest.mark.java
def test_generate__same_seed__same_documents(built_forms):
    xform = built_forms["ag_tip_review"].xform.read_text(encoding="utf-8")
    assert generate(xform, count=20, seed=3) == generate(xform, count=20, seed=3)
    assert generate(xform, count=20, seed=3) != generate(xform, count=20, seed=4)


@pytest.mark.java
@pytest.mark.parametrize("form_id", FORMS)
def test_generate__every_answer__in_its_choice_list_and_required_ones_present(
    built_forms, form_id
):
    lists = _choices(form_id)
    rows = _survey(form_id)
    samples = _samples(built_forms, form_id)
    for a in samples:
        for row in rows:
            kind, *rest = row.get("type").split()
            value = a.get(row.get("name"), "")
            if kind in {"select_one", "select_multiple"} and value:
                assert set(value.split()) <= lists[rest[0]], (row.get("name"), value)
            if row.get("required") == "yes" and not row.get("relevant"):
                assert value, f"{form_id}: required {row.get('name')} is empty"
        for district, commune in (
            ("district", "commune"),
            ("res_district", "res_commune"),
        ):
            if a.get(commune):
                assert COMMUNES[a[commune]] == a[district]


@pytest.mark.java
@pytest.mark.parametrize("form_id", FORMS)
def test_generate__submission__carries_form_id_version_and_unique_instance_ids(
    built_forms, form_id
):
    xform = built_forms[form_id].xform.read_text(encoding="utf-8")
    documents = generate(xform, count=50, seed=5)
    roots = [ET.fromstring(d) for d in documents]  # noqa: S314
    assert {r.get("id") for r in roots} == {form_id}
    assert {r.get("version") for r in roots} == {built_forms[form_id].version}
    ids = [_answers(d)["instanceID"] for d in documents]
    assert len(set(ids)) == 50
    assert all(i.startswith("uuid:") for i in ids)


@pytest.mark.java
def test_generate__names__obviously_synthetic(built_forms):
    for form_id in FORMS:
        for a in _samples(built_forms, form_id, count=100):
            for field in NAME_FIELDS:
                if a.get(field):
                    assert SYNTHETIC_NAME.match(a[field]), a[field]


@pytest.mark.java
def test_generate__child_case__ages_dates_and_relevance_hold(built_forms):
    for a in _samples(built_forms, "ag_child_case"):
        visit = date.fromisoformat(a["visit_date"])
        assert 0 <= int(a["age_years"]) <= 15
        assert a["today"] == a["visit_date"]
        for field in (
            "dob",
            "abuse_date",
            "intake_date",
            "file_open_date",
            "plan_date",
            "close_date",
        ):
            assert not a[field] or date.fromisoformat(a[field]) <= visit
        assert re.fullmatch(rf"{a['commune']}-\d{{4}}", a["case_id"])
        assert bool(a["child_name"]) == (a["consent_caregiver"] == "1")
        assert bool(a["csc_groups"]) == (a["is_csc"] == "1")
        assert not (a["is_csc"] == "1" and a["at_risk_csc"])
        assert bool(a["abuse_date"]) == (a["abused"] == "1")
        assert bool(a["risk_level"]) == (a["abused"] == "1")
        high = a["risk_level"] == "high" or a["high_risk_abuse"] == "1"
        assert bool(a["emergency_measure"]) == high
        support = a["support_received"].split()
        assert not ("none" in support and len(support) > 1)
        if a["intake_date"] and a["abuse_date"]:
            assert a["intake_date"] >= a["abuse_date"]
        if a["close_date"]:
            assert a["close_date"] >= a["file_open_date"]


@pytest.mark.java
def test_generate__commune__one_per_commune_year_and_parts_within_wholes(
    built_forms,
):
    samples = _samples(built_forms, "ag_commune_drugfree", count=400)
    assert len({(a["commune"], a["period_year"]) for a in samples}) == 400
    parts = {
        "n_users_counselled": "n_users_managed",
        "n_decision_executed": "n_decision_compulsory",
        "n_postrehab_managed": "n_completed_return",
        "n_job_referral_post": "n_postrehab_managed",
    }
    for a in samples:
        assert 2016 <= int(a["period_year"]) <= 2020
        for part, whole in parts.items():
            assert int(a[part] or 0) <= int(a[whole] or 0)
        rehab = sum(
            int(a[k])
            for k in ("n_rehab_family_vol", "n_rehab_comm_vol", "n_rehab_comm_comp")
        )
        for part in ("n_voc_counsel", "n_voc_trained", "n_job_referral_inrehab"):
            assert int(a[part]) <= rehab
        assert int(a["n_loans"]) <= rehab + int(a["n_postrehab_managed"] or 0)
        assert all(int(a[k]) >= 0 for k in a if k.startswith("n_") and a[k])
        assert a["f_comm_prost_regular"] == (
            "1" if a["prost_comm_quarters"] == "4" else "0"
        )


def test_generate__commune__more_than_one_per_commune_year__refused():
    xform = _minimal_xform("ag_commune_drugfree")
    with pytest.raises(InvalidInput, match="one submission per commune and year"):
        generate(xform, count=157, seed=1, years=(2019,))


@pytest.mark.java
def test_generate__tip__frames_dates_and_flags_hold(built_forms):
    samples = _samples(built_forms, "ag_tip_review")
    assert any(a["consent"] == "0" and a["res_district"] for a in samples)
    assert any(a["consent"] == "1" and a["age_declared"] for a in samples)
    for a in samples:
        received = a["receipt_date"]
        assert re.fullmatch(r"TIP-\d{4}-\d{4}", a["case_id"])
        assert not a["dob"] or a["dob"] <= received
        assert not a["verif_date"] or received <= a["verif_date"] <= a["today"]
        assert int(a["trafficked_year"]) <= int(received[:4])
        if a["legal_frame"] == "law2011":
            assert "interpretation" not in a["support_needed"].split()
        needed_set = set(a["support_needed"].split()) - {"none"}
        received_set = set(a["support_received"].split()) - {"none"}
        assert received_set <= needed_set
        if a["f_need_met"] == "1":
            assert received_set == needed_set
        if a["id_outcome"] in {"victim", "pending"}:
            assert a["support_needed"] and a["support_received"]
        for answer in (a["support_needed"], a["support_received"]):
            assert "none" not in answer.split() or answer == "none"
        assert bool(a["full_name"]) == (a["consent"] == "1")
        # Age and district whatever the consent; the commune only with it.
        assert bool(a["age_declared"]) != bool(a["dob"])
        if a["age_declared"]:
            assert a["age_at_receipt"] == a["age_declared"]
        assert 0 <= int(a["age_at_receipt"]) <= 100
        assert bool(a["res_district"]) == (a["nationality_status"] != "foreigner")
        assert not a["res_commune"] or a["consent"] == "1"


def test_generate__unknown_form__refused():
    with pytest.raises(InvalidInput, match="no sample generator"):
        generate(_minimal_xform("other_form"), count=1, seed=1)


def _minimal_xform(form_id: str) -> str:
    return (
        '<h:html xmlns="http://www.w3.org/2002/xforms" '
        'xmlns:h="http://www.w3.org/1999/xhtml"><h:head><model><instance>'
        f'<data id="{form_id}"><a/></data></instance></model></h:head></h:html>'
    )


def _by_case(samples):
    cases: dict[str, list[dict[str, str]]] = {}
    for a in samples:
        cases.setdefault(a["case_id"], []).append(a)
    return cases


@pytest.mark.java
def test_generate__child_case__follow_ups_repeat_the_case_on_later_visits(
    built_forms,
):
    cases = _by_case(_samples(built_forms, "ag_child_case", count=400))
    assert any(len(records) > 1 for records in cases.values())
    for records in cases.values():
        assert records[0]["record_type"] == "new"
        assert all(r["record_type"] != "new" for r in records[1:])
        assert "closure" not in [r["record_type"] for r in records[:-1]]
        visits = [r["visit_date"] for r in records]
        assert visits == sorted(visits) and len(set(visits)) == len(visits)
        for field in ("dob", "sex", "commune", "child_name", "is_csc", "abused"):
            assert len({r[field] for r in records}) == 1, field
        assert len({r["file_open_date"] for r in records} - {""}) <= 1


@pytest.mark.java
def test_generate__tip__reviews_follow_the_stages_of_one_case(built_forms):
    cases = _by_case(_samples(built_forms, "ag_tip_review", count=400))
    stages = ["receipt", "verification", "support", "reintegration"]
    assert any(len(records) == 4 for records in cases.values())
    for records in cases.values():
        assert [r["review_stage"] for r in records] == stages[: len(records)]
        assert len({(r["receipt_date"], r["full_name"]) for r in records}) == 1
        assert records[0]["verif_started"] == "0"
        assert all(r["verif_started"] == "1" for r in records[1:])
        given = [set(r["support_received"].split()) - {"none"} for r in records]
        assert all(a <= b for a, b in itertools.pairwise(given))
        assert [r["today"] for r in records] == sorted(r["today"] for r in records)
