"""Staff routes for throughput: assignment, bulk actions, canned answers. Parse, call, map."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from services.routing import throughput
from services.routing.api import JSON_BODY, SCOPE_404, RoutingDep, StaffPrincipal
from services.routing.queries import TicketFilter
from services.routing.schemas import (
    AssignmentIn,
    BulkIn,
    CannedAnswerIn,
    TicketOut,
    bulk_body,
    canned_body,
    canned_list_body,
    filled_answers_body,
    forecast_body,
    ticket_body,
)
from services.routing.throughput import BulkItem, CannedAnswers

router = APIRouter(prefix="/api/v1")


def _canned(request: Request) -> CannedAnswers:
    return CannedAnswers(request.state.db)


@router.put(
    "/tickets/{tracking_code}/assignment",
    tags=["tickets"],
    response_model=TicketOut,
    response_model_exclude_unset=True,
    dependencies=JSON_BODY,
    responses={
        **SCOPE_404,
        403: {"description": "Officers take free tickets; only supervisors reassign"},
        409: {"description": "`version` is stale: the body carries the current `ticket`"},
        422: {"description": "`officer` is not an officer of the ticket's OPD"},
    },
    summary='Who handles the ticket ("ditangani oleh"); null: nobody',
)
async def assign(
    tracking_code: str, body: AssignmentIn, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    view = await throughput.assign(
        ctx, principal, tracking_code, officer=body.officer, version=body.version
    )
    return ticket_body(view)


@router.get(
    "/tickets/forecast",
    tags=["tickets"],
    summary="Tickets that will miss their deadline at the OPD's current pace (breach forecast)",
)
async def breach_forecast(
    principal: StaffPrincipal,
    ctx: RoutingDep,
    opd: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    return forecast_body(await throughput.breach_forecast(ctx, principal, opd))


@router.post(
    "/tickets/bulk",
    tags=["tickets"],
    dependencies=JSON_BODY,
    summary="Verify, transfer or assign many tickets: each checked and reported on its own",
)
async def bulk(body: BulkIn, principal: StaffPrincipal, ctx: RoutingDep) -> dict[str, Any]:
    items = (
        [BulkItem(i.tracking_code.strip().upper(), i.version) for i in body.items]
        if body.items is not None
        else None
    )
    selection = None
    if body.filter is not None:
        f = body.filter
        selection = TicketFilter(
            status=[s.value for s in f.status] if f.status else None,
            category=f.category,
            kecamatan=f.kecamatan,
            q=f.q,
            overdue=f.overdue,
        )
    done = await throughput.bulk(
        ctx,
        principal,
        action=body.action,
        items=items,
        selection=selection,
        note=body.note,
        to_opd=body.to_opd,
        officer=body.officer,
    )
    return bulk_body(done)


@router.get(
    "/canned-answers",
    tags=["canned answers"],
    summary="An OPD's canned answers (their own for officers; `opd` for admins and auditors)",
)
async def list_canned(
    principal: StaffPrincipal,
    request: Request,
    opd: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    return canned_list_body(await throughput.canned_answers(_canned(request), principal, opd))


@router.put(
    "/canned-answers/{opd}/{answer_id}",
    tags=["canned answers"],
    dependencies=JSON_BODY,
    summary="Create or change a canned answer (the OPD's supervisor, or an admin)",
)
async def put_canned(
    opd: str, answer_id: str, body: CannedAnswerIn, principal: StaffPrincipal, request: Request
) -> dict[str, Any]:
    saved = await throughput.save_canned_answer(
        _canned(request), principal, opd, answer_id, title=body.title, body=body.body
    )
    return canned_body(saved)


@router.delete(
    "/canned-answers/{opd}/{answer_id}",
    tags=["canned answers"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a canned answer (the OPD's supervisor, or an admin)",
)
async def delete_canned(
    opd: str, answer_id: str, principal: StaffPrincipal, request: Request
) -> Response:
    await throughput.delete_canned_answer(_canned(request), principal, opd, answer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/tickets/{tracking_code}/canned-answers",
    tags=["canned answers"],
    responses=SCOPE_404,
    summary="The ticket's OPD's canned answers with {kode}, {tenggat} and {opd} filled in",
)
async def canned_for_ticket(
    tracking_code: str, principal: StaffPrincipal, ctx: RoutingDep, request: Request
) -> dict[str, Any]:
    filled = await throughput.canned_for_ticket(ctx, principal, tracking_code, _canned(request))
    return filled_answers_body(filled)
