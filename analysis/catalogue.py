"""The plan's indicators: every row of ``data/indicators.csv`` with its targets.

``indicators.csv`` is the domain team's catalogue, copied verbatim; its target
columns are prose ("75% (2017); 100% (2020)"). ``targets.csv`` restates each
target as numbers, one row per figure the plan gives, with the plan section
the figure comes from. Where the plan gives two figures for one indicator
(CP-04: 90% in III.2.1.b and 70% in I.2) both rows are kept; ``compared`` marks
the one outputs compare against: the project section (III.*) over the general
objectives (I.2), as indicators.md proposes, except where the indicator is
defined by I.2 alone (TV-06). PR-02 and PR-03 have two compared rows, one per
target year; the period decides which applies (see ``Indicator.target_for``).
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).parent / "data"

# ``source_form`` in indicators.csv -> xml_form_id of the form that feeds it.
FORM_OF_SOURCE = {
    "child survey": "ag_child_case",
    "drug-free commune assessment": "ag_commune_drugfree",
    "trafficking-victim review": "ag_tip_review",
}
NO_SOURCE_VI = "chưa có nguồn dữ liệu"
NO_SOURCE_EN = "no data source yet"


@dataclass(frozen=True)
class Target:
    section: str
    value: float | None
    comparator: str  # ">=", "<=" or "decrease" (directional, no figure)
    year: int
    span_years: int | None  # set for counts accumulated over several years
    compared: bool
    unit: str
    note: str

    def describe(self) -> str:
        figure = "giảm" if self.value is None else f"{self.comparator}{self.value:g}"
        return f"{figure} {self.unit} ({self.year}, {self.section})".strip()


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    numerator: str
    denominator: str
    factor: str  # "percent" or "count"
    target_text: str
    target_year_text: str
    baseline_text: str
    baseline: float | None
    section: str
    project: str
    source: str
    xml_form_id: str | None
    source_note: str
    inconsistency: str
    notes: str
    targets: tuple[Target, ...]

    @property
    def has_data_source(self) -> bool:
        return self.xml_form_id is not None

    def target_for(self, year: int) -> Target | None:
        """The compared target that applies to ``year``: the first compared
        target whose year is not before it, else the last one (a 2026 period is
        compared with the 2020 target, the plan's last)."""
        compared = sorted((t for t in self.targets if t.compared), key=lambda t: t.year)
        for target in compared:
            if target.year >= year:
                return target
        return compared[-1] if compared else None

    def other_targets(self, chosen: Target | None) -> list[Target]:
        return [t for t in self.targets if t is not chosen]


def _text(value: object) -> str:
    return "" if pd.isna(value) else str(value).strip()


def _leading_number(text: str) -> float | None:
    """'4,5% (năm gốc không nêu)' -> 4.5; '3 cơ sở hiện có' -> 3."""
    match = re.match(r"\s*([0-9]+(?:[.,][0-9]+)?)", text)
    return float(match.group(1).replace(",", ".")) if match else None


def _factor(denominator: str) -> str:
    return "count" if denominator.lower().startswith("count") else "percent"


def _targets(frame: pd.DataFrame) -> tuple[Target, ...]:
    return tuple(
        Target(
            section=row.section,
            value=None if pd.isna(row.target) else float(row.target),
            comparator=row.comparator,
            year=int(row.target_year),
            span_years=None if pd.isna(row.span_years) else int(row.span_years),
            compared=bool(int(row.compared)),
            unit=_text(row.unit),
            note=_text(row.note),
        )
        for row in frame.itertuples()
    )


@cache
def load_catalogue() -> dict[str, Indicator]:
    """Every indicator of the plan, keyed by code, in the order of the CSV."""
    rows = pd.read_csv(DATA_DIR / "indicators.csv", dtype=str, keep_default_na=False)
    targets = pd.read_csv(DATA_DIR / "targets.csv", dtype={"code": str})
    missing = set(rows["code"]) - set(targets["code"])
    if missing:
        raise ValueError(f"targets.csv has no target for {sorted(missing)}")
    catalogue = {}
    for row in rows.itertuples():
        catalogue[row.code] = Indicator(
            code=row.code,
            name_vi=row.name_vi,
            name_en=row.name_en,
            numerator=row.numerator,
            denominator=row.denominator,
            factor=_factor(row.denominator),
            target_text=row.target_value,
            target_year_text=row.target_year,
            baseline_text=row.baseline,
            baseline=_leading_number(row.baseline),
            section=row.section,
            project=row.project,
            source=row.source_form,
            xml_form_id=FORM_OF_SOURCE.get(row.source_form),
            source_note=row.source_note,
            inconsistency=row.inconsistency_flag,
            notes=row.notes,
            targets=_targets(targets[targets["code"] == row.code]),
        )
    return catalogue


def catalogue_frame() -> pd.DataFrame:
    """The catalogue as one row per indicator, for display and export."""
    records = []
    for ind in load_catalogue().values():
        records.append(
            {
                "code": ind.code,
                "name_vi": ind.name_vi,
                "name_en": ind.name_en,
                "factor": ind.factor,
                "target": ind.target_text,
                "target_year": ind.target_year_text,
                "baseline": ind.baseline_text,
                "section": ind.section,
                "source": ind.source,
                "xml_form_id": ind.xml_form_id,
                "targets": "; ".join(t.describe() for t in ind.targets),
            }
        )
    return pd.DataFrame.from_records(records)
