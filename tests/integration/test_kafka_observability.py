"""What the consume loop and the publisher tell ops, against the real broker: the consumer's
lag while it is stuck and after it caught up, the event's age, the correlation id as a Kafka
header and as the current id while the handler runs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from shared import correlation
from shared.events import Envelope, EventType
from shared.kafka import ConsumeLoop, KafkaPublisher, ensure_topics
from shared.topics import TopicSpec
from tests.conftest import Infra
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.integration


def lag(group: str, topic: str) -> float | None:
    return REGISTRY.get_sample_value(
        "pengaduan_consumer_lag", {"consumer": group, "topic": topic, "partition": "0"}
    )


async def until(check: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    """Poll `check` every 0.1 s until it holds or `timeout_s` passed."""
    for _ in range(int(timeout_s * 10)):
        if check():
            return True
        await asyncio.sleep(0.1)
    return check()


async def test_lag_grows_while_the_consumer_is_stuck_and_returns_to_zero(infra: Infra) -> None:
    topic, group = f"test.{uuid.uuid4().hex[:10]}", f"lag-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(topic, 1), TopicSpec(f"{topic}.dlq", 1)])
    publisher = KafkaPublisher(infra.kafka_bootstrap, client_id="test")
    release = asyncio.Event()
    seen: list[str | None] = []

    async def handler(envelope: Envelope) -> None:
        seen.append(correlation.current())
        await release.wait()

    events = [
        Envelope(
            event_type=EventType.TICKET_SUBMITTED,
            ticket_id="LP-LAGG-0001",
            correlation_id=f"corr-{i:04d}-abcdef",
            producer="test",
        )
        for i in range(5)
    ]
    loop = ConsumeLoop(
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=group,
        topics=[topic],
        handlers={EventType.TICKET_SUBMITTED: handler},
        dead_letter_topic=f"{topic}.dlq",
        publisher=publisher,
        batch_size=1,
        lag_interval_s=0.2,
    )
    task = asyncio.create_task(loop.run())
    try:
        await publisher.publish_many(topic, events)
        assert await until(lambda: bool(seen))
        # Stuck on the first: nothing committed, the high watermark is 5.
        assert await until(lambda: lag(group, topic) == 5.0), lag(group, topic)
        release.set()
        assert await until(lambda: lag(group, topic) == 0.0), lag(group, topic)
        assert seen == [e.correlation_id for e in events]
        age = REGISTRY.get_sample_value("pengaduan_event_age_seconds_count", {"consumer": group})
        assert age == 5.0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.close()
    headers = [h for _, _, h in await read_topic(infra, topic, 5)]
    assert [h["correlation_id"].decode() for h in headers] == [e.correlation_id for e in events]
