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

from pydantic import ValidationError

from services.routing import metrics
from services.routing.repository import TicketRepository
from services.routing.supporter_purge import SupporterContactPurge
from services.routing.workflow import OPEN_STATUSES, PRODUCER
from shared.events import (
    EventPayload,
    TicketDueSoon,
    TicketEscalated,
    TicketTransitioned,
    utcnow,
)
from shared.locks import LockTimeout
from shared.mongo import Document
from shared.outbox import outbox_entry
from shared.tickets import Ticket, TicketStatus, history_entry
from shared.workdays import WorkCalendar

log = logging.getLogger(__name__)
SYSTEM = "sistem:tenggat"
AUTO_CLOSE_WORKING_DAYS = 10
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


class DeadlineScheduler:
    """Each pass reads only what it needs: per status (an equality FerretDB can hand to its
    storage, where `$in` cannot) the `_id`, deadline and guard of at most `batch` tickets, and
    then each ticket to change by `_id`. Contacts are purged at most once per `purge_every`."""

    def __init__(
        self,
        tickets: TicketRepository,
        calendar: WorkCalendar,
        *,
        contact_retention: timedelta = timedelta(days=365),
        route_stale: Callable[[str], Awaitable[object]] | None = None,
        batch: int = 500,
        purge_every: timedelta = timedelta(hours=1),
    ) -> None:
        self._tickets = tickets
        self._calendar = calendar
        self._retention = contact_retention
        self._route_stale = route_stale
        self._batch = batch
        self._purge_every = purge_every
        self._purged_at: datetime | None = None
        self._supporter_purge = SupporterContactPurge(
            tickets.collection.database, retention=contact_retention
        )
        self._reported: set[str] = set()

    async def run(self, *, interval_s: float = 60.0) -> None:
        while True:
            await self.run_once(utcnow())
            await asyncio.sleep(interval_s)

    async def run_once(self, now: datetime) -> dict[str, int]:
        """One pass; returns how many escalations, reminders and closings it recorded."""
        done = {"escalated": 0, "reminded": 0, "closed": 0}
        for status in OPEN_STATUSES:
            for doc in await self._scan(
                {"status": status.value, "due_at": {"$lt": now + REMIND_BEFORE}},
                {"due_at": 1, "escalated_for": 1, "reminded_for": 1},
            ):
                outcome = await self._guarded("deadline", doc, self._deadline(doc, now))
                if outcome:
                    done[outcome] += 1
        # More than 10 working days since resolution needs more than 10 calendar days.
        long_ago = now - timedelta(days=AUTO_CLOSE_WORKING_DAYS)
        for doc in await self._scan(
            {"status": S.RESOLVED.value, "resolved_at": {"$lt": long_ago}}, {"resolved_at": 1}
        ):
            if await self._guarded("close", doc, self._auto_close(doc, now)):
                done["closed"] += 1
        done["purged"] = done["supporters_purged"] = 0
        if self._purged_at is None or now - self._purged_at >= self._purge_every:
            done["purged"] = await self.purge_contacts(now)
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
            and self._calendar.working_days_between(resolved_at, now) > AUTO_CLOSE_WORKING_DAYS
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

    async def _scan(self, query: Document, fields: dict[str, int]) -> list[Document]:
        """At most `batch` small documents (the rest waits for the next pass)."""
        cursor = self._tickets.collection.find(query, fields).limit(self._batch)
        return await cursor.to_list()

    async def route_stale(self, now: datetime) -> int:
        """Route tickets still `submitted` minutes after intake took them: their event was lost
        to an outage or a dead letter. Routing a ticket twice is a no-op, so this is safe."""
        if self._route_stale is None:
            return 0
        routed = 0
        stale = {"status": S.SUBMITTED.value, "submitted_at": {"$lt": now - STALE_SUBMITTED}}
        for doc in await self._scan(stale, {"_id": 1}):
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
            old = {
                "status": status.value,
                "updated_at": {"$lt": now - self._retention},
                "reporter": {"$ne": None},
            }
            for doc in await self._scan(old, {"_id": 1}):
                if await self._guarded("purge", doc, self._purge_one(str(doc["_id"]), now)):
                    purged += 1
        return purged

    async def _purge_one(self, code: str, now: datetime) -> str | None:
        ticket = await self._tickets.get(code)
        if ticket is None or ticket.reporter is None:
            return None
        try:
            changed = await self._tickets.update(
                ticket, set_fields={"reporter": None, "reporter_purged_at": now}
            )
        except LockTimeout:
            return None
        return "purged" if changed is not None else None

    async def _apply(
        self, code: str, guard: str, make: Callable[[Ticket], tuple[Document, Document]]
    ) -> bool:
        """Write once per deadline: read the ticket and skip it when this deadline is handled
        (`guard` holds the deadline handled); the write is locked and version-checked."""
        try:
            raw = await self._tickets.collection.find_one({"_id": code}, {"outbox": 0})
            if raw is None:
                return False
            ticket = Ticket.from_document(raw)
            if ticket.due_at is None or raw.get(guard) == ticket.due_at:
                return False
            fields, push = make(ticket)
            updated = await self._tickets.update(
                ticket, set_fields={guard: ticket.due_at, **fields}, push=push
            )
        except LockTimeout:
            return False
        return updated is not None

    async def _escalate(self, code: str, now: datetime) -> bool:
        def escalation(ticket: Ticket) -> tuple[Document, Document]:
            assert ticket.due_at is not None
            event = TicketEscalated(
                opd=ticket.opd,
                status=ticket.status.value,
                due_at=ticket.due_at,
                stage=stage_of(ticket.status),
            )
            step = history_entry(
                at=now,
                actor=SYSTEM,
                action="escalate",
                from_status=ticket.status,
                to_status=ticket.status,
                note=None,
                public=False,
            )
            return {}, {"history": [step], "outbox": [_entry(event, ticket)]}

        return await self._apply(code, "escalated_for", escalation)

    async def _remind(self, code: str, now: datetime) -> bool:
        def reminder(ticket: Ticket) -> tuple[Document, Document]:
            assert ticket.due_at is not None
            event = TicketDueSoon(opd=ticket.opd, status=ticket.status.value, due_at=ticket.due_at)
            return {}, {"outbox": [_entry(event, ticket)]}

        return await self._apply(code, "reminded_for", reminder)

    async def _close(self, code: str, now: datetime) -> bool:
        ticket = await self._tickets.get(code)
        if ticket is None or ticket.status is not S.RESOLVED:
            return False
        event = TicketTransitioned(
            action="close",
            from_status=S.RESOLVED.value,
            to_status=S.CLOSED.value,
            opd=ticket.opd,
            actor_role="system",
            submitted_at=ticket.submitted_at,
        )
        step = history_entry(
            at=now,
            actor=SYSTEM,
            action="close",
            from_status=S.RESOLVED,
            to_status=S.CLOSED,
            note="Ditutup otomatis: tidak ada tanggapan pelapor dalam 10 hari kerja.",
        )
        try:
            updated = await self._tickets.update(
                ticket,
                set_fields={"status": S.CLOSED.value, "updated_at": now, "due_at": None},
                push={"history": [step], "outbox": [_entry(event, ticket)]},
            )
        except LockTimeout:
            return False
        return updated is not None


def _entry(event: EventPayload, ticket: Ticket) -> Document:
    """The event in the outbox's stored form, carrying the ticket's submitted_at."""
    if event.submitted_at is None:
        event = event.model_copy(update={"submitted_at": ticket.submitted_at})
    envelope = event.envelope(
        ticket_id=ticket.tracking_code, producer=PRODUCER, correlation_id=ticket.correlation_id
    )
    return outbox_entry(envelope)
