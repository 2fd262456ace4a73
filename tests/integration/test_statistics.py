"""The statistics projection on the real broker and database: the live consumer (the project's
consume loop) and the rebuild command each equal a from-scratch recomputation of a generated
history, duplicates included; a rebuild refuses a topic whose start was deleted."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from pymongo.asynchronous.database import AsyncDatabase

from services.routing import statistics
from services.routing.settings import RoutingSettings
from shared.events import Envelope
from shared.kafka import ConsumeLoop, KafkaPublisher, ensure_topics
from shared.mongo import Document
from shared.statistics.service import Generations
from shared.statistics.store import StatisticsStore
from shared.topics import KEEP_FOREVER, TopicSpec
from tests.conftest import Infra
from tests.integration.conftest import settings_for
from tests.statistics_history import differences, generate

pytestmark = pytest.mark.integration


@pytest.fixture
async def topic(infra: Infra) -> str:
    name = f"test.statistics.{uuid.uuid4().hex[:10]}"
    await ensure_topics(
        infra.kafka_bootstrap, [TopicSpec(name, 6, KEEP_FOREVER), TopicSpec(f"{name}.dlq", 1)]
    )
    return name


async def _publish(infra: Infra, topic: str, events: list[Envelope]) -> None:
    """As the outbox relays do: keyed by ticket, each ticket's events in order."""
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for envelope in sorted(events, key=lambda e: e.occurred_at):
            await producer.send(topic, envelope.to_bytes(), key=envelope.ticket_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def _running(loop: ConsumeLoop) -> AsyncIterator[None]:
    task = asyncio.create_task(loop.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.timeout(240)
async def test_the_live_consumer_projects_the_topic_and_ignores_duplicates(
    infra: Infra, db: AsyncDatabase[Document], topic: str
) -> None:
    history = generate(120, seed=31)
    duplicates = history.events[::7]  # a producer's retries: the same events again
    await _publish(infra, topic, history.events + duplicates)
    settings = settings_for(
        RoutingSettings, infra, db.name, seed_dev_accounts=False, statistics_consumer=True
    )
    store = StatisticsStore(db)
    publisher = KafkaPublisher(infra.kafka_bootstrap, client_id="test-statistics")
    loop = statistics.consumer(settings, statistics.projector(settings, db), publisher, topic=topic)
    months = tuple(sorted({t.month for t in history.truths}))
    try:
        async with _running(loop):
            deadline = time.monotonic() + 200
            while differences(history, await store.summaries(months)):
                assert time.monotonic() < deadline, "the projection did not catch up"
                await asyncio.sleep(1)
            await asyncio.sleep(2)  # the duplicates after the last original change nothing
    finally:
        await publisher.close()
    assert differences(history, await store.summaries(months)) == {}
    first = history.truths[0]
    part = db[f"statistics_g1_{first.month.replace('-', '')}"]
    [ticket] = await part.find({"_id": f"t:{first.code}"}).to_list()
    originals = [e for e in history.events if e.ticket_id == first.code]
    assert ticket["n"] == len([e for e in originals if e.event_type != "ticket.due_soon"])


async def test_the_rebuild_reads_the_whole_topic_into_a_new_generation(
    infra: Infra, db: AsyncDatabase[Document], topic: str
) -> None:
    history = generate(600, seed=32)
    await _publish(infra, topic, history.events + history.events[::5])
    settings = settings_for(
        RoutingSettings, infra, db.name, seed_dev_accounts=False, statistics_consumer=True
    )
    store = StatisticsStore(db)
    months = tuple(sorted({t.month for t in history.truths}))
    assert await store.summaries(months) == {}

    counted = await statistics.rebuild(settings, topic=topic, settle_s=0.2)
    assert counted >= len(history.events) * 0.95  # reminders do not count
    assert await store.generations() == Generations(active=2)
    assert differences(history, await store.summaries(months)) == {}

    await statistics.rebuild(
        settings, topic=topic, settle_s=0.2
    )  # from scratch again: the same figures
    assert await store.generations() == Generations(active=3)
    assert differences(history, await store.summaries(months)) == {}
    names = await db.list_collection_names()
    assert {n.split("_")[1] for n in names if n.startswith("statistics_g")} == {"g3"}
    assert await db.statistics_months.count_documents({"generation": {"$ne": 3}}) == 0


async def test_a_rebuild_refuses_a_topic_whose_start_was_deleted(
    infra: Infra, db: AsyncDatabase[Document], topic: str
) -> None:
    history = generate(20, seed=33)
    await _publish(infra, topic, history.events)
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        filled = [p for p in range(6) if await _has_records(infra, topic, p)]
        await admin.delete_records({TopicPartition(topic, filled[0]): RecordsToDelete(1)})
    finally:
        await admin.close()
    with pytest.raises(statistics.TruncatedLog):
        await statistics.rebuild(
            settings_for(
                RoutingSettings, infra, db.name, seed_dev_accounts=False, statistics_consumer=True
            ),
            topic=topic,
        )
    assert await StatisticsStore(db).generations() == Generations(active=1), "nothing begun"


async def _has_records(infra: Infra, topic: str, partition: int) -> bool:
    reader = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap)
    await reader.start()
    try:
        tp = TopicPartition(topic, partition)
        return bool((await reader.end_offsets([tp]))[tp])
    finally:
        await reader.stop()
