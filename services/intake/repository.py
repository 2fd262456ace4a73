"""MongoDB access for intake: tickets, idempotency records and duplicate markers."""

from __future__ import annotations

import asyncio
from datetime import datetime

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.batching import InsertBatcher
from shared.mongo import Document
from shared.ticket_store import TicketStore
from shared.tickets import Ticket

IDEMPOTENCY = "idempotency_keys"
TWINS_AT_ONCE = 8
DUPLICATE_KEYS = "duplicate_keys"


def search_query(
    *,
    codes: list[str] | None,
    categories: list[str] | None,
    start: datetime | None,
    end: datetime | None,
    statuses: list[str] | None,
    include_confidential: bool,
) -> Document:
    """The query behind `TicketRepository.search` (its arguments, each optional)."""
    query: Document = {}
    if codes is not None:
        query["_id"] = {"$in": codes}
    if categories is not None:
        query["category"] = {"$in": categories}
    window: Document = {}
    if start is not None:
        window["$gte"] = start
    if end is not None:
        window["$lte"] = end
    if window:
        query["submitted_at"] = window
    if statuses is not None:
        query["status"] = {"$in": statuses}
    if not include_confidential:
        query["confidential"] = False
        query["publication.hidden"] = {"$ne": True}  # an officer hid the content
    return query


class TicketRepository(TicketStore):
    """Intake's tickets: concurrent submissions share one insert round trip."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db, batch_inserts=True)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("submitted_at", DESCENDING)])

    async def search(
        self,
        *,
        codes: list[str] | None = None,
        categories: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        statuses: list[str] | None = None,
        include_confidential: bool = False,
        limit: int = 1000,
    ) -> list[Ticket]:
        """Tickets by code list, categories, submission window and status, newest first, at
        most `limit` in all; without `include_confidential`, neither confidential ones nor
        those an officer hid."""
        query = search_query(
            codes=codes,
            categories=categories,
            start=start,
            end=end,
            statuses=statuses,
            include_confidential=include_confidential,
        )
        cursor = self.collection.find(query, {"outbox": 0}).sort("submitted_at", DESCENDING)
        return [Ticket.from_document(doc) for doc in await cursor.limit(limit).to_list()]


class IdempotencyRepository:
    """One record per Idempotency-Key (hashed): the body's hash and the 201 answer to replay."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._records = db[IDEMPOTENCY]

    async def claim(self, record: Document) -> Document | None:
        """Store the record; if the key exists already, return the existing record instead."""
        try:
            await self._records.insert_one(record)
        except DuplicateKeyError:
            return await self._records.find_one({"_id": record["_id"]})
        return None

    async def forget(self, key_hash: str) -> None:
        await self._records.delete_one({"_id": key_hash})

    async def purge_before(self, cutoff: datetime) -> int:
        result = await self._records.delete_many({"created_at": {"$lt": cutoff}})
        return result.deleted_count


class DuplicateMarkers:
    """The latest ticket per duplicate key.

    A complaint without a twin costs one insert, which FerretDB checks against its unique
    index; any look-up, even by `_id`, makes FerretDB read the whole collection, so only a twin
    (rare) reads anything, and only here, in a collection of the last half hour's keys.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._markers = db[DUPLICATE_KEYS]
        self._inserts = InsertBatcher(self._markers)  # concurrent complaints: one round trip
        # FerretDB v1 holds a pooled connection per findAndModify while it waits for another:
        # a burst of twins as large as its pool (50) would stall it. A few at a time.
        self._twins = asyncio.Semaphore(TWINS_AT_ONCE)

    async def mark(
        self, key: str, tracking_code: str, now: datetime
    ) -> tuple[str, datetime] | None:
        """Record `tracking_code` as the latest with `key`; the one before (code, when), if any.

        Without isolation (FerretDB) two twins at the same moment may both see none: they are
        flagged, not refused, so a rare miss costs nothing.
        """
        try:
            await self._inserts.insert({"_id": key, "tracking_code": tracking_code, "at": now})
        except DuplicateKeyError:  # a twin, or an older marker past the window
            async with self._twins:
                before = await self._markers.find_one_and_update(
                    {"_id": key},
                    {"$set": {"tracking_code": tracking_code, "at": now}},
                    return_document=ReturnDocument.BEFORE,
                )
            if before is not None:
                return str(before["tracking_code"]), before["at"]
        return None

    async def forget(self, key: str, tracking_code: str) -> None:
        """Remove the marker of a ticket that could not be stored after all."""
        await self._markers.delete_one({"_id": key, "tracking_code": tracking_code})

    async def purge_before(self, cutoff: datetime) -> int:
        result = await self._markers.delete_many({"at": {"$lt": cutoff}})
        return result.deleted_count
