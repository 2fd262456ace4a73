"""Kafka adapters: topic set-up, a lazily connecting publisher and the one consume loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, OperationFailure

from shared import correlation, metrics, tracing
from shared.events import Envelope, utcnow
from shared.kafka_connection import KafkaConnection, connection, raise_if_refused, refusal
from shared.locks import LockTimeout
from shared.supervise import gather_all, raise_if_stopping
from shared.topics import ALL_TOPICS, TopicSpec

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
# Handles a whole batch's events at once (fewer round trips); see ConsumeLoop.
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]
# Failures of the infrastructure rather than of the message: retried until they pass.
TRANSIENT: tuple[type[BaseException], ...] = (ConnectionFailure, LockTimeout)
# MongoDB's codes for a server that cannot serve just now (unreachable, shutting down,
# stepping down, out of time).
UNAVAILABLE_CODES = frozenset({6, 7, 89, 91, 189, 262, 10107, 11600, 11602, 13435, 13436})
# FerretDB answers InternalError (1) with its driver's message while its PostgreSQL is away.
BACKEND_AWAY = ("failed to connect", "dial error", "connection refused", "conn closed")


def is_transient(exc: BaseException) -> bool:
    """Whether a handler's failure is the infrastructure's (wait and retry) rather than the
    message's (use up an attempt, then dead-letter it)."""
    if isinstance(exc, TRANSIENT):
        return True
    if isinstance(exc, OperationFailure):
        if exc.code in UNAVAILABLE_CODES:
            return True
        return exc.code == 1 and any(part in str(exc) for part in BACKEND_AWAY)
    return False


async def ensure_topics(
    bootstrap_servers: str | KafkaConnection,
    topics: Iterable[TopicSpec] = ALL_TOPICS,
    *,
    timeout_s: float = 30.0,
) -> None:
    """Create the topics that do not exist yet; an admin round trip proves the broker answers."""
    admin = AIOKafkaAdminClient(**connection(bootstrap_servers).options(), request_timeout_ms=10000)
    async with asyncio.timeout(timeout_s):
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(
                    name=t.name,
                    num_partitions=t.partitions,
                    replication_factor=1,
                    topic_configs=t.configs,
                )
                for t in topics
                if t.name not in existing
            ]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
        finally:
            await admin.close()


async def kafka_answers(
    bootstrap_servers: str | KafkaConnection, *, timeout_s: float = 3.0
) -> bool:
    """Whether a metadata request to the cluster succeeds within the timeout."""
    admin = AIOKafkaAdminClient(**connection(bootstrap_servers).options(), request_timeout_ms=3000)
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await admin.list_topics()
    except (KafkaError, TimeoutError, OSError):
        return False
    finally:
        await admin.close()
    return True


