"""Realistic synthetic submissions for the three forms, from a random seed.

Each generated submission answers as ODK Collect would: relevance respected
(a question that is not relevant is sent empty), constraints met (ages 0-15,
no future dates, parts within their whole), calculations filled, codes taken
from the forms' choice lists and the one unit list. Names are obviously
synthetic ("Trẻ Mẫu 0042"); no real person's name is ever produced.

Used by the tests, the demo and the benchmarks::

    xmls = generate(xform_text, count=500, seed=7)
"""

import random
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from server.errors import InvalidInput
from server.forms import FORMS_DIR
from server.forms.units import Commune, load_units

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
XFORMS_NS = "{http://www.w3.org/2002/xforms}"
DEFAULT_YEARS = (2016, 2017, 2018, 2019, 2020)

Answers = dict[str, str]


@dataclass
class Context:
    rng: random.Random
    communes: list[Commune]
    years: tuple[int, ...]
    index: int

    def pick(self, weighted: dict[str, float]) -> str:
        return self.rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def some(self, options: list[str], low: int = 1, high: int = 2) -> str:
        return " ".join(self.rng.sample(options, self.rng.randint(low, high)))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def day_in(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))


def generate(
    xform: str,
    *,
    count: int,
    seed: int,
    years: tuple[int, ...] = DEFAULT_YEARS,
    forms_dir: Path = FORMS_DIR,
) -> list[str]:
    """``count`` submission XML documents for the XForm given as text.

    Cases have histories as in the field: a child's record is followed by
    follow-ups (and sometimes a closure) on later visits, a trafficking case by
    reviews at later stages, each repeating the case's fixed answers."""
    root = _primary_instance(xform)
    xml_form_id = root.get("id", "")
    if xml_form_id not in ANSWERERS:
        raise InvalidInput(f"no sample generator for form {xml_form_id!r}")
    # Reproducible from the seed on purpose; nothing here is secret.
    rng = random.Random(seed)  # noqa: S311
    ctx = Context(rng, load_units(forms_dir), years, 0)
    slots = _commune_years(ctx) if xml_form_id == "ag_commune_drugfree" else None
    if slots is not None and count > len(slots):
        raise InvalidInput(
            f"ag_commune_drugfree has one submission per commune and year: at most "
            f"{len(slots)} for {len(years)} year(s), not {count}"
        )
    template = Template.of(root)
    documents: list[str] = []
    while len(documents) < count:
        # One case at a time: a child's or a victim's records follow each other.
        for answers in ANSWERERS[xml_form_id](ctx, slots)[: count - len(documents)]:
            documents.append(_document(template, answers, ctx.rng))
        ctx.index += 1
    return documents


def _primary_instance(xform: str) -> ET.Element:
    # The XForm is our own build output, not untrusted input.
    model = ET.fromstring(xform).find(f".//{XFORMS_NS}model")  # noqa: S314
    instance = model.find(f"{XFORMS_NS}instance") if model is not None else None
    if instance is None or len(instance) == 0:
        raise InvalidInput("the XForm has no primary instance")
    return instance[0]


@dataclass(frozen=True)
class Template:
    """The primary instance as text with a slot per field, so that thousands
    of documents are rendered by joining strings rather than building and
    serialising a tree each time (four times faster)."""

    parts: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, root: ET.Element) -> "Template":
        parts, names = [""], []
        namespaces = {
            "xmlns:jr": "http://openrosa.org/javarosa",
            "xmlns:orx": "http://openrosa.org/xforms",
        }
        cls._walk(root, {**root.attrib, **namespaces}, parts, names)
        return cls(tuple(parts), tuple(names))

    @classmethod
    def _walk(cls, element, attrib: dict, parts: list, names: list) -> None:
        tag = element.tag.removeprefix(XFORMS_NS)
        attributes = "".join(f" {k}={quoteattr(v)}" for k, v in attrib.items())
        parts[-1] += f"<{tag}{attributes}>"
        if len(element) == 0:
            names.append(tag)
            parts.append("")
        for child in element:
            cls._walk(child, child.attrib, parts, names)
        parts[-1] += f"</{tag}>"

    def render(self, answers: Answers) -> str:
        out = [self.parts[0]]
        for name, part in zip(self.names, self.parts[1:], strict=True):
            out.append(escape(answers.get(name, "")))
            out.append(part)
        return "".join(out)


