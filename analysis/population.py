"""Children under 16 per commune and year: CP-02's denominator.

Two sources, in this order of trust: the reference table
``data/child_population.csv`` (a population register's figures, when the
department has them) and the commune assessment's question ``n_children_u16``.
A commune and year present in the reference table keeps that figure; the
assessment fills the others, from its latest counted submission (approved, or
not rejected with ``include_pending``; never a deleted one).
"""

import pandas as pd

from analysis.catalogue import DATA_DIR

COLUMNS = ["commune_code", "year", "children_under16"]
COUNTED_STATES = {False: {"approved"}, True: {"approved", None, "hasIssues", "edited"}}


def reference_table() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "child_population.csv", dtype={"commune_code": str})


def from_assessments(commune: pd.DataFrame, *, include_pending: bool) -> pd.DataFrame:
    """The figures the commune assessments give, one row per commune and year."""
    needed = {"commune", "period_year", "n_children_u16", "review_state"}
    if commune is None or not needed <= set(commune.columns):
        return pd.DataFrame(columns=COLUMNS)
    states = (
        commune["review_state"]
        .astype(object)
        .where(commune["review_state"].notna(), None)
    )
    counted = states.map(lambda s: s in COUNTED_STATES[include_pending])
    if "deleted_at" in commune:
        counted &= commune["deleted_at"].isna()
    rows = commune[counted & commune["n_children_u16"].notna()]
    rows = rows.sort_values("submission_date").drop_duplicates(
        ["commune", "period_year"], keep="last"
    )
    return pd.DataFrame(
        {
            "commune_code": rows["commune"].astype(str).to_numpy(),
            "year": rows["period_year"].astype(int).to_numpy(),
            "children_under16": rows["n_children_u16"].astype(float).to_numpy(),
        }
    )


def child_population(
    reference: pd.DataFrame, commune: pd.DataFrame | None, *, include_pending: bool
) -> pd.DataFrame:
    """The reference table, completed by the assessments where it has no figure."""
    reference = reference.astype({"commune_code": str})
    assessed = from_assessments(commune, include_pending=include_pending)
    both = pd.concat([reference[COLUMNS], assessed], ignore_index=True)
    return both.drop_duplicates(["commune_code", "year"], keep="first")
