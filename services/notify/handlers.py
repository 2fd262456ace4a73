"""Kafka event handlers of notify, registered by event type."""

from __future__ import annotations

from services.notify.notifier import ChatReplies, Notifier
from shared.events import Envelope, EventType
from shared.kafka import Handler


def build_handlers(*, notifier: Notifier, chat_replies: ChatReplies) -> dict[str, Handler]:
    """Every ticket event goes through the rules; most produce a message, some only webhooks.
    A chat conversation's reply is sent as it is."""

    async def deliver(envelope: Envelope) -> None:
        await notifier.handle(envelope)

    async def reply(envelope: Envelope) -> None:
        await chat_replies.handle(envelope)

    handlers: dict[str, Handler] = {event_type: deliver for event_type in EventType}
    handlers[EventType.CHAT_REPLY] = reply
    return handlers
