"""Kafka event handlers of routing, registered by event type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from services.routing import domain, service
from services.routing.repository import TicketRepository
from services.routing.settings import RoutingSettings
from shared.catalogue import CatalogueStore
from shared.events import Envelope, EventType
from shared.kafka import Handler


def build_handlers(
    *,
    settings: RoutingSettings,
    tickets: TicketRepository,
    catalogue: CatalogueStore,
    holidays: set[date],
    wake_relay: Callable[[], None],
) -> dict[str, Handler]:
    async def on_submitted(envelope: Envelope) -> None:
        changed = await service.route_submitted_ticket(
            tracking_code=envelope.ticket_id,
            tickets=tickets,
            catalogue=await catalogue.get(),
            threshold=settings.confidence_threshold,
            holidays=holidays,
            model=domain.default_model(),
        )
        if changed:
            wake_relay()

    return {EventType.TICKET_SUBMITTED: on_submitted}
