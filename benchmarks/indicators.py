"""Every indicator, at every level, for 20 periods, over 1,000,000 synthetic
child records (plus a year of commune assessments and 5,000 trafficking
reviews). Prints seconds and peak memory; asserts nothing.

    python -m benchmarks indicators [--rows N]
"""

import argparse
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analysis.indicators import compute_indicators, prepare_tables
from analysis.units import load_units_frame

PERIODS = [
    *(f"2026-{m:02d}" for m in range(1, 13)),
    *(f"2026Q{q}" for q in range(1, 5)),
    "2024",
    "2025",
    "2026",
    "Đợt 2025-2026:2025-07-01..2026-06-30",
]


def _choice(rng, values, n, p=None):
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def _yes(rng, n, share):
    return np.where(rng.random(n) < share, "1", "0").astype(object)


def child_table(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = load_units_frame()
    pick = rng.integers(0, len(units), size=rows)
    days = rng.integers(0, 3 * 365, size=rows)
    visit = np.datetime64("2024-01-01") + days.astype("timedelta64[D]")
    abused = _yes(rng, rows, 0.05)
    abuse_days = days - rng.integers(0, 60, size=rows)
    abuse_date = np.datetime64("2024-01-01") + abuse_days.astype("timedelta64[D]")
    support = _choice(rng, ["health", "psych education", "none", None], rows)
    ids = np.char.add("uuid:", np.arange(rows).astype(str)).astype(object)
    return pd.DataFrame(
        {
            "submission_id": ids,
            "instance_id": ids,
            "submission_date": pd.Timestamp("2026-11-01", tz=UTC),
            "review_state": _choice(
                rng, ["approved", None, "hasIssues", "edited", "rejected"], rows,
                p=[0.8, 0.1, 0.03, 0.03, 0.04],
            ),
            "deleted_at": pd.Series(
                np.where(rng.random(rows) < 0.01, datetime(2026, 11, 2, tzinfo=UTC),
                         None)
            ),
            "visit_date": visit,
            "district": units["district_code"].to_numpy(dtype=object)[pick],
            "commune": units["commune_code"].to_numpy(dtype=object)[pick],
            # About 700,000 cases: three in ten records are follow-ups.
            "case_id": np.char.add("c", rng.integers(0, 700_000, rows).astype(str)),
            "sex": _choice(rng, ["1", "2", None], rows, p=[0.49, 0.49, 0.02]),
            "age_years": rng.integers(0, 16, size=rows).astype(str).astype(object),
            "is_csc": _yes(rng, rows, 0.4),
            "at_risk_csc": _yes(rng, rows, 0.2),
            "abused": abused,
            "abuse_date": np.where(abused == "1", abuse_date, np.datetime64("NaT")),
            "high_risk_abuse": _yes(rng, rows, 0.05),
            "is_managed": _yes(rng, rows, 0.7),
            "has_plan": _yes(rng, rows, 0.6),
            "support_received": support,
            "support_received__none": support == "none",
        }
    )  # fmt: skip


def commune_table() -> pd.DataFrame:
    units = load_units_frame()
    rng = np.random.default_rng(2)
    n = len(units) * 3
    counts = {
        name: rng.integers(0, 30, size=n)
        for name in (
            "n_users_managed", "n_users_counselled", "n_rehab_family_vol",
            "n_rehab_comm_vol", "n_rehab_comm_comp", "n_decision_compulsory",
            "n_decision_executed", "n_completed_return", "n_postrehab_managed",
            "n_job_referral_post", "n_voc_counsel", "n_voc_trained",
            "n_job_referral_inrehab", "n_loans",
        )
    }  # fmt: skip
    ids = [f"uuid:m{i}" for i in range(n)]
    return pd.DataFrame(
        {
            "submission_id": ids,
            "instance_id": ids,
            "submission_date": pd.Timestamp("2026-11-01", tz=UTC),
            "review_state": "approved",
            "deleted_at": None,
            "period_year": np.repeat([2024, 2025, 2026], len(units)),
            "district": np.tile(units["district_code"], 3),
            "commune": np.tile(units["commune_code"], 3),
            "recog_status": _choice(rng, ["new", "maintained", "lost"], n),
            "vswt_status": _choice(rng, ["new", "active", "none"], n),
            "drug_comm": _yes(rng, n, 0.8),
            "prost_comm_quarters": rng.integers(0, 5, size=n),
            **counts,
        }
    )


def tip_table(rows: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    units = load_units_frame()
    pick = rng.integers(0, len(units), size=rows)
    regimes = ["essential", "essential medical", "psych legal_aid", None]
    ids = [f"uuid:t{i}" for i in range(rows)]
    return pd.DataFrame(
        {
            "submission_id": ids,
            "instance_id": ids,
            "submission_date": pd.Timestamp("2026-11-01", tz=UTC),
            "review_state": _choice(rng, ["approved", None, "rejected"], rows),
            "deleted_at": None,
            "case_id": [f"TIP-{i % 4000:04d}" for i in range(rows)],
            "receipt_date": np.datetime64("2024-01-01")
            + rng.integers(0, 1095, rows).astype("timedelta64[D]"),
            "sex": _choice(rng, ["1", "2"], rows),
            "age_at_receipt": rng.integers(10, 60, rows).astype(str),
            "age_declared": None,
            "res_district": units["district_code"].to_numpy()[pick],
            "res_commune": units["commune_code"].to_numpy()[pick],
            "verif_started": _yes(rng, rows, 0.9),
            "id_outcome": _choice(rng, ["victim", "not_victim", "pending"], rows),
            "support_needed": _choice(rng, regimes, rows),
            "support_received": _choice(rng, regimes, rows),
            "protection_needed": _yes(rng, rows, 0.3),
            "protection_for": _choice(rng, ["victim", "victim relatives"], rows),
            "n_relatives_protect": rng.integers(0, 3, rows),
            "protection_measures": _choice(rng, ["secret_private", "none"], rows),
            "protection_refused": _yes(rng, rows, 0.05),
        }
    )


def _compute(tables):
    prepared = prepare_tables(tables)
    return compute_indicators(prepared=prepared, periods=PERIODS, level="all")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.indicators")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv or [])
    tables = {
        "ag_child_case": child_table(args.rows),
        "ag_commune_drugfree": commune_table(),
        "ag_tip_review": tip_table(),
    }
    _compute({k: v.head(1000) for k, v in tables.items()})  # imports, caches

    started, cpu_started = time.perf_counter(), time.process_time()
    prepared = prepare_tables(tables)
    prepare_seconds = time.perf_counter() - started
    result = compute_indicators(prepared=prepared, periods=PERIODS, level="all")
    total_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started

    tracemalloc.start()
    _compute(tables)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    lines = [
        f"child records: {args.rows:,}; periods: {len(PERIODS)}; levels: all",
        f"output rows: {len(result.frame):,}",
        f"prepare (once): {prepare_seconds:.2f} s",
        f"compute: {total_seconds - prepare_seconds:.2f} s",
        f"total: {total_seconds:.2f} s wall, {cpu_seconds:.2f} s CPU (goal: under 3 s)",
        f"peak traced memory during the run: {peak / 2**20:.0f} MiB",
        f"process max RSS (incl. the synthetic tables): {max_rss:.0f} MiB",
    ]
    # Wall time counts other processes on a shared machine; CPU time does not.
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
