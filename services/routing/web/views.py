"""What the console's pages show besides the use cases' answers: names, groups, the router's
candidates, the queue's filters, and the ticket and account pages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from services.routing import accounts as account_cases
from services.routing import staff, throughput, workflow
from services.routing.classification import router as classification
from services.routing.queries import SORTS, TicketFilter
from services.routing.repository import Transcripts
from services.routing.staff import RoutingContext
from services.routing.views import Classified, StaffTicket, TranscriptEntry
from services.routing.web.forms import PROFILE_FIELDS, day
from services.routing.web.page import PREFIX, Console
from shared.auth import Role
from shared.catalogue import Catalogue, Opd
from shared.chat import CHAT_SOURCES
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.pages.i18n import Lang
from shared.tickets import RoutingDecision, TicketStatus

OPEN = "open"  # the status filter "not finished yet"
OPD_GROUPS = ("dinas", "badan", "other", "kecamatan")


def names(cat: Catalogue, lang: Lang) -> dict[str, dict[str, str]]:
    """Display names of OPD, category and kecamatan codes."""
    return {
        "opd": {o.code: o.name for o in cat.opds},
        "category": {
            c.code: (c.name_en if lang == "en" and c.name_en else c.name) for c in cat.categories
        },
        "kecamatan": {r.code: r.name for r in cat.regions},
    }


def opd_groups(cat: Catalogue) -> list[tuple[str, list[Opd]]]:
    """The OPDs for a select, grouped: dinas, badan, other units, kecamatan offices."""
    groups: dict[str, list[Opd]] = {group: [] for group in OPD_GROUPS}
    for opd in cat.opds:
        groups[opd.kind if opd.kind in groups else "other"].append(opd)
    return [(group, opds) for group, opds in groups.items() if opds]


_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*\b")
_PERCENT = re.compile(r"^\s*(\d{1,3})\s?%")


def triage_candidates(
    routing: RoutingDecision | None,
    category_code: str | None,
    cat: Catalogue,
    fresh: Classified | None = None,
) -> list[dict[str, Any]]:
    """The router's candidate OPDs for a ticket (its stored decision and category), best first.

    First what the stored decision tells (its OPD and its alternatives; a ticket routed before
    alternatives were stored has only its reasons, so the OPD codes they name, with the
    percentage that follows a code), then `fresh`, the router's answer now (staff.dry_run: its
    OPD and alternatives), then the default OPD of the category.
    """
    found: dict[str, dict[str, Any]] = {}

    def add(code: str, confidence: float | None, source: str) -> None:
        opd = cat.opd(code)
        if opd is None:
            return
        if code not in found:
            found[code] = {"code": code, "name": opd.name, "confidence": confidence, "via": source}
        elif found[code]["confidence"] is None:
            found[code]["confidence"] = confidence

    alternatives = routing.alternatives if routing is not None else []
    if routing is not None and cat.opd(routing.opd):
        add(routing.opd, routing.confidence, "router")
    for alternative in alternatives:
        add(alternative.opd, alternative.confidence, "router")
    for reason in [] if alternatives or routing is None else routing.reasons:
        for match in _CODE.finditer(str(reason)):
            percent = _PERCENT.match(str(reason)[match.end() :])
            add(match.group(), int(percent.group(1)) / 100 if percent else None, "reason")
    if fresh is not None:
        add(fresh.opd, fresh.confidence, "router")
        for alternative in fresh.alternatives:
            add(alternative.opd, alternative.confidence, "router")
    category = cat.category(category_code or "")
    if category is not None:
        add(category.opd, None, "category")
    return list(found.values())


async def router_candidates(ctx: RoutingContext, view: StaffTicket) -> list[dict[str, Any]]:
    """A triage ticket's candidates, with the router asked again (a dry run, no change)."""
    fresh = await staff.dry_run(
        ctx,
        text=classification.complaint_text(view.title, view.description),
        category=view.category,
        kecamatan=view.location.kecamatan,
        desa=view.location.desa,
    )
    return triage_candidates(view.routing, view.category, await ctx.catalogue.get(), fresh)


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters as the form sent them, and what they mean for the use case."""

    values: dict[str, str]
    filter: TicketFilter
    sort: str
    cursor: str | None
    errors: dict[str, str]


def queue_query(console: Console, cat: Catalogue) -> QueueQuery:
    params = console.request.query_params
    names = ("status", "category", "kecamatan", "opd", "overdue", "dari", "sampai", "q", "urut")
    values = {name: (params.get(name) or "").strip()[:200] for name in names}
    errors: dict[str, str] = {}
    statuses: list[str] | None = None
    if values["status"] == OPEN:
        statuses = [s.value for s in OPEN_STATUSES]
    elif values["status"] in set(TicketStatus):
        statuses = [values["status"]]
    else:
        values["status"] = ""
    window: dict[str, datetime | None] = {"dari": None, "sampai": None}
    for name in window:
        if values[name]:
            try:
                window[name] = day(values[name], end=name == "sampai")
            except ValueError:
                errors[name] = console.t("err.date")
    overdue = {"1": True, "0": False}.get(values["overdue"])
    sees_all = console.staff.role in (Role.ADMIN, Role.AUDITOR)
    sort = values["urut"] if values["urut"] in SORTS else "-submitted_at"
    values["urut"] = sort
    region = cat.region(values["kecamatan"]) if values["kecamatan"] else None
    f = TicketFilter(
        status=statuses,
        category=values["category"] if cat.category(values["category"]) else None,
        kecamatan=region.code if region else None,
        opd=values["opd"] if sees_all and cat.opd(values["opd"]) else None,
        overdue=overdue,
        q=values["q"] or None,
        submitted_from=window["dari"],
        submitted_to=window["sampai"],
    )
    cursor = (params.get("cursor") or "")[:500] or None
    return QueueQuery(values=values, filter=f, sort=sort, cursor=cursor, errors=errors)


def queue_url(values: Mapping[str, str], **changes: str) -> str:
    query = {k: v for k, v in {**values, **changes}.items() if v}
    return f"{PREFIX}?{urlencode(query)}" if query else PREFIX


async def ticket_page(
    console: Console,
    view: StaffTicket,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    done: str | None = None,
) -> Response:
    cat = await console.ctx.catalogue.get()
    candidates = (
        await router_candidates(console.ctx, view) if view.status is TicketStatus.TRIAGE else []
    )
    chat: tuple[TranscriptEntry, ...] = ()
    if view.source in CHAT_SOURCES:
        transcripts = Transcripts(console.request.state.db)
        chat = await staff.transcript(console.ctx, console.staff, view.tracking_code, transcripts)
    return console.render(
        "ticket.html",
        transcript=chat,
        status=status,
        here=f"{PREFIX}/tiket/{view.tracking_code}",
        view=view,
        history=view.history,
        candidates=candidates,
        guess=candidates[0]["code"] if candidates else "",
        errors=dict(errors or {}),
        values=dict(values or {}),
        banner=banner,
        done=done,
        opd_groups=opd_groups(cat),
        reasons=[r.value for r in workflow.RejectReason],
        names=names(cat, console.lang),
        can_comment=console.staff.role is not Role.AUDITOR,
        canned=await canned(console, view),
        cluster_primary=bool(
            view.cluster
            and view.cluster.status == "confirmed"
            and view.cluster.primary == view.tracking_code
        ),
    )


async def canned(console: Console, view: StaffTicket) -> list[dict[str, Any]]:
    """The ticket's OPD's canned answers, filled for it (services/routing/throughput.py)."""
    opd = view.opd
    if not opd or console.staff.role is Role.AUDITOR:
        return []
    store = throughput.CannedAnswers(console.request.state.db)
    filled = await throughput.canned_for_ticket(
        console.ctx, console.staff, view.tracking_code, store
    )
    return [{"title": f.answer.title, "text": f.text} for f in filled]


def account_page(
    console: Console,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    done: str | None = None,
) -> Response:
    account = account_cases.public_account(console.account or {"_id": "", "role": ""})
    shown = {name: str(getattr(account, name) or "") for name in PROFILE_FIELDS}
    return console.render(
        "account.html",
        status=status,
        here=f"{PREFIX}/akun",
        profile=account,
        values={**shown, **(values or {})},
        errors=dict(errors or {}),
        banner=banner,
        done=done,
    )