def _document(template: Template, answers: Answers, rng: random.Random) -> str:
    answers["instanceID"] = f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    return template.render(answers)


def _stamp(day: date, ctx: Context) -> Answers:
    """Collect's start/end/today/deviceid metadata for a form filled on ``day``."""
    start = datetime.combine(day, time(8), TZ) + timedelta(
        minutes=ctx.rng.randint(0, 540)
    )
    end = start + timedelta(minutes=ctx.rng.randint(5, 40))
    return {
        "start": start.isoformat(timespec="milliseconds"),
        "end": end.isoformat(timespec="milliseconds"),
        "today": day.isoformat(),
        "deviceid": f"collect:synthetic{ctx.rng.randint(1, 60):04d}",
    }


def _flag(condition: bool) -> str:
    return "1" if condition else "0"


def _age(born: date, on: date) -> int:
    # Collect: int((decimal-date-time(on) - decimal-date-time(born)) div 365.25)
    return int((on - born).days / 365.25)


# ag_child_case -----------------------------------------------------------------

CSC_GROUPS = [
    "csc_a",
    "csc_b",
    "csc_c",
    "csc_d",
    "csc_dd",
    "csc_e",
    "csc_g",
    "csc_h",
    "csc_i",
    "csc_k",
    "csc_l",
    "csc_m",
    "csc_n",
    "csc_o",
]
CHILD_SUPPORT = [
    "health",
    "psych",
    "education",
    "legal",
    "social_allowance",
    "alt_care",
    "vocational",
    "material",
    "emergency",
    "family_support",
    "referral",
    "other",
]
ABUSE_TYPES = [
    "violence",
    "exploitation",
    "sexual",
    "trafficking",
    "abandonment",
    "neglect",
    "other",
]
RISK_FACTORS = [
    "poor_hh",
    "divorce_separation",
    "parent_migrant",
    "dv_home",
    "parent_drug_crime",
    "parent_hiv",
    "dropout_risk",
    "migrant",
    "disability_hh",
    "other",
]
ETHNICITY = {"kinh": 85, "khmer": 8, "cham": 3, "hoa": 3, "other": 1}


def _child(ctx: Context, _slots: object) -> list[Answers]:
    commune = ctx.rng.choice(ctx.communes)
    last_day = date(max(ctx.years), 12, 31)
    first = ctx.day_in(date(min(ctx.years), 1, 1), last_day)
    a: Answers = {
        "username": f"xa-{commune.code}",
        "collector_name": f"Cán Bộ Mẫu {ctx.rng.randint(1, 99):02d}",
        "district": commune.district_code,
        "commune": commune.code,
        "case_id": f"{commune.code}-{ctx.index + 1:04d}",
    }
    born = _child_person(ctx, a, first)
    _child_circumstances(ctx, a)
    _child_abuse(ctx, a, first)
    records = [_child_visit(ctx, a, first, born, "new", opened=None)]
    for _ in range(int(ctx.pick({"0": 5, "1": 3, "2": 2}))):
        visit = date.fromisoformat(records[-1]["visit_date"]) + timedelta(
            days=ctx.rng.randint(60, 240)
        )
        if visit > last_day or _age(born, visit) > 15:
            break
        if records[-1].get("case_status") not in {None, "open"}:
            break
        closing = len(records) == 2 and ctx.chance(0.5)
        kind = "closure" if closing else "followup"
        opened = _first(r.get("file_open_date") for r in records)
        records.append(_child_visit(ctx, a, visit, born, kind, opened=opened))
    return records


