"""Writes shared by many callers: batched inserts, locks taken together, batched outbox removals
(against the real database, and Kafka for the relay)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.intake.repository import DuplicateMarkers
from shared.batching import InsertBatcher
from shared.events import Envelope, EventType, utcnow
from shared.kafka import KafkaPublisher, ensure_topics
from shared.locks import DocumentLocks, LockTimeout
from shared.mongo import Document
from shared.outbox import OutboxRelay, outbox_entry
from shared.topics import TopicSpec
from tests.conftest import Infra

pytestmark = pytest.mark.integration


class InsertCommands(monitoring.CommandListener):
    """Counts the insert commands a client sends."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "insert":
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_concurrent_inserts_share_round_trips_and_each_gets_its_own_outcome(
    infra: Infra, db: AsyncDatabase[Document]
) -> None:
    await db.things.insert_one({"_id": "taken"})
    inserts = InsertCommands()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        infra.mongodb_url, event_listeners=[inserts], tz_aware=True
    )
    try:
        batcher = InsertBatcher(client[db.name].things, max_batch=10, in_flight=1)

        async def insert(key: str) -> str:
            try:
                await batcher.insert({"_id": key, "at": utcnow()})
            except DuplicateKeyError:
                return "duplicate"
            return "stored"

        keys = [f"k{i}" for i in range(40)] + ["taken", "k3"]
        outcomes = await asyncio.gather(*(insert(k) for k in keys))
        assert outcomes[:40] == ["stored"] * 40
        assert outcomes[40:] == ["duplicate", "duplicate"]  # an old one, and a twin in a batch
        assert await db.things.count_documents({}) == 41
        # One batch in flight, up to ten in each: 42 inserts in five or six round trips.
        assert 5 <= inserts.count <= 6
        before = inserts.count
        assert await insert("alone") == "stored" and batcher.waiting == 0
        assert inserts.count == before + 1  # nothing else waits: it goes at once, alone
    finally:
        await client.close()


async def test_duplicate_markers_in_one_batch_still_find_the_earlier_twin(
    db: AsyncDatabase[Document],
) -> None:
    markers = DuplicateMarkers(db)
    now = utcnow()
    first = await asyncio.gather(
        *(markers.mark(f"key-{i}", f"LP-{i}", now) for i in range(20)), markers.mark("x", "A", now)
    )
    assert first == [None] * 21
    again = await asyncio.gather(markers.mark("x", "B", now), markers.mark("key-5", "C", now))
    assert again[0] == ("A", now.replace(microsecond=now.microsecond // 1000 * 1000))
    assert again[1] is not None and again[1][0] == "LP-5"


async def test_free_locks_are_taken_together_and_held_ones_left_to_the_caller(
    db: AsyncDatabase[Document],
) -> None:
    locks = DocumentLocks(db.ticket_locks, wait_s=0.2)
    async with locks.hold("B"):
        async with locks.hold_free(["A", "B", "C", "A"]) as held:
            assert held == {"A", "C"}
            assert await db.ticket_locks.count_documents({}) == 3
            with pytest.raises(LockTimeout):  # A is the batch's
                async with locks.hold("A"):
                    pass
        assert {d["_id"] for d in await db.ticket_locks.find({}).to_list()} == {"B"}
    assert await db.ticket_locks.count_documents({}) == 0
    async with locks.hold_free([]) as none:
        assert none == set()


def _event(ticket_id: str) -> Envelope:
    return Envelope(
        event_type=EventType.TICKET_SUBMITTED,
        ticket_id=ticket_id,
        correlation_id="c",
        producer="intake",
        payload={"kind": "complaint"},
    )


async def test_relay_removes_many_tickets_events_in_batches_and_waits_out_a_held_lock(
    infra: Infra, db: AsyncDatabase[Document]
) -> None:
    topic = f"test.{uuid.uuid4().hex[:10]}"
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(topic, 3)])
    publisher = KafkaPublisher(infra.kafka_bootstrap, client_id="test")
    locks = DocumentLocks(db.ticket_locks)
    relay = OutboxRelay(
        collection=db.tickets,
        locks=locks,
        publisher=publisher,
        topic=topic,
        producer="intake",
        removal_batch=7,
    )
    codes = [f"LP-{i:04d}-TEST" for i in range(30)]
    events = {code: outbox_entry(_event(code)) for code in codes}
    later = outbox_entry(_event(codes[0]))
    await db.tickets.insert_many(
        [{"_id": c, "outbox": [events[c]], "outbox_intake": True} for c in codes]
    )
    try:
        for code in codes:
            relay.notify(code, [events[code]])
        assert await relay.publish_pending() == 30
        # Another write of the same producer added an event to the first ticket meanwhile
        # (its relay not told yet, as with a second instance): the flag must stay.
        await db.tickets.update_one({"_id": codes[0]}, {"$push": {"outbox": later}})
        async with locks.hold(codes[1]):  # a writer holds one ticket a moment
            removal = asyncio.create_task(relay.remove_published())
            await asyncio.sleep(0.5)
            assert not removal.done()  # it waits for that one lock
        assert await removal == 30
    finally:
        await publisher.close()
    left = {d["_id"]: d for d in await db.tickets.find({}).to_list()}
    assert left[codes[0]]["outbox"] == [later] and left[codes[0]]["outbox_intake"] is True
    for code in codes[1:]:
        assert left[code]["outbox"] == [] and "outbox_intake" not in left[code]
    assert await db.ticket_locks.count_documents({}) == 0
    assert relay.unremoved == 0
