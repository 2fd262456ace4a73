"""Routing's housekeeping: the periodic chores that are not a ticket's deadline.

- Stale tickets: a ticket still `submitted` minutes after intake took it lost its event to an
  outage or a dead letter; it is handed to routing again (routing a ticket twice is a no-op).
- Retention (UU 27/2022), at most once per `purge_every`: the reporter's identity and contact
  leave tickets closed or rejected longer than the retention period, the supporters' contacts
  with them (services/routing/supporter_purge.py), and sign-in attempts older than the
  throttle's window are forgotten.

Each pass reads only what it needs (at most `batch` small documents per query, then each ticket
to change by `_id`) and writes each ticket once, locked and version-checked (`scans.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from pymongo.errors import PyMongoError

from services.routing.scans import TicketScan
from shared.events import utcnow
from shared.lifecycle.changes import Change
from shared.lifecycle.repository import Tickets
from shared.mongo import Document
from shared.supervise import raise_if_stopping
from shared.tickets import Ticket, TicketStatus

log = logging.getLogger(__name__)
STALE_SUBMITTED = timedelta(minutes=5)
FINISHED = (TicketStatus.CLOSED, TicketStatus.REJECTED)


class HousekeepingTickets(Tickets, Protocol):
    """What housekeeping needs of the ticket store (routing's TicketRepository; a fake in
    tests): the scans, each of at most `limit` small documents, and `apply`."""

    async def submitted_before(self, before: datetime, *, limit: int) -> list[Document]: ...

    async def contact_kept(
        self, status: str, updated_before: datetime, *, limit: int
    ) -> list[Document]: ...


class SupporterPurge(Protocol):
    """Empties the supporters' contacts of tickets finished longer than the retention
    (services/routing/supporter_purge.py); returns how many tickets' supporters it purged."""

    async def run(self, now: datetime) -> int: ...


class SignInAttempts(Protocol):
    """The sign-in throttle's store (services/routing/repository.py `LoginThrottle`)."""

    window: timedelta

    async def purge_before(self, cutoff: datetime) -> None: ...


class Housekeeping:
    """Re-routes stale tickets on every pass; purges what the retention allows no longer at
    most once per `purge_every`."""

    def __init__(
        self,
        tickets: HousekeepingTickets,
        *,
        contact_retention: timedelta = timedelta(days=365),
        route_stale: Callable[[str], Awaitable[object]] | None = None,
        supporter_purge: SupporterPurge | None = None,
        sign_in_attempts: SignInAttempts | None = None,
        batch: int = 500,
        purge_every: timedelta = timedelta(hours=1),
    ) -> None:
        self._tickets = tickets
        self._retention = contact_retention
        self._route_stale = route_stale
        self._supporter_purge = supporter_purge
        self._sign_in_attempts = sign_in_attempts
        self._batch = batch
        self._purge_every = purge_every
        self._purged_at: datetime | None = None
        self._scan = TicketScan(tickets, name="housekeeping pass", log=log)

    async def run(self, *, interval_s: float = 60.0) -> None:
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            await self.run_once(utcnow())
            await asyncio.sleep(interval_s)

    async def run_once(self, now: datetime) -> dict[str, int]:
        """One pass; returns how many tickets it re-routed and purged."""
        done = {"purged": 0, "supporters_purged": 0}
        if self._purged_at is None or now - self._purged_at >= self._purge_every:
            done["purged"] = await self.purge_contacts(now)
            if self._supporter_purge is not None:
                done["supporters_purged"] = await self._supporter_purge.run(now)
            if self._sign_in_attempts is not None:
                with contextlib.suppress(PyMongoError):  # the next purge catches up
                    attempts = self._sign_in_attempts
                    await attempts.purge_before(now - attempts.window)
            self._purged_at = now
        done["rerouted"] = await self.route_stale(now)
        return done

    async def route_stale(self, now: datetime) -> int:
        """Route tickets still `submitted` minutes after intake took them: their event was lost
        to an outage or a dead letter. Routing a ticket twice is a no-op, so this is safe."""
        if self._route_stale is None:
            return 0
        routed = 0
        stale = now - STALE_SUBMITTED
        for doc in await self._tickets.submitted_before(stale, limit=self._batch):
            if await self._scan.guarded("route", doc, self._route_one(str(doc["_id"]))):
                routed += 1
        return routed

    async def _route_one(self, code: str) -> str | None:
        assert self._route_stale is not None
        return "routed" if await self._route_stale(code) else None

    async def purge_contacts(self, now: datetime) -> int:
        """Remove the reporter's identity and contact from tickets closed or rejected longer
        ago than the retention period (UU 27/2022); the complaint itself stays."""
        purged = 0
        for status in FINISHED:
            old = now - self._retention
            for doc in await self._tickets.contact_kept(status.value, old, limit=self._batch):
                if await self._scan.guarded("purge", doc, self._purge_one(str(doc["_id"]), now)):
                    purged += 1
        return purged

    async def _purge_one(self, code: str, now: datetime) -> str | None:
        def purge(ticket: Ticket) -> Change | None:
            if ticket.reporter is None:
                return None
            return Change(set_fields={"reporter": None, "reporter_purged_at": now})

        return "purged" if await self._scan.write(code, purge) else None