def _first(values) -> str | None:
    return next((v for v in values if v), None)


def _child_visit(
    ctx: Context,
    case: Answers,
    visit: date,
    born: date,
    kind: str,
    *,
    opened: str | None,
) -> Answers:
    """One record of the case: what changes from visit to visit."""
    a = {**case, **_stamp(visit, ctx)}
    a.update(visit_date=visit.isoformat(), record_type=kind)
    age = _age(born, visit)
    a["age_years"] = str(age)
    if a["consent_caregiver"] == "0":
        a["age_declared"] = str(age)
    _child_management(ctx, a, visit, opened=opened, closing=kind == "closure")
    _child_flags(a)
    a["instanceName"] = f"{a['commune']}-{a['case_id']}"
    return a


def _child_person(ctx: Context, a: Answers, visit: date) -> date:
    """The child's fixed answers; returns the date of birth (kept off the
    record without consent, where only the age in years is asked)."""
    consent = ctx.chance(0.9)
    born = visit - timedelta(
        days=int(ctx.rng.randint(0, 15) * 365.25) + ctx.rng.randint(30, 330)
    )
    age = _age(born, visit)
    a.update(consent_caregiver=_flag(consent), sex=ctx.pick({"1": 51, "2": 49}))
    if consent:
        a.update(
            child_name=f"Trẻ Mẫu {ctx.index + 1:04d}",
            hamlet=f"Ấp Mẫu {ctx.rng.randint(1, 9)}",
            dob=born.isoformat(),
            dob_approx=_flag(ctx.chance(0.1)),
            caregiver_name=f"Người Chăm Sóc Mẫu {ctx.index + 1:04d}",
            caregiver_phone=f"09{ctx.rng.randint(0, 99_999_999):08d}",
        )
    a.update(
        ethnicity=ctx.pick(ETHNICITY),
        hh_poverty=ctx.pick({"poor": 15, "near_poor": 15, "none": 65, "98": 5}),
        caregiver_rel=ctx.pick(
            {
                "mother": 45,
                "father": 20,
                "grandparent": 25,
                "other_kin": 7,
                "facility_staff": 3,
            }
        ),
        care_arrangement=ctx.pick(
            {"both_parents": 50, "one_parent": 25, "kin": 20, "facility": 3, "other": 2}
        ),
        school_status=_school(age, ctx),
    )
    return born


def _school(age: int, ctx: Context) -> str:
    if age < 3:
        return "not_school_age"
    if age < 6:
        return "preschool"
    if ctx.chance(0.08):
        return "dropout"
    return "primary" if age < 11 else "lower_sec" if age < 15 else "upper_sec"


def _child_circumstances(ctx: Context, a: Answers) -> None:
    is_csc = ctx.chance(0.4)
    a["is_csc"] = _flag(is_csc)
    if is_csc:
        groups = ctx.some(CSC_GROUPS, 1, 2)
        a["csc_groups"] = groups
        if "csc_a" in groups.split():
            a["orphan_sub"] = ctx.rng.choice(["a1", "a2", "a3", "a4"])
        if "csc_d" in groups.split():
            a["disab_type"] = ctx.some(
                ["mobility", "hearing_speech", "vision", "mental", "intellectual"], 1, 2
            )
            a["disab_level"] = ctx.rng.choice(["very_severe", "severe", "mild"])
        return
    at_risk = ctx.chance(0.5)
    a["at_risk_csc"] = _flag(at_risk)
    if at_risk:
        a["risk_factors"] = ctx.some(RISK_FACTORS, 1, 3)


