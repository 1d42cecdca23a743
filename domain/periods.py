"""Period names and their arithmetic: ``2026``, ``2026-Q1``, ``2026-03``."""

from __future__ import annotations

from datetime import datetime

from domain.awards import Cadence


def cadence_of(period: str) -> Cadence:
    if "-Q" in period:
        return "quarter"
    return "month" if "-" in period else "year"


def period_end(period: str, at: datetime) -> datetime:
    """The first moment after ``period``, in the closing event's own UTC offset."""
    year = int(period[:4])
    if "-Q" in period:
        month = int(period[-1]) * 3 + 1
    elif "-" in period:
        month = int(period[5:]) + 1
    else:
        month = 13
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=at.tzinfo)


def previous_period(period: str) -> str:
    """The same kind of period just before: 2026 -> 2025, 2026-Q1 -> 2025-Q4."""
    year = int(period[:4])
    if "-Q" in period:
        quarter = int(period[-1]) - 1
        return f"{year - 1}-Q4" if quarter == 0 else f"{year}-Q{quarter}"
    if "-" in period:
        month = int(period[5:]) - 1
        return f"{year - 1}-12" if month == 0 else f"{year}-{month:02d}"
    return str(year - 1)
