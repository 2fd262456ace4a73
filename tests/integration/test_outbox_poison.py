"""A malformed outbox entry is set aside, reported and counted; the relay goes on with every
other event and ticket (it stalled them all before)."""

from __future__ import annotations

import logging
import uuid

import pytest
from prometheus_client import REGISTRY
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import Envelope
from shared.kafka import KafkaPublisher, ensure_topics
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.outbox import OutboxRelay, outbox_entry
from shared.topics import TopicSpec
from tests.conftest import Infra
from tests.integration.conftest import read_topic
from tests.integration.test_kafka_delivery import _event

pytestmark = pytest.mark.integration


def _rejected() -> float:
    value = REGISTRY.get_sample_value("pengaduan_outbox_rejected_total", {"producer": "intake"})
    return value or 0.0


async def test_a_malformed_entry_does_not_stall_the_relay(
    infra: Infra, db: AsyncDatabase[Document], caplog: pytest.LogCaptureFixture
) -> None:
    topic = f"test.{uuid.uuid4().hex[:10]}"
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(topic, 1)])
    first, after, later = _event("LP-POIS-0001"), _event("LP-POIS-0001"), _event("LP-POIS-0002")
    poison = {**outbox_entry(first), "event_id": str(uuid.uuid4()), "occurred_at": "kemarin"}
    del poison["ticket_id"]
    poison["payload"] = {"secret": "Budi 0812-3456-7890"}
    broken = "not even a document"
    await db.tickets.insert_many(
        [
            {
                "_id": "LP-POIS-0001",
                "outbox": [outbox_entry(first), poison, broken, outbox_entry(after)],
                "outbox_intake": True,
            },
            {"_id": "LP-POIS-0002", "outbox": [outbox_entry(later)], "outbox_intake": True},
        ]
    )
    publisher = KafkaPublisher(infra.kafka_bootstrap, client_id="test")
    relay = OutboxRelay(
        collection=db.tickets,
        locks=DocumentLocks(db.ticket_locks),
        publisher=publisher,
        topic=topic,
        producer="intake",
    )
    before = _rejected()
    try:
        assert await relay.sweep() == 2
        with caplog.at_level(logging.ERROR, logger="shared.outbox"):
            assert await relay.publish_pending() == 3
        assert await relay.remove_published() == 2
        assert await relay.sweep() == 0, "nothing is left to retry forever"
    finally:
        await publisher.close()
    assert _rejected() - before == 2
    received = await read_topic(infra, topic, 3)
    assert [e.event_id for _, e, _ in received] == [first.event_id, after.event_id, later.event_id]
    ticket = await db.tickets.find_one({"_id": "LP-POIS-0001"})
    assert ticket is not None and ticket["outbox"] == []
    assert ticket["outbox_rejected"] == [poison, broken], "kept for inspection"
    reported = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(reported) == 2 and all("LP-POIS-0001" in line for line in reported)
    assert not any("0812" in line or "Budi" in line for line in caplog.messages)
    assert isinstance(Envelope.model_validate(outbox_entry(later)), Envelope)
