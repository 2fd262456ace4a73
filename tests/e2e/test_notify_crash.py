"""End to end: notify as a real process, killed in the middle of a batch and started again,
delivers every message and no delivery key twice (at most one raw resend, as documented)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from devstack.sink import Sink
from shared import topics
from shared.events import Envelope, EventType
from shared.kafka import KafkaPublisher, ensure_topics
from tests.conftest import Infra, services_stack, stack_database

pytestmark = pytest.mark.e2e

BATCH = 40


@pytest.fixture
def sink() -> Iterator[Sink]:
    sink = Sink().start()
    sink.configure(delay_ms=60)  # a gateway that takes its time: the kill lands mid-batch
    yield sink
    sink.stop()


def _events(run: str) -> list[Envelope]:
    return [
        Envelope(
            event_type=EventType.TICKET_SUBMITTED,
            ticket_id=f"LP-{run[:4].upper()}-{i:04d}",
            correlation_id=run,
            producer="intake",
            payload={"kind": "complaint"},
        )
        for i in range(BATCH)
    ]


async def _publish(bootstrap: str, events: list[Envelope]) -> None:
    await ensure_topics(bootstrap)
    publisher = KafkaPublisher(bootstrap, client_id="e2e-notify")
    try:
        for event in events:
            await publisher.publish(topics.TICKETS, event)
    finally:
        await publisher.close()


def _wait_for(check: object, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killing_notify_mid_batch_sends_no_delivery_key_twice(infra: Infra, sink: Sink) -> None:
    run = uuid.uuid4().hex[:8]
    stack = services_stack(
        infra,
        "notify",
        NOTIFY_EMAIL__TRANSPORT="off",
        NOTIFY_WHATSAPP__TRANSPORT="http",
        NOTIFY_WHATSAPP__URL=f"{sink.url}/whatsapp",
        NOTIFY_WHATSAPP__TIMEOUT_SECONDS="1",
        NOTIFY_WHATSAPP__RATE_PER_SECOND="1000",
        NOTIFY_RETRY__LEASE_SECONDS="2",
        NOTIFY_RETRY__POLL_SECONDS="0.2",
        NOTIFY_RETRY__BASE_SECONDS="0.2",
    )
    database = stack_database(stack)
    [notify] = [c for c in stack.services() if c.name == "notify"]
    events = _events(run)
    mongo: MongoClient[dict[str, object]] = MongoClient(infra.mongodb_url)
    try:
        mongo[database].tickets.insert_many(
            [
                {"_id": e.ticket_id, "kind": "complaint", "reporter": {"phone": f"+62812{i:07d}"}}
                for i, e in enumerate(events)
            ]
        )
        stack.start(notify)
        asyncio.run(_publish(infra.kafka_bootstrap, events))
        _wait_for(lambda: len(sink.messages()) >= BATCH // 4, "the first messages", 30)

        pid = stack.pid("notify")
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # no shutdown: records and offsets stay as they were
        stack.stop("notify")  # only reaps it now
        at_kill = len(sink.messages())
        assert at_kill < BATCH, "the batch finished before the kill"

        stack.start(notify)
        expected = {f"{e.event_id}:whatsapp:citizen" for e in events}

        def all_delivered() -> bool:
            delivered = {m["key"] for m in sink.messages() if m["delivered"]}
            return expected <= delivered

        _wait_for(all_delivered, "every message after the restart", 60)
    finally:
        stack.down()
        shutil.rmtree(stack.var, ignore_errors=True)
        mongo.drop_database(database)
        mongo.close()

    ours = [m for m in sink.messages() if m["key"] in expected]
    delivered = Counter(m["key"] for m in ours if m["delivered"])
    raw = Counter(m["key"] for m in ours)
    assert set(delivered) == expected and set(delivered.values()) == {1}
    resent = [key for key, count in raw.items() if count > 1]
    assert max(raw.values()) <= 2 and len(resent) <= 1, raw.most_common(3)
    assert all(m["status"] == 200 for m in ours)
