"""The consumers' shared round trips on the real broker and database: the consume loop by key
and by batch (order, offsets, failures), batched locks, and the statistics projection's batches
(redelivery, a failure mid-batch, two consumers of one group)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from services.routing import statistics
from services.routing.settings import RoutingSettings
from shared.events import Envelope, EventType
from shared.kafka import BatchHandler, ConsumeLoop, Handler, KafkaPublisher, ensure_topics
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.statistics.service import Change, Projector
from shared.statistics.store import StatisticsStore
from shared.topics import KEEP_FOREVER, TopicSpec
from tests.conftest import Infra
from tests.integration.conftest import read_topic, settings_for
from tests.statistics_history import differences, generate

pytestmark = pytest.mark.integration


class Commands(monitoring.CommandListener):
    """Counts the commands a client sends, by name."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.count[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@contextlib.asynccontextmanager
async def counted(
    infra: Infra, db: AsyncDatabase[Document]
) -> AsyncIterator[tuple[AsyncDatabase[Document], Commands]]:
    commands = Commands()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        infra.mongodb_url, event_listeners=[commands], tz_aware=True
    )
    try:
        yield client[db.name], commands
    finally:
        await client.close()


@pytest.fixture
async def topic(infra: Infra) -> str:
    name = f"test.batched.{uuid.uuid4().hex[:10]}"
    await ensure_topics(
        infra.kafka_bootstrap, [TopicSpec(name, 3, KEEP_FOREVER), TopicSpec(f"{name}.dlq", 1)]
    )
    return name


@pytest.fixture
async def publisher(infra: Infra) -> AsyncIterator[KafkaPublisher]:
    pub = KafkaPublisher(infra.kafka_bootstrap, client_id="test-batched")
    try:
        yield pub
    finally:
        await pub.close()


def _event(ticket_id: str, n: int) -> Envelope:
    return Envelope(
        event_type=EventType.TICKET_SUBMITTED,
        ticket_id=ticket_id,
        correlation_id="c",
        producer="intake",
        payload={"n": n},
    )