def _child_abuse(ctx: Context, a: Answers, visit: date) -> None:
    a["abused"] = ctx.pick({"1": 15, "0": 80, "98": 5})
    if a["abused"] == "1":
        a["abuse_types"] = ctx.some(ABUSE_TYPES, 1, 2)
        a["abuse_date"] = ctx.day_in(visit - timedelta(days=300), visit).isoformat()
    else:
        a["high_risk_abuse"] = _flag(ctx.chance(0.12))
    sexual = "sexual" in a.get("abuse_types", "").split()
    if sexual or "csc_l" in a.get("csc_groups", "").split():
        a["sexabuse_form"] = ctx.some(
            ["rape", "coerced", "intercourse", "molest", "prostitution_porn"], 1, 1
        )
    if a["abused"] == "1" or a.get("high_risk_abuse") == "1":
        # Information is received after the abuse it reports.
        earliest = a.get("abuse_date") or (visit - timedelta(days=200)).isoformat()
        intake = ctx.day_in(date.fromisoformat(earliest), visit)
        a.update(
            report_source=ctx.rng.choice(
                [
                    "hotline_111",
                    "hotline_prov",
                    "school",
                    "police",
                    "family",
                    "community",
                    "review",
                ]
            ),
            intake_date=intake.isoformat(),
            initial_assess_date=ctx.day_in(
                intake, min(visit, intake + timedelta(1))
            ).isoformat(),
        )
    # The risk level is asked of abused children; for the others "high" is
    # what high_risk_abuse = 1 already says.
    if a["abused"] == "1":
        a["risk_level"] = ctx.pick({"high": 4, "medium": 4, "low": 2})
    if a.get("risk_level") == "high" or a.get("high_risk_abuse") == "1":
        a["emergency_measure"] = _flag(ctx.chance(0.6))


def _child_management(
    ctx: Context, a: Answers, visit: date, *, opened: str | None, closing: bool
) -> None:
    # A file, once opened, stays open until the case is closed; a file opened
    # at a follow-up visit is dated that day.
    managed = closing or opened is not None or ctx.chance(0.85)
    a["is_managed"] = _flag(managed)
    if managed and opened is None:
        since = visit if a["record_type"] != "new" else visit - timedelta(days=700)
        opened = ctx.day_in(since, visit).isoformat()
    if managed:
        a["file_open_date"] = opened
        if closing:
            a["case_status"] = ctx.pick({"closed_safe": 8, "transferred": 2})
            a["close_date"] = visit.isoformat()
        else:
            a["case_status"] = ctx.pick({"open": 95, "lost": 4, "deceased": 0.3})
    if _needs_support(a):
        has_plan = ctx.chance(0.75)
        a["has_plan"] = _flag(has_plan)
        if has_plan:
            earliest = date.fromisoformat(a.get("intake_date") or "2016-01-01")
            a["plan_date"] = ctx.day_in(max(earliest, visit - timedelta(400)), visit)
            a["plan_date"] = a["plan_date"].isoformat()
        received = ctx.some(CHILD_SUPPORT, 1, 3) if ctx.chance(0.85) else "none"
        a["support_received"] = received
        if "other" in received.split():
            a["support_other"] = "Hỗ trợ khác (mẫu)"
    if int(a["age_years"]) >= 7:
        a["consent_child"] = _flag(ctx.chance(0.9))


def _needs_support(a: Answers) -> bool:
    return "1" in (
        a.get("is_csc"),
        a.get("at_risk_csc"),
        a.get("abused"),
        a.get("high_risk_abuse"),
    )


def _child_flags(a: Answers) -> None:
    support = a.get("support_received", "").split()
    given = bool(support) and "none" not in support
    csc, at_risk = a["is_csc"] == "1", a.get("at_risk_csc") == "1"
    managed = a["is_managed"] == "1"
    abuse_or_risk = a["abused"] == "1" or a.get("high_risk_abuse") == "1"
    a.update(
        f_csc=_flag(csc),
        f_csc_assisted=_flag(csc and given),
        f_csc_managed=_flag(csc and managed),
        f_atrisk=_flag(at_risk),
        f_atrisk_managed_interv=_flag(at_risk and managed and given),
        f_abuse_or_highrisk=_flag(abuse_or_risk),
        f_plan=_flag(abuse_or_risk and a.get("has_plan") == "1"),
        f_abused=_flag(a["abused"] == "1"),
    )


