"""What routing's periodic passes over tickets share (the deadline scheduler's and
housekeeping's): each ticket's work guarded, and one write attempt per ticket and pass.

A ticket that cannot be read as a ticket (a malformed document) is skipped, logged once per
process (its code and the error's type, never its content) and counted on every pass that
meets it (`pengaduan_deadline_tickets_skipped_total{step}`); the pass goes on with the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from services.routing import metrics
from shared.lifecycle.changes import Change
from shared.lifecycle.repository import ChangedMeanwhile, Tickets
from shared.locks import LockTimeout
from shared.mongo import Document
from shared.tickets import Ticket

# What a malformed ticket document raises when read or compared (not the store's failures).
INVALID = (ValidationError, TypeError, ValueError, KeyError, AttributeError)
MAX_REPORTED = 10_000  # codes remembered as reported, so a flood of bad tickets stays bounded


class TicketScan:
    """One pass's helpers over a ticket store, logging to the pass's own logger as `name`."""

    def __init__(self, tickets: Tickets, *, name: str, log: logging.Logger) -> None:
        self._tickets = tickets
        self._name = name
        self._log = log
        self._reported: set[str] = set()

    async def guarded(self, step: str, doc: Document, work: Awaitable[str | None]) -> str | None:
        """One ticket's work; an invalid ticket is skipped, reported and counted."""
        try:
            return await work
        except INVALID as exc:
            code = str(doc.get("_id"))
            metrics.DEADLINE_TICKETS_SKIPPED.labels(step).inc()
            if code not in self._reported and len(self._reported) < MAX_REPORTED:
                self._reported.add(code)
                self._log.error(
                    "%s: ticket %s is invalid (%s); skipped", self._name, code, type(exc).__name__
                )
            return None

    async def write(self, code: str, make: Callable[[Ticket], Change | None]) -> bool:
        """One locked, version-checked attempt (a lost race waits for the next pass)."""
        try:
            return await self._tickets.apply(code, make, attempts=1) is not None
        except (LockTimeout, ChangedMeanwhile):
            return False
