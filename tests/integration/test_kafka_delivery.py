"""The outbox relay and the consume loop against the real broker and database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import Envelope, EventType
from shared.kafka import ConsumeLoop, KafkaPublisher, ensure_topics
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.outbox import OutboxRelay, outbox_entry
from shared.ticket_store import TicketStore
from shared.tickets import Location
from shared.topics import TopicSpec
from tests.conftest import Infra
from tests.integration.conftest import new_complaint, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def topic(infra: Infra) -> str:
    name = f"test.{uuid.uuid4().hex[:10]}"
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(name, 3), TopicSpec(f"{name}.dlq", 1)])
    return name


@pytest.fixture
async def publisher(infra: Infra) -> AsyncIterator[KafkaPublisher]:
    pub = KafkaPublisher(infra.kafka_bootstrap, client_id="test")
    try:
        yield pub
    finally:
        await pub.close()


def _event(ticket_id: str, producer: str = "intake") -> Envelope:
    return Envelope(
        event_type=EventType.TICKET_SUBMITTED,
        ticket_id=ticket_id,
        correlation_id="c",
        producer=producer,
        payload={"kind": "complaint"},
    )


async def test_relay_publishes_keyed_by_ticket_and_clears_only_its_own_events(
    infra: Infra, db: AsyncDatabase[Document], topic: str, publisher: KafkaPublisher
) -> None:
    mine = [_event("LP-AAAA-AAAA"), _event("LP-AAAA-AAAA"), _event("LP-BBBB-BBBB")]
    other = _event("LP-BBBB-BBBB", producer="routing")
    flags = {"outbox_intake": True, "outbox_routing": True}  # as TicketStore's writes set them
    await db.tickets.insert_many(
        [
            {
                "_id": "LP-AAAA-AAAA",
                "outbox": [outbox_entry(mine[0]), outbox_entry(mine[1])],
                "outbox_intake": True,
            },
            {
                "_id": "LP-BBBB-BBBB",
                "outbox": [outbox_entry(mine[2]), outbox_entry(other)],
                **flags,
            },
        ]
    )
    relay = OutboxRelay(
        collection=db.tickets,
        locks=DocumentLocks(db.ticket_locks),
        publisher=publisher,
        topic=topic,
        producer="intake",
    )
    assert await relay.publish_pending() == 0  # nothing told it of these: the sweep finds them
    assert await relay.sweep() == 2
    assert await relay.publish_pending() == 3
    assert relay.pending == 0 and relay.unremoved == 2
    assert await relay.remove_published() == 2
    assert await relay.sweep() == 0  # nothing of intake's waits any more
    received = await read_topic(infra, topic, 3)
    assert sorted(e.event_id for _, e, _ in received) == sorted(e.event_id for e in mine)
    assert all(key == env.ticket_id.encode() for key, env, _ in received)
    in_order = [e.event_id for _, e, _ in received if e.ticket_id == "LP-AAAA-AAAA"]
    assert in_order == [mine[0].event_id, mine[1].event_id]
    a = await db.tickets.find_one({"_id": "LP-AAAA-AAAA"})
    b = await db.tickets.find_one({"_id": "LP-BBBB-BBBB"})
    assert a is not None and b is not None
    assert a["outbox"] == [] and [e["event_id"] for e in b["outbox"]] == [other.event_id]
    assert "outbox_intake" not in a and "outbox_intake" not in b
    assert b["outbox_routing"] is True  # routing's event still waits for routing's relay


async def test_relay_keeps_events_while_kafka_is_unreachable(db: AsyncDatabase[Document]) -> None:
    await db.tickets.insert_one(
        {"_id": "LP-CCCC-CCCC", "outbox": [outbox_entry(_event("LP-CCCC-CCCC"))]}
    )
    down = KafkaPublisher("127.0.0.1:1", client_id="test", timeout_s=2)
    relay = OutboxRelay(
        collection=db.tickets,
        locks=DocumentLocks(db.ticket_locks),
        publisher=down,
        topic="unused",
        producer="intake",
    )
    relay.notify("LP-CCCC-CCCC", [outbox_entry(_event("LP-CCCC-CCCC"))])
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, nothing is lost
        await relay.publish_pending()
    doc = await db.tickets.find_one({"_id": "LP-CCCC-CCCC"})
    assert doc is not None and len(doc["outbox"]) == 1
    assert relay.pending == 1  # still known, tried again on the next pass
    await down.close()


async def test_a_write_with_events_tells_the_relay_which_ticket_to_read(
    infra: Infra, db: AsyncDatabase[Document], topic: str, publisher: KafkaPublisher
) -> None:
    tickets = TicketStore(db)
    relay = OutboxRelay(
        collection=db.tickets,
        locks=tickets.locks,
        publisher=publisher,
        topic=topic,
        producer="intake",
    )
    tickets.on_outbox(relay.notify)
    ticket, event = new_complaint(
        "Jembatan desa retak, warga takut lewat.",
        tracking_code="LP-DDDD-DDDD",
        location=Location(),
        reporter=None,
        anonymous=True,
    )
    await tickets.add(ticket)
    flagged = await db.tickets.find_one({"_id": "LP-DDDD-DDDD"})
    assert flagged is not None and flagged["outbox_intake"] is True
    assert relay.pending == 1
    await db.tickets.update_one({"_id": "LP-DDDD-DDDD"}, {"$set": {"outbox": []}})
    assert await relay.publish_pending() == 1  # from what the write handed over: no read
    (received,) = await read_topic(infra, topic, 1)
    assert received[1].event_id == event.event_id
    await db.tickets.update_one({"_id": "LP-DDDD-DDDD"}, {"$set": {"outbox": flagged["outbox"]}})
    assert await relay.remove_published() == 1
    stored = await db.tickets.find_one({"_id": "LP-DDDD-DDDD"})
    assert stored is not None and stored["outbox"] == [] and "outbox_intake" not in stored
    unchanged = await tickets.update(ticket.model_copy(update={"version": 2}), set_fields={"x": 1})
    assert unchanged is None and relay.pending == 0  # a write that added nothing tells nothing


async def _run_until(loop: ConsumeLoop, done: asyncio.Event) -> None:
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(45):
            await done.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_failing_event_goes_to_dead_letters_and_the_loop_goes_on(
    infra: Infra, topic: str, publisher: KafkaPublisher
) -> None:
    poison, good = _event("LP-DDDD-DDDD"), _event("LP-DDDD-DDDD")
    await publisher.publish(topic, poison)
    await publisher.publish(topic, good)
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        if envelope.event_id == poison.event_id:
            raise ValueError("cannot handle this one")
        handled.append(envelope.event_id)
        done.set()

    group = f"g-{uuid.uuid4().hex[:8]}"
    loop = ConsumeLoop(
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=group,
        topics=[topic],
        handlers={EventType.TICKET_SUBMITTED: handler},
        dead_letter_topic=f"{topic}.dlq",
        publisher=publisher,
        max_attempts=3,
        backoff_s=0.01,
    )
    await _run_until(loop, done)
    assert handled == [good.event_id]
    [(key, dead, headers)] = await read_topic(infra, f"{topic}.dlq", 1)
    assert dead.event_id == poison.event_id and key == b"LP-DDDD-DDDD"
    assert headers["dlq.error"].startswith(b"ValueError: cannot handle")
    assert headers["dlq.attempts"] == b"3" and headers["dlq.origin.topic"] == topic.encode()

    # Offsets were committed: the same group starting again sees only what comes next.
    again: list[str] = []
    later = _event("LP-DDDD-DDDD")
    await publisher.publish(topic, later)
    done2 = asyncio.Event()

    async def record(envelope: Envelope) -> None:
        again.append(envelope.event_id)
        done2.set()

    loop2 = ConsumeLoop(
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=group,
        topics=[topic],
        handlers={EventType.TICKET_SUBMITTED: record},
        dead_letter_topic=f"{topic}.dlq",
        publisher=publisher,
    )
    await _run_until(loop2, done2)
    assert again == [later.event_id]


async def test_unreadable_message_is_dead_lettered_at_once(
    infra: Infra, topic: str, publisher: KafkaPublisher
) -> None:
    await publisher.send(topic, b"not json", key=b"LP-EEEE-EEEE", headers=[])
    follow = _event("LP-EEEE-EEEE")
    await publisher.publish(topic, follow)
    done = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        done.set()

    loop = ConsumeLoop(
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        topics=[topic],
        handlers={EventType.TICKET_SUBMITTED: handler},
        dead_letter_topic=f"{topic}.dlq",
        publisher=publisher,
    )
    await _run_until(loop, done)
    consumer = AIOKafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=infra.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.value == b"not json"
    assert dict(record.headers)["dlq.error"].startswith(b"unreadable envelope")


async def test_dead_letters_are_listed_and_replayed_once_to_their_origin(
    infra: Infra, topic: str, publisher: KafkaPublisher
) -> None:
    from shared import dead_letters

    dlq = f"{topic}.dlq"
    poison = _event("LP-FFFF-FFFF")
    await publisher.send(
        dlq,
        poison.to_bytes(),
        key=b"LP-FFFF-FFFF",
        headers=[
            ("event_type", b"ticket.submitted"),
            ("event_id", poison.event_id.encode()),
            ("dlq.error", b"ValueError: fixed since"),
            ("dlq.origin.topic", topic.encode()),
            ("dlq.attempts", b"5"),
        ],
    )
    await publisher.send(dlq, b"no origin", key=b"LP-FFFF-FFFF", headers=[("dlq.error", b"x")])
    listed = await dead_letters.list_dead_letters(infra.kafka_bootstrap, dlq)
    assert [(d.key, d.origin, d.error) for d in listed] == [
        ("LP-FFFF-FFFF", topic, "ValueError: fixed since"),
        ("LP-FFFF-FFFF", None, "x"),
    ]
    assert await dead_letters.replay(infra.kafka_bootstrap, dlq, dry_run=True) == listed[:1]

    replayed = await dead_letters.replay(infra.kafka_bootstrap, dlq)
    assert [d.offset for d in replayed] == [listed[0].offset]
    [(key, envelope, headers)] = await read_topic(infra, topic, 1)
    assert key == b"LP-FFFF-FFFF" and envelope.event_id == poison.event_id
    assert headers["event_id"] == poison.event_id.encode()
    assert not any(h.startswith("dlq.") and h != "dlq.replayed" for h in headers)
    assert headers["dlq.replayed"] == f"{dlq}:0:{listed[0].offset}".encode()

    assert await dead_letters.replay(infra.kafka_bootstrap, dlq) == []  # replayed once only
