"""Kafka event handlers of routing, registered by event type."""

from __future__ import annotations

from datetime import timedelta

from services.routing import service
from services.routing.cluster_service import Clusters
from services.routing.learning import ModelStore
from services.routing.repository import TicketRepository
from services.routing.settings import RoutingSettings
from shared.catalogue import CatalogueStore
from shared.events import Envelope, EventType
from shared.kafka import Handler

# Tickets of one batch routed at once by the consume loop (each ticket's events in order):
# their ticket locks share round trips (TicketStore's batched locks), and their reads and
# writes overlap. Each routing is a few database calls, the ticket's change at most
# CHANGES_AT_ONCE (shared.ticket_store) at a time, well under what stalls FerretDB v1.
CONSUMER_CONCURRENCY = 24


def build_handlers(
    *,
    settings: RoutingSettings,
    tickets: TicketRepository,
    catalogue: CatalogueStore,
    models: ModelStore,
    clusters: Clusters | None = None,
) -> dict[str, Handler]:
    # Built once: a calendar loads its national holidays (and their translations) anew, which
    # cost routing about a tenth of its CPU per event when built per event.
    calendar = settings.calendar()

    async def on_submitted(envelope: Envelope) -> None:
        """A new ticket, or a chat citizen's answer to the choice question: route it."""
        await service.route_submitted_ticket(
            tracking_code=envelope.ticket_id,
            tickets=tickets,
            catalogue=await catalogue.get(),
            threshold=settings.confidence_threshold,
            calendar=calendar,
            model=await models.active_model(),
            choice_timeout=timedelta(minutes=settings.chat_choice_timeout_minutes),
            clusters=clusters,
        )

    return {EventType.TICKET_SUBMITTED: on_submitted, EventType.OPD_CHOSEN: on_submitted}
