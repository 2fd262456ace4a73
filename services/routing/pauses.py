"""Honest SLA clocks: "menunggu pelapor" and "menunggu pihak ketiga" pause the deadline.

Pure arithmetic in working days (shared.workdays): a paused ticket has no running deadline;
on resuming, its deadline moves on by the working days the pause lasted, so the OPD gets back
exactly the working time it lost while it waited. Whole working days are counted as
`WorkCalendar.working_days_between` counts them (each working day begun after the pause's
day), the same granularity as the deadlines themselves.
"""

from __future__ import annotations

from datetime import datetime

from shared.workdays import WorkCalendar


def paused_working_days(paused_at: datetime, resumed_at: datetime, calendar: WorkCalendar) -> int:
    """Working days a pause lasted (0 within one day, and for a pause over a weekend only)."""
    return calendar.working_days_between(paused_at, resumed_at)


def resumed_due_at(
    due_at: datetime | None,
    *,
    paused_at: datetime,
    resumed_at: datetime,
    calendar: WorkCalendar,
) -> datetime | None:
    """The deadline after a pause: the one held at pausing, moved by the pause's working days
    (None stays None: nothing was due)."""
    if due_at is None:
        return None
    return calendar.add_working_days(due_at, paused_working_days(paused_at, resumed_at, calendar))
