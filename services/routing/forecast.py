"""Breach forecast: which open tickets will miss their deadline at the OPD's current pace.

Pure. The pace is how many tickets the OPD resolved per working day over the recent window;
its open tickets are taken in deadline order, as a queue: the k-th is expected done after
k / pace working days. A ticket expected after its deadline (and not already overdue) is at
risk. With no resolution in the window there is no pace, and every ticket due is at risk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.workdays import WorkCalendar

WINDOW_WORKING_DAYS = 10


@dataclass(frozen=True)
class AtRisk:
    tracking_code: str
    due_at: datetime
    expected_at: datetime | None  # None: no pace to expect anything


def pace(resolved: int, window_working_days: int = WINDOW_WORKING_DAYS) -> float:
    """Tickets resolved per working day."""
    return resolved / window_working_days if window_working_days > 0 else 0.0


def at_risk(
    due: Iterable[tuple[str, datetime]],
    *,
    per_day: float,
    now: datetime,
    calendar: WorkCalendar,
) -> list[AtRisk]:
    """The open tickets (code, deadline) that will miss their deadline, soonest first."""
    queue = sorted((d, code) for code, d in due)
    found: list[AtRisk] = []
    for position, (deadline, code) in enumerate(queue, start=1):
        if deadline < now:
            continue  # already overdue: escalated, not forecast
        if per_day <= 0:
            found.append(AtRisk(code, deadline, None))
            continue
        expected = calendar.add_working_days(now, math.ceil(position / per_day))
        if expected > deadline:
            found.append(AtRisk(code, deadline, expected))
    return found
