"""Open311's use cases: what its routes read and write, through intake's repositories and use
cases. Each checks the call's arguments with the pure mapping (mapping.py) and returns the spec's
answer models (schemas.py); a failure is an Open311Error, or an error of intake's use cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.intake import complaints
from services.intake import service as intake
from services.intake.api_keys import authenticate
from services.intake.open311 import mapping
from services.intake.open311.errors import Open311Error
from services.intake.open311.mapping import RequestQuery, blank_to_none
from services.intake.open311.schemas import (
    CreatedOut,
    ExtendedAttributesOut,
    RequestForm,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
    TokenOut,
)
from services.intake.service import IntakeContext
from services.intake.stores import ApiKeys, IntakeTickets
from shared import publication
from shared.tickets import Ticket


async def list_services(ctx: IntakeContext, *, jurisdiction_id: str | None) -> list[ServiceOut]:
    """One service per category of the catalogue."""
    mapping.check_jurisdiction(jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    return [mapping.service_entry(c, cat) for c in cat.categories]


async def describe_service(
    ctx: IntakeContext, *, service_code: str, jurisdiction_id: str | None
) -> ServiceDefinitionOut:
    """The attributes a request for one service may carry; 404 for an unknown service."""
    mapping.check_jurisdiction(jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    return mapping.service_definition(mapping.service_for(service_code, cat), cat)


async def submit_request(
    ctx: IntakeContext,
    form: RequestForm,
    *,
    keys: ApiKeys,
    client: str,
    idempotency_key: str | None,
) -> CreatedOut:
    """A client application files a complaint on a citizen's behalf: the address's rate limit,
    then its api_key (403), then the form; answered at once with the tracking code."""
    intake.check_rate(ctx, client)
    if await authenticate(keys, blank_to_none(form.api_key), ctx.settings) is None:
        raise Open311Error(403, "api_key tidak ada atau salah. (Missing or invalid api_key.)")
    mapping.check_jurisdiction(form.jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    mapping.service_for(form.service_code, cat)
    complaint = mapping.complaint_from_form(form, cat)
    answer = await intake.submit_complaint(
        ctx, complaint, idempotency_key=idempotency_key, client=client, source="open311"
    )
    code = answer.tracking_code
    created = CreatedOut(
        service_request_id=code, service_notice=mapping.created_notice(code), account_id=None
    )
    if (blank_to_none(form.extensions) or "").lower() == "true":
        extended = ExtendedAttributesOut(reply_token=answer.reply_token)
        created = created.model_copy(update={"extended_attributes": extended})
    return created


async def list_requests(
    ctx: IntakeContext,
    *,
    jurisdiction_id: str | None,
    service_request_id: Sequence[str] | None,
    service_code: Sequence[str] | None,
    start_date: str | None,
    end_date: str | None,
    status: Sequence[str] | None,
    now: datetime,
) -> list[ServiceRequestOut]:
    """GET requests: by id, or the public requests the filters select, newest first."""
    mapping.check_jurisdiction(jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    query = mapping.request_query(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        catalogue=cat,
        now=now,
        settings=ctx.settings,
    )
    tickets = await find_requests(ctx.tickets, query)
    base = ctx.settings.public_base_url
    return [mapping.service_request(t, cat, base_url=base) for t in tickets]


async def find_requests(tickets: IntakeTickets, query: RequestQuery) -> list[Ticket]:
    """Tickets by id (any: `service_request` shows what the policy allows), or by the filters:
    only tickets whose content is public (shared.publication)."""
    if query.ids is not None:
        return await tickets.search(codes=query.ids, include_confidential=True, limit=query.limit)
    # One query whatever the number of categories: the limit bounds what is read in all.
    found = await tickets.search(
        categories=query.categories,
        start=query.start,
        end=query.end,
        statuses=publication.listed_statuses(query.statuses),
        limit=query.limit,
    )
    return [t for t in found if publication.shows_content(t)]


async def show_request(
    ctx: IntakeContext, *, service_request_id: str, jurisdiction_id: str | None
) -> ServiceRequestOut:
    """One request by its id (the tracking code), as much of it as the policy shows."""
    mapping.check_jurisdiction(jurisdiction_id, ctx.settings)
    ticket = await _ticket(ctx.tickets, service_request_id)
    cat = await ctx.catalogue.get()
    return mapping.service_request(ticket, cat, base_url=ctx.settings.public_base_url)


async def resolve_token(ctx: IntakeContext, *, token: str, jurisdiction_id: str | None) -> TokenOut:
    """The request behind a token: requests are realtime, so a token is the tracking code."""
    mapping.check_jurisdiction(jurisdiction_id, ctx.settings)
    ticket = await _ticket(ctx.tickets, token)
    return TokenOut(service_request_id=ticket.tracking_code, token=token)


async def _ticket(tickets: IntakeTickets, raw_id: str) -> Ticket:
    ticket = await tickets.get(complaints.normalise_tracking_code(raw_id))
    if ticket is None:
        raise Open311Error(
            404, f"service_request_id {raw_id} tidak ditemukan. (Request not found.)"
        )
    return ticket