class KafkaPublisher:
    """A producer that connects on first use and again after a failed start."""

    def __init__(
        self, bootstrap_servers: str | KafkaConnection, *, client_id: str, timeout_s: float = 15.0
    ) -> None:
        self._kafka = connection(bootstrap_servers)
        self._client_id = client_id
        self._timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    **self._kafka.options(),
                    client_id=self._client_id,
                    acks="all",
                    enable_idempotence=True,
                    request_timeout_ms=int(self._timeout_s * 1000),
                )
                try:
                    await producer.start()
                except BaseException as exc:
                    await producer.stop()
                    await raise_if_refused(self._kafka, exc)
                    raise
                self._producer = producer
            return self._producer

    async def send(
        self, topic: str, value: bytes, *, key: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        producer = await self._started()
        async with asyncio.timeout(self._timeout_s):
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def publish(self, topic: str, envelope: Envelope) -> None:
        await self.publish_many(topic, [envelope])

    async def publish_many(self, topic: str, envelopes: Sequence[Envelope]) -> None:
        """Send all, then wait for every acknowledgement (one ticket's events stay in order:
        same key, same partition, sent in order by an idempotent producer)."""
        if not envelopes:
            return
        producer = await self._started()
        async with asyncio.timeout(self._timeout_s):
            sent = []
            for envelope in envelopes:
                with (
                    correlation.bound(envelope.correlation_id),
                    tracing.in_trace_of(envelope.correlation_id),
                ):
                    sent.append(
                        await producer.send(
                            topic,
                            value=envelope.to_bytes(),
                            key=envelope.ticket_id.encode(),
                            headers=[
                                ("event_type", envelope.event_type.encode()),
                                ("event_id", envelope.event_id.encode()),
                                (correlation.KAFKA_HEADER, envelope.correlation_id.encode()),
                            ],
                        )
                    )
            await asyncio.gather(*sent)

    async def close(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None


class ConsumeLoop:
    """Consume topics, dispatch by event type, commit only after the handler's effect is stored.

    Records come in batches (`getmany`); the partitions of a batch are handled side by side
    (unless `parallel_partitions` is off), each partition's records one after another in
    offset order (one ticket's events share a partition, so they stay in order), and the
    batch's offsets are committed once all are handled. A handler that keeps failing after
    `max_attempts` sends the message to the dead-letter topic with the error and origin in
    headers; the loop goes on.

    With `concurrency` above 1, a batch's records are handled by message key (ticket) instead:
    each key's records one after another in offset order, up to `concurrency` keys at once
    (one ticket's events stay in order; different tickets' overlap, and their database calls
    can share round trips). A partition's offset is marked handled only once every record of
    it in the batch is.

    With a `batch_handler`, each batch's events of the handled types go to it in one call
    (in offset order per partition), for handlers whose work can share round trips across
    events (the statistics projection). If it raises, the batch is handled again event by
    event through `handlers`, with their retries and dead-lettering, so the batch handler
    must be idempotent, as every handler is. A batch with an unreadable record always goes
    event by event. With `linger_s`, a batch smaller than `batch_size` waits that long for
    more records first (the cost per batch is then shared by more events: the statistics').
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str | KafkaConnection,
        group_id: str,
        topics: Iterable[str],
        handlers: Mapping[str, Handler],
        dead_letter_topic: str,
        publisher: KafkaPublisher,
        max_attempts: int = 5,
        backoff_s: float = 0.2,
        batch_size: int = 200,
        parallel_partitions: bool = True,
        lag_interval_s: float = 5.0,
        concurrency: int = 1,
        batch_handler: BatchHandler | None = None,
        linger_s: float = 0.0,
    ) -> None:
        self._kafka = connection(bootstrap_servers)
        self._group_id = group_id
        self._topics = tuple(topics)
        self._handlers = handlers
        self._dlq = dead_letter_topic
        self._publisher = publisher
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._batch_size = batch_size
        self._parallel = parallel_partitions
        self._lag_interval_s = lag_interval_s
        self._concurrency = max(1, concurrency)
        self._batch_handler = batch_handler
        self._linger_s = linger_s
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Run until cancelled, reconnecting with backoff while the broker is unreachable."""
        delay = 0.5
        while True:
            consumer = AIOKafkaConsumer(
                *self._topics,
                **self._kafka.options(),
                group_id=self._group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id=self._group_id,
                max_poll_records=self._batch_size,
            )
            try:
                await consumer.start()
            except BaseException as exc:
                await consumer.stop()
                if not isinstance(exc, KafkaError):
                    raise
                # A refused sign-in looks like an unreachable broker to aiokafka: say which.
                why = await refusal(self._kafka) if isinstance(exc, KafkaConnectionError) else None
                log.warning(
                    "consumer %s cannot reach Kafka (%s); retrying", self._group_id, why or exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            delay = 0.5
            self.connected.set()
            handled: dict[TopicPartition, int] = {}  # offsets to commit, as handlers finish
            committed: dict[TopicPartition, int] = {}  # what is committed, for the lag
            # The lag is also measured beside the handling: a consumer stuck in a handler
            # shows its lag growing.
            watching = asyncio.create_task(self._watch_lag(consumer, committed))
            try:
                while True:
                    raise_if_stopping()  # a handler may have swallowed the cancellation
                    batch = await consumer.getmany(timeout_ms=1000, max_records=self._batch_size)
                    if not batch:
                        await self._record_lag(consumer, committed)
                        continue
                    if self._linger_s:
                        batch = await self._fuller(consumer, batch)
                    await self._process_batch(batch, handled)
                    await consumer.commit(dict(handled))
                    committed.update(handled)
                    handled.clear()
                    await self._record_lag(consumer, committed)
            except KafkaError as exc:
                raise_if_stopping()
                log.warning("consumer %s lost Kafka (%s); reconnecting", self._group_id, exc)
            finally:
                self.connected.clear()
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
                try:
                    if handled:  # stopped mid-batch: keep what is done (best effort, briefly)
                        with contextlib.suppress(KafkaError, TimeoutError):
                            async with asyncio.timeout(5):
                                await consumer.commit(dict(handled))
                finally:
                    await consumer.stop()

    async def _watch_lag(
        self, consumer: AIOKafkaConsumer, committed: dict[TopicPartition, int]
    ) -> None:
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            await asyncio.sleep(self._lag_interval_s)
            try:
                await self._record_lag(consumer, committed)
            except KafkaError as exc:
                raise_if_stopping()
                log.debug("consumer %s: lag not measured (%s)", self._group_id, exc)

    async def _record_lag(
        self, consumer: AIOKafkaConsumer, committed: dict[TopicPartition, int]
    ) -> None:
        """`pengaduan_consumer_lag` per assigned partition: the high watermark of the client's
        last fetch minus the committed position (asked of the broker once per partition, then
        kept as this loop commits)."""
        assigned = consumer.assignment()
        for tp in [tp for tp in committed if tp not in assigned]:  # moved to another member
            del committed[tp]
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(self._group_id, tp.topic, str(tp.partition))
        for tp in assigned:
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            if tp not in committed:
                committed[tp] = await consumer.committed(tp) or 0
            metrics.CONSUMER_LAG.labels(self._group_id, tp.topic, str(tp.partition)).set(
                max(0, highwater - committed[tp])
            )

    async def _fuller(
        self,
        consumer: AIOKafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        """The batch with what arrives within `linger_s`, up to `batch_size` records."""
        have = sum(map(len, batch.values()))
        if have >= self._batch_size:
            return batch
        await asyncio.sleep(self._linger_s)
        more = await consumer.getmany(timeout_ms=0, max_records=self._batch_size - have)
        for tp, records in more.items():
            batch.setdefault(tp, []).extend(records)
        return batch

    async def _process_batch(
        self,
        batch: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]],
        handled: dict[TopicPartition, int],
    ) -> None:
        """Handle one `getmany` batch: through the batch handler, by key, or by partition."""
        if self._batch_handler is not None and await self._handled_as_batch(batch):
            for tp, records in batch.items():
                if records:
                    handled[tp] = records[-1].offset + 1
            return
        if self._concurrency > 1:
            await self._process_by_key(batch, handled)
        elif self._parallel:
            await gather_all(self._process_all(records, handled) for records in batch.values())
        else:
            for records in batch.values():
                await self._process_all(records, handled)

    async def _handled_as_batch(
        self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]]
    ) -> bool:
        """Give the batch's events to the batch handler; False when the batch must go event by
        event instead (an unreadable record, or the batch handler failed)."""
        assert self._batch_handler is not None
        envelopes: list[Envelope] = []
        ignored: list[str] = []
        for records in batch.values():
            for record in records:
                try:
                    envelope = Envelope.from_bytes(record.value or b"")
                except ValidationError:
                    return False  # dead-lettered on the way event by event
                if envelope.event_type in self._handlers:
                    envelopes.append(envelope)
                else:
                    ignored.append(envelope.event_type)
        if envelopes:
            now = utcnow()
            for envelope in envelopes:
                age = (now - envelope.occurred_at).total_seconds()
                metrics.EVENT_AGE.labels(self._group_id).observe(max(0.0, age))
            try:
                await self._batch_handler(envelopes)
            except Exception as exc:  # noqa: BLE001 - each event again, with retries and DLQ
                raise_if_stopping()  # cancelled in the batch handler: stop, not one by one
                metrics.CONSUMER_ERRORS.labels(self._group_id).inc()
                log.warning(
                    "consumer %s: a batch of %d events failed (%s); handling them one by one",
                    self._group_id,
                    len(envelopes),
                    type(exc).__name__,
                )
                return False
        for envelope in envelopes:
            metrics.EVENTS_CONSUMED.labels(self._group_id, envelope.event_type, "ok").inc()
        for event_type in ignored:
            metrics.EVENTS_CONSUMED.labels(self._group_id, event_type, "ignored").inc()
        return True

    async def _process_by_key(
        self,
        batch: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]],
        handled: dict[TopicPartition, int],
    ) -> None:
        """Each key's records in order, up to `concurrency` keys at once; a partition counts
        as handled once all its records of the batch are (never past one still running)."""
        by_key: dict[tuple[TopicPartition, bytes | None], list[ConsumerRecord[bytes, bytes]]]
        by_key = {}
        left: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            for record in records:
                by_key.setdefault((tp, record.key), []).append(record)
            left[tp] = len(records)
        slots = asyncio.Semaphore(self._concurrency)

        async def run(tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
            async with slots:
                for record in records:
                    await self._process(record)
                    left[tp] -= 1
                    if left[tp] == 0:
                        handled[tp] = batch[tp][-1].offset + 1

        await gather_all(run(tp, records) for (tp, _), records in by_key.items())

    async def _process_all(
        self, records: Iterable[ConsumerRecord[bytes, bytes]], handled: dict[TopicPartition, int]
    ) -> None:
        for record in records:
            await self._process(record)
            handled[TopicPartition(record.topic, record.partition)] = record.offset + 1

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except ValidationError as exc:
            await self._dead_letter(record, f"unreadable envelope: {exc.error_count()} errors", 1)
            return
        handler = self._handlers.get(envelope.event_type)
        if handler is None:
            metrics.EVENTS_CONSUMED.labels(self._group_id, envelope.event_type, "ignored").inc()
            return
        age = (utcnow() - envelope.occurred_at).total_seconds()
        metrics.EVENT_AGE.labels(self._group_id).observe(max(0.0, age))
        with (
            correlation.bound(envelope.correlation_id),
            tracing.handling(self._group_id, envelope.event_type, record.headers),
        ):
            await self._handle(record, envelope, handler)

    async def _handle(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope, handler: Handler
    ) -> None:
        attempt = 1
        outage_pause = self._backoff_s
        while True:
            try:
                await handler(envelope)
            except Exception as exc:
                # Cancelled inside the handler: stop, neither retry nor dead-letter the event.
                raise_if_stopping()
                metrics.CONSUMER_ERRORS.labels(self._group_id).inc()
                if is_transient(exc):
                    # The database (or a lock) is unavailable: not this message's fault. Wait
                    # and try again without using up attempts; the offset stays uncommitted.
                    log.warning(
                        "consumer %s: %s while handling %s; retrying in %.1fs",
                        self._group_id,
                        type(exc).__name__,
                        envelope.event_id,
                        outage_pause,
                    )
                    await asyncio.sleep(outage_pause)
                    outage_pause = min(outage_pause * 2, 15.0)
                    continue
                log.exception(
                    "consumer %s: %s %s failed (attempt %d/%d)",
                    self._group_id,
                    envelope.event_type,
                    envelope.event_id,
                    attempt,
                    self._max_attempts,
                )
                if attempt >= self._max_attempts:
                    await self._dead_letter(record, f"{type(exc).__name__}: {exc}", attempt)
                    return
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
                attempt += 1
            else:
                metrics.EVENTS_CONSUMED.labels(self._group_id, envelope.event_type, "ok").inc()
                return

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], error: str, attempts: int
    ) -> None:
        headers = [
            *(record.headers or ()),
            ("dlq.error", error[:1000].encode()),
            ("dlq.consumer", self._group_id.encode()),
            ("dlq.origin.topic", record.topic.encode()),
            ("dlq.origin.partition", str(record.partition).encode()),
            ("dlq.origin.offset", str(record.offset).encode()),
            ("dlq.attempts", str(attempts).encode()),
        ]
        await self._publisher.send(
            self._dlq, record.value or b"", key=record.key or b"", headers=headers
        )
        metrics.DEAD_LETTERS.labels(self._group_id).inc()
        metrics.EVENTS_CONSUMED.labels(self._group_id, "unknown", "dead").inc()
        log.error(
            "consumer %s sent offset %s/%s to %s: %s",
            self._group_id,
            record.partition,
            record.offset,
            self._dlq,
            error[:200],
        )
