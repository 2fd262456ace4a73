"""From events to deliveries: the Notifier finds who hears of a ticket event (`recipients.RULES`),
renders each message and writes every delivery record before the Dispatcher sends it once;
ChatReplies does the same for the replies of intake's chat conversations."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.notify import recipients
from services.notify.dispatch import Clock, Dispatcher, delivery_record
from services.notify.recipients import Audience, Contact, Notice, Recipient, Rule, Status
from services.notify.rendering import Renderer, TicketFacts, for_sms
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
from shared.events import ChatReply, Envelope, utcnow
from shared.mongo import Document

log = logging.getLogger(__name__)

CHOICE_TEMPLATE = "citizen_choose_opd"
CHAT_REPLY_TEMPLATE = "chat_reply"  # a conversation's own reply (intake wrote the text)
CHAT_REPLY_SUBJECT = "Balasan percakapan"
OpdNames = Callable[[], Awaitable[Mapping[str, str]]]


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


class Notifier:
    """Handles one event: finds who hears of it (`recipients.RULES`), renders each message, writes
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
        notice = recipients.notice_from(envelope)
        rules = recipients.rules_for(notice)
        targets = [t for t in self._config.webhooks if t.wants(notice.event_type)]
        if not rules and not targets:
            return 0
        ticket = await self._tickets.read(notice.tracking_code)
        # Text quoted to citizens and other systems comes from the stored ticket only.
        note = recipients.stored_note(notice, ticket.history, ticket.comments) if ticket else None
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
                if recipient.channel == recipients.Channel.WHATSAPP:
                    content["data"] = _whatsapp_extras(rule, notice, recipient, ticket)
                key = recipients.delivery_key(notice.event_id, recipient)
                if notice.answer_id and rule.audience in (Audience.CITIZEN, Audience.SUPPORTERS):
                    key = recipients.answer_delivery_key(
                        notice.answer_id, recipient, secret=self._config.address_secret
                    )
                records.append(
                    delivery_record(
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
            recipient = recipients.webhook_recipient(target.name)
            records.append(
                delivery_record(
                    key=recipients.delivery_key(notice.event_id, recipient),
                    notice=notice,
                    recipient=recipient,
                    template="webhook",
                    content={
                        "subject": f"{notice.event_type} {notice.tracking_code}",
                        "text": "",
                        "data": recipients.webhook_body(notice, confidential=confidential),
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
            on = recipients.channels_for(contact, self._config.enabled)
            reached = reached or bool(on)
            if on and rule.digestible and contact.digest:
                await self._queue_for_digest(contact, rule, notice, context(contact.lang), now)
                continue
            found.extend(on)
        if not reached and rule.audience not in (Audience.CITIZEN, Audience.SUPPORTERS):
            found.append(
                recipients.unreachable(rule.audience, notice.opd, self._config.default_lang)
            )
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
                supporters = recipients.not_reporters(supporters, reporters)
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
            rule.template, lang=contact.lang, channel=recipients.Channel.LOG, context=context
        ).subject
        day = recipients.digest_day(now, hour=self._config.digest_hour, tz=self._config.tz)
        await self._digests.add_item(
            {
                "_id": recipients.digest_item_key(notice.event_id, username),
                "username": username,
                "day": day.isoformat(),
                "event_id": notice.event_id,
                "event_type": notice.event_type,
                "tracking_code": notice.tracking_code,
                "template": rule.template,
                "transition": recipients.transition_of(notice),
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
        buttons = recipients.choice_buttons(notice.payload.get("candidates") or ())
    return recipients.whatsapp_extras(
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
        text = for_sms(message.text) if message.channel == recipients.Channel.SMS else message.text
        content: Document = {"subject": CHAT_REPLY_SUBJECT, "text": text}
        if message.channel == recipients.Channel.WHATSAPP:
            content["data"] = recipients.whatsapp_extras(
                last_inbound_at=message.last_inbound_at, buttons=message.buttons
            )
        notice = Notice(
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            tracking_code=reply.tracking_code or "",
            occurred_at=envelope.occurred_at,
        )
        now = self._clock()
        record = delivery_record(
            key=recipients.delivery_key(envelope.event_id, recipient),
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
