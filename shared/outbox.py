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
from shared.locks import DocumentLocks, LockTimeout
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
        locks: DocumentLocks,
        publisher: KafkaPublisher,
        topic: str,
        producer: str,
        poll_interval_s: float = 2.0,
        batch_size: int = 200,
    ) -> None:
        self._collection = collection
        self._locks = locks
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
                published = await self.publish_pending()
                delay = self._poll_interval_s
                if published >= self._batch_size:
                    continue  # more may be waiting
            except (KafkaError, TimeoutError, OSError, PyMongoError, LockTimeout) as exc:
                log.warning(
                    "outbox relay %s: %s: %s; will retry", self._producer, type(exc).__name__, exc
                )
                delay = min(max(delay * 2, 1.0), 5.0)
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def publish_pending(self) -> int:
        """One pass: publish waiting events of this producer in order; returns how many."""
        query = {f"{OUTBOX_FIELD}.producer": self._producer}
        cursor = self._collection.find(query, {OUTBOX_FIELD: 1}).limit(self._batch_size)
        published = 0
        for doc in await cursor.to_list():
            for entry in doc.get(OUTBOX_FIELD, []):
                if entry.get("producer") != self._producer:
                    continue
                await self._publisher.publish(self._topic, Envelope.model_validate(entry))
                # Pull the exact stored element: FerretDB's $pull matches whole values only.
                async with self._locks.hold(doc["_id"]):
                    result = await self._collection.update_one(
                        {"_id": doc["_id"]}, {"$pull": {OUTBOX_FIELD: entry}}
                    )
                if result.modified_count != 1:
                    log.error(
                        "outbox relay %s could not clear event %s of %s",
                        self._producer,
                        entry.get("event_id"),
                        doc["_id"],
                    )
                published += 1
                metrics.OUTBOX_PUBLISHED.labels(self._producer).inc()
        metrics.OUTBOX_PENDING.labels(self._producer).set(
            await self._collection.count_documents(query)
        )
        return published
