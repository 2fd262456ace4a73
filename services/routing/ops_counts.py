"""The periodic counts behind the backlog gauges: tickets by status and OPD, overdue tickets
per OPD and the OPDs nobody can be reached at. One pass every `ops_count_interval_s` (two
aggregates over the tickets, one read of the accounts: `BacklogQueries`, behind
`stores.Backlog`), never a scan per scrape."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from services.routing.repository import ACCOUNTS
from services.routing.stores import Backlog
from shared import metrics
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, Catalogue, CatalogueStore
from shared.events import utcnow
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.mongo import Document
from shared.supervise import raise_if_stopping
from shared.tickets import COLLECTION

log = logging.getLogger(__name__)

NO_OPD = "none"
REACHING_ROLES = ("officer", "supervisor")
OPEN = [status.value for status in OPEN_STATUSES]


def unreachable_opds(catalogue: Catalogue, accounts: Iterable[Mapping[str, Any]]) -> list[str]:
    """The real OPDs with no active officer or supervisor that has an email or WhatsApp."""
    reached = {
        a.get("opd")
        for a in accounts
        if a.get("active", True)
        and a.get("role") in REACHING_ROLES
        and (a.get("email") or a.get("whatsapp"))
    }
    return [
        o.code
        for o in catalogue.opds
        if o.code not in (TRIASE, LUAR_KEWENANGAN) and o.code not in reached
    ]


# The canary's tickets are not backlog.
NOT_SYNTHETIC: Document = {"synthetic": {"$ne": True}}


def overdue_match(now: datetime) -> Document:
    """Open tickets past their deadline (the canary's left out)."""
    return {"status": {"$in": OPEN}, "due_at": {"$lt": now}, **NOT_SYNTHETIC}


class BacklogQueries:
    """The backlog's figures on MongoDB (`stores.Backlog`): two aggregates over the tickets,
    one read of the accounts that may be told."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tickets = db[COLLECTION]
        self._accounts = db[ACCOUNTS]

    async def by_status_and_opd(self) -> dict[tuple[str, str], int]:
        pipeline: list[Document] = [
            {"$match": NOT_SYNTHETIC},
            {"$group": {"_id": {"status": "$status", "opd": "$opd"}, "n": {"$sum": 1}}},
        ]
        found: dict[tuple[str, str], int] = {}
        async for row in await self._tickets.aggregate(pipeline):
            key = row["_id"] or {}
            found[(str(key.get("status")), str(key.get("opd") or NO_OPD))] = int(row["n"])
        return found

    async def overdue_by_opd(self, now: datetime) -> dict[str, int]:
        pipeline: list[Document] = [
            {"$match": overdue_match(now)},
            {"$group": {"_id": "$opd", "n": {"$sum": 1}}},
        ]
        return {
            str(row["_id"] or NO_OPD): int(row["n"])
            async for row in await self._tickets.aggregate(pipeline)
        }

    async def reaching_accounts(self) -> list[Document]:
        """Officers' and supervisors' accounts: their OPD, whether active, how to reach them."""
        fields = {"opd": 1, "role": 1, "active": 1, "email": 1, "whatsapp": 1}
        return [a async for a in self._accounts.find({"role": {"$in": REACHING_ROLES}}, fields)]


class OpsCounts:
    """The periodic pass that publishes the backlog's figures as gauges."""

    def __init__(self, backlog: Backlog) -> None:
        self._backlog = backlog
        self._counted_at: float | None = None
        metrics.TICKET_COUNT_AGE.set_function(self._age)

    def _age(self) -> float:
        return 0.0 if self._counted_at is None else time.monotonic() - self._counted_at

    async def count(self, catalogue: Catalogue) -> None:
        """Count once and publish the figures as the gauges."""
        by_status = await self._backlog.by_status_and_opd()
        overdue = await self._backlog.overdue_by_opd(utcnow())
        accounts = await self._backlog.reaching_accounts()
        unreachable = set(unreachable_opds(catalogue, accounts))
        # No await from here on: a scrape sees the old figures or the new, never a mix.
        metrics.TICKETS.clear()
        for (status, opd), n in by_status.items():
            metrics.TICKETS.labels(status, opd).set(n)
        real = [o.code for o in catalogue.opds if o.code not in (TRIASE, LUAR_KEWENANGAN)]
        for opd in {*real, *overdue}:
            metrics.TICKETS_OVERDUE.labels(opd).set(overdue.get(opd, 0))
        for opd in real:
            metrics.OPDS_UNREACHABLE.labels(opd).set(1 if opd in unreachable else 0)
        self._counted_at = time.monotonic()

    async def run(self, catalogue: CatalogueStore, *, interval_s: float) -> None:
        """Count every `interval_s` until cancelled."""
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            started = time.monotonic()
            try:
                await self.count(await catalogue.get())
            except PyMongoError as exc:
                raise_if_stopping()
                log.warning(
                    "ops counts failed (%s); next try in %.0fs", type(exc).__name__, interval_s
                )
            else:
                log.debug("ops counts took %.2fs", time.monotonic() - started)
            await asyncio.sleep(interval_s)
