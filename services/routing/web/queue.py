"""The queue of tickets (filters, the overdue ones first) and the admin koordinator's triage."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from services.routing import staff, throughput
from services.routing.queries import SORTS, TicketFilter
from services.routing.views import TicketList
from services.routing.web import views
from services.routing.web.page import PREFIX, StaffDep, not_found
from shared.auth import Role
from shared.errors import InvalidField
from shared.tickets import TicketStatus

QUEUE_PAGE = 50
OVERDUE_SECTION = 20  # overdue tickets shown above the queue; the rest behind a link
TRIAGE_PAGE = 20

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def queue(console: StaffDep, selesai: str | None = None) -> Response:
    ctx, principal, t = console.ctx, console.staff, console.t
    cat = await ctx.catalogue.get()
    query = views.queue_query(console, cat)
    sections: list[dict[str, Any]] = []
    banner = None
    overdue_first = query.filter.overdue is None and query.cursor is None
    if overdue_first:
        late = await staff.list_tickets(
            ctx,
            principal,
            dataclasses.replace(query.filter, overdue=True),
            sort="due_at",
            limit=OVERDUE_SECTION,
            cursor=None,
        )
        if late.items:
            more = views.queue_url(query.values, overdue="1", urut="due_at")
            sections.append(
                {
                    "id": "lewat",
                    "title": t("section.overdue"),
                    "hint": t("section.overdue_hint"),
                    "tickets": late.items,
                    "more": more if late.next_cursor else None,
                    "next": None,
                }
            )
    rest_filter = query.filter
    if overdue_first and sections:
        rest_filter = dataclasses.replace(query.filter, overdue=False)
    try:
        rest = await staff.list_tickets(
            ctx, principal, rest_filter, sort=query.sort, limit=QUEUE_PAGE, cursor=query.cursor
        )
    except InvalidField:
        rest, banner = TicketList(items=(), next_cursor=None), t("err.cursor")
    sections.append(
        {
            "id": "lainnya",
            "title": t("section.rest") if sections else t("section.all"),
            "hint": None,
            "tickets": rest.items,
            "more": None,
            "next": views.queue_url(query.values, cursor=rest.next_cursor)
            if rest.next_cursor
            else None,
        }
    )
    done = None
    if selesai == "transfer":
        code = (console.request.query_params.get("kode") or "")[:40]
        opd = cat.opd(console.request.query_params.get("ke") or "")
        done = t("done.transfer", code=code, opd=opd.name if opd else "")
    mine = cat.opd(principal.opd) if principal.opd else None
    forecast = None
    unfiltered = not any(v for k, v in query.values.items() if k != "urut")
    if principal.opd and query.cursor is None and unfiltered:
        forecast = await throughput.breach_forecast(ctx, principal, None)
    return console.render(
        "queue.html",
        forecast=forecast,
        can_bulk=principal.role is not Role.AUDITOR,
        status=422 if query.errors else 200,
        title=t("queue.title_opd", opd=mine.name) if mine else t("queue.title"),
        sections=sections,
        counts=await staff.counts(ctx, principal),
        statuses=[s.value for s in TicketStatus],
        values=query.values,
        filtered=any(v for k, v in query.values.items() if k not in ("q", "urut")),
        errors=query.errors,
        banner=banner,
        done=done,
        first_page=views.queue_url(query.values) if query.cursor else None,
        sees_all=principal.role in (Role.ADMIN, Role.AUDITOR),
        categories=cat.categories,
        regions=cat.regions,
        opd_groups=views.opd_groups(cat),
        sorts=list(SORTS),
        names=views.names(cat, console.lang),
    )


@router.get("/triase", response_class=HTMLResponse)
async def triage(console: StaffDep, cursor: str | None = None) -> Response:
    """Tickets the router left to the admin koordinator, oldest deadline first (admins only)."""
    ctx, principal, t = console.ctx, console.staff, console.t
    if principal.role is not Role.ADMIN:
        return not_found(console)
    cat = await ctx.catalogue.get()
    banner = None
    try:
        page = await staff.list_tickets(
            ctx,
            principal,
            TicketFilter(status=[TicketStatus.TRIAGE.value]),
            sort="due_at",
            limit=TRIAGE_PAGE,
            cursor=(cursor or "")[:500] or None,
        )
    except InvalidField:
        page, banner = TicketList(items=(), next_cursor=None), t("err.cursor")
    items = [
        {"view": view, "candidates": await views.router_candidates(ctx, view)}
        for view in page.items
    ]
    params = console.request.query_params
    done = None
    if params.get("selesai") == "transfer":
        opd = cat.opd(params.get("ke") or "")
        done = t("done.transfer", code=(params.get("kode") or "")[:40], opd=opd.name if opd else "")
    next_page = page.next_cursor
    return console.render(
        "triage.html",
        items=items,
        banner=banner,
        done=done,
        next=f"{PREFIX}/triase?{urlencode({'cursor': next_page})}" if next_page else None,
        first_page=f"{PREFIX}/triase" if cursor else None,
        opd_groups=views.opd_groups(cat),
        names=views.names(cat, console.lang),
    )
