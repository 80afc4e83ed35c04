"""Reading one cell out of an indicator result."""

import math

import pandas as pd


def cell(
    frame: pd.DataFrame,
    code: str,
    unit: str,
    *,
    level: str | None = None,
    breakdown: str = "total",
    group: str = "",
    period: str | None = None,
) -> pd.Series:
    rows = frame[
        (frame["indicator"] == code)
        & (frame["unit_code"] == unit)
        & (frame["breakdown"] == breakdown)
        & (frame["group"] == group)
    ]
    if level is not None:
        rows = rows[rows["level"] == level]
    if period is not None:
        rows = rows[rows["period"] == period]
    assert len(rows) == 1, f"{len(rows)} rows for {code} {unit} {breakdown} {group}"
    return rows.iloc[0]


def fraction(row: pd.Series) -> tuple[float, float, float]:
    return row["numerator"], row["denominator"], row["value"]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
