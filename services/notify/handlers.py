"""Kafka event handlers of notify, registered by event type."""

from __future__ import annotations

from services.notify.service import Notifier
from shared.events import Envelope, EventType
from shared.kafka import Handler


def build_handlers(*, notifier: Notifier) -> dict[str, Handler]:
    """Every ticket event goes through the rules; most produce a message, some only webhooks."""

    async def deliver(envelope: Envelope) -> None:
        await notifier.handle(envelope)

    return {event_type: deliver for event_type in EventType}
