"""Routing use cases: route a submitted ticket, sign an officer in, seed dev accounts."""

from __future__ import annotations

import logging

from services.routing import domain, metrics
from services.routing.classifier import Model
from services.routing.repository import TicketRepository
from shared import publication
from shared.catalogue import Catalogue
from shared.events import TicketRouted, TicketTriaged, utcnow
from shared.outbox import outbox_entry
from shared.tickets import TicketStatus, history_entry
from shared.workdays import WorkCalendar

log = logging.getLogger(__name__)
PRODUCER = "routing"
ROUTER_ACTOR = "sistem:router"
MAX_VERSION_RETRIES = 5


async def route_submitted_ticket(
    *,
    tracking_code: str,
    tickets: TicketRepository,
    catalogue: Catalogue,
    threshold: float,
    calendar: WorkCalendar,
    model: Model | None = None,
) -> bool:
    """Route a `submitted` ticket once; returns False when there was nothing to do (a replay).

    `model` is the text classifier; without one the router uses rules, category and location.
    """
    for _ in range(MAX_VERSION_RETRIES):
        ticket = await tickets.get(tracking_code)
        if ticket is None:
            # The outbox writes the ticket before its event exists, so this is an event of
            # another database (or of a purged ticket): nothing to route.
            log.warning("ticket %s of a submitted event is not stored; skipped", tracking_code)
            return False
        if ticket.status is not TicketStatus.SUBMITTED:
            return False
        text = " ".join(filter(None, [ticket.title, ticket.description]))
        result = domain.classify(
            text=text,
            category=ticket.category,
            kecamatan=ticket.location.kecamatan,
            catalogue=catalogue,
            threshold=threshold,
            model=model,
        )
        status = domain.status_after_routing(result)
        now = utcnow()
        due_at = domain.due_after_routing(
            status, submitted_at=ticket.submitted_at, routed_at=now, calendar=calendar
        )
        payload_type = TicketRouted if status is TicketStatus.ROUTED else TicketTriaged
        event = payload_type(
            opd=result.opd,
            status=status.value,
            confidence=result.confidence,
            model=result.model,
            due_at=due_at,
            submitted_at=ticket.submitted_at,
        ).envelope(ticket_id=tracking_code, producer=PRODUCER, correlation_id=ticket.correlation_id)
        opd = catalogue.opd(result.opd)
        note = (
            f"Diteruskan ke {opd.name}."
            if opd is not None
            else "Menunggu penelaahan admin koordinator."
        )
        opd_code = result.opd if status is TicketStatus.ROUTED else None
        updated = await tickets.update(
            ticket,
            set_fields={
                "status": status.value,
                "opd": opd_code,
                "confidential": publication.confidential_when_assigned(
                    requested=ticket.confidential_requested,
                    current=ticket.confidential,
                    opd=opd_code,
                ),
                "routing": {
                    "opd": result.opd,
                    "confidence": result.confidence,
                    "reasons": result.reasons,
                    "model": result.model,
                },
                "due_at": due_at,
                "updated_at": now,
            },
            push={
                "history": [
                    history_entry(
                        at=now,
                        actor=ROUTER_ACTOR,
                        action="route",
                        from_status=ticket.status,
                        to_status=status,
                        note=note,
                    )
                ],
                "outbox": [outbox_entry(event)],
            },
        )
        if updated is not None:
            metrics.TICKETS_ROUTED.labels(status.value).inc()
            log.info(
                "ticket %s %s to %s (confidence %.2f)",
                tracking_code,
                status.value,
                result.opd,
                result.confidence,
            )
            return True
    raise RuntimeError(f"ticket {tracking_code} kept changing while routing it")
