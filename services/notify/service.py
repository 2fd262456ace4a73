"""Notify use cases: turn an event into its messages (once each), send and retry them, build
the officers' daily digests, list a ticket's deliveries and preview templates."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiokafka.errors import KafkaError
from pymongo.errors import PyMongoError

from services.notify import domain, metrics
from services.notify.channels import Channel, DeliveryFailed, OutboundMessage, send_within_limits
from services.notify.domain import Audience, Contact, Notice, Recipient, Rule, Status
from services.notify.rendering import DigestLine, Renderer, TicketFacts, for_sms
from services.notify.repository import (
    ChatDirectory,
    DeliveryRepository,
    DigestRepository,
    StaffDirectory,
    SupporterContacts,
    TicketContacts,
    TicketView,
)
from services.notify.settings import NotifySettings, WebhookTarget
from shared import correlation, topics
from shared.errors import NotFound
from shared.events import ChatReply, Envelope, EventType, utcnow
from shared.kafka import KafkaPublisher
from shared.mongo import Document

log = logging.getLogger(__name__)

DIGEST_EVENT_TYPE = "digest"
CHOICE_TEMPLATE = "citizen_choose_opd"
CHAT_REPLY_TEMPLATE = "chat_reply"  # a conversation's own reply (intake wrote the text)
CHAT_REPLY_SUBJECT = "Balasan percakapan"
Clock = Callable[[], datetime]
OpdNames = Callable[[], Awaitable[Mapping[str, str]]]


# -- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_s: float = 30.0
    cap_s: float = 3600.0
    lease_s: float = 120.0
    poll_s: float = 2.0
    batch: int = 50


@dataclass(frozen=True)
class NotifyConfig:
    """What the use cases need of the settings."""

    enabled: frozenset[str]
    webhooks: tuple[WebhookTarget, ...] = ()
    default_lang: str = "id"
    digest_hour: int = 7
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    # Keys the hashed addresses in the keys of a cluster answer's messages (the auth secret).
    address_secret: bytes = b""

    @classmethod
    def of(cls, settings: NotifySettings) -> NotifyConfig:
        return cls(
            enabled=settings.enabled_channels(),
            webhooks=tuple(settings.webhook.targets),
            default_lang=settings.default_language,
            digest_hour=settings.digest.hour,
            tz=ZoneInfo(settings.timezone),
            address_secret=settings.auth_secret.encode(),
        )


def retry_policy(settings: NotifySettings) -> RetryPolicy:
    r = settings.retry
    return RetryPolicy(
        max_attempts=r.max_attempts,
        base_s=r.base_seconds,
        cap_s=r.max_seconds,
        lease_s=r.lease_seconds,
        poll_s=r.poll_seconds,
    )


# -- dead letters ------------------------------------------------------------------------------


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
        "recipient": domain.mask(str(record.get("recipient", ""))),
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


# -- sending -----------------------------------------------------------------------------------


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
            domain.mask(message.address),
        )
        return Status.SENT

    async def _failed(self, record: Document, reason: str, *, permanent: bool) -> Status:
        now = self._clock()
        name = str(record["channel"])
        outcome = domain.after_failure(
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
        async with asyncio.TaskGroup() as group:
            for name, channel in self._channels.items():
                for _ in range(channel.limits.concurrency):
                    group.create_task(self._loop(self.retry_due, name))
            group.create_task(self._loop(lambda _: self.publish_dead_letters(), "dead letters"))

    async def _loop(self, work: Callable[[str], Awaitable[int]], name: str) -> None:
        while True:
            try:
                busy = await work(name) > 0
            except (PyMongoError, OSError, TimeoutError) as exc:
                log.warning("retry loop %s: %s: %s", name, type(exc).__name__, exc)
                busy = False
            except Exception:
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


# -- from events to deliveries -----------------------------------------------------------------


def _record(
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
        "transition": domain.transition_of(notice),
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


class Notifier:
    """Handles one event: finds who hears of it (`domain.RULES`), renders each message, writes
    every delivery record first, then sends the new ones once."""

    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        digests: DigestRepository,
        tickets: TicketContacts,
        staff: StaffDirectory,
        opd_names: OpdNames,
        renderer: Renderer,
        dispatcher: Dispatcher,
        config: NotifyConfig,
        clock: Clock = utcnow,
        supporters: SupporterContacts | None = None,
    ) -> None:
        self._supporters = supporters
        self._deliveries = deliveries
        self._digests = digests
        self._tickets = tickets
        self._staff = staff
        self._opd_names = opd_names
        self._renderer = renderer
        self._dispatcher = dispatcher
        self._config = config
        self._clock = clock

    async def handle(self, envelope: Envelope) -> int:
        """Returns how many messages went out now (a replay sends none)."""
        notice = domain.notice_from(envelope)
        rules = domain.rules_for(notice)
        targets = [t for t in self._config.webhooks if t.wants(notice.event_type)]
        if not rules and not targets:
            return 0
        ticket = await self._tickets.read(notice.tracking_code)
        # Text quoted to citizens and other systems comes from the stored ticket only.
        note = domain.stored_note(notice, ticket.history, ticket.comments) if ticket else None
        notice = dataclasses.replace(notice, note=note)
        if ticket is not None and ticket.synthetic:
            return 0  # the canary's complaint: measured by routing, heard of by nobody
        names = await self._opd_names()
        facts = ticket.facts if ticket else TicketFacts()
        contexts: dict[str, dict[str, Any]] = {}

        def context(lang: str) -> dict[str, Any]:
            if lang not in contexts:
                contexts[lang] = self._renderer.context(
                    notice, lang=lang, facts=facts, opd_names=names
                )
            return contexts[lang]

        now = self._clock()
        lease = self._dispatcher.lease(now)
        records: list[Document] = []
        for rule in rules:
            for recipient in await self._recipients(rule, notice, ticket, context, now):
                rendered = self._renderer.render(
                    rule.template,
                    lang=recipient.lang,
                    channel=recipient.channel,
                    context=context(recipient.lang),
                )
                content: Document = {
                    "subject": rendered.subject,
                    "text": rendered.text,
                    "html": rendered.html,
                }
                if recipient.channel == domain.Channel.WHATSAPP:
                    content["data"] = _whatsapp_extras(rule, notice, recipient, ticket)
                key = domain.delivery_key(notice.event_id, recipient)
                if notice.answer_id and rule.audience in (Audience.CITIZEN, Audience.SUPPORTERS):
                    key = domain.answer_delivery_key(
                        notice.answer_id, recipient, secret=self._config.address_secret
                    )
                records.append(
                    _record(
                        key=key,
                        notice=notice,
                        recipient=recipient,
                        template=rule.template,
                        content=content,
                        now=now,
                        lease=lease,
                    )
                )
        confidential = ticket.facts.confidential if ticket else True
        for target in targets:
            recipient = domain.webhook_recipient(target.name)
            records.append(
                _record(
                    key=domain.delivery_key(notice.event_id, recipient),
                    notice=notice,
                    recipient=recipient,
                    template="webhook",
                    content={
                        "subject": f"{notice.event_type} {notice.tracking_code}",
                        "text": "",
                        "data": domain.webhook_body(notice, confidential=confidential),
                    },
                    now=now,
                    lease=lease,
                )
            )
        held = []
        for record in records:
            stored, created = await self._deliveries.claim(record)
            if created:
                held.append(stored)
        sent = 0
        for record in held:
            if await self._dispatcher.first_attempt(record) is Status.SENT:
                sent += 1
        return sent

    async def _recipients(
        self,
        rule: Rule,
        notice: Notice,
        ticket: TicketView | None,
        context: Callable[[str], dict[str, Any]],
        now: datetime,
    ) -> list[Recipient]:
        """A rule's recipients on their channels; digest readers get a digest item instead.
        When nobody of a staff group can be reached, a log record shows the gap."""
        found: list[Recipient] = []
        reached = False
        for contact in await self._audience(rule.audience, notice, ticket):
            on = domain.channels_for(contact, self._config.enabled)
            reached = reached or bool(on)
            if on and rule.digestible and contact.digest:
                await self._queue_for_digest(contact, rule, notice, context(contact.lang), now)
                continue
            found.extend(on)
        if not reached and rule.audience not in (Audience.CITIZEN, Audience.SUPPORTERS):
            found.append(domain.unreachable(rule.audience, notice.opd, self._config.default_lang))
        return found

    async def _audience(
        self, audience: Audience, notice: Notice, ticket: TicketView | None
    ) -> list[Contact]:
        if audience is Audience.CITIZEN:
            if ticket is None or not (ticket.email or ticket.phone):
                return []
            lang = ticket.lang if ticket.lang in ("id", "en") else self._config.default_lang
            citizen = Contact(
                key="citizen",
                kind="citizen",
                email=ticket.email,
                phone=ticket.phone,
                lang=lang,
                phone_channel=ticket.source,
            )
            return [citizen]
        if audience is Audience.SUPPORTERS:
            if self._supporters is None or ticket is None:
                return []
            supporters = await self._supporters.of(notice.tracking_code)
            if notice.answer_id and supporters:
                reporters = await self._tickets.reporter_addresses(notice.answer_members)
                supporters = domain.not_reporters(supporters, reporters)
            return supporters
        if audience is Audience.ADMINS:
            return await self._staff.members(role="admin")
        if not notice.opd:
            return []
        return await self._staff.members(role=audience.value, opd=notice.opd)

    async def _queue_for_digest(
        self, contact: Contact, rule: Rule, notice: Notice, context: dict[str, Any], now: datetime
    ) -> None:
        username = contact.key.removeprefix("user:")
        line = self._renderer.render(
            rule.template, lang=contact.lang, channel=domain.Channel.LOG, context=context
        ).subject
        day = domain.digest_day(now, hour=self._config.digest_hour, tz=self._config.tz)
        await self._digests.add_item(
            {
                "_id": domain.digest_item_key(notice.event_id, username),
                "username": username,
                "day": day.isoformat(),
                "event_id": notice.event_id,
                "event_type": notice.event_type,
                "tracking_code": notice.tracking_code,
                "template": rule.template,
                "transition": domain.transition_of(notice),
                "line": line,
                "url": str(context["console_url"]),
                "created_at": now,
                "digest_id": None,
            }
        )


def _whatsapp_extras(
    rule: Rule, notice: Notice, recipient: Recipient, ticket: TicketView | None
) -> Document:
    """The 24-hour window of a chat's citizen (staff have none: templates only), and the
    choice question's buttons."""
    citizen = recipient.kind == "citizen" and ticket is not None
    buttons = None
    if rule.template == CHOICE_TEMPLATE:
        buttons = domain.choice_buttons(notice.payload.get("candidates") or ())
    return domain.whatsapp_extras(
        last_inbound_at=ticket.last_inbound_at if citizen and ticket else None, buttons=buttons
    )


