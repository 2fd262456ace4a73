"""The `tickets` collection's adapter (`shared.tickets` holds the model): read, create, and
change with a version check."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from shared.batching import InsertBatcher
from shared.lifecycle.repository import AppliesChanges
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.tickets import COLLECTION, LOCKS, OutboxListener, Ticket, outbox_flags

# Ticket changes (findAndModify) running at once per store: FerretDB v1 holds one pooled
# PostgreSQL connection per findAndModify while it waits for a second, and as many at once as
# its pool has stall it for good (measured: 300 at once; its pool has about 50).
CHANGES_AT_ONCE = 16


class TicketStore(AppliesChanges):
    """The `tickets` collection: read, create, and change with a version check.

    Every change holds the ticket's lock (see shared.locks): FerretDB does not isolate updates.
    A write that adds outbox events also sets the top-level flag `outbox_<producer>` (what the
    relay's sweep asks for) and hands the events to the listener (the service's outbox relay),
    so the relay never has to search for them or read them back.
    """

    def __init__(
        self, db: AsyncDatabase[Document], *, batch_inserts: bool = False, batch_locks: bool = False
    ) -> None:
        self.collection = db[COLLECTION]
        # Concurrent changes share their locks' round trips (shared.locks): routing's consumer.
        self.locks = DocumentLocks(db[LOCKS], batched=batch_locks)
        self._outbox_listener: OutboxListener = lambda _code, _entries: None
        # Concurrent creations share one insert_many (shared.batching): the front door's.
        self._inserts = InsertBatcher(self.collection) if batch_inserts else None
        self._changes = asyncio.Semaphore(CHANGES_AT_ONCE)

    def on_outbox(self, listener: OutboxListener) -> None:
        """Call `listener(tracking_code, entries)` after each write that added outbox events."""
        self._outbox_listener = listener

    async def get(self, tracking_code: str) -> Ticket | None:
        doc = await self.collection.find_one({"_id": tracking_code})
        return Ticket.from_document(doc) if doc else None

    async def add(self, ticket: Ticket) -> None:
        doc = ticket.to_document()
        doc.update(outbox_flags(ticket.outbox))
        if self._inserts is not None:
            await self._inserts.insert(doc)
        else:
            await self.collection.insert_one(doc)
        if ticket.outbox:
            self._outbox_listener(ticket.tracking_code, ticket.outbox)

    async def update(
        self, ticket: Ticket, *, set_fields: Document, push: dict[str, list[Any]] | None = None
    ) -> Ticket | None:
        """Apply a change if the ticket is still at the version read; None when it moved on."""
        events = (push or {}).get("outbox") or []
        change: Document = {"$set": {**set_fields, **outbox_flags(events)}, "$inc": {"version": 1}}
        if push:
            change["$push"] = {field: {"$each": values} for field, values in push.items()}
        async with self.locks.hold(ticket.tracking_code), self._changes:
            doc = await self.collection.find_one_and_update(
                {"_id": ticket.tracking_code, "version": ticket.version},
                change,
                return_document=ReturnDocument.AFTER,
            )
        if doc is None:
            return None
        if events:
            self._outbox_listener(ticket.tracking_code, events)
        return Ticket.from_document(doc)