# ag_commune_drugfree -----------------------------------------------------------

COMM_FORMS = [
    "loudspeaker",
    "meeting",
    "print",
    "talk",
    "group",
    "individual",
    "event",
    "school",
    "workplace",
    "online",
    "other",
]


def _commune_years(ctx: Context) -> list[tuple[Commune, int]]:
    slots = [(c, y) for y in ctx.years for c in ctx.communes]
    ctx.rng.shuffle(slots)
    return slots


def _commune(ctx: Context, slots: list[tuple[Commune, int]]) -> list[Answers]:
    commune, year = slots[ctx.index]
    filled = ctx.day_in(date(year, 12, 15), date(year + 1, 1, 20))
    a: Answers = {
        **_stamp(filled, ctx),
        "username": f"xa-{commune.code}",
        "period_year": str(year),
        "district": commune.district_code,
        "commune": commune.code,
        "resp_name": f"Cán Bộ Mẫu {ctx.rng.randint(1, 99):02d}",
        "resp_role": ctx.pick({"ldtbxh": 6, "police": 2, "vice_chair": 1, "other": 1}),
        "n_children_u16": str(ctx.rng.randint(1500, 9000)),
        "drug_situation": ctx.pick({"none": 3, "not_serious": 5, "serious": 2}),
    }
    _commune_drugs(ctx, a)
    _commune_teams_and_communication(ctx, a, year)
    _commune_recognition(ctx, a)
    a["instanceName"] = f"{commune.code}-{year}"
    return [a]


def _part(ctx: Context, whole: int, share: float) -> int:
    return min(whole, round(whole * share * ctx.rng.uniform(0.7, 1.1)))


def _commune_drugs(ctx: Context, a: Answers) -> None:
    scale = {"none": 0, "not_serious": 12, "serious": 45}[a["drug_situation"]]
    n = lambda k=1.0: ctx.rng.randint(0, int(scale * k) + 1)  # noqa: E731
    users, decisions, completed = n(), n(0.3), n(0.2)
    family, comm_vol, comm_comp = n(0.2), n(0.15), n(0.1)
    in_rehab = family + comm_vol + comm_comp
    counts = {
        "n_users_managed": users,
        "n_users_new": n(0.2),
        "n_drug_hotspots": ctx.rng.randint(0, 2 if scale else 0),
        "n_rehab_family_vol": family,
        "n_rehab_comm_vol": comm_vol,
        "n_rehab_comm_comp": comm_comp,
        "n_decision_compulsory": decisions,
        "n_vol_centre": n(0.1),
        # Continuing and new patients are two counts, neither part of the other.
        "n_methadone_maintained": n(0.4),
        "n_methadone_new": n(0.15),
        "n_completed_return": completed,
        "n_voc_counsel": _part(ctx, in_rehab, 0.8),
        "n_voc_trained": _part(ctx, in_rehab, 0.3),
        "n_job_referral_inrehab": _part(ctx, in_rehab, 0.2),
        "n_service_estab": ctx.rng.randint(0, 25),
        "n_prost_hotspots": n(0.02),
        "n_sex_workers_known": n(0.1),
    }
    parts = {
        "n_users_counselled": ("n_users_managed", 0.9),
        "n_decision_executed": ("n_decision_compulsory", 0.85),
        "n_postrehab_managed": ("n_completed_return", 0.9),
    }
    for part, (whole, share) in parts.items():
        if counts[whole] > 0:
            counts[part] = _part(ctx, counts[whole], share)
    # Parts of the post-rehab managed (plan line 293), and of them together
    # with the persons in family or community rehab (line 295).
    post = counts.get("n_postrehab_managed", 0)
    if post > 0:
        counts["n_job_referral_post"] = _part(ctx, post, 0.4)
    counts["n_loans"] = _part(ctx, in_rehab + post, 0.1)
    a.update({k: str(v) for k, v in counts.items()})