async def _publish_raw(infra: Infra, topic: str, events: Sequence[Envelope]) -> None:
    """As the relays do: keyed by ticket, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for envelope in events:
            await producer.send(topic, envelope.to_bytes(), key=envelope.ticket_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def _running(*loops: ConsumeLoop) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(loop.run()) for loop in loops]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


def _loop(
    infra: Infra,
    topic: str,
    publisher: KafkaPublisher,
    group: str,
    *,
    handlers: Mapping[str, Handler],
    concurrency: int = 1,
    batch_handler: BatchHandler | None = None,
) -> ConsumeLoop:
    return ConsumeLoop(
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=group,
        topics=[topic],
        handlers=handlers,
        dead_letter_topic=f"{topic}.dlq",
        publisher=publisher,
        max_attempts=2,
        backoff_s=0.01,
        concurrency=concurrency,
        batch_handler=batch_handler,
    )


@pytest.mark.timeout(120)
async def test_by_key_each_tickets_events_stay_in_order_while_tickets_overlap(
    infra: Infra, topic: str, publisher: KafkaPublisher
) -> None:
    events = [_event(f"LP-{t:04d}", n) for n in range(5) for t in range(12)]
    poison = _event("LP-0003", 99)
    await _publish_raw(infra, topic, [*events, poison])
    seen: dict[str, list[int]] = {}
    running, most = 0, 0

    async def handler(envelope: Envelope) -> None:
        nonlocal running, most
        if envelope.event_id == poison.event_id:
            raise ValueError("poison")
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)  # a database call
        running -= 1
        seen.setdefault(envelope.ticket_id, []).append(envelope.payload["n"])

    group = f"g-{uuid.uuid4().hex[:8]}"
    loop = _loop(
        infra,
        topic,
        publisher,
        group,
        handlers={EventType.TICKET_SUBMITTED: handler},
        concurrency=8,
    )

    async def all_seen() -> bool:
        return sum(map(len, seen.values())) >= len(events)

    async with _running(loop):
        await _until(all_seen, 60, "the loop did not handle every event")
        await asyncio.sleep(1)  # the poison's retries, its dead letter, the commit
    assert seen == {f"LP-{t:04d}": [0, 1, 2, 3, 4] for t in range(12)}
    assert 1 < most <= 8
    # Everything was committed: the group starting again sees only a new event.
    later = _event("LP-0001", 5)
    await publisher.publish(topic, later)
    again: list[str] = []

    async def record(envelope: Envelope) -> None:
        again.append(envelope.event_id)

    async def got_later() -> bool:
        return later.event_id in again

    loop2 = _loop(infra, topic, publisher, group, handlers={EventType.TICKET_SUBMITTED: record})
    async with _running(loop2):
        await _until(got_later, 60, "the new event did not arrive")
    assert again == [later.event_id]


@pytest.mark.timeout(120)
async def test_a_failed_batch_is_handled_again_event_by_event(
    infra: Infra, topic: str, publisher: KafkaPublisher
) -> None:
    events = [_event(f"LP-{t:04d}", 0) for t in range(30)]
    poison = _event("LP-0007", 1)
    await _publish_raw(infra, topic, [*events, poison])
    batches: list[tuple[set[str], bool]] = []  # (its events, whether it failed)
    singles: list[str] = []

    async def batch_handler(envelopes: Sequence[Envelope]) -> None:
        ids = {e.event_id for e in envelopes}
        batches.append((ids, poison.event_id in ids))
        if poison.event_id in ids:
            raise RuntimeError("one of these cannot be handled")

    async def handler(envelope: Envelope) -> None:
        if envelope.event_id == poison.event_id:
            raise ValueError("poison")
        singles.append(envelope.event_id)

    loop = _loop(
        infra,
        topic,
        publisher,
        f"g-{uuid.uuid4().hex[:8]}",
        handlers={EventType.TICKET_SUBMITTED: handler},
        batch_handler=batch_handler,
    )
    async with _running(loop):
        [(_, dead, headers)] = await read_topic(infra, f"{topic}.dlq", 1)
    assert dead.event_id == poison.event_id and headers["dlq.attempts"] == b"2"
    failed = set().union(*(ids for ids, failing in batches if failing))
    passed = set().union(*(ids for ids, failing in batches if not failing))
    assert failed and poison.event_id in failed
    # The failed batch's other events were handled one by one, once each; the rest in batches.
    assert sorted(singles) == sorted(failed - {poison.event_id})
    assert passed | set(singles) == {e.event_id for e in events}


async def test_batched_locks_share_round_trips_and_still_exclude(
    infra: Infra, db: AsyncDatabase[Document]
) -> None:
    await db.counters.insert_one({"_id": "shared", "items": []})
    async with counted(infra, db) as (counted_db, commands):
        locks = DocumentLocks(counted_db.ticket_locks, batched=True)

        async def hold_one(i: int) -> None:
            async with locks.hold(f"doc-{i}"):
                await asyncio.sleep(0.01)

        await asyncio.gather(*(hold_one(i) for i in range(40)))
        # 40 locks in far fewer inserts and deletes than 40 each.
        assert commands.count["insert"] < 20 and commands.count["delete"] < 20
        assert await db.ticket_locks.count_documents({}) == 0

        async def push(i: int) -> None:
            async with locks.hold("shared"):
                doc = await counted_db.counters.find_one({"_id": "shared"})
                assert doc is not None
                await asyncio.sleep(0)
                await counted_db.counters.replace_one(
                    {"_id": "shared"}, {"_id": "shared", "items": [*doc["items"], i]}
                )

        await asyncio.gather(*(push(i) for i in range(25)))
    doc = await db.counters.find_one({"_id": "shared"})
    assert doc is not None and sorted(doc["items"]) == list(range(25))  # none lost
    assert await db.ticket_locks.count_documents({}) == 0


def _add(item: str) -> Change:
    def change(held: Document | None) -> tuple[Document, bool]:
        doc = dict(held) if held else {"items": []}
        if item in doc["items"]:
            return doc, False
        doc["items"] = [*doc["items"], item]
        return doc, True

    return change


async def test_change_many_writes_with_few_round_trips_and_waits_for_a_held_lock(
    infra: Infra, db: AsyncDatabase[Document]
) -> None:
    part = db["statistics_g1_202605"]
    await part.insert_many([{"_id": f"d{i}", "items": ["old"]} for i in range(10)])
    changes = {f"d{i}": _add("new") for i in range(30)}
    async with counted(infra, db) as (counted_db, commands):
        store = StatisticsStore(counted_db)
        written = await store.change_many(1, "2026-05", changes)
        # The locks in one insert, the 20 new documents in another, the locks' release in one
        # delete; a read per document and a replace per existing one.
        assert commands.count["insert"] == 2 and commands.count["delete"] == 1, commands.count
        assert commands.count["find"] == 30 and commands.count["update"] == 10
        commands.count.clear()
        again = await store.change_many(1, "2026-05", changes)  # a redelivery: nothing written
        assert commands.count["update"] == 0 and commands.count["insert"] == 1  # the locks
    assert set(written) == set(changes)
    assert {k: d["items"] for k, d in again.items()} == {k: d["items"] for k, d in written.items()}
    docs = {d["_id"]: d["items"] async for d in part.find({})}
    assert docs == {f"d{i}": (["old", "new"] if i < 10 else ["new"]) for i in range(30)}

    other = DocumentLocks(db.statistics_locks)
    async with other.hold("statistics_g1_202605/d3"):
        writing = asyncio.create_task(
            StatisticsStore(db).change_many(1, "2026-05", {"d2": _add("x"), "d3": _add("x")})
        )
        await asyncio.sleep(0.5)
        assert not writing.done()  # d3 waits for its lock
        assert (await part.find_one({"_id": "d2"}) or {})["items"] == ["old", "new", "x"]
    assert (await writing)["d3"]["items"] == ["old", "new", "x"]
    assert (await part.find_one({"_id": "d3"}) or {})["items"] == ["old", "new", "x"]
    assert await db.statistics_locks.count_documents({}) == 0


class Counting(Projector):
    """Counts the events it was given."""

    seen = 0

    async def apply(self, envelopes: Sequence[Envelope], *, generation: int | None = None) -> int:
        counted = await super().apply(envelopes, generation=generation)
        self.seen += len(envelopes)
        return counted


class Failure:
    """One failure shared by the consumers' stores: whichever writes a batch first loses it."""

    def __init__(self) -> None:
        self.happened = False


