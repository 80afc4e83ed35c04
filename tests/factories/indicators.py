"""Typed form tables for indicator tests, shaped as the sync writes them
(contracts.md section 2): the standard columns, then one column per field,
select_multiple as raw text plus one boolean column per choice."""

import itertools
from datetime import UTC, date, datetime

import pandas as pd

_serial = itertools.count(1)

SUPPORT_CHILD = (
    "health", "psych", "education", "legal", "social_allowance", "alt_care",
    "vocational", "material", "emergency", "family_support", "referral", "none",
    "other",
)  # fmt: skip
SUPPORT_REGIME = (
    "essential", "travel", "medical", "psych", "legal_aid", "education",
    "vocational", "initial_allowance", "loan", "interpretation", "legal_support",
    "none",
)  # fmt: skip
PROT_FOR = ("victim", "relatives")
PROT_MEASURE = (
    "secret_evidence", "secret_private", "relocation", "prevention", "other", "none",
)  # fmt: skip
MULTIPLE = {
    "ag_child_case": {"support_received": SUPPORT_CHILD},
    "ag_tip_review": {
        "support_needed": SUPPORT_REGIME,
        "support_received": SUPPORT_REGIME,
        "protection_for": PROT_FOR,
        "protection_measures": PROT_MEASURE,
    },
    "ag_commune_drugfree": {},
}

CHILD_FIELDS = {
    "visit_date": date(2026, 7, 15),
    "record_type": "new",
    "district": "883",
    "commune": "30280",
    "case_id": None,
    "sex": "1",
    "dob": None,
    "age_years": "8",
    "is_csc": "0",
    "csc_groups": None,
    "at_risk_csc": None,
    "abused": "0",
    "abuse_date": None,
    "high_risk_abuse": "0",
    "is_managed": "0",
    "has_plan": None,
    "support_received": None,
    "case_status": None,
}
COMMUNE_FIELDS = {
    "period_year": 2026,
    "district": "883",
    "commune": "30280",
    "n_children_u16": None,
    "drug_situation": "none",
    "n_users_managed": 0,
    "n_users_counselled": None,
    "n_rehab_family_vol": 0,
    "n_rehab_comm_vol": 0,
    "n_rehab_comm_comp": 0,
    "n_decision_compulsory": 0,
    "n_decision_executed": None,
    "n_completed_return": 0,
    "n_postrehab_managed": None,
    "n_job_referral_post": 0,
    "n_voc_counsel": 0,
    "n_voc_trained": 0,
    "n_job_referral_inrehab": 0,
    "n_loans": 0,
    "vswt_status": "active",
    "drug_comm": "0",
    "prost_comm_quarters": None,
    "recog_status": "not_achieved",
}
TIP_FIELDS = {
    "case_id": None,
    "review_stage": "receipt",
    "receipt_date": date(2026, 7, 15),
    "sex": "2",
    "consent": "1",
    "dob": None,
    "age_declared": None,
    "age_at_receipt": "25",
    "nationality_status": "vn_citizen",
    "res_district": "883",
    "res_commune": "30280",
    "verif_started": "0",
    "id_outcome": None,
    "support_needed": None,
    "support_received": None,
    "protection_needed": None,
    "protection_for": None,
    "n_relatives_protect": None,
    "protection_measures": None,
    "protection_refused": None,
}
STANDARD_COLUMNS = (
    "submission_id", "project_id", "instance_id", "form_version",
    "submission_date", "updated_at", "review_state", "edits", "submitter_id",
    "deleted_at",
)  # fmt: skip
FIELDS = {
    "ag_child_case": CHILD_FIELDS,
    "ag_commune_drugfree": COMMUNE_FIELDS,
    "ag_tip_review": TIP_FIELDS,
}


def standard(**overrides) -> dict:
    n = next(_serial)
    submission_id = overrides.pop("submission_id", f"uuid:sub-{n:06d}")
    row = {
        "submission_id": submission_id,
        "project_id": 1,
        "instance_id": submission_id,
        "form_version": "2026120301",
        "submission_date": datetime(2026, 8, 1, 3, 0, tzinfo=UTC),
        "updated_at": None,
        "review_state": "approved",
        "edits": 0,
        "submitter_id": "7",
        "deleted_at": None,
    }
    row.update(overrides)
    return row


def _record(form: str, overrides: dict) -> dict:
    fields = dict(FIELDS[form])
    std = {k: v for k, v in overrides.items() if k in STANDARD_COLUMNS}
    fields.update({k: v for k, v in overrides.items() if k not in STANDARD_COLUMNS})
    row = standard(**std)
    if fields.get("case_id", "x") is None:
        fields["case_id"] = f"case-{row['submission_id']}"
    row.update(fields)
    for column, choices in MULTIPLE[form].items():
        chosen = set((row.get(column) or "").split())
        for choice in choices:
            row[f"{column}__{choice}"] = choice in chosen
    return row


def child(**overrides) -> dict:
    return _record("ag_child_case", overrides)


def commune(**overrides) -> dict:
    return _record("ag_commune_drugfree", overrides)


def tip(**overrides) -> dict:
    return _record("ag_tip_review", overrides)


def table(form: str, records: list[dict]) -> pd.DataFrame:
    """A typed table; an empty one still has every column."""
    if records:
        return pd.DataFrame.from_records(records)
    columns = list(_record(form, {}).keys())
    return pd.DataFrame(columns=columns)


def tables(*, children=(), communes=(), tips=()) -> dict[str, pd.DataFrame]:
    return {
        "ag_child_case": table("ag_child_case", list(children)),
        "ag_commune_drugfree": table("ag_commune_drugfree", list(communes)),
        "ag_tip_review": table("ag_tip_review", list(tips)),
    }


# Typed tables in a database, with the column types of contracts.md section 2.
def _column_type(name: str, values: pd.Series):
    import sqlalchemy as sa

    from server.db import AwareDateTime

    sample = next((v for v in values if v is not None and v == v), None)
    if name in ("submission_date", "updated_at", "deleted_at"):
        return AwareDateTime()
    if isinstance(sample, bool) or "__" in name:
        return sa.Boolean()
    if isinstance(sample, datetime):
        return AwareDateTime()
    if isinstance(sample, date) or name.endswith("_date") or name == "dob":
        return sa.Date()
    if isinstance(sample, int) or name.startswith("n_") or name in (
        "project_id", "edits", "period_year", "prost_comm_quarters",
    ):  # fmt: skip
        return sa.BigInteger()
    return sa.Text()


def create_form_tables(engine, frames: dict[str, pd.DataFrame]) -> list[str]:
    """Create ``form_<xml_form_id>`` tables holding ``frames``; returns their
    names so the caller can drop them."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    names = []
    for form, frame in frames.items():
        columns = [
            sa.Column(c, _column_type(c, frame[c]), primary_key=c == "submission_id")
            for c in frame.columns
        ]
        table_ = sa.Table(f"form_{form}", metadata, *columns)
        names.append(table_.name)
        metadata.create_all(engine, tables=[table_])
        integers = {c.name for c in columns if isinstance(c.type, sa.BigInteger)}
        rows = [
            {k: _cell(v, k in integers) for k, v in row.items()}
            for row in frame.astype(object).to_dict(orient="records")
        ]
        if rows:
            with engine.begin() as conn:
                conn.execute(table_.insert(), rows)
    return names


def _cell(value, integer: bool):
    if value is None or value != value:
        return None
    return int(value) if integer else value


def drop_tables(engine, names: list[str]) -> None:
    import sqlalchemy as sa

    with engine.begin() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
