"""Reporting periods: a year ("2026"), a quarter ("2026Q3"), a month ("2026-07")
or a campaign round, a named date range given by the caller
("Đợt 1:2026-07-01..2026-09-30").

Periods are ranges of calendar dates in Asia/Ho_Chi_Minh. The dates that place
a record in a period (visit_date, abuse_date, receipt_date) are already local
calendar dates, so they are compared as they are; an aware timestamp is turned
into its Asia/Ho_Chi_Minh date first (``local_date``).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ROUND = re.compile(r"^(.+):(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """A period the caller wrote that cannot be read."""


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # "year", "quarter", "month" or "round"
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains_year(self, year: int) -> bool:
        """Whether the whole calendar year lies inside the period; annual
        records (the commune assessment) belong only to such periods."""
        return self.start <= date(year, 1, 1) and date(year, 12, 31) <= self.end

    def year_earlier(self) -> "Period":
        """The same period one year before, for growth rates (CP-03): the
        same year, quarter or month (February whole, leap year or not), or a
        round's dates shifted by a year."""
        if self.kind in ("year", "quarter", "month"):
            year = self.start.year - 1
            label = {
                "year": str(year),
                "quarter": f"{year}Q{(self.start.month + 2) // 3}",
                "month": f"{year}-{self.start.month:02d}",
            }[self.kind]
            earlier = parse_period(label)
            return Period(f"{self.label} (-1)", self.kind, earlier.start, earlier.end)
        return Period(
            label=f"{self.label} (-1)",
            kind=self.kind,
            start=_minus_year(self.start),
            end=_minus_year(self.end),
        )


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def campaign_round(name: str, start: date, end: date) -> Period:
    if end < start:
        raise PeriodError(f"round {name!r} ends ({end}) before it starts ({start})")
    label = unicodedata.normalize("NFC", name.strip())
    return Period(label=label, kind="round", start=start, end=end)


def parse_period(text: str) -> Period:
    """Read "2026", "2026Q3", "2026-07" or "name:YYYY-MM-DD..YYYY-MM-DD"."""
    text = text.strip()
    if match := _YEAR.match(text):
        year = int(match.group(1))
        return Period(text, "year", date(year, 1, 1), date(year, 12, 31))
    if match := _QUARTER.match(text):
        year, quarter = int(match.group(1)), int(match.group(2))
        first = 3 * quarter - 2
        end = _month_end(year, first + 2)
        return Period(f"{year}Q{quarter}", "quarter", date(year, first, 1), end)
    if match := _MONTH.match(text):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r}: month must be 01 to 12")
        return Period(text, "month", date(year, month, 1), _month_end(year, month))
    if match := _ROUND.match(text):
        start = date.fromisoformat(match.group(2))
        end = date.fromisoformat(match.group(3))
        return campaign_round(match.group(1), start, end)
    raise PeriodError(
        f"period {text!r} is not understood: write a year (2026), a quarter "
        "(2026Q3), a month (2026-07) or a campaign round "
        "(name:2026-07-01..2026-09-30)"
    )


def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise PeriodError(f"naive datetime {moment!r}: give it a timezone")
    return moment.astimezone(TIMEZONE).date()
