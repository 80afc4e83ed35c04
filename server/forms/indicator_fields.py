"""Which form fields each form-sourced indicator of the plan is computed from.

analysis/ computes the indicators and never imports the server, so it does not
read this table; the forms tests hold the two together instead
(tests/forms/test_indicator_fields.py): every indicator of ``indicators.csv``
whose ``source_form`` is one of the three forms has a row here, every field
named exists in its form with this type, the answer fields of each numerator
and denominator are exactly the columns analysis/forms.py is measured to
compute it from (the ``f_*`` calculate fields are the form's own copy of the
rule, which analysis recomputes), and analysis/sources.py fetches them all,
with the fields that place a record and break it down by sex and age
(``*_KEYS``, ``BREAKDOWN_FIELDS``); the breakdowns read no other field, and
change when all of ``BREAKDOWN_FIELDS`` are taken away together.

Denominators no case record can give come from:
- the commune form's question ``n_children_u16`` (children under 16 in the
  commune at 31/12, from the commune's child register) for CP-02;
- the reference unit list ``forms/an_giang_units_2016_2020.csv`` (156
  communes, fixed at the plan's 2016-2020 units) for DR-13, DR-17 and PR-02.
"""

from dataclasses import dataclass

CHILD = "ag_child_case"
COMMUNE = "ag_commune_drugfree"
TIP = "ag_tip_review"

# indicators.csv's source_form wording -> xml_form_id.
SOURCE_FORMS = {
    "child survey": CHILD,
    "drug-free commune assessment": COMMUNE,
    "trafficking-victim review": TIP,
}
# The reference table for "all communes": the plan's 156 communes of 2016-2020.
COMMUNES_REFERENCE = "units:communes_2016_2020"


@dataclass(frozen=True)
class Field:
    form: str
    name: str
    # The XLSForm type as written in the survey sheet, without its list name:
    # integer, date, select_one, select_multiple, select_one_from_file, calculate.
    type: str


@dataclass(frozen=True)
class Term:
    """A numerator or denominator: the rule in words and what it reads."""

    rule: str
    fields: tuple[Field, ...] = ()
    reference: str | None = None


@dataclass(frozen=True)
class IndicatorFields:
    code: str
    numerator: Term
    # None for indicators that are plain counts against a number target.
    denominator: Term | None


def _c(name: str, type_: str) -> Field:
    return Field(CHILD, name, type_)


def _m(name: str, type_: str = "integer") -> Field:
    return Field(COMMUNE, name, type_)


def _t(name: str, type_: str) -> Field:
    return Field(TIP, name, type_)


# Fields every record of a form is placed by (period and place).
CHILD_KEYS = (
    _c("case_id", "text"),
    _c("visit_date", "date"),
    _c("commune", "select_one_from_file"),
)
COMMUNE_KEYS = (_m("period_year"), _m("commune", "select_one_from_file"))
# A victim is placed by residence: the district is asked whatever the consent,
# the commune only with it.
TIP_KEYS = (
    _t("case_id", "text"),
    _t("receipt_date", "date"),
    _t("res_district", "select_one_from_file"),
    _t("res_commune", "select_one_from_file"),
)
# Fields the sex and age-group breakdowns read, the first answered first: the
# forms' ages are calculated from dob, or are the age declared without one.
BREAKDOWN_FIELDS = {
    CHILD: (_c("sex", "select_one"), _c("age_years", "calculate")),
    TIP: (
        _t("sex", "select_one"),
        _t("age_at_receipt", "calculate"),
        _t("age_declared", "integer"),
    ),
}

_CSC = _c("is_csc", "select_one")
_SUPPORT = _c("support_received", "select_multiple")
_MANAGED = _c("is_managed", "select_one")
_ABUSED = _c("abused", "select_one")
_HIGH_RISK = _c("high_risk_abuse", "select_one")
_ALL_COMMUNES = Term("the 156 communes of 2016-2020", reference=COMMUNES_REFERENCE)
_REHAB = (_m("n_rehab_family_vol"), _m("n_rehab_comm_vol"), _m("n_rehab_comm_comp"))
_VICTIM = Term("cases with id_outcome = victim", (_t("id_outcome", "select_one"),))
_VICTIM_SUPPORTED = Term(
    "victims with at least one support regime received",
    (_t("id_outcome", "select_one"), _t("support_received", "select_multiple")),
)
# Who needs protection, weighed as TV-04 counts persons.
_PROTECTION_NEED = (
    _t("protection_needed", "select_one"),
    _t("protection_for", "select_multiple"),
    _t("n_relatives_protect", "integer"),
    _t("protection_refused", "select_one"),
)

