"""How many findAndModify a store lets run at once: FerretDB v1 stalls for good when as many
run together as its PostgreSQL pool has connections (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.intake.repository import TWINS_AT_ONCE, DuplicateMarkers
from shared.events import Envelope, EventType
from shared.kafka import KafkaPublisher
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.outbox import OutboxRelay, outbox_entry
from shared.ticket_store import CHANGES_AT_ONCE, TicketStore
from shared.tickets import Kind, Ticket, TicketStatus

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class FakeCollection:
    """Inserts refuse an existing `_id` (as the unique index does); findAndModify counts how
    many run at once."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.running = 0
        self.most = 0
        self.started: list[float] = []
        self.batches: list[float] = []
        self.delay_s = 0.01

    async def insert_one(self, doc: Document) -> None:
        await asyncio.sleep(0)
        if doc["_id"] in self.docs:
            raise DuplicateKeyError("E11000 duplicate key")
        self.docs[doc["_id"]] = dict(doc)

    async def insert_many(self, docs: list[Document], ordered: bool = True) -> None:
        self.batches.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0)
        errors = []
        for i, doc in enumerate(docs):
            if doc["_id"] in self.docs:
                errors.append({"index": i, "code": 11000, "errmsg": "E11000 duplicate key"})
            else:
                self.docs[doc["_id"]] = dict(doc)
        if errors:
            raise BulkWriteError({"writeErrors": errors})

    async def delete_one(self, query: Document) -> None:
        self.docs.pop(query["_id"], None)

    async def delete_many(self, query: Document) -> None:
        ids = query["_id"]["$in"] if "_id" in query else list(self.docs)
        for i in ids:
            if self.docs.get(i, {}).get("token") == query["token"]:
                del self.docs[i]

    async def update_one(self, query: Document, change: Document) -> None:
        self.docs[query["_id"]].update(change.get("$set", {}))

    async def find_one(self, query: Document) -> Document | None:
        return self.docs.get(query["_id"])

    async def find_one_and_update(
        self, query: Document, change: Document, *, return_document: bool = False
    ) -> Document:
        self.running += 1
        self.most = max(self.most, self.running)
        self.started.append(asyncio.get_running_loop().time())
        try:
            await asyncio.sleep(self.delay_s)
            doc = self.docs[query["_id"]]
            before = dict(doc)
            doc.update(change.get("$set", {}))
            for field, values in change.get("$pullAll", {}).items():
                doc[field] = [v for v in doc.get(field, []) if v not in values]
            if "$inc" in change:
                doc["version"] = int(doc.get("version", 1)) + 1
            return dict(doc) if return_document is ReturnDocument.AFTER else before
        finally:
            self.running -= 1


class FakeDatabase:
    def __init__(self) -> None:
        self.collections: dict[str, FakeCollection] = {}

    def __getitem__(self, name: str) -> FakeCollection:
        return self.collections.setdefault(name, FakeCollection())


def _ticket(code: str) -> Ticket:
    return Ticket(
        tracking_code=code,
        status=TicketStatus.ROUTED,
        kind=Kind.COMPLAINT,
        description="Lampu jalan mati sejak seminggu.",
        reply_token_hash="h",
        submitted_at=NOW,
        updated_at=NOW,
        correlation_id="c",
    )


async def test_a_store_runs_a_bounded_number_of_ticket_changes_at_once() -> None:
    db = FakeDatabase()
    tickets = [_ticket(f"LP-{i:04d}") for i in range(120)]
    for ticket in tickets:
        db["tickets"].docs[ticket.tracking_code] = ticket.to_document()
    store = TicketStore(cast(AsyncDatabase[Document], db))
    changed = await asyncio.gather(*(store.update(t, set_fields={"title": "t"}) for t in tickets))
    assert all(c is not None for c in changed)
    assert db["tickets"].most == CHANGES_AT_ONCE < 50


async def test_a_burst_of_twins_reads_their_markers_a_few_at_a_time() -> None:
    db = FakeDatabase()
    markers = DuplicateMarkers(cast(AsyncDatabase[Document], db))
    db["duplicate_keys"].docs.update(
        {f"k{i}": {"_id": f"k{i}", "tracking_code": "LP-OLD", "at": NOW} for i in range(100)}
    )
    earlier = await asyncio.gather(*(markers.mark(f"k{i}", f"LP-{i}", NOW) for i in range(100)))
    assert all(e is not None and e[0] == "LP-OLD" for e in earlier)
    assert db["duplicate_keys"].most == TWINS_AT_ONCE < 50


class FakePublisher:
    async def publish_many(self, topic: str, envelopes: list[Envelope]) -> None:
        await asyncio.sleep(0)


async def test_relay_removals_start_only_well_within_the_locks_lease() -> None:
    db = FakeDatabase()
    tickets, locks = (
        db["tickets"],
        DocumentLocks(cast(AsyncCollection[Document], db["ticket_locks"]), lease_s=0.3),
    )
    tickets.delay_s = 0.04  # a slow store: four at once, so a round of 20 outlasts 0.1 s
    relay = OutboxRelay(
        collection=cast(AsyncCollection[Document], tickets),
        locks=locks,
        publisher=cast(KafkaPublisher, FakePublisher()),
        topic="t",
        producer="intake",
        removal_batch=20,
    )
    for i in range(20):
        code = f"LP-{i:04d}"
        entry = outbox_entry(
            Envelope(
                event_type=EventType.TICKET_SUBMITTED,
                ticket_id=code,
                correlation_id="c",
                producer="intake",
                payload={"kind": "complaint"},
            )
        )
        tickets.docs[code] = {"_id": code, "outbox": [entry], "outbox_intake": True}
        relay.notify(code, [entry])
    assert await relay.publish_pending() == 20
    assert await relay.remove_published() == 20
    rounds = db["ticket_locks"].batches  # each round takes its locks in one insert
    assert relay.unremoved == 0 and len(rounds) > 1  # what a round had no time for went later
    for started in tickets.started:
        taken = max(t for t in rounds if t <= started)
        assert started - taken < 0.3 / 3 + 0.02  # never late in a lock's lease
    assert all(d["outbox"] == [] for d in tickets.docs.values())
    assert db["ticket_locks"].docs == {}
