"""What a routing decision does to a ticket: its status and its next deadline.

The decision itself is `services.routing.classification.router.classify`.
"""

from __future__ import annotations

from datetime import datetime

from services.routing.classification.router import Classification
from shared.catalogue import LUAR_KEWENANGAN, TRIASE
from shared.tickets import TicketStatus
from shared.workdays import WorkCalendar

FOLLOW_UP_WORKING_DAYS = 5  # the OPD's follow-up after assignment
TRIAGE_WORKING_DAYS = 3  # the admin side's routing after submission


def status_after_routing(result: Classification) -> TicketStatus:
    return TicketStatus.TRIAGE if result.opd in (TRIASE, LUAR_KEWENANGAN) else TicketStatus.ROUTED


def due_after_routing(
    status: TicketStatus, *, submitted_at: datetime, routed_at: datetime, calendar: WorkCalendar
) -> datetime:
    """Routed: the OPD's follow-up deadline; in triage: the admin side's routing deadline."""
    if status is TicketStatus.ROUTED:
        return calendar.add_working_days(routed_at, FOLLOW_UP_WORKING_DAYS)
    return calendar.add_working_days(submitted_at, TRIAGE_WORKING_DAYS)
