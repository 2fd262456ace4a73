"""MongoDB access for intake: tickets, idempotency records and duplicate markers."""

from __future__ import annotations

from datetime import datetime

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.mongo import Document
from shared.tickets import Ticket, TicketStore

IDEMPOTENCY = "idempotency_keys"
DUPLICATE_KEYS = "duplicate_keys"


class TicketRepository(TicketStore):
    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("submitted_at", DESCENDING)])

    async def exists(self, tracking_code: str) -> bool:
        return await self.collection.find_one({"_id": tracking_code}, {"_id": 1}) is not None

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
        """Tickets by code list, category, submission window and status, newest first."""
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
    """The latest ticket per duplicate key, looked up by `_id`.

    Finding an earlier twin of a complaint this way never filters the tickets collection,
    which FerretDB would read whole for every complaint.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._markers = db[DUPLICATE_KEYS]

    async def mark(
        self, key: str, tracking_code: str, now: datetime
    ) -> tuple[str, datetime] | None:
        """Record `tracking_code` as the latest with `key`; the one before (code, when), if any.

        Without isolation (FerretDB) two twins at the same moment may both see none: they are
        flagged, not refused, so a rare miss costs nothing.
        """
        change = {"$set": {"tracking_code": tracking_code, "at": now}}
        try:
            before = await self._markers.find_one_and_update(
                {"_id": key}, change, upsert=True, return_document=ReturnDocument.BEFORE
            )
        except DuplicateKeyError:  # a concurrent upsert inserted it first
            before = await self._markers.find_one_and_update(
                {"_id": key}, change, return_document=ReturnDocument.BEFORE
            )
        if before is None:
            return None
        return str(before["tracking_code"]), before["at"]

    async def purge_before(self, cutoff: datetime) -> int:
        result = await self._markers.delete_many({"at": {"$lt": cutoff}})
        return result.deleted_count
