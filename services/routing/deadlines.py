"""The deadline scheduler inside routing: escalations, reminders and automatic closing.

Each pass finds tickets whose deadline passed (or nears), and records one event per deadline
through a locked, version-checked update: `escalated_for` / `reminded_for` hold the deadline
already handled, so restarts and a second routing instance never repeat an event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from services.routing.repository import TicketRepository
from services.routing.workflow import OPEN_STATUSES, PRODUCER
from shared.events import TicketDueSoon, TicketEscalated, TicketTransitioned, utcnow
from shared.locks import LockTimeout
from shared.outbox import outbox_entry
from shared.tickets import Ticket, TicketStatus, history_entry
from shared.workdays import WorkCalendar

log = logging.getLogger(__name__)
SYSTEM = "sistem:tenggat"
AUTO_CLOSE_WORKING_DAYS = 10
REMIND_BEFORE = timedelta(hours=24)
STALE_SUBMITTED = timedelta(minutes=5)
S = TicketStatus


def stage_of(status: TicketStatus) -> str:
    if status in (S.SUBMITTED, S.TRIAGE):
        return "routing"
    if status is S.ROUTED:
        return "follow_up"
    return "resolution"


class DeadlineScheduler:
    def __init__(
        self,
        tickets: TicketRepository,
        calendar: WorkCalendar,
        on_change: Callable[[], None] = lambda: None,
        *,
        contact_retention: timedelta = timedelta(days=365),
        route_stale: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self._tickets = tickets
        self._calendar = calendar
        self._wake = on_change
        self._retention = contact_retention
        self._route_stale = route_stale

    async def run(self, *, interval_s: float = 60.0) -> None:
        while True:
            await self.run_once(utcnow())
            await asyncio.sleep(interval_s)

    async def run_once(self, now: datetime) -> dict[str, int]:
        """One pass; returns how many escalations, reminders and closings it recorded."""
        done = {"escalated": 0, "reminded": 0, "closed": 0}
        open_statuses = [s.value for s in OPEN_STATUSES]
        overdue = self._tickets.collection.find(
            {"status": {"$in": open_statuses}, "due_at": {"$lt": now}}, {"outbox": 0}
        )
        for doc in await overdue.to_list():
            ticket = Ticket.from_document(doc)
            if doc.get("escalated_for") != ticket.due_at and await self._escalate(ticket, now):
                done["escalated"] += 1
        soon = self._tickets.collection.find(
            {"status": {"$in": open_statuses}, "due_at": {"$gte": now, "$lt": now + REMIND_BEFORE}},
            {"outbox": 0},
        )
        for doc in await soon.to_list():
            ticket = Ticket.from_document(doc)
            if doc.get("reminded_for") != ticket.due_at and await self._remind(ticket, now):
                done["reminded"] += 1
        resolved = self._tickets.collection.find({"status": S.RESOLVED.value}, {"outbox": 0})
        for doc in await resolved.to_list():
            ticket = Ticket.from_document(doc)
            if (
                ticket.resolved_at
                and self._calendar.working_days_between(ticket.resolved_at, now)
                > AUTO_CLOSE_WORKING_DAYS
                and await self._close(ticket, now)
            ):
                done["closed"] += 1
        done["purged"] = await self.purge_contacts(now)
        done["rerouted"] = await self.route_stale(now)
        if any(done.values()):
            self._wake()
        return done

    async def route_stale(self, now: datetime) -> int:
        """Route tickets still `submitted` minutes after intake took them: their event was lost
        to an outage or a dead letter. Routing a ticket twice is a no-op, so this is safe."""
        if self._route_stale is None:
            return 0
        stale = self._tickets.collection.find(
            {"status": S.SUBMITTED.value, "submitted_at": {"$lt": now - STALE_SUBMITTED}},
            {"_id": 1},
        )
        routed = 0
        for doc in await stale.limit(100).to_list():
            if await self._route_stale(str(doc["_id"])):
                routed += 1
        return routed

    async def purge_contacts(self, now: datetime) -> int:
        """Remove the reporter's identity and contact from tickets closed or rejected longer
        ago than the retention period (UU 27/2022); the complaint itself stays."""
        old = self._tickets.collection.find(
            {
                "status": {"$in": [S.CLOSED.value, S.REJECTED.value]},
                "updated_at": {"$lt": now - self._retention},
                "reporter": {"$ne": None},
            },
            {"outbox": 0},
        )
        purged = 0
        for doc in await old.limit(500).to_list():
            ticket = Ticket.from_document(doc)
            try:
                if (
                    await self._tickets.update(
                        ticket, set_fields={"reporter": None, "reporter_purged_at": now}
                    )
                    is not None
                ):
                    purged += 1
            except LockTimeout:
                continue
        return purged

    async def _apply(
        self, ticket: Ticket, guard: str, fields: dict[str, object], push: dict[str, list[object]]
    ) -> bool:
        """Write once per deadline: re-read under the lock and skip what is already handled."""
        try:
            fresh = await self._tickets.get(ticket.tracking_code)
            if fresh is None:
                return False
            raw = await self._tickets.collection.find_one({"_id": ticket.tracking_code}, {guard: 1})
            if guard and raw is not None and raw.get(guard) == fresh.due_at:
                return False
            return await self._tickets.update(fresh, set_fields=fields, push=push) is not None
        except LockTimeout:
            return False

    async def _escalate(self, ticket: Ticket, now: datetime) -> bool:
        assert ticket.due_at is not None
        event = TicketEscalated(
            opd=ticket.opd,
            status=ticket.status.value,
            due_at=ticket.due_at,
            stage=stage_of(ticket.status),
            submitted_at=ticket.submitted_at,
        )
        return await self._apply(
            ticket,
            "escalated_for",
            {"escalated_for": ticket.due_at},
            {
                "history": [
                    history_entry(
                        at=now,
                        actor=SYSTEM,
                        action="escalate",
                        from_status=ticket.status,
                        to_status=ticket.status,
                        note=None,
                        public=False,
                    )
                ],
                "outbox": [
                    outbox_entry(
                        event.envelope(
                            ticket_id=ticket.tracking_code,
                            producer=PRODUCER,
                            correlation_id=ticket.correlation_id,
                        )
                    )
                ],
            },
        )

    async def _remind(self, ticket: Ticket, now: datetime) -> bool:
        assert ticket.due_at is not None
        event = TicketDueSoon(
            opd=ticket.opd,
            status=ticket.status.value,
            due_at=ticket.due_at,
            submitted_at=ticket.submitted_at,
        )
        return await self._apply(
            ticket,
            "reminded_for",
            {"reminded_for": ticket.due_at},
            {
                "outbox": [
                    outbox_entry(
                        event.envelope(
                            ticket_id=ticket.tracking_code,
                            producer=PRODUCER,
                            correlation_id=ticket.correlation_id,
                        )
                    )
                ],
            },
        )

    async def _close(self, ticket: Ticket, now: datetime) -> bool:
        event = TicketTransitioned(
            action="close",
            from_status=S.RESOLVED.value,
            to_status=S.CLOSED.value,
            opd=ticket.opd,
            actor_role="system",
            submitted_at=ticket.submitted_at,
        )
        note = "Ditutup otomatis: tidak ada tanggapan pelapor dalam 10 hari kerja."
        fresh = await self._tickets.get(ticket.tracking_code)
        if fresh is None or fresh.status is not S.RESOLVED:
            return False
        try:
            updated = await self._tickets.update(
                fresh,
                set_fields={"status": S.CLOSED.value, "updated_at": now, "due_at": None},
                push={
                    "history": [
                        history_entry(
                            at=now,
                            actor=SYSTEM,
                            action="close",
                            from_status=S.RESOLVED,
                            to_status=S.CLOSED,
                            note=note,
                        )
                    ],
                    "outbox": [
                        outbox_entry(
                            event.envelope(
                                ticket_id=ticket.tracking_code,
                                producer=PRODUCER,
                                correlation_id=ticket.correlation_id,
                            )
                        )
                    ],
                },
            )
        except LockTimeout:
            return False
        return updated is not None
