"""Kafka event handlers of notify, registered by event type."""

from __future__ import annotations

from collections.abc import Mapping

from services.notify import service
from services.notify.channels import Channel
from services.notify.repository import DeliveryRepository, TicketContacts
from shared.events import Envelope, EventType
from shared.kafka import Handler


def build_handlers(
    *, deliveries: DeliveryRepository, contacts: TicketContacts, channels: Mapping[str, Channel]
) -> dict[str, Handler]:
    async def deliver(envelope: Envelope) -> None:
        await service.deliver_event(
            envelope=envelope, deliveries=deliveries, contacts=contacts, channels=channels
        )

    return {event_type: deliver for event_type in EventType}