class FailingOnce(StatisticsStore):
    """Fails the first multi-document change of any store sharing `failure`, after writing it:
    a crash mid-batch. Shared because which consumer reads first depends on the group's
    assignment, which the test does not control."""

    def __init__(self, db: AsyncDatabase[Document], failure: Failure) -> None:
        super().__init__(db)
        self.failure = failure

    async def change_many(
        self, generation: int, month: str, changes: Mapping[str, Change]
    ) -> dict[str, Document]:
        written = await super().change_many(generation, month, changes)
        if not self.failure.happened and len(changes) > 1:
            self.failure.happened = True
            raise RuntimeError("lost the database mid-batch")
        return written


@pytest.mark.timeout(300)
async def test_two_batched_statistics_consumers_with_a_failure_and_redelivery_count_once(
    infra: Infra, db: AsyncDatabase[Document], topic: str
) -> None:
    history = generate(150, seed=41)
    events = sorted(history.events + history.events[::6], key=lambda e: e.occurred_at)
    published = len(events)
    await _publish_raw(infra, topic, events)
    settings = settings_for(
        RoutingSettings, infra, db.name, seed_dev_accounts=False, statistics_consumer=True
    )
    failure = Failure()
    publisher = KafkaPublisher(infra.kafka_bootstrap, client_id="test-batched-statistics")
    first = statistics.consumer(
        settings, Projector(FailingOnce(db, failure), settings.calendar()), publisher, topic=topic
    )
    second = statistics.consumer(
        settings, Projector(FailingOnce(db, failure), settings.calendar()), publisher, topic=topic
    )
    store = StatisticsStore(db)
    months = tuple(sorted({t.month for t in history.truths}))

    async def caught_up() -> bool:
        return not differences(history, await store.summaries(months))

    try:
        async with _running(first, second):
            await _until(caught_up, 240, "the two consumers did not catch up")
        assert failure.happened
        # Redelivery: a new group reads the whole topic again into the same documents.
        replay = Counting(StatisticsStore(db), settings.calendar())
        again = statistics.consumer(
            settings_for(
                RoutingSettings,
                infra,
                db.name,
                seed_dev_accounts=False,
                consumer_group=f"again-{uuid.uuid4().hex[:6]}",
            ),
            replay,
            publisher,
            topic=topic,
        )
        before = await store.summaries(months)

        async def replayed() -> bool:
            return replay.seen >= published

        async with _running(again):
            await _until(replayed, 120, "the replay did not read the topic")
    finally:
        await publisher.close()
    assert differences(history, await store.summaries(months)) == {}
    assert await store.summaries(months) == before
