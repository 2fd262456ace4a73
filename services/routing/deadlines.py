"""The deadline scheduler inside routing: escalations, reminders and automatic closing.

Each pass finds tickets whose deadline passed (or nears), and records one event per deadline
through a locked, version-checked update: `escalated_for` / `reminded_for` hold the deadline
already handled, so restarts and a second routing instance never repeat an event.

A ticket that cannot be read as a ticket (a malformed document) is skipped, logged once per
process (its code and the error's type, never its content) and counted on every pass that
meets it (`pengaduan_deadline_tickets_skipped_total`); the pass goes on with the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import ValidationError

from services.routing import metrics
from services.routing.workflow import PRODUCER
from shared.events import TicketDueSoon, TicketEscalated, TicketTransitioned, utcnow
from shared.lifecycle import actors, sla
from shared.lifecycle.changes import Change, Step, change
from shared.lifecycle.repository import ChangedMeanwhile, Tickets
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.lifecycle.table import TABLE, SystemAction, allows, recorded_as
from shared.locks import LockTimeout
from shared.mongo import Document
from shared.tickets import Ticket, TicketStatus
from shared.workdays import WorkCalendar

log = logging.getLogger(__name__)
SYSTEM = actors.CLOCK.name
REMIND_BEFORE = timedelta(hours=24)
STALE_SUBMITTED = timedelta(minutes=5)
S = TicketStatus
# What a malformed ticket document raises when read or compared (not the store's failures).
INVALID = (ValidationError, TypeError, ValueError, KeyError, AttributeError)


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

    async def submitted_before(self, before: datetime, *, limit: int) -> list[Document]: ...

    async def contact_kept(
        self, status: str, updated_before: datetime, *, limit: int
    ) -> list[Document]: ...


class SupporterPurge(Protocol):
    """Empties the supporters' contacts of tickets finished longer than the retention
    (services/routing/supporter_purge.py); returns how many tickets' supporters it purged."""

    async def run(self, now: datetime) -> int: ...


class DeadlineScheduler:
    """Each pass reads only what it needs: per status the `_id`, deadline and guard of at most
    `batch` tickets (the rest waits for the next pass), and then each ticket to change by
    `_id`. Contacts are purged at most once per `purge_every`."""

    def __init__(
        self,
        tickets: DeadlineTickets,
        calendar: WorkCalendar,
        *,
        contact_retention: timedelta = timedelta(days=365),
        route_stale: Callable[[str], Awaitable[object]] | None = None,
        batch: int = 500,
        purge_every: timedelta = timedelta(hours=1),
        supporter_purge: SupporterPurge | None = None,
    ) -> None:
        self._tickets = tickets
        self._calendar = calendar
        self._retention = contact_retention
        self._route_stale = route_stale
        self._batch = batch
        self._purge_every = purge_every
        self._purged_at: datetime | None = None
        self._supporter_purge = supporter_purge
        self._reported: set[str] = set()

    async def run(self, *, interval_s: float = 60.0) -> None:
        while True:
            await self.run_once(utcnow())
            await asyncio.sleep(interval_s)

    async def run_once(self, now: datetime) -> dict[str, int]:
        """One pass; returns how many escalations, reminders and closings it recorded."""
        done = {"escalated": 0, "reminded": 0, "closed": 0}
        for status in OPEN_STATUSES:
            for doc in await self._tickets.due_before(
                status.value, now + REMIND_BEFORE, limit=self._batch
            ):
                outcome = await self._guarded("deadline", doc, self._deadline(doc, now))
                if outcome:
                    done[outcome] += 1
        # More than 10 working days since resolution needs more than 10 calendar days.
        long_ago = now - timedelta(days=sla.CLOSE_AFTER_WORKING_DAYS)
        for doc in await self._tickets.resolved_before(long_ago, limit=self._batch):
            if await self._guarded("close", doc, self._auto_close(doc, now)):
                done["closed"] += 1
        done["purged"] = done["supporters_purged"] = 0
        if self._purged_at is None or now - self._purged_at >= self._purge_every:
            done["purged"] = await self.purge_contacts(now)
            if self._supporter_purge is not None:
                done["supporters_purged"] = await self._supporter_purge.run(now)
            self._purged_at = now
        done["rerouted"] = await self.route_stale(now)
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

    async def _guarded(self, step: str, doc: Document, work: Awaitable[str | None]) -> str | None:
        """One ticket's work; an invalid ticket is skipped, reported and counted."""
        try:
            return await work
        except INVALID as exc:
            code = str(doc.get("_id"))
            metrics.DEADLINE_TICKETS_SKIPPED.labels(step).inc()
            if code not in self._reported and len(self._reported) < 10_000:
                self._reported.add(code)
                log.error(
                    "deadline pass: ticket %s is invalid (%s); skipped", code, type(exc).__name__
                )
            return None

    async def route_stale(self, now: datetime) -> int:
        """Route tickets still `submitted` minutes after intake took them: their event was lost
        to an outage or a dead letter. Routing a ticket twice is a no-op, so this is safe."""
        if self._route_stale is None:
            return 0
        routed = 0
        stale = now - STALE_SUBMITTED
        for doc in await self._tickets.submitted_before(stale, limit=self._batch):
            if await self._guarded("route", doc, self._route_one(str(doc["_id"]))):
                routed += 1
        return routed

    async def _route_one(self, code: str) -> str | None:
        assert self._route_stale is not None
        return "routed" if await self._route_stale(code) else None

    async def purge_contacts(self, now: datetime) -> int:
        """Remove the reporter's identity and contact from tickets closed or rejected longer
        ago than the retention period (UU 27/2022); the complaint itself stays."""
        purged = 0
        for status in (S.CLOSED, S.REJECTED):
            old = now - self._retention
            for doc in await self._tickets.contact_kept(status.value, old, limit=self._batch):
                if await self._guarded("purge", doc, self._purge_one(str(doc["_id"]), now)):
                    purged += 1
        return purged

    async def _purge_one(self, code: str, now: datetime) -> str | None:
        def purge(ticket: Ticket) -> Change | None:
            if ticket.reporter is None:
                return None
            return Change(set_fields={"reporter": None, "reporter_purged_at": now})

        return "purged" if await self._write(code, purge) else None

    async def _write(self, code: str, make: Callable[[Ticket], Change | None]) -> bool:
        """One locked, version-checked attempt (a lost race waits for the next pass)."""
        try:
            return await self._tickets.apply(code, make, attempts=1) is not None
        except (LockTimeout, ChangedMeanwhile):
            return False

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

        return await self._write(code, guarded)

    async def _escalate(self, code: str, now: datetime) -> bool:
        return await self._once_per_deadline(code, "escalated_for", lambda t: escalation(t, now))

    async def _remind(self, code: str, now: datetime) -> bool:
        return await self._once_per_deadline(code, "reminded_for", reminder)

    async def _close(self, code: str, now: datetime) -> bool:
        return await self._write(code, lambda t: auto_close(t, now))


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
