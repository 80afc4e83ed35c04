"""Reading the typed form tables from a database (URL or SQLAlchemy engine).

Only the columns the indicators use are read. Of the answers the forms mark
identifying (P), one enters these frames: the trafficking review's
``res_commune`` (asked with consent only), because its indicators place a
victim in the commune of residence; its ``res_district`` is asked whatever the
consent and is not marked. Names, phone numbers, dates of birth (ages come
from the forms' own ``age_years`` and ``age_at_receipt``, and from
``age_declared`` where a victim gave no date of birth), hamlets and free-text
notes stay in the database. Answers marked sensitive (S) that an indicator
counts (special circumstances, abuse, drug and trafficking details) are read:
these frames are for counting, never for logging or export row by row.
"""

import logging

import pandas as pd
from sqlalchemy import Engine, create_engine, inspect, select, table
from sqlalchemy import column as sql_column

from analysis.forms import CHILD, COMMUNE, TIP

logger = logging.getLogger(__name__)

STANDARD = (
    "submission_id", "instance_id", "submission_date", "review_state", "deleted_at",
)  # fmt: skip
COLUMNS = {
    CHILD: (
        "visit_date", "district", "commune", "case_id", "sex", "age_years",
        "is_csc", "at_risk_csc", "abused", "abuse_date", "high_risk_abuse",
        "is_managed", "has_plan", "support_received", "support_received__none",
    ),
    COMMUNE: (
        "period_year", "district", "commune", "n_children_u16", "n_users_managed",
        "n_users_counselled", "n_rehab_family_vol", "n_rehab_comm_vol",
        "n_rehab_comm_comp", "n_decision_compulsory", "n_decision_executed",
        "n_completed_return", "n_postrehab_managed", "n_job_referral_post",
        "n_voc_counsel", "n_voc_trained", "n_job_referral_inrehab", "n_loans",
        "vswt_status", "drug_comm", "prost_comm_quarters", "recog_status",
    ),
    TIP: (
        "case_id", "receipt_date", "sex", "age_at_receipt", "age_declared",
        "res_district", "res_commune", "verif_started", "id_outcome",
        "support_needed", "support_received", "protection_needed",
        "protection_for", "n_relatives_protect", "protection_measures",
        "protection_measures__none", "protection_refused",
    ),
}  # fmt: skip


def table_name(xml_form_id: str) -> str:
    """``form_<xml_form_id>``, lower case, other characters as ``_``."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in xml_form_id)
    return f"form_{cleaned.lower()}"


def read_form_tables(
    engine: Engine | str, forms: tuple[str, ...] = (CHILD, COMMUNE, TIP)
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The typed tables that exist, and a warning for each that does not."""
    if isinstance(engine, str):
        engine = create_engine(engine)
    existing = set(inspect(engine).get_table_names())
    tables, warnings = {}, []
    for form in forms:
        name = table_name(form)
        if name not in existing:
            warnings.append(f"chưa có bảng {name} (chưa đồng bộ phiếu nào)")
            continue
        present = {c["name"] for c in inspect(engine).get_columns(name)}
        wanted = [c for c in (*STANDARD, *COLUMNS[form]) if c in present]
        query = select(*(sql_column(c) for c in wanted)).select_from(table(name))
        with engine.connect() as conn:
            tables[form] = pd.read_sql(query, conn)
        logger.info("read %s rows from %s", len(tables[form]), name)
    return tables, warnings
