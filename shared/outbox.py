"""The embedded outbox: events wait inside the ticket document until Kafka acknowledged them.

A service appends events to `outbox` in the same single-document write that changes the ticket;
its relay publishes them in order and removes each one only after the broker's acknowledgement.
Each service relays only the events it produced.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka.errors import KafkaError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from shared import metrics
from shared.events import Envelope
from shared.kafka import KafkaPublisher
from shared.mongo import Document

log = logging.getLogger(__name__)

OUTBOX_FIELD = "outbox"


def outbox_entry(envelope: Envelope) -> Document:
    """The stored form of an event waiting to be published."""
    return envelope.model_dump(mode="python")


class OutboxRelay:
    def __init__(
        self,
        *,
        collection: AsyncCollection[Document],
        publisher: KafkaPublisher,
        topic: str,
        producer: str,
        poll_interval_s: float = 2.0,
        batch_size: int = 200,
    ) -> None:
        self._collection = collection
        self._publisher = publisher
        self._topic = topic
        self._producer = producer
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask for a pass now (after a write that added events)."""
        self._wake.set()

    async def run(self) -> None:
        delay = self._poll_interval_s
        while True:
            self._wake.clear()
            try:
                await self.publish_pending()
                delay = self._poll_interval_s
            except (KafkaError, TimeoutError, OSError, PyMongoError) as exc:
                log.warning(
                    "outbox relay %s: %s: %s; will retry", self._producer, type(exc).__name__, exc
                )
                delay = min(max(delay * 2, 1.0), 15.0)
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def publish_pending(self) -> int:
        """Publish every waiting event of this producer; returns how many were published."""
        query = {f"{OUTBOX_FIELD}.producer": self._producer}
        pending = await self._collection.count_documents(query)
        metrics.OUTBOX_PENDING.labels(self._producer).set(pending)
        published = 0
        while pending:
            cursor = self._collection.find(query, {OUTBOX_FIELD: 1}).limit(self._batch_size)
            docs = await cursor.to_list()
            if not docs:
                break
            for doc in docs:
                for entry in doc.get(OUTBOX_FIELD, []):
                    if entry.get("producer") != self._producer:
                        continue
                    envelope = Envelope.model_validate(entry)
                    await self._publisher.publish(self._topic, envelope)
                    await self._collection.update_one(
                        {"_id": doc["_id"]},
                        {"$pull": {OUTBOX_FIELD: {"event_id": envelope.event_id}}},
                    )
                    published += 1
                    metrics.OUTBOX_PUBLISHED.labels(self._producer).inc()
            pending = await self._collection.count_documents(query)
            metrics.OUTBOX_PENDING.labels(self._producer).set(pending)
        return published
