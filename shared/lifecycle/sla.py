"""The SP4N-LAPOR! deadlines (DOMAIN.md, "Deadlines") in working days, and the due dates.

One home for the days: routing's clocks, the staff's transitions, the citizen's dispute and
the web receipt all compute their dates here. Working days come from `WorkCalendar`.
"""

from __future__ import annotations

from datetime import datetime

from shared.catalogue import Catalogue, Category
from shared.tickets import Ticket, TicketStatus
from shared.workdays import WorkCalendar

ROUTING_WORKING_DAYS = 3  # the admin side routes (or verifies) a new report
FOLLOW_UP_WORKING_DAYS = 5  # the OPD's follow-up after assignment
RESOLUTION_WORKING_DAYS = 14  # resolution after verification, unless the category says
CLOSE_AFTER_WORKING_DAYS = 10  # a resolution unanswered closes; until then it may be disputed


def category_resolution_days(category: Category | None) -> int:
    """The category's resolution deadline in working days, else the default 14."""
    days = category.resolution_working_days if category else None
    return days or RESOLUTION_WORKING_DAYS


def resolution_days(ticket: Ticket, catalogue: Catalogue) -> int:
    """The resolution days of the ticket's category (a reopened ticket gets them again too)."""
    return category_resolution_days(
        catalogue.category(ticket.category) if ticket.category else None
    )


def routing_due(submitted_at: datetime, calendar: WorkCalendar) -> datetime:
    return calendar.add_working_days(submitted_at, ROUTING_WORKING_DAYS)


def follow_up_due(assigned_at: datetime, calendar: WorkCalendar) -> datetime:
    return calendar.add_working_days(assigned_at, FOLLOW_UP_WORKING_DAYS)


def resolution_due(start: datetime, calendar: WorkCalendar, *, days: int) -> datetime:
    return calendar.add_working_days(start, days)


def due_after_routing(
    status: TicketStatus, *, submitted_at: datetime, routed_at: datetime, calendar: WorkCalendar
) -> datetime:
    """Routed: the OPD's follow-up deadline; in triage: the admin side's routing deadline."""
    if status is TicketStatus.ROUTED:
        return follow_up_due(routed_at, calendar)
    return routing_due(submitted_at, calendar)


def dispute_deadline(resolved_at: datetime, calendar: WorkCalendar) -> datetime:
    """The last moment the citizen may dispute a resolution."""
    return calendar.add_working_days(resolved_at, CLOSE_AFTER_WORKING_DAYS)


def may_dispute(resolved_at: datetime, now: datetime, calendar: WorkCalendar) -> bool:
    return calendar.working_days_between(resolved_at, now) <= CLOSE_AFTER_WORKING_DAYS


def closes_unanswered(resolved_at: datetime, now: datetime, calendar: WorkCalendar) -> bool:
    """A resolution the citizen left unanswered past the dispute window closes by itself."""
    return not may_dispute(resolved_at, now, calendar)


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