def _commune_teams_and_communication(ctx: Context, a: Answers, year: int) -> None:
    status = ctx.pick(
        {"new": 1, "consolidated": 1, "active": 5, "inactive": 1, "none": 2}
    )
    a["vswt_status"] = status
    if status in {"new", "consolidated"}:
        a["vswt_date"] = ctx.day_in(date(year, 1, 1), date(year, 12, 1)).isoformat()
    if status not in {"none", "inactive"}:
        a["vswt_members"] = str(ctx.rng.randint(5, 25))
    drug_comm = ctx.chance(0.9)
    a["drug_comm"] = _flag(drug_comm)
    if drug_comm:
        a["drug_comm_forms"] = ctx.some(COMM_FORMS, 1, 4)
    if ctx.chance(0.85):
        a["prost_comm_forms"] = ctx.some(COMM_FORMS, 1, 3)
        a["prost_comm_quarters"] = str(ctx.pick({"4": 6, "3": 2, "2": 1, "1": 1}))
    else:
        a["prost_comm_forms"] = "none"


def _commune_recognition(ctx: Context, a: Answers) -> None:
    a["recog_status"] = ctx.pick(
        {"new": 2, "maintained": 5, "lost": 1, "not_achieved": 2, "not_assessed": 0.5}
    )
    drugfree = a["recog_status"] in {"new", "maintained"}
    if drugfree:
        a["recog_decision"] = f"QĐ {ctx.rng.randint(100, 999)}/QĐ-UBND"
    a["gbv_model"] = _flag(ctx.chance(0.6))
    a.update(
        f_drugfree=_flag(drugfree),
        f_comm_drug=_flag(a["drug_comm"] == "1"),
        f_comm_prost_regular=_flag(a.get("prost_comm_quarters") == "4"),
        f_vswt_new_or_consolidated=_flag(a["vswt_status"] in {"new", "consolidated"}),
    )


# ag_tip_review -----------------------------------------------------------------

REGIMES_2011 = [
    "essential",
    "travel",
    "medical",
    "psych",
    "legal_aid",
    "education",
    "vocational",
    "initial_allowance",
    "loan",
]
REGIMES_2024 = [*REGIMES_2011, "interpretation", "legal_support"]
EXPLOITATION = [
    "sexual",
    "forced_labour",
    "forced_marriage",
    "begging",
    "crime",
    "unknown",
]
STAGES = {"receipt": 3, "verification": 3, "support": 3, "reintegration": 2}


def _tip(ctx: Context, _slots: object) -> list[Answers]:
    received = ctx.day_in(date(min(ctx.years), 1, 1), date(max(ctx.years), 12, 31))
    a: Answers = {
        "username": "so-ldtbxh",
        "case_id": f"TIP-{received.year}-{ctx.index + 1:04d}",
        "receipt_date": received.isoformat(),
        "legal_frame": "law2024" if received >= date(2025, 7, 1) else "law2011",
        "receipt_route": ctx.pick(
            {"rescued": 3, "handed_over": 4, "self_returned": 2, "suspected": 1}
        ),
        "receiving_agency": ctx.pick(
            {"border_guard": 4, "police": 3, "ldtbxh": 2, "victim_facility": 1}
        ),
        "consent": _flag(ctx.chance(0.85)),
    }
    _tip_person(ctx, a, received)
    verified = received + timedelta(days=ctx.rng.randint(2, 40))
    filled = {
        "receipt": received + timedelta(days=ctx.rng.randint(0, 2)),
        "verification": verified + timedelta(days=ctx.rng.randint(0, 10)),
        "support": verified + timedelta(days=ctx.rng.randint(30, 120)),
        "reintegration": verified + timedelta(days=ctx.rng.randint(180, 400)),
    }
    outcome = _tip_verification(ctx, a, verified)
    support = _tip_support_and_protection(ctx, {**a, **outcome})
    stages = list(STAGES)[: int(ctx.pick({"1": 2, "2": 3, "3": 3, "4": 2}))]
    return [_tip_review(ctx, a, s, filled[s], outcome, support) for s in stages]


