"""Officers' throughput: assignment ("ditangani oleh"), bulk actions item by item, and canned
answers with placeholders.

Assignment: an officer takes a ticket of their OPD nobody handles (or gives back their own);
the OPD's supervisor, or an admin, assigns or reassigns it to any active officer or supervisor
of the OPD. Each change is a version-checked write with an internal history entry.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.routing import forecast, staff, workflow
from services.routing.queries import TicketFilter
from services.routing.staff import RoutingContext
from services.routing.stores import CannedAnswerStore
from services.routing.views import (
    BreachForecast,
    BulkDone,
    BulkResult,
    CannedAnswer,
    FilledAnswer,
    OpdCannedAnswers,
    StaffTicket,
    Transitioned,
)
from shared.auth import Principal, Role
from shared.catalogue import Catalogue
from shared.errors import AppError, Conflict, Forbidden, InvalidField, NotFound
from shared.events import utcnow
from shared.lifecycle.changes import Step, change
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.tickets import LOCKS, Ticket
from shared.workdays import JAKARTA, WorkCalendar

STAFF_ROLES = (Role.OFFICER.value, Role.SUPERVISOR.value)
BULK_ACTIONS = ("verify", "transfer", "assign")
MAX_BULK = 200

# -- assignment --------------------------------------------------------------------------------


def may_assign(principal: Principal, ticket: Ticket, officer: str | None) -> bool:
    """Who may set `assigned_to` to `officer` (None: nobody) on this ticket."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.AUDITOR or ticket.opd != principal.opd:
        return False
    if principal.role is Role.SUPERVISOR:
        return True
    # An officer takes a free ticket, or gives back their own.
    mine = ticket.assigned_to in (None, principal.username)
    return mine and officer in (principal.username, None)


async def assign(
    ctx: RoutingContext,
    principal: Principal,
    code: str,
    *,
    officer: str | None,
    version: int | None,
) -> StaffTicket:
    ticket = await staff.visible_ticket(ctx, principal, code)
    catalogue = await ctx.catalogue.get()
    if version is not None and version != ticket.version:
        raise staff.changed_meanwhile(ticket, principal, catalogue)
    if not may_assign(principal, ticket, officer):
        raise Forbidden(
            "Hanya kepala OPD yang dapat mengalihkan penanganan. "
            "(Only the OPD's supervisor may reassign.)"
        )
    if officer is not None:
        account = await ctx.accounts.get(officer)
        if account is None or account["role"] not in STAFF_ROLES or account["opd"] != ticket.opd:
            raise InvalidField(
                ("body", "officer"),
                "Petugas bukan anggota OPD laporan ini. (Not an officer of the ticket's OPD.)",
            )
    if ticket.assigned_to == officer:
        return staff.staff_view(ticket, principal, catalogue)
    now = utcnow()
    note = (f"Ditangani oleh {officer}." if officer else "Tidak ada lagi yang menangani.") + (
        f" (Sebelumnya: {ticket.assigned_to}.)" if ticket.assigned_to else ""
    )
    step = Step(
        at=now,
        actor=principal.username,
        action="assign",
        from_status=ticket.status,
        to_status=ticket.status,
        public=False,
        internal_note=note,
    )
    made = change(
        ticket,
        producer=workflow.PRODUCER,
        fields={"assigned_to": officer, "updated_at": now},
        step=step,
    )
    updated = await ctx.tickets.update(ticket, set_fields=made.set_fields, push=made.push)
    if updated is None:
        raise staff.changed_meanwhile(
            await staff.visible_ticket(ctx, principal, code), principal, catalogue
        )
    return staff.staff_view(updated, principal, catalogue)


# -- bulk actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkItem:
    tracking_code: str
    version: int | None = None


