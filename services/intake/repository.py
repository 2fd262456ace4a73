"""MongoDB access for intake: tickets, idempotency records, photos (GridFS), rate windows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.tickets import LOCKS, Ticket, TicketStore

IDEMPOTENCY = "idempotency_keys"
RATE_WINDOWS = "rate_windows"


class TicketRepository(TicketStore):
    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("duplicate_key", ASCENDING)])
        await self.collection.create_index([("submitted_at", DESCENDING)])

    async def recent_with_duplicate_key(self, key: str, since: datetime) -> str | None:
        doc = await self.collection.find_one(
            {"duplicate_key": key, "submitted_at": {"$gte": since}},
            {"_id": 1},
            sort=[("submitted_at", DESCENDING)],
        )
        return str(doc["_id"]) if doc else None

    async def search(
        self,
        *,
        codes: list[str] | None = None,
        category: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        statuses: list[str] | None = None,
        include_confidential: bool = False,
        limit: int = 1000,
    ) -> list[Ticket]:
        """Tickets by code list, category, submission window and status, newest first; without
        `include_confidential`, neither confidential ones nor those an officer hid."""
        query: Document = {}
        if codes is not None:
            query["_id"] = {"$in": codes}
        if category is not None:
            query["category"] = category
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


class RateLimiter:
    """Fixed one-minute windows per client address, counted in MongoDB (shared by instances).

    Each count is taken under the window's lock: FerretDB does not isolate concurrent upserts
    (they undercount, or fail with a duplicate key).
    """

    def __init__(self, db: AsyncDatabase[Document], *, per_minute: int) -> None:
        self._windows = db[RATE_WINDOWS]
        self._locks = DocumentLocks(db[LOCKS], lease_s=5.0, wait_s=5.0)
        self.per_minute = per_minute

    async def hit(self, client: str, now: datetime) -> int:
        """Count one request; returns 0 when allowed, else the seconds until the window ends."""
        window = now.replace(second=0, microsecond=0)
        key = f"{client}|{window.isoformat()}"
        async with self._locks.hold(f"rate|{key}"):
            doc: Any = await self._windows.find_one_and_update(
                {"_id": key},
                {"$inc": {"n": 1}, "$setOnInsert": {"window": window}},
                upsert=True,
                return_document=True,
            )
        if doc["n"] <= self.per_minute:
            return 0
        return max(1, 60 - now.second)

    async def purge_before(self, cutoff: datetime) -> None:
        await self._windows.delete_many({"window": {"$lt": cutoff - timedelta(minutes=1)}})
