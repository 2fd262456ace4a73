"""The deadline scheduler inside routing: escalations, reminders and automatic closing.

Each pass finds tickets whose deadline passed (or nears), and records one event per deadline
through a locked, version-checked update: `escalated_for` / `reminded_for` hold the deadline
already handled, so restarts and a second routing instance never repeat an event. A malformed
ticket is skipped, logged once and counted (`scans.py`). The chores that are no deadline
(stale tickets, the retention purges) are `housekeeping.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from services.routing.scans import TicketScan
from services.routing.workflow import PRODUCER
from shared.events import TicketDueSoon, TicketEscalated, TicketTransitioned, utcnow
from shared.lifecycle import actors, sla
from shared.lifecycle.changes import Change, Step, change
from shared.lifecycle.repository import Tickets
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.lifecycle.table import TABLE, SystemAction, allows, recorded_as
from shared.mongo import Document
from shared.supervise import raise_if_stopping
from shared.tickets import Ticket, TicketStatus
from shared.workdays import WorkCalendar

log = logging.getLogger(__name__)
SYSTEM = actors.CLOCK.name
REMIND_BEFORE = timedelta(hours=24)
S = TicketStatus


def stage_of(status: TicketStatus) -> str:
    if status in (S.SUBMITTED, S.TRIAGE):
        return "routing"
    if status is S.ROUTED:
        return "follow_up"
    return "resolution"


class DeadlineTickets(Tickets, Protocol):
    """What the scheduler needs of the ticket store (routing's TicketRepository; a fake in
    tests): the scans, each of at most `limit` small documents, and `apply`."""

    async def due_before(self, status: str, before: datetime, *, limit: int) -> list[Document]: ...

    async def resolved_before(self, before: datetime, *, limit: int) -> list[Document]: ...


class DeadlineScheduler:
    """Each pass reads only what it needs: per status the `_id`, deadline and guard of at most
    `batch` tickets (the rest waits for the next pass), and then each ticket to change by
    `_id`."""

    def __init__(
        self, tickets: DeadlineTickets, calendar: WorkCalendar, *, batch: int = 500
    ) -> None:
        self._tickets = tickets
        self._calendar = calendar
        self._batch = batch
        self._scan = TicketScan(tickets, name="deadline pass", log=log)

    async def run(self, *, interval_s: float = 60.0) -> None:
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            await self.run_once(utcnow())
            await asyncio.sleep(interval_s)

    async def run_once(self, now: datetime) -> dict[str, int]:
        """One pass; returns how many escalations, reminders and closings it recorded."""
        done = {"escalated": 0, "reminded": 0, "closed": 0}
        for status in OPEN_STATUSES:
            for doc in await self._tickets.due_before(
                status.value, now + REMIND_BEFORE, limit=self._batch
            ):
                outcome = await self._scan.guarded("deadline", doc, self._deadline(doc, now))
                if outcome:
                    done[outcome] += 1
        # More than 10 working days since resolution needs more than 10 calendar days.
        long_ago = now - timedelta(days=sla.CLOSE_AFTER_WORKING_DAYS)
        for doc in await self._tickets.resolved_before(long_ago, limit=self._batch):
            if await self._scan.guarded("close", doc, self._auto_close(doc, now)):
                done["closed"] += 1
        return done

    async def _deadline(self, doc: Document, now: datetime) -> str | None:
        due_at = doc.get("due_at")
        if due_at is None:
            return None
        if due_at < now:
            if doc.get("escalated_for") != due_at and await self._escalate(doc["_id"], now):
                return "escalated"
        elif doc.get("reminded_for") != due_at and await self._remind(doc["_id"], now):
            return "reminded"
        return None

    async def _auto_close(self, doc: Document, now: datetime) -> str | None:
        resolved_at = doc.get("resolved_at")
        if (
            resolved_at
            and sla.closes_unanswered(resolved_at, now, self._calendar)
            and await self._close(doc["_id"], now)
        ):
            return "closed"
        return None

    async def _once_per_deadline(
        self, code: str, guard: str, make: Callable[[Ticket], Change]
    ) -> bool:
        """Write once per deadline: skip the ticket when this deadline is handled (`guard`
        holds the deadline handled), else record it in `guard` with the change."""

        def guarded(ticket: Ticket) -> Change | None:
            if ticket.due_at is None or getattr(ticket, guard) == ticket.due_at:
                return None
            made = make(ticket)
            return Change(set_fields={guard: ticket.due_at, **made.set_fields}, push=made.push)

        return await self._scan.write(code, guarded)

    async def _escalate(self, code: str, now: datetime) -> bool:
        return await self._once_per_deadline(code, "escalated_for", lambda t: escalation(t, now))

    async def _remind(self, code: str, now: datetime) -> bool:
        return await self._once_per_deadline(code, "reminded_for", reminder)

    async def _close(self, code: str, now: datetime) -> bool:
        return await self._scan.write(code, lambda t: auto_close(t, now))


def escalation(ticket: Ticket, now: datetime) -> Change:
    """The missed deadline recorded (internal history) and told (the escalation event)."""
    assert ticket.due_at is not None
    event = TicketEscalated(
        opd=ticket.opd,
        status=ticket.status.value,
        due_at=ticket.due_at,
        stage=stage_of(ticket.status),
    )
    step = Step(
        at=now,
        actor=SYSTEM,
        action="escalate",
        from_status=ticket.status,
        to_status=ticket.status,
        public=False,
    )
    return change(ticket, producer=PRODUCER, step=step, events=[event])


def reminder(ticket: Ticket) -> Change:
    """The deadline nears: the OPD is reminded (an event only)."""
    assert ticket.due_at is not None
    event = TicketDueSoon(opd=ticket.opd, status=ticket.status.value, due_at=ticket.due_at)
    return change(ticket, producer=PRODUCER, events=[event])


def auto_close(ticket: Ticket, now: datetime) -> Change | None:
    """The lifecycle's automatic close of a resolution left unanswered (None: not resolved)."""
    if not allows(SystemAction.AUTO_CLOSE, ticket.status):
        return None
    target = TABLE[SystemAction.AUTO_CLOSE].target
    event = TicketTransitioned(
        action=recorded_as(SystemAction.AUTO_CLOSE),
        from_status=ticket.status.value,
        to_status=target.value,
        opd=ticket.opd,
        actor_role=actors.CLOCK.role.value,
        submitted_at=ticket.submitted_at,
    )
    step = Step(
        at=now,
        actor=SYSTEM,
        action=recorded_as(SystemAction.AUTO_CLOSE),
        from_status=ticket.status,
        to_status=target,
        note=(
            "Ditutup otomatis: tidak ada tanggapan pelapor dalam "
            f"{sla.CLOSE_AFTER_WORKING_DAYS} hari kerja."
        ),
    )
    fields = {"status": target.value, "updated_at": now, "due_at": None}
    return change(ticket, producer=PRODUCER, fields=fields, step=step, events=[event])