async def bulk(
    ctx: RoutingContext,
    principal: Principal,
    *,
    action: str,
    items: list[BulkItem] | None,
    selection: TicketFilter | None,
    note: str | None = None,
    to_opd: str | None = None,
    officer: str | None = None,
) -> BulkDone:
    """One action over a selection (codes with the versions the caller saw) or a filter (at
    most 200 tickets, each at its current version); every item is checked and written on its
    own and reported: `done`, or why not (`conflict`, `not_allowed`, `forbidden`, `invalid`,
    `not_found`)."""
    if action not in BULK_ACTIONS:
        raise InvalidField(("body", "action"), "Tindakan massal tidak dikenal. (Unknown action.)")
    if items is None:
        if selection is None:
            raise InvalidField(("body", "items"), "Pilih laporan atau filter. (Items or filter.)")
        found, _ = await ctx.queries.page(
            principal, selection, now=utcnow(), sort="-submitted_at", limit=MAX_BULK, cursor=None
        )
        items = [BulkItem(t.tracking_code) for t in found]
    results = []
    for item in items[:MAX_BULK]:
        results.append(await _one(ctx, principal, item, action, note, to_opd, officer))
    counts: dict[str, int] = {}
    for r in results:
        counts[r.result] = counts.get(r.result, 0) + 1
    return BulkDone(action=action, results=tuple(results), counts=counts)


async def _one(
    ctx: RoutingContext,
    principal: Principal,
    item: BulkItem,
    action: str,
    note: str | None,
    to_opd: str | None,
    officer: str | None,
) -> BulkResult:
    code = item.tracking_code
    view: StaffTicket | Transitioned
    try:
        if action == "assign":
            view = await assign(ctx, principal, code, officer=officer, version=item.version)
        else:
            request = workflow.Request(action=workflow.Action(action), note=note, to_opd=to_opd)
            view = await staff.transition(ctx, principal, code, request, version=item.version)
    except AppError as exc:
        result = _reason(exc)
        current = exc.ticket.version if isinstance(exc, staff.TicketConflict) else None
        return BulkResult(tracking_code=code, result=result, detail=exc.detail, version=current)
    return BulkResult(tracking_code=code, result="done", status=view.status, version=view.version)


def _reason(exc: AppError) -> str:
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, Forbidden):
        return "forbidden"
    if isinstance(exc, InvalidField):
        return "invalid"
    if isinstance(exc, Conflict):
        changed = isinstance(exc, staff.TicketConflict) and "diubah" in str(exc.detail)
        return "conflict" if changed else "not_allowed"
    return "error"


# -- breach forecast ---------------------------------------------------------------------------


async def breach_forecast(
    ctx: RoutingContext, principal: Principal, opd: str | None
) -> BreachForecast:
    """The caller's OPD's (an admin's or auditor's chosen OPD's) tickets at risk."""
    if principal.role in (Role.ADMIN, Role.AUDITOR):
        if not opd:
            raise InvalidField(("query", "opd"), "OPD wajib diisi. (opd is required.)")
        code = opd.upper()
    else:
        assert principal.opd is not None
        code = principal.opd
    now = utcnow()
    calendar = ctx.settings.calendar()
    since = _working_days_before(now, forecast.WINDOW_WORKING_DAYS, calendar)
    resolved = await ctx.queries.resolved_since(code, since)
    per_day = forecast.pace(resolved)
    risky = forecast.at_risk(
        await ctx.queries.open_deadlines(code), per_day=per_day, now=now, calendar=calendar
    )
    return BreachForecast(
        opd=code,
        resolved_recently=resolved,
        window_working_days=forecast.WINDOW_WORKING_DAYS,
        pace_per_working_day=round(per_day, 2),
        at_risk=tuple(risky),
    )


def _working_days_before(now: datetime, days: int, calendar: WorkCalendar) -> datetime:
    moment = now
    while calendar.working_days_between(moment, now) < days:
        moment -= timedelta(days=1)
    return moment


# -- canned answers ----------------------------------------------------------------------------

CANNED = "canned_answers"
PLACEHOLDER = re.compile(r"\{(kode|tenggat|opd)\}")


def fill(body: str, ticket: Ticket, catalogue: Catalogue) -> str:
    """An answer with `{kode}`, `{tenggat}` (the deadline, Jakarta date) and `{opd}` filled;
    other braces stay as they are."""
    opd = catalogue.opd(ticket.opd) if ticket.opd else None
    due = ticket.due_at.astimezone(JAKARTA).strftime("%d-%m-%Y") if ticket.due_at else "-"
    values = {"kode": ticket.tracking_code, "tenggat": due, "opd": opd.name if opd else "-"}
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)