class ChatReplies:
    """Sends the replies of intake's chat conversations (`chat.reply` on the chats topic):
    the text and number are read from the stored message, each reply once by its key."""

    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        chats: ChatDirectory,
        dispatcher: Dispatcher,
        clock: Clock = utcnow,
    ) -> None:
        self._deliveries = deliveries
        self._chats = chats
        self._dispatcher = dispatcher
        self._clock = clock

    async def handle(self, envelope: Envelope) -> int:
        """Returns how many messages went out now (a replay sends none)."""
        reply = ChatReply.model_validate(envelope.payload)
        message = await self._chats.reply(reply.message_id)
        if message is None:
            log.warning("chat reply %s is not stored (purged?); skipped", reply.message_id)
            return 0
        recipient = Recipient(
            key="citizen", kind="citizen", channel=message.channel, address=message.phone
        )
        text = for_sms(message.text) if message.channel == domain.Channel.SMS else message.text
        content: Document = {"subject": CHAT_REPLY_SUBJECT, "text": text}
        if message.channel == domain.Channel.WHATSAPP:
            content["data"] = domain.whatsapp_extras(
                last_inbound_at=message.last_inbound_at, buttons=message.buttons
            )
        notice = Notice(
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            tracking_code=reply.tracking_code or "",
            occurred_at=envelope.occurred_at,
        )
        now = self._clock()
        record = _record(
            key=domain.delivery_key(envelope.event_id, recipient),
            notice=notice,
            recipient=recipient,
            template=CHAT_REPLY_TEMPLATE,
            content=content,
            now=now,
            lease=self._dispatcher.lease(now),
        )
        stored, created = await self._deliveries.claim(record)
        if not created:
            return 0
        return int(await self._dispatcher.first_attempt(stored) is Status.SENT)