def _tip_review(
    ctx: Context,
    case: Answers,
    stage: str,
    filled: date,
    outcome: Answers,
    support: Answers,
) -> Answers:
    """The case as known at one review: verification from the second stage on,
    support given in full from the support stage on."""
    a = {**case, **_stamp(filled, ctx), "review_stage": stage}
    a["verif_started"] = _flag(stage != "receipt")
    if stage != "receipt":
        a.update(outcome)
        a.update(support)
    if stage == "verification" and support:
        given = _regimes(support["support_received"])
        a["support_received"] = " ".join(given[: len(given) // 2]) or "none"
        a.pop("allowance_amount", None)
        if "initial_allowance" in a["support_received"].split():
            a["allowance_amount"] = support["allowance_amount"]
        _note_unmet(a)
    _tip_reintegration(ctx, a, date.fromisoformat(case["receipt_date"]), filled)
    _tip_flags(a)
    a["instanceName"] = f"{a['case_id']}-{stage}"
    return a


def _regimes(answer: str) -> list[str]:
    """The regimes of a support answer; "none" is the answer that there are none."""
    return [r for r in answer.split() if r != "none"]


def _note_unmet(a: Answers) -> None:
    a.pop("support_notes", None)
    if set(_regimes(a["support_needed"])) - set(_regimes(a["support_received"])):
        a["support_notes"] = "Chờ bố trí kinh phí (mẫu)"


def _tip_person(ctx: Context, a: Answers, received: date) -> None:
    nationality = ctx.pick({"vn_citizen": 95, "stateless_resident": 2, "foreigner": 3})
    a.update(
        sex=ctx.pick({"2": 80, "1": 20}),
        nationality_status=nationality,
        ethnicity=ctx.pick(ETHNICITY),
    )
    consent = a["consent"] == "1"
    _tip_age(ctx, a, received, dob_known=consent and ctx.chance(0.9))
    if consent:
        a.update(
            full_name=f"Nạn Nhân Mẫu {ctx.index + 1:04d}",
            phone=f"09{ctx.rng.randint(0, 99_999_999):08d}",
        )
    if nationality != "foreigner":
        # The district is asked whatever the consent; the commune only with it.
        commune = ctx.rng.choice(ctx.communes)
        a["res_district"] = commune.district_code
        if consent:
            a["res_commune"] = commune.code
    a.update(
        n_minors_accompanying=str(ctx.pick({"0": 85, "1": 10, "2": 5})),
        destination=ctx.pick(
            {"cambodia": 5, "china": 3, "malaysia": 1, "domestic": 1, "unknown": 0.5}
        ),
        exploitation=ctx.some(EXPLOITATION, 1, 2),
        trafficked_year=str(
            ctx.rng.randint(max(1990, received.year - 3), received.year)
        ),
    )


def _tip_age(ctx: Context, a: Answers, received: date, *, dob_known: bool) -> None:
    """The date of birth when given (with consent, when known), else the age
    in years; age_at_receipt is the form's calculation of either."""
    age = ctx.rng.randint(13, 45)
    if dob_known:
        born = received - timedelta(days=int(age * 365.25) + ctx.rng.randint(20, 300))
        a["dob"] = born.isoformat()
        age = _age(born, received)
    else:
        a["age_declared"] = str(age)
    a["age_at_receipt"] = str(age)


def _tip_verification(ctx: Context, case: Answers, verified: date) -> Answers:
    """The identification result, decided once per case."""
    outcome: Answers = {
        "verif_agency": ctx.pick({"police": 4, "border_guard": 4, "ldtbxh": 2}),
        "verif_date": verified.isoformat(),
        "evidence_sources": ctx.some(
            ["e1_proceedings", "e2_rescue", "e3_embassy", "e5_victim"], 1, 2
        ),
        "id_outcome": ctx.pick(
            {"victim": 80, "pending": 10, "not_victim": 7, "insufficient": 3}
        ),
    }
    if outcome["id_outcome"] == "victim":
        outcome["id_document"] = _flag(ctx.chance(0.8))
    return outcome


def _tip_support_and_protection(ctx: Context, case: Answers) -> Answers:
    """Support and protection in full, decided once per case."""
    a: Answers = {}
    if case["id_outcome"] not in {"victim", "pending"}:
        return a
    regimes = REGIMES_2024 if case["legal_frame"] == "law2024" else REGIMES_2011
    needed = ctx.rng.sample(regimes, ctx.rng.randint(1, 4)) if ctx.chance(0.9) else []
    received = [r for r in needed if ctx.chance(0.85)]
    a["support_needed"] = " ".join(needed) or "none"
    a["support_received"] = " ".join(received) or "none"
    if "initial_allowance" in received:
        a["allowance_amount"] = str(ctx.rng.choice([1_000_000, 1_500_000, 3_000_000]))
    _note_unmet(a)
    protection = ctx.chance(0.3)
    a["protection_needed"] = _flag(protection)
    if protection:
        who = ctx.pick({"victim": 6, "victim relatives": 3, "relatives": 1})
        a["protection_for"] = who
        if "relatives" in who.split():
            a["n_relatives_protect"] = str(ctx.rng.randint(1, 4))
        a["protection_measures"] = (
            ctx.some(
                ["secret_evidence", "secret_private", "relocation", "prevention"], 1, 2
            )
            if ctx.chance(0.9)
            else "none"
        )
        a["protection_refused"] = _flag(ctx.chance(0.05))
    return a


def _tip_reintegration(ctx: Context, a: Answers, received: date, filled: date) -> None:
    if a["review_stage"] != "reintegration":
        return
    a.update(
        living_after=ctx.pick({"family": 8, "facility": 1, "independent": 1}),
        reint_status=ctx.pick(
            {
                "stable_work": 4,
                "stable_school": 1,
                "in_support": 3,
                "unstable": 1,
                "lost": 1,
            }
        ),
        in_model=_flag(ctx.chance(0.3)),
        followup_date=ctx.day_in(received, filled).isoformat(),
    )


def _tip_flags(a: Answers) -> None:
    needed = _regimes(a.get("support_needed", ""))
    received = _regimes(a.get("support_received", ""))
    for regime in REGIMES_2024:
        a[f"met_{regime}"] = _flag(regime not in needed or regime in received)
    victim = a.get("id_outcome") == "victim"
    has_need = victim and bool(needed)
    prot_need = a.get("protection_needed") == "1" and a.get("protection_refused") != "1"
    measures = a.get("protection_measures", "").split()
    prot_met = prot_need and bool(measures) and "none" not in measures
    who = a.get("protection_for", "").split()
    persons = ("victim" in who) + (int(a.get("n_relatives_protect") or 0))
    a.update(
        f_received_case="1",
        f_verified=_flag(a["verif_started"] == "1"),
        f_victim=_flag(victim),
        f_victim_supported=_flag(victim and bool(received)),
        f_has_need=_flag(has_need),
        f_need_met=_flag(has_need and all(r in received for r in needed)),
        f_prot_need=_flag(prot_need),
        f_prot_met=_flag(prot_met),
        f_prot_persons=str(persons if prot_need else 0),
        f_prot_persons_met=str(persons if prot_met else 0),
    )


ANSWERERS: dict[str, Callable[[Context, object], list[Answers]]] = {
    "ag_child_case": _child,
    "ag_commune_drugfree": _commune,
    "ag_tip_review": _tip,
}
