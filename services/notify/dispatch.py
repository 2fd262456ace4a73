"""Sending stored delivery records: the retry policy, the Dispatcher that holds a record's lease
while it sends, retries failures with backoff and marks the hopeless ones dead, and the
dead-letter topic those go to."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiokafka.errors import KafkaError
from pymongo.errors import PyMongoError

from services.notify import metrics, recipients
from services.notify.channels import Channel, DeliveryFailed, OutboundMessage, send_within_limits
from services.notify.recipients import Notice, Recipient, Status
from services.notify.repository import DeliveryRepository
from services.notify.settings import NotifySettings
from shared import correlation, topics
from shared.events import utcnow
from shared.kafka import KafkaPublisher
from shared.mongo import Document
from shared.supervise import raise_if_stopping, run_together

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_s: float = 30.0
    cap_s: float = 3600.0
    lease_s: float = 120.0
    poll_s: float = 2.0
    batch: int = 50


def retry_policy(settings: NotifySettings) -> RetryPolicy:
    r = settings.retry
    return RetryPolicy(
        max_attempts=r.max_attempts,
        base_s=r.base_seconds,
        cap_s=r.max_seconds,
        lease_s=r.lease_seconds,
        poll_s=r.poll_seconds,
    )


class DeadLetters(Protocol):
    async def publish(self, record: Document) -> None:
        """Report a delivery given up on."""


def dead_letter_body(record: Document) -> dict[str, Any]:
    """What the dead-letter topic carries of a delivery: no contact, the reason."""
    return {
        "delivery_key": record["_id"],
        "event_id": record.get("event_id"),
        "event_type": record.get("event_type"),
        "tracking_code": record.get("tracking_code"),
        "channel": record.get("channel"),
        "recipient": recipients.mask(str(record.get("recipient", ""))),
        "recipient_kind": record.get("recipient_kind"),
        "attempts": record.get("attempts", 0),
        "error": record.get("last_error"),
    }


class KafkaDeadLetters:
    """Dead deliveries to `pengaduan.dlq.notify`, with the error and origin in headers."""

    def __init__(self, publisher: KafkaPublisher, topic: str = topics.DLQ_NOTIFY) -> None:
        self._publisher = publisher
        self._topic = topic

    async def publish(self, record: Document) -> None:
        body = dead_letter_body(record)
        headers = [
            ("dlq.error", str(body["error"] or "")[:1000].encode()),
            ("dlq.consumer", b"notify"),
            ("dlq.kind", b"delivery"),
            ("dlq.delivery_key", str(body["delivery_key"]).encode()),
            ("dlq.channel", str(body["channel"]).encode()),
            ("dlq.attempts", str(body["attempts"]).encode()),
        ]
        await self._publisher.send(
            self._topic,
            json.dumps(body, ensure_ascii=False).encode(),
            key=str(body["tracking_code"] or body["delivery_key"]).encode(),
            headers=headers,
        )


class Dispatcher:
    """Sends stored delivery records: each by the one sender holding its lease; failures are
    retried with backoff by a loop per channel, then marked dead and dead-lettered."""

    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        channels: Mapping[str, Channel],
        policy: RetryPolicy,
        dead_letters: DeadLetters,
        clock: Clock = utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._deliveries = deliveries
        self._channels = channels
        self._policy = policy
        self._dead_letters = dead_letters
        self._clock = clock
        self._jitter = jitter
        self._wake = asyncio.Event()
        self._pruned_at = datetime.min.replace(tzinfo=UTC)
        self._resting: dict[str, datetime] = {}  # channel -> when first attempts resume
        self._recording: set[str] = set()  # keys attempted whose outcome is not stored yet

    def lease(self, now: datetime) -> tuple[str, datetime]:
        """A new lease: its id and when it expires."""
        return uuid.uuid4().hex, now + timedelta(seconds=self._policy.lease_s)

    def wake(self) -> None:
        self._wake.set()

    async def first_attempt(self, record: Document) -> Status:
        """The first attempt of a record just written, unless its channel failed a moment ago:
        then the retry loop takes it, so a channel that is down does not slow the consumer."""
        name = str(record["channel"])
        now = self._clock()
        resting_until = self._resting.get(name)
        if resting_until is None or resting_until <= now:
            return await self.attempt(record)
        await self._finish(
            record,
            {
                "status": Status.RETRYING.value,
                "attempts": 0,
                "next_attempt_at": resting_until,
                "lease_until": now,
                "updated_at": now,
                "last_error": f"{name} failed a moment ago; left to the retry loop",
            },
        )
        return Status.RETRYING

    async def attempt(self, record: Document) -> Status:
        """Send a record whose lease this process holds, then record the outcome (logged under
        the correlation id of the event that made it)."""
        with correlation.bound(record.get("correlation_id") or correlation.current()):
            return await self._attempt(record)

    async def _attempt(self, record: Document) -> Status:
        name = str(record["channel"])
        content = record.get("message") or {}
        message = OutboundMessage(
            key=record["_id"],
            event_type=record["event_type"],
            address=record["recipient"],
            subject=content.get("subject", ""),
            text=content.get("text", ""),
            html=content.get("html"),
            data=content.get("data"),
        )
        channel = self._channels.get(name)
        try:
            if channel is None:
                raise DeliveryFailed(f"channel {name} is not configured", permanent=True)
            await send_within_limits(channel, message)
        except DeliveryFailed as exc:
            return await self._failed(record, exc.reason, permanent=exc.permanent)
        except Exception as exc:
            log.exception("channel %s failed unexpectedly on %s", name, record["_id"])
            return await self._failed(record, f"unexpected {type(exc).__name__}", permanent=False)
        now = self._clock()
        await self._finish(
            record,
            {
                "status": Status.SENT.value,
                "sent_at": now,
                "updated_at": now,
                "lease_until": now,
                "next_attempt_at": None,
                "last_error": None,
            },
        )
        self._resting.pop(name, None)
        metrics.NOTIFICATIONS.labels(name, Status.SENT.value).inc()
        log.info(
            "sent %s of %s on %s to %s",
            record["_id"],
            record.get("tracking_code"),
            name,
            recipients.mask(message.address),
        )
        return Status.SENT

    async def _failed(self, record: Document, reason: str, *, permanent: bool) -> Status:
        now = self._clock()
        name = str(record["channel"])
        outcome = recipients.after_failure(
            attempts=int(record.get("attempts", 1)),
            permanent=permanent,
            now=now,
            max_attempts=self._policy.max_attempts,
            base_s=self._policy.base_s,
            cap_s=self._policy.cap_s,
            jitter=self._jitter(),
        )
        fields: Document = {
            "status": outcome.status.value,
            "updated_at": now,
            "lease_until": now,
            "next_attempt_at": outcome.next_attempt_at,
            "last_error": reason,
        }
        if outcome.status is Status.DEAD:
            fields |= {"dead_at": now, "dead_lettered": False}
        if not permanent:
            self._resting[name] = now + timedelta(seconds=min(self._policy.base_s, 30.0))
        log.warning(
            "delivery %s on %s failed (attempt %s): %s; now %s",
            record["_id"],
            name,
            record.get("attempts"),
            reason,
            outcome.status.value,
        )
        metrics.NOTIFICATIONS.labels(name, outcome.status.value).inc()
        if not await self._finish(record, fields):
            return outcome.status
        if outcome.status is Status.DEAD:
            metrics.NOTIFICATIONS_DEAD.labels(name).inc()
            await self._dead_letter({**record, **fields})
        return outcome.status

    async def _finish(self, record: Document, fields: Document) -> bool:
        """Record an outcome, waiting out a database outage however long it lasts: a sent
        message whose outcome is dropped would be sent again once its lease expires. The lease
        keeps other senders off meanwhile, and this process's retry loop skips the key."""
        key = record["_id"]
        self._recording.add(key)
        delay = 0.1
        try:
            while True:
                try:
                    if await self._deliveries.finish(
                        key, lease_id=record["lease_id"], fields=fields
                    ):
                        return True
                    log.warning("delivery %s: lease lost before recording the outcome", key)
                    return False
                except PyMongoError as exc:
                    raise_if_stopping()
                    log.warning("delivery %s: cannot record outcome yet (%s)", key, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        finally:
            self._recording.discard(key)

    async def _dead_letter(self, record: Document) -> None:
        try:
            await self._dead_letters.publish(record)
        except (KafkaError, TimeoutError, OSError) as exc:  # the sweep publishes it later
            log.warning("dead letter of %s not published yet: %s", record["_id"], exc)
            return
        await self._deliveries.mark_dead_lettered(record["_id"])

    async def retry_due(self, channel: str) -> int:
        """One pass over a channel's due records (retrying, or left by a crashed sender)."""
        now = self._clock()
        done = 0
        for key in await self._deliveries.due(channel, now=now, limit=self._policy.batch):
            if key in self._recording:
                continue  # sent by this process, its outcome waits for the database
            lease_id, lease_until = self.lease(now)
            record = await self._deliveries.acquire(
                key, now=now, lease_until=lease_until, lease_id=lease_id
            )
            if record is None:
                continue  # another sender took it
            await self.attempt(record)
            done += 1
            now = self._clock()
        return done

    async def publish_dead_letters(self) -> int:
        """Publish dead letters whose first publication failed; prune old claims hourly."""
        now = self._clock()
        if now - self._pruned_at > timedelta(hours=1):
            await self._deliveries.prune_claims(now - timedelta(days=1))
            self._pruned_at = now
        published = 0
        for record in await self._deliveries.dead_letters_waiting():
            await self._dead_letters.publish(record)
            await self._deliveries.mark_dead_lettered(record["_id"])
            published += 1
        return published

    async def run(self) -> None:
        """The retry loops: per channel as many as its concurrency, and the dead-letter sweep."""
        # run_together, not a TaskGroup: it passes every cancellation on (shared.supervise).
        await run_together(
            *(
                self._loop(self.retry_due, name)
                for name, channel in self._channels.items()
                for _ in range(channel.limits.concurrency)
            ),
            self._loop(lambda _: self.publish_dead_letters(), "dead letters"),
        )

    async def _loop(self, work: Callable[[str], Awaitable[int]], name: str) -> None:
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            try:
                busy = await work(name) > 0
            except (PyMongoError, OSError, TimeoutError) as exc:
                raise_if_stopping()
                log.warning("retry loop %s: %s: %s", name, type(exc).__name__, exc)
                busy = False
            except Exception:
                raise_if_stopping()
                log.exception("retry loop %s failed; going on", name)
                busy = False
            if busy:
                continue
            try:
                async with asyncio.timeout(self._policy.poll_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()


def delivery_record(
    *,
    key: str,
    notice: Notice,
    recipient: Recipient,
    template: str,
    content: Document,
    now: datetime,
    lease: tuple[str, datetime],
) -> Document:
    """A delivery record, written before sending and held by the writer's lease."""
    return {
        "_id": key,
        "event_id": notice.event_id,
        "event_type": notice.event_type,
        "tracking_code": notice.tracking_code,
        "template": template,
        "transition": recipients.transition_of(notice),
        "lang": recipient.lang,
        "recipient_kind": recipient.kind,
        "recipient_key": recipient.key,
        "recipient": recipient.address,
        "channel": recipient.channel,
        "status": Status.PENDING.value,
        "attempts": 1,
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": now,
        "lease_id": lease[0],
        "lease_until": lease[1],
        "message": content,
        "correlation_id": correlation.current(),
    }