class CannedAnswers:
    """Per OPD one document (`_id` = the OPD's code) holding its answers, changed under a lock."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._answers = db[CANNED]
        self._locks = DocumentLocks(db[LOCKS])

    async def of(self, opd: str) -> list[dict[str, Any]]:
        doc = await self._answers.find_one({"_id": opd})
        answers: list[dict[str, Any]] = (doc or {}).get("answers") or []
        return sorted(answers, key=lambda a: str(a.get("title", "")).lower())

    async def put(
        self,
        opd: str,
        *,
        answer_id: str | None,
        title: str,
        body: str,
        by: str,
        now: datetime,
    ) -> dict[str, Any]:
        answer = {
            "id": answer_id or uuid.uuid4().hex[:12],
            "title": title,
            "body": body,
            "updated_by": by,
            "updated_at": now,
        }
        async with self._locks.hold(f"canned|{opd}"):
            answers = [a for a in await self.of(opd) if a["id"] != answer["id"]]
            await self._answers.replace_one(
                {"_id": opd}, {"_id": opd, "answers": [*answers, answer]}, upsert=True
            )
        return answer

    async def delete(self, opd: str, answer_id: str) -> bool:
        async with self._locks.hold(f"canned|{opd}"):
            answers = await self.of(opd)
            kept = [a for a in answers if a["id"] != answer_id]
            if len(kept) == len(answers):
                return False
            await self._answers.replace_one({"_id": opd}, {"_id": opd, "answers": kept})
        return True


def canned_opd(principal: Principal, opd: str | None, *, change: bool) -> str:
    """The OPD whose answers the caller reads (their own; any for admins and auditors) or
    changes (supervisors their own, admins any)."""
    if principal.role in (Role.ADMIN, Role.AUDITOR):
        if change and principal.role is Role.AUDITOR:
            raise Forbidden("Auditor tidak mengubah apa pun. (Auditors change nothing.)")
        if not opd:
            raise InvalidField(("query", "opd"), "OPD wajib diisi. (opd is required.)")
        return opd.upper()
    if opd and opd.upper() != principal.opd:
        raise NotFound("OPD tidak ditemukan. (Unknown OPD.)")
    if change and principal.role is not Role.SUPERVISOR:
        raise Forbidden(
            "Jawaban siap pakai dikelola kepala OPD. (The OPD's supervisor manages them.)"
        )
    assert principal.opd is not None
    return principal.opd


def _answer(doc: Document) -> CannedAnswer:
    return CannedAnswer(
        id=doc["id"],
        title=doc["title"],
        body=doc["body"],
        updated_by=doc["updated_by"],
        updated_at=doc["updated_at"],
    )


async def canned_answers(
    store: CannedAnswerStore, principal: Principal, opd: str | None
) -> OpdCannedAnswers:
    """The canned answers of the caller's OPD (any OPD's for admins and auditors)."""
    code = canned_opd(principal, opd, change=False)
    return OpdCannedAnswers(opd=code, items=tuple(_answer(a) for a in await store.of(code)))


async def save_canned_answer(
    store: CannedAnswerStore,
    principal: Principal,
    opd: str,
    answer_id: str,
    *,
    title: str,
    body: str,
) -> CannedAnswer:
    """Create or change one (the OPD's supervisor, or an admin); the id is cut to 40."""
    code = canned_opd(principal, opd, change=True)
    saved = await store.put(
        code, answer_id=answer_id[:40], title=title, body=body, by=principal.username, now=utcnow()
    )
    return _answer(saved)


async def delete_canned_answer(
    store: CannedAnswerStore, principal: Principal, opd: str, answer_id: str
) -> None:
    """Delete one (the OPD's supervisor, or an admin); 404 when there is none."""
    code = canned_opd(principal, opd, change=True)
    if not await store.delete(code, answer_id):
        raise NotFound("Jawaban tidak ditemukan. (Canned answer not found.)")


async def canned_for_ticket(
    ctx: RoutingContext, principal: Principal, code: str, store: CannedAnswerStore
) -> tuple[FilledAnswer, ...]:
    """The ticket's OPD's canned answers, filled for it (none for a ticket without an OPD);
    404 outside the caller's scope."""
    ticket = await staff.visible_ticket(ctx, principal, code)
    if not ticket.opd:
        return ()
    catalogue = await ctx.catalogue.get()
    return tuple(
        FilledAnswer(answer=answer, text=fill(answer.body, ticket, catalogue))
        for answer in (_answer(a) for a in await store.of(ticket.opd))
    )
