"""Intake use cases: take a complaint, show its public view."""

from __future__ import annotations

import uuid

from services.intake import domain, metrics
from services.intake.repository import TicketRepository
from services.intake.schemas import ComplaintIn
from shared.catalogue import CatalogueStore
from shared.errors import InvalidField, NotFound
from shared.events import utcnow
from shared.tickets import Location, Reporter


async def submit_complaint(
    *,
    complaint: ComplaintIn,
    tickets: TicketRepository,
    catalogue: CatalogueStore,
    tracking_prefix: str,
) -> dict[str, object]:
    """Check the catalogue codes, store the ticket with its pending event; return the 201 body."""
    cat = await catalogue.get()
    if complaint.category is not None and cat.category(complaint.category) is None:
        raise InvalidField(("body", "category"), "Kategori tidak dikenal. (Unknown category.)")
    location = Location()
    if complaint.location is not None:
        loc = complaint.location
        kecamatan = None
        if loc.kecamatan is not None:
            region = cat.region(loc.kecamatan)
            if region is None:
                raise InvalidField(
                    ("body", "location", "kecamatan"),
                    "Kecamatan tidak dikenal. (Unknown kecamatan.)",
                )
            kecamatan = region.code
        location = Location(
            kecamatan=kecamatan, desa=loc.desa, address=loc.address, lat=loc.lat, lon=loc.lon
        )
    reporter = (
        Reporter.model_validate(complaint.reporter.model_dump()) if complaint.reporter else None
    )
    reply_token = domain.new_reply_token()
    now = utcnow()
    ticket, _ = domain.new_ticket(
        tracking_code=domain.new_tracking_code(tracking_prefix),
        reply_token=reply_token,
        now=now,
        correlation_id=uuid.uuid4().hex,
        kind=complaint.kind,
        description=complaint.description,
        title=complaint.title,
        category=complaint.category,
        location=location,
        reporter=reporter,
        anonymous=complaint.anonymous,
        confidential=complaint.confidential,
    )
    await tickets.add(ticket)
    metrics.COMPLAINTS_SUBMITTED.labels(ticket.kind.value).inc()
    return {
        "tracking_code": ticket.tracking_code,
        "status": ticket.status,
        "submitted_at": ticket.submitted_at,
        "reply_token": reply_token,
    }


async def public_complaint(
    *,
    tracking_code: str,
    reply_token: str | None,
    tickets: TicketRepository,
    catalogue: CatalogueStore,
) -> dict[str, object]:
    ticket = await tickets.get(domain.normalise_tracking_code(tracking_code))
    if ticket is None:
        raise NotFound("Kode pelacakan tidak ditemukan. (Tracking code not found.)")
    is_reporter = reply_token is not None and domain.reply_token_matches(reply_token, ticket)
    return domain.public_view(ticket, await catalogue.get(), is_reporter=is_reporter)
