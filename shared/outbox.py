"""The embedded outbox: events wait inside the ticket document until Kafka acknowledged them.

A service appends events to `outbox` in the same single-document write that changes the ticket
(and sets the ticket's flag `outbox_<producer>`); its relay publishes them in order and removes
them only after the broker's acknowledgement. Each service relays only the events it produced.

The relay is handed the events by the writes themselves (`TicketStore.on_outbox`), so it
publishes them without reading anything. Removing them is one update of the ticket by `_id`
under the ticket's lock. Removals run beside the publishing, never in the way of it, pausing
after each round as long as it took, and what they have not reached yet waits in memory (at
most `max_unremoved` tickets). A round removes the events of up to `removal_batch` tickets:
their locks are taken in one insert and released in one delete (`DocumentLocks.hold_free`),
the updates run a few at a time between (FerretDB v1 stalls when as many findAndModify run at
once as its PostgreSQL pool has connections), and only within the first third of the locks'
lease (what is left goes in a later round); a ticket whose lock a writer holds waits for it
on its own. A sweep, at start and then every `sweep_interval_s`, asks for the flag
and publishes what a stopped process left behind (again, as consumers are idempotent per
event id).

A malformed entry (not a valid event) would stall every ticket after it: it is set aside
instead, moved from `outbox` to the ticket's `outbox_rejected` with the removal of what was
published, logged (ticket and error location, never the content) and counted
(`pengaduan_outbox_rejected_total`); the ticket's other events and every other ticket go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError
from pydantic import ValidationError
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from shared import metrics
from shared.events import Envelope, utcnow
from shared.kafka import KafkaPublisher
from shared.locks import DocumentLocks, LockTimeout
from shared.mongo import Document
from shared.supervise import gather_all, raise_if_stopping, run_together
from shared.tickets import outbox_entry as outbox_entry
from shared.tickets import outbox_flag

log = logging.getLogger(__name__)

OUTBOX_FIELD = "outbox"
REJECTED_FIELD = "outbox_rejected"
FAILURES = (KafkaError, TimeoutError, OSError, PyMongoError, LockTimeout)
REMOVALS_AT_ONCE = 4


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
        batch_size: int = 200,
        removal_batch: int = 20,
        max_unremoved: int = 20_000,
    ) -> None:
        self._collection = collection
        self._locks = locks
        self._publisher = publisher
        self._topic = topic
        self._producer = producer
        self._flag = outbox_flag(producer)
        self._poll_interval_s = poll_interval_s
        self._sweep_interval_s = sweep_interval_s
        self._batch_size = batch_size
        self._removal_batch = removal_batch
        self._max_unremoved = max_unremoved
        # tracking code -> its events to publish (None: to be read, found by the sweep)
        self._pending: dict[str, list[Document] | None] = {}
        # tracking code -> its events published, to remove from the ticket
        self._published: dict[str, list[Document]] = {}
        # tracking code -> its malformed entries, to move to outbox_rejected with the removal
        self._rejected: dict[str, list[Any]] = {}
        self._wake = asyncio.Event()
        self._remove_wake = asyncio.Event()
        self._swept_at: datetime | None = None
        metrics.OUTBOX_OLDEST_AGE.labels(producer).set_function(self.oldest_age)

    def _mine(self, entry: Any) -> bool:
        """This relay's entry; one that is not even a mapping is anyone's (and malformed)."""
        return not isinstance(entry, dict) or entry.get("producer") == self._producer

    def notify(self, tracking_code: str, entries: list[Document]) -> None:
        """A write added these events to the ticket's outbox: publish them soon."""
        mine = [e for e in entries if self._mine(e)]
        if mine:
            known = self._pending.get(tracking_code) or []
            self._pending[tracking_code] = [*known, *mine]
            self._wake.set()

    def wake(self) -> None:
        """Ask for a pass now."""
        self._wake.set()

    @property
    def pending(self) -> int:
        """Tickets whose events this relay has still to publish."""
        return len(self._pending)

    def oldest_age(self) -> float:
        """Seconds since the oldest event still to publish occurred (0 when none); events a
        sweep found, not read yet, count from that sweep. In memory: cheap at every scrape."""
        oldest: datetime | None = None
        for entries in self._pending.values():
            for at in [e.get("occurred_at") for e in entries] if entries else [self._swept_at]:
                if isinstance(at, datetime):
                    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
                    oldest = at if oldest is None or at < oldest else oldest
        return 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())

    @property
    def unremoved(self) -> int:
        """Tickets whose published events are still to be removed from the document."""
        return len(self._published)

    async def run(self) -> None:
        await run_together(self._publishing(), self._removing())

    async def _publishing(self) -> None:
        delay = self._poll_interval_s
        next_sweep = 0.0
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            self._wake.clear()
            try:
                if time.monotonic() >= next_sweep:
                    await self.sweep()
                    next_sweep = time.monotonic() + self._sweep_interval_s
                await self.publish_pending()
                delay = self._poll_interval_s
            except FAILURES as exc:
                raise_if_stopping()
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

    async def _removing(self) -> None:
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            self._remove_wake.clear()
            if not self._published:
                await self._remove_wake.wait()
                continue
            started = time.monotonic()
            try:
                await self._remove_batch()
            except FAILURES as exc:
                raise_if_stopping()
                log.warning(
                    "outbox relay %s cannot remove published events yet: %s",
                    self._producer,
                    type(exc).__name__,
                )
                await asyncio.sleep(self._poll_interval_s)
                continue
            # Half the time at most: on FerretDB a removal reads the whole collection, and the
            # front door's writes need the store more than this housekeeping does.
            await asyncio.sleep(time.monotonic() - started)

    async def sweep(self) -> int:
        """Find tickets flagged with waiting events of this producer (at start and rarely)."""
        found = 0
        async for doc in self._collection.find({self._flag: True}, {"_id": 1}):
            code = str(doc["_id"])
            if code not in self._published:
                self._pending.setdefault(code, None)
                found += 1
        if found:
            self._swept_at = utcnow()
            log.info("outbox relay %s: %d tickets with waiting events", self._producer, found)
        return found

    async def publish_pending(self) -> int:
        """Publish the waiting events this relay knows of; returns how many."""
        published = 0
        while self._pending:
            codes = list(self._pending)[: self._batch_size]
            taken = {code: self._pending.pop(code) for code in codes}  # a write re-adds a code
            try:
                published += await self._publish(taken)
            except BaseException:
                for code, entries in taken.items():
                    again = self._pending.pop(code, None) or []
                    self._pending[code] = None if entries is None else [*entries, *again]
                raise
            finally:
                metrics.OUTBOX_PENDING.labels(self._producer).set(len(self._pending))
        return published

    async def _publish(self, taken: dict[str, list[Document] | None]) -> int:
        batch: dict[str, list[Document]] = {}
        for code, entries in taken.items():
            if entries is None:  # found by the sweep: read what waits (rare)
                doc = await self._collection.find_one({"_id": code}, {OUTBOX_FIELD: 1})
                entries = [e for e in (doc or {}).get(OUTBOX_FIELD, []) if self._mine(e)]
            if entries:
                batch[code] = entries
        envelopes: list[Envelope] = []
        for code, entries in batch.items():
            good = []
            for entry in entries:
                envelope = self._valid(code, entry)
                if envelope is None:
                    self._rejected.setdefault(code, []).append(entry)
                else:
                    envelopes.append(envelope)
                    good.append(entry)
            batch[code] = good
        await self._publisher.publish_many(self._topic, envelopes)
        metrics.OUTBOX_PUBLISHED.labels(self._producer).inc(len(envelopes))
        for code, entries in batch.items():
            self._published[code] = [*self._published.get(code, []), *entries]
        while len(self._published) > self._max_unremoved:
            # Over the bound, forget the oldest: they stay flagged, and the next sweep
            # publishes them again (consumers are idempotent per event id).
            self._published.pop(next(iter(self._published)))
        if batch:
            self._remove_wake.set()
        return len(envelopes)

    def _valid(self, code: str, entry: Any) -> Envelope | None:
        """The entry as an event, or None (logged and counted) for a malformed one."""
        try:
            return Envelope.model_validate(entry)
        except ValidationError as exc:
            where = sorted({".".join(map(str, e["loc"])) or "entry" for e in exc.errors()})
            log.error(
                "outbox relay %s: ticket %s has a malformed outbox entry (%s); set aside in %s",
                self._producer,
                code,
                ", ".join(where),
                REJECTED_FIELD,
            )
            metrics.OUTBOX_REJECTED.labels(self._producer).inc()
            return None

    async def remove_published(self) -> int:
        """Remove published events from their tickets, a batch at a time; returns how many
        tickets were done."""
        done = 0
        while self._published:
            removed = await self._remove_batch()
            if not removed:  # the store is too slow for the locks' lease: later
                break
            done += removed
        return done

    async def _remove_batch(self) -> int:
        """Remove the published events of up to `removal_batch` tickets: their locks taken in
        one insert and released in one delete, the removals side by side between. A ticket
        whose lock someone holds goes on its own afterwards (`hold` waits for it, and takes
        over a lease a crashed writer left)."""
        codes = list(self._published)[: self._removal_batch]
        taken = {code: (self._published.pop(code), self._rejected.pop(code, [])) for code in codes}
        done: set[str] = set()
        # A few at a time (FerretDB v1 holds one pooled PostgreSQL connection per
        # findAndModify while it waits for a second: seen stalling under load), and only well
        # within the locks' lease. What is left goes in a later round.
        window = self._locks.window(REMOVALS_AT_ONCE)

        async def remove(code: str) -> None:
            if await window.in_time(lambda: self._remove(code, *taken[code])):
                done.add(code)

        try:
            async with self._locks.hold_free(codes) as held:
                await gather_all(remove(code) for code in codes if code in held)
            for code in codes:
                if code not in done and code not in held:
                    async with self._locks.hold(code):
                        window.renew()
                        await remove(code)
        except BaseException:
            for code in codes:
                if code not in done:
                    self._put_back(code, *taken[code])
            raise
        for code in codes:  # out of time in this round: in the next
            if code not in done:
                self._put_back(code, *taken[code])
        return len(done)

    def _put_back(self, code: str, entries: list[Document], rejected: list[Any]) -> None:
        """Remove these later, before what was added for the ticket since."""
        self._published[code] = [*entries, *self._published.pop(code, [])]
        if rejected:
            self._rejected[code] = [*rejected, *self._rejected.pop(code, [])]

    async def _remove(self, code: str, entries: list[Document], rejected: list[Any]) -> None:
        """Under the ticket's lock: pull its published (and malformed) entries, and drop the
        flag unless entries of this producer remain (added since, by a write the relay was
        told of, or by another instance)."""
        # Pull the exact stored elements: FerretDB's $pull matches whole values only.
        change: dict[str, Any] = {
            "$pullAll": {OUTBOX_FIELD: [*entries, *rejected]},
            "$unset": {self._flag: ""},
        }
        if rejected:
            change["$push"] = {REJECTED_FIELD: {"$each": rejected}}
        after = await self._collection.find_one_and_update(
            {"_id": code}, change, return_document=ReturnDocument.AFTER
        )
        if after is None:
            log.error("outbox relay %s: ticket %s is gone", self._producer, code)
        elif any(self._mine(e) for e in after.get(OUTBOX_FIELD, [])):
            await self._collection.update_one({"_id": code}, {"$set": {self._flag: True}})
