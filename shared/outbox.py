"""The embedded outbox: events wait inside the ticket document until Kafka acknowledged them.

A service appends events to `outbox` in the same single-document write that changes the ticket;
its relay publishes them in order and removes them only after the broker's acknowledgement.
Each service relays only the events it produced.

The relay learns which tickets have new events from the writes themselves (`TicketStore` tells
it the tracking code), and reads each of those tickets by `_id`. It never filters the tickets
collection on a poll: FerretDB would read every ticket for that. Only a sweep does, at start
and then every `sweep_interval_s`, for events left by a process that stopped before it
published them.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka.errors import KafkaError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from shared import metrics
from shared.events import Envelope
from shared.kafka import KafkaPublisher, gather_all
from shared.locks import DocumentLocks, LockTimeout
from shared.mongo import Document

log = logging.getLogger(__name__)

OUTBOX_FIELD = "outbox"
FAILURES = (KafkaError, TimeoutError, OSError, PyMongoError, LockTimeout)


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
        sweep_interval_s: float = 3600.0,
        batch_size: int = 32,
    ) -> None:
        self._collection = collection
        self._locks = locks
        self._publisher = publisher
        self._topic = topic
        self._producer = producer
        self._poll_interval_s = poll_interval_s
        self._sweep_interval_s = sweep_interval_s
        self._batch_size = batch_size
        self._pending: dict[str, None] = {}  # tracking codes, in the order their events came
        self._wake = asyncio.Event()

    def notify(self, tracking_code: str) -> None:
        """A write added events to this ticket's outbox: publish them soon."""
        self._pending[tracking_code] = None
        self._wake.set()

    def wake(self) -> None:
        """Ask for a pass now."""
        self._wake.set()

    @property
    def pending(self) -> int:
        """Tickets this relay knows to have events waiting."""
        return len(self._pending)

    async def run(self) -> None:
        delay = self._poll_interval_s
        next_sweep = 0.0
        while True:
            self._wake.clear()
            try:
                if time.monotonic() >= next_sweep:
                    await self.sweep()
                    next_sweep = time.monotonic() + self._sweep_interval_s
                await self.publish_pending()
                delay = self._poll_interval_s
            except FAILURES as exc:
                log.warning(
                    "outbox relay %s: %s: %s; will retry", self._producer, type(exc).__name__, exc
                )
                delay = min(max(delay * 2, 1.0), 5.0)
            # What failed is tried again after a pause; otherwise sleep until woken or the sweep.
            wait = delay if self._pending else max(0.0, next_sweep - time.monotonic())
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def sweep(self) -> int:
        """Find tickets with waiting events of this producer (a scan: at start and rarely)."""
        query = {f"{OUTBOX_FIELD}.producer": self._producer}
        found = 0
        async for doc in self._collection.find(query, {"_id": 1}):
            self._pending[str(doc["_id"])] = None
            found += 1
        if found:
            log.info("outbox relay %s: %d tickets with waiting events", self._producer, found)
        return found

    async def publish_pending(self) -> int:
        """Publish the waiting events of the tickets known to have some; returns how many."""
        published = 0
        while self._pending:
            codes = list(self._pending)[: self._batch_size]
            for code in codes:
                del self._pending[code]  # a write from now on adds it again
            try:
                published += await self._publish(codes)
            except BaseException:
                for code in codes:
                    self._pending.setdefault(code, None)
                raise
            finally:
                metrics.OUTBOX_PENDING.labels(self._producer).set(len(self._pending))
        return published

    async def _publish(self, codes: list[str]) -> int:
        """Read the tickets by `_id`, send all their events, then clear what was acknowledged."""
        docs = await asyncio.gather(
            *(self._collection.find_one({"_id": code}, {OUTBOX_FIELD: 1}) for code in codes)
        )
        waiting: list[tuple[str, list[Document]]] = []
        for doc in docs:
            if doc is None:
                continue
            mine = [e for e in doc.get(OUTBOX_FIELD, []) if e.get("producer") == self._producer]
            if mine:
                waiting.append((str(doc["_id"]), mine))
        envelopes = [Envelope.model_validate(e) for _, entries in waiting for e in entries]
        await self._publisher.publish_many(self._topic, envelopes)
        await gather_all(self._clear(code, entries) for code, entries in waiting)
        metrics.OUTBOX_PUBLISHED.labels(self._producer).inc(len(envelopes))
        return len(envelopes)

    async def _clear(self, code: str, entries: list[Document]) -> None:
        # Pull the exact stored elements: FerretDB's $pull matches whole values only.
        async with self._locks.hold(code):
            result = await self._collection.update_one(
                {"_id": code}, {"$pullAll": {OUTBOX_FIELD: entries}}
            )
        if result.modified_count != 1:
            log.error("outbox relay %s could not clear the events of %s", self._producer, code)