class DigestBuilder:
    """Once per day and officer: one digest of what waited, sent like any other message."""

    def __init__(
        self,
        *,
        digests: DigestRepository,
        deliveries: DeliveryRepository,
        staff: StaffDirectory,
        renderer: Renderer,
        dispatcher: Dispatcher,
        config: NotifyConfig,
        poll_s: float = 60.0,
        clock: Clock = utcnow,
    ) -> None:
        self._digests = digests
        self._deliveries = deliveries
        self._staff = staff
        self._renderer = renderer
        self._dispatcher = dispatcher
        self._config = config
        self._poll_s = poll_s
        self._clock = clock

    async def build_due(self) -> int:
        """Build and send the digests whose hour has come; returns how many were built."""
        now = self._clock()
        day = domain.latest_due_digest_day(now, hour=self._config.digest_hour, tz=self._config.tz)
        built = 0
        for username in await self._digests.waiting_usernames(day.isoformat()):
            built += await self._build(username, day.isoformat(), now)
        return built

    async def _build(self, username: str, day: str, now: datetime) -> int:
        waiting = await self._digests.waiting(username, day)
        if not waiting:
            return 0
        digest_id = domain.digest_event_id(username, datetime.fromisoformat(day).date())
        frozen = await self._digests.freeze(
            {
                "_id": digest_id,
                "username": username,
                "day": day,
                "item_ids": [item["_id"] for item in waiting],
                "created_at": now,
            }
        )
        item_ids = list(frozen["item_ids"])
        items = await self._digests.items(item_ids)
        contact = await self._staff.member(username)
        lang = contact.lang if contact else self._config.default_lang
        recipients = domain.channels_for(contact, self._config.enabled) if contact else []
        if not recipients:
            opd = await self._staff.opd_of(username)
            recipients = [
                Recipient(
                    key=f"user:{username}",
                    kind="officer",
                    channel=domain.Channel.LOG,
                    address=f"opd:{opd or '-'}",
                    lang=lang,
                )
            ]
        notice = Notice(
            event_id=digest_id, event_type=DIGEST_EVENT_TYPE, tracking_code="", occurred_at=now
        )
        lines = [DigestLine(i["tracking_code"], i["line"], i["url"]) for i in items]
        lease = self._dispatcher.lease(now)
        held = []
        for recipient in recipients:
            rendered = self._renderer.render(
                domain.DIGEST_TEMPLATE,
                lang=recipient.lang,
                channel=recipient.channel,
                context=self._renderer.context(
                    notice, lang=recipient.lang, facts=TicketFacts(), opd_names={}, items=lines
                ),
            )
            record = _record(
                key=domain.delivery_key(digest_id, recipient),
                notice=notice,
                recipient=recipient,
                template=domain.DIGEST_TEMPLATE,
                content={"subject": rendered.subject, "text": rendered.text, "html": rendered.html},
                now=now,
                lease=lease,
            )
            record["tracking_codes"] = sorted({line.tracking_code for line in lines})
            stored, created = await self._deliveries.claim(record)
            if created:
                held.append(stored)
        for record in held:
            await self._dispatcher.first_attempt(record)
        await self._digests.mark_included(item_ids, digest_id)
        if held:
            metrics.DIGESTS.inc()
        return 1 if held else 0

    async def run(self) -> None:
        while True:
            try:
                if await self.build_due():
                    self._dispatcher.wake()
            except PyMongoError as exc:
                log.warning("digest builder: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self._poll_s)


# -- the delivery log --------------------------------------------------------------------------


def public_record(record: Document) -> Document:
    """A delivery as the admin API shows it: which message, contact masked, content left out."""
    return {
        "event_id": record["event_id"],
        "event_type": record["event_type"],
        "message": record.get("template"),
        "transition": record.get("transition"),
        "tracking_code": record["tracking_code"],
        "channel": record["channel"],
        "recipient": domain.mask(record["recipient"]),
        "recipient_kind": record.get("recipient_kind"),
        "status": record["status"],
        "attempts": record.get("attempts", 0),
        "last_error": record.get("last_error"),
        "created_at": record["created_at"],
        "updated_at": record.get("updated_at"),
        "sent_at": record.get("sent_at"),
        "next_attempt_at": record.get("next_attempt_at"),
    }


def _digest_entry(item: Document, statuses: Sequence[str]) -> Document:
    status = domain.digest_status(statuses) if item.get("digest_id") else Status.PENDING
    return {
        "event_id": item["event_id"],
        "event_type": item["event_type"],
        "message": item.get("template"),
        "transition": item.get("transition"),
        "tracking_code": item["tracking_code"],
        "channel": "digest",
        "recipient": f"user:{item['username']}",
        "recipient_kind": "officer",
        "status": status.value,
        "attempts": 0,
        "last_error": None,
        "created_at": item["created_at"],
        "updated_at": None,
        "sent_at": None,
        "next_attempt_at": None,
    }


async def delivery_log(
    *, tracking_code: str, deliveries: DeliveryRepository, digests: DigestRepository
) -> list[Document]:
    """Every message of a ticket, including those waiting for (or sent in) a digest."""
    entries = [public_record(r) for r in await deliveries.for_ticket(tracking_code)]
    items = await digests.for_ticket(tracking_code)
    statuses = await deliveries.statuses_of_events(
        sorted({i["digest_id"] for i in items if i.get("digest_id")})
    )
    entries += [_digest_entry(i, statuses.get(i.get("digest_id") or "", [])) for i in items]
    return sorted(entries, key=lambda e: e["created_at"])


# -- template previews -------------------------------------------------------------------------

_DUE = "2025-06-02T09:00:00+00:00"
_NOTE = (
    "Tim kami sudah memeriksa lokasi dan menambal lubang di Jl. Raya Ciruas km 3. "
    "Terima kasih atas laporan Anda."
)
PREVIEW_CODE = "LP-7K4M-Q9XZ"
PREVIEW_FACTS = TicketFacts(
    kind="complaint", summary="Jalan berlubang di depan SDN Ciruas 1, sudah 2 minggu"
)
PREVIEW_SAMPLES: dict[str, tuple[dict[str, Any], ...]] = {
    EventType.TICKET_SUBMITTED: ({"kind": "complaint", "kecamatan": "KEC-CIRUAS"},),
    EventType.TICKET_ROUTED: (
        {"opd": "DPUPR", "status": "routed", "confidence": 0.9, "model": "m", "due_at": _DUE},
    ),
    EventType.TICKET_TRIAGED: (
        {"opd": "TRIASE", "status": "triage", "confidence": 0.3, "model": "m", "due_at": _DUE},
    ),
    EventType.TICKET_TRANSITIONED: (
        {
            "action": "transfer",
            "from_status": "routed",
            "to_status": "routed",
            "opd": "DPUPR",
            "from_opd": "DISPERKIM",
            "note": "Jalan kabupaten menjadi kewenangan DPUPR.",
            "due_at": _DUE,
        },
        {"action": "resolve", "from_status": "in_progress", "to_status": "resolved", "opd": "DPUPR"}
        | {"note": _NOTE},
        {
            "action": "reject",
            "from_status": "routed",
            "to_status": "rejected",
            "opd": "DPUPR",
            "reason": "duplicate",
            "note": "Sama dengan laporan LP-2B3C-4D5E.",
        },
        {"action": "close", "from_status": "resolved", "to_status": "closed", "opd": "DPUPR"}
        | {"actor_role": "system"},
        {"action": "reopen", "from_status": "closed", "to_status": "in_progress", "opd": "DPUPR"}
        | {"actor_role": "admin", "note": "Lubang muncul lagi setelah hujan."},
    ),
    EventType.TICKET_COMMENTED: (
        {"comment_id": "c1", "public": True, "opd": "DPUPR", "body": "Survei dijadwalkan Senin."},
    ),
    EventType.CITIZEN_REPLIED: tuple(
        {"action": a, "from_status": f, "to_status": t, "opd": "DPUPR"}
        for a, f, t in (
            ("info", "in_progress", "in_progress"),
            ("confirm", "resolved", "closed"),
            ("dispute", "resolved", "in_progress"),
        )
    ),
    EventType.TICKET_ESCALATED: (
        {"opd": "DPUPR", "status": "verified", "due_at": _DUE, "stage": "follow_up"},
    ),
    EventType.TICKET_DUE_SOON: ({"opd": "DPUPR", "status": "in_progress", "due_at": _DUE},),
    EventType.OPD_CHOICE_ASKED: ({"candidates": ["DPUPR", "DISPERKIM"]},),
}


def preview(
    *,
    renderer: Renderer,
    event_type: str,
    lang: str,
    channel: str,
    audience: str | None,
    opd_names: Mapping[str, str],
) -> list[Document]:
    """Every message an event of this type can produce, rendered for a sample ticket."""
    if event_type == DIGEST_EVENT_TYPE:
        notice = Notice(
            event_id="preview", event_type=DIGEST_EVENT_TYPE, tracking_code="", occurred_at=utcnow()
        )
        other = "LP-2B3C-4D5E"
        lines = [
            DigestLine(
                PREVIEW_CODE,
                f"Laporan baru {PREVIEW_CODE} untuk DPUPR",
                renderer.links.console(PREVIEW_CODE),
            ),
            DigestLine(
                other,
                f"Pelapor menambahkan informasi: {other}",
                renderer.links.console(other),
            ),
        ]
        context = renderer.context(
            notice, lang=lang, facts=TicketFacts(), opd_names=opd_names, items=lines
        )
        rendered = renderer.render(
            domain.DIGEST_TEMPLATE, lang=lang, channel=channel, context=context
        )
        return [_preview_item(domain.DIGEST_TEMPLATE, "officer", None, rendered)]
    samples = PREVIEW_SAMPLES.get(event_type)
    if samples is None:
        raise NotFound(f"Jenis peristiwa tidak dikenal: {event_type}. (Unknown event type.)")
    items: list[Document] = []
    for payload in samples:
        envelope = Envelope(
            event_id="preview",
            event_type=event_type,
            ticket_id=PREVIEW_CODE,
            correlation_id="preview",
            producer="notify",
            payload=payload,
        )
        notice = domain.notice_from(envelope)
        variant = notice.action
        if channel == domain.Channel.WEBHOOK:
            body = domain.webhook_body(notice, confidential=False)
            items.append(
                {
                    "template": "webhook",
                    "audience": "system",
                    "variant": variant,
                    "subject": f"{event_type} {PREVIEW_CODE}",
                    "text": json.dumps(body, ensure_ascii=False, indent=2),
                    "html": None,
                }
            )
            continue
        context = renderer.context(notice, lang=lang, facts=PREVIEW_FACTS, opd_names=opd_names)
        for rule in domain.rules_for(notice):
            if audience and rule.audience.value != audience:
                continue
            rendered = renderer.render(rule.template, lang=lang, channel=channel, context=context)
            items.append(_preview_item(rule.template, rule.audience.value, variant, rendered))
    return items


def _preview_item(template: str, audience: str, variant: str | None, rendered: Any) -> Document:
    return {
        "template": template,
        "audience": audience,
        "variant": variant,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
    }
