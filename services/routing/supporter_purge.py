"""Retention of supporters' contacts ("dukung laporan ini", UU 27/2022).

Intake keeps the contacts of a ticket's supporters in `supporters` (one document per ticket) so
that notify can tell them of the resolution. Once the ticket has been closed or rejected for
longer than the contact retention period, the same as the reporter's, the contacts are removed
and only the count stays. The write holds intake's lock of that document (`support|<code>`),
so a support counted at the same moment is not lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.locks import DocumentLocks, LockTimeout
from shared.mongo import Document
from shared.tickets import COLLECTION as TICKETS
from shared.tickets import LOCKS, TicketStatus

log = logging.getLogger(__name__)
SUPPORTERS = "supporters"  # intake's (services/intake/support.py)
FINISHED = frozenset({TicketStatus.CLOSED.value, TicketStatus.REJECTED.value})


class SupporterContactPurge:
    """Pages through the supporters' documents that still may hold contacts (by `_id`, a
    bounded number of pages) and reads each one's ticket by `_id`: no filter over `tickets`."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        retention: timedelta,
        page: int = 500,
        max_pages: int = 1000,
    ) -> None:
        self._supporters = db[SUPPORTERS]
        self._tickets = db[TICKETS]
        self._locks = DocumentLocks(db[LOCKS])
        self._retention = retention
        self._page = page
        self._max_pages = max_pages

    async def run(self, now: datetime) -> int:
        """Purge what is due; returns how many tickets' supporters lost their contacts."""
        purged = 0
        after: str | None = None
        for _ in range(self._max_pages):
            query: Document = {"contacts_purged_at": None}
            if after is not None:
                query["_id"] = {"$gt": after}
            cursor = self._supporters.find(query, {"_id": 1}).sort("_id", ASCENDING)
            codes = [str(d["_id"]) for d in await cursor.limit(self._page).to_list()]
            for code in codes:
                if await self._due(code, now) and await self._purge(code, now):
                    purged += 1
            if len(codes) < self._page:
                break
            after = codes[-1]
        return purged

    async def _due(self, code: str, now: datetime) -> bool:
        ticket = await self._tickets.find_one({"_id": code}, {"status": 1, "updated_at": 1})
        if ticket is None:
            return False
        updated_at = ticket.get("updated_at")
        return (
            ticket.get("status") in FINISHED
            and isinstance(updated_at, datetime)
            and updated_at < now - self._retention
        )

    async def _purge(self, code: str, now: datetime) -> bool:
        try:
            async with self._locks.hold(f"support|{code}"):
                doc = await self._supporters.find_one({"_id": code}, {"contacts": 1})
                if doc is None:
                    return False
                await self._supporters.update_one(
                    {"_id": code}, {"$set": {"contacts": [], "contacts_purged_at": now}}
                )
        except LockTimeout:
            log.warning("supporters of %s are being changed; their purge waits", code)
            return False
        return bool(doc.get("contacts"))