INDICATOR_FIELDS: dict[str, IndicatorFields] = {
    i.code: i
    for i in (
        IndicatorFields(
            "CP-01",
            Term(
                "CSC with support_received not empty and not 'none'",
                (_CSC, _SUPPORT, _c("f_csc_assisted", "calculate")),
            ),
            Term("children with is_csc = 1", (_CSC, _c("f_csc", "calculate"))),
        ),
        IndicatorFields(
            "CP-02",
            Term("children with is_csc = 1", (_CSC, _c("f_csc", "calculate"))),
            Term(
                "sum of n_children_u16 over the communes, same year",
                (_m("n_children_u16"),),
            ),
        ),
        IndicatorFields(
            "CP-03",
            Term(
                "abused children in year t (year of abuse_date) minus year t-1",
                (_ABUSED, _c("abuse_date", "date"), _c("f_abused", "calculate")),
            ),
            Term("abused children in year t-1", (_ABUSED, _c("abuse_date", "date"))),
        ),
        IndicatorFields(
            "CP-04",
            Term(
                "abused or high-risk children with has_plan = 1",
                (
                    _ABUSED,
                    _HIGH_RISK,
                    _c("has_plan", "select_one"),
                    _c("f_plan", "calculate"),
                ),
            ),
            Term(
                "children with abused = 1 or high_risk_abuse = 1",
                (_ABUSED, _HIGH_RISK, _c("f_abuse_or_highrisk", "calculate")),
            ),
        ),
        IndicatorFields(
            "CP-05",
            Term(
                "at-risk children managed and with support received",
                (
                    _c("at_risk_csc", "select_one"),
                    _MANAGED,
                    _SUPPORT,
                    _c("f_atrisk_managed_interv", "calculate"),
                ),
            ),
            Term(
                "children with at_risk_csc = 1",
                (_c("at_risk_csc", "select_one"), _c("f_atrisk", "calculate")),
            ),
        ),
        IndicatorFields(
            "CP-06",
            Term(
                "CSC with is_managed = 1",
                (_CSC, _MANAGED, _c("f_csc_managed", "calculate")),
            ),
            Term("children with is_csc = 1", (_CSC,)),
        ),
        IndicatorFields(
            "DR-01",
            Term("sum of n_users_counselled", (_m("n_users_counselled"),)),
            Term(
                "sum of n_users_managed (with a file at any time in the year)",
                (_m("n_users_managed"),),
            ),
        ),
        IndicatorFields(
            "DR-04", Term("sum of family and community rehab counts", _REHAB), None
        ),
        IndicatorFields(
            "DR-06",
            Term("sum of n_decision_executed", (_m("n_decision_executed"),)),
            Term("sum of n_decision_compulsory", (_m("n_decision_compulsory"),)),
        ),
        IndicatorFields(
            "DR-07",
            Term("sum of n_postrehab_managed", (_m("n_postrehab_managed"),)),
            Term("sum of n_completed_return", (_m("n_completed_return"),)),
        ),
        IndicatorFields(
            "DR-08",
            Term("sum of n_job_referral_post", (_m("n_job_referral_post"),)),
            None,
        ),
        IndicatorFields(
            "DR-09",
            Term(
                "sum of n_voc_counsel (community part; the centre's part comes "
                "from the centre register)",
                (_m("n_voc_counsel"),),
            ),
            Term("sum of family and community rehab counts", _REHAB),
        ),
        IndicatorFields(
            "DR-10b", Term("sum of n_voc_trained", (_m("n_voc_trained"),)), None
        ),
        IndicatorFields("DR-11", Term("sum of n_loans", (_m("n_loans"),)), None),
        IndicatorFields(
            "DR-12",
            Term("sum of n_job_referral_inrehab", (_m("n_job_referral_inrehab"),)),
            None,
        ),
        IndicatorFields(
            "DR-13",
            Term(
                "communes with recog_status new or maintained",
                (_m("recog_status", "select_one"), _m("f_drugfree", "calculate")),
            ),
            _ALL_COMMUNES,
        ),
        IndicatorFields(
            "DR-14",
            Term(
                "communes with vswt_status new or consolidated",
                (
                    _m("vswt_status", "select_one"),
                    _m("f_vswt_new_or_consolidated", "calculate"),
                ),
            ),
            None,
        ),
        IndicatorFields(
            "DR-17",
            Term(
                "communes with drug_comm = 1",
                (_m("drug_comm", "select_one"), _m("f_comm_drug", "calculate")),
            ),
            _ALL_COMMUNES,
        ),
        IndicatorFields(
            "PR-02",
            Term(
                "communes with prost_comm_quarters = 4 (proposed rule for 'regular')",
                (_m("prost_comm_quarters"), _m("f_comm_prost_regular", "calculate")),
            ),
            _ALL_COMMUNES,
        ),
        IndicatorFields(
            "TV-01",
            Term(
                "received cases with verif_started = 1",
                (_t("verif_started", "select_one"), _t("f_verified", "calculate")),
            ),
            Term(
                "received cases (one per case_id)",
                (_t("case_id", "text"), _t("f_received_case", "calculate")),
            ),
        ),
        IndicatorFields("TV-02", _VICTIM_SUPPORTED, _VICTIM),
        IndicatorFields(
            "TV-03",
            Term(
                "victims whose needed regimes were all received",
                (
                    _t("id_outcome", "select_one"),
                    _t("support_needed", "select_multiple"),
                    _t("support_received", "select_multiple"),
                    _t("f_need_met", "calculate"),
                ),
            ),
            Term(
                "victims with at least one regime needed",
                (
                    _t("id_outcome", "select_one"),
                    _t("support_needed", "select_multiple"),
                    _t("f_has_need", "calculate"),
                ),
            ),
        ),
        IndicatorFields(
            "TV-04",
            Term(
                "persons (victim and relatives) protected, refusals excluded",
                (
                    *_PROTECTION_NEED,
                    _t("protection_measures", "select_multiple"),
                    _t("f_prot_persons_met", "calculate"),
                ),
            ),
            Term(
                "persons needing protection: the victim if named plus "
                "n_relatives_protect, refusals excluded",
                (*_PROTECTION_NEED, _t("f_prot_persons", "calculate")),
            ),
        ),
        IndicatorFields(
            "TV-06",
            Term(
                "identified victims counselled, supported or cared for (proxy)",
                _VICTIM_SUPPORTED.fields,
            ),
            Term("identified victims (proxy for all victims)", _VICTIM.fields),
        ),
    )
}
