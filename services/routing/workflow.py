"""Staff actions on a ticket: the staff's part of the lifecycle (shared.lifecycle).

Pure: who may do which action from which status (the table in `shared.lifecycle.table`),
what each action needs, and the change it makes to the ticket (fields, history entry, event).
No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import publication
from shared.catalogue import Catalogue
from shared.events import TicketTransitioned
from shared.lifecycle import actors, changes, sla
from shared.lifecycle.changes import Step, change
from shared.lifecycle.statuses import OPEN_STATUSES as OPEN_STATUSES
from shared.lifecycle.statuses import PAUSED_STATUSES as PAUSED_STATUSES
from shared.lifecycle.table import PAUSES, check, permitted
from shared.lifecycle.table import TABLE as TABLE
from shared.lifecycle.table import Action as Action
from shared.lifecycle.table import NotAllowed as NotAllowed
from shared.lifecycle.table import RejectReason as RejectReason
from shared.lifecycle.table import RoleNotAllowed as RoleNotAllowed
from shared.principals import Principal, Role
from shared.tickets import Ticket
from shared.workdays import WorkCalendar

PRODUCER = "routing"
# A staff transition's change: its event is the TicketTransitioned.
Change = changes.Change[TicketTransitioned]


class Missing(Exception):
    """A field the action needs is missing or invalid (HTTP 422); args[0] names it."""


def can_see(principal: Principal, ticket: Ticket) -> bool:
    """Admins and auditors see everything; officers and supervisors their OPD's tickets."""
    if principal.role in (Role.ADMIN, Role.AUDITOR):
        return True
    return ticket.opd is not None and ticket.opd == principal.opd


def allowed_actions(principal: Principal, ticket: Ticket) -> list[Action]:
    """What this caller may do with this ticket now (for buttons in the console)."""
    actor = actors.staff(principal)
    return [
        a
        for a in Action
        if permitted(a, actor, opd=ticket.opd) and ticket.status in TABLE[a].sources
    ]


@dataclass(frozen=True)
class Request:
    action: Action
    note: str | None = None
    to_opd: str | None = None
    reason: str | None = None
    # Applied to a cluster's member because its primary (this code) took the action.
    cluster_primary: str | None = None


KEEP = object()  # the deadline stays as it is


def due_after(
    action: Action, now: datetime, calendar: WorkCalendar, *, resolution_working_days: int
) -> datetime | object | None:
    """The deadline once the action is done: a new one, None when nothing is pending on staff,
    or KEEP (`start` works toward the resolution deadline set at verification)."""
    if action is Action.TRANSFER:
        return sla.follow_up_due(now, calendar)
    if action in (Action.VERIFY, Action.REOPEN):
        return sla.resolution_due(now, calendar, days=resolution_working_days)
    if action is Action.START:
        return KEEP
    return None


def transition(
    ticket: Ticket,
    request: Request,
    *,
    principal: Principal,
    now: datetime,
    catalogue: Catalogue,
    calendar: WorkCalendar,
) -> Change:
    """Check and describe one transition; raises NotAllowed, RoleNotAllowed or Missing."""
    rule = check(request.action, actors.staff(principal), status=ticket.status, opd=ticket.opd)
    for needed in rule.needs:
        if not getattr(request, needed):
            raise Missing(needed)
    opd = ticket.opd
    if request.action is Action.TRANSFER:
        target = catalogue.opd(request.to_opd or "")
        if target is None:
            raise Missing("to_opd")
        if target.code == ticket.opd:
            raise NotAllowed("Laporan sudah di OPD itu. (The ticket is already there.)")
        opd = target.code
    if request.action is Action.REJECT and request.reason not in set(RejectReason):
        raise Missing("reason")
    due = due_after(
        request.action,
        now,
        calendar,
        resolution_working_days=sla.resolution_days(ticket, catalogue),
    )
    fields: dict[str, Any] = {"status": rule.target.value, "opd": opd, "updated_at": now}
    if request.action is Action.TRANSFER:
        fields["confidential"] = publication.confidential_when_assigned(
            requested=ticket.confidential_requested, current=ticket.confidential, opd=opd
        )
    if request.action in PAUSES:
        if ticket.status not in PAUSED_STATUSES:  # from one wait to the other: still paused
            fields.update(paused_at=now, paused_due_at=ticket.due_at, due_at=None)
        due = None
    elif ticket.status in PAUSED_STATUSES:  # leaving a pause (resume, resolve)
        resumed = sla.resumed_due_at(
            ticket.paused_due_at,
            paused_at=ticket.paused_at or now,
            resumed_at=now,
            calendar=calendar,
        )
        fields.update(paused_at=None, paused_due_at=None)
        if request.action is Action.RESUME:
            due = resumed
    if due is not KEEP:
        fields["due_at"] = due
    if request.action is Action.RESOLVE:
        fields["resolved_at"] = now
    if request.action in (Action.TRANSFER, Action.VERIFY, Action.REOPEN):
        fields["escalated_for"] = None
    public = rule.public_note or request.action is Action.TRANSFER
    note = request.note
    if request.action is Action.TRANSFER and target is not None:
        note = f"Dialihkan ke {target.name}. {request.note}"
    event = TicketTransitioned(
        action=request.action.value,
        from_status=ticket.status.value,
        to_status=rule.target.value,
        opd=opd,
        from_opd=ticket.opd if request.action is Action.TRANSFER else None,
        actor_role=principal.role.value,
        reason=request.reason,
        note=note if public else None,
        due_at=ticket.due_at if due is KEEP else due,
        submitted_at=ticket.submitted_at,
    )
    internal = note if note and not public else None
    if request.cluster_primary:
        together = f"Bersama kelompok, dari laporan utama {request.cluster_primary}."
        internal = " ".join(filter(None, [internal, together]))
    # Every status change shows on the public timeline; a note only where it is an answer.
    step = Step(
        at=now,
        actor=principal.username,
        action=request.action.value,
        from_status=ticket.status,
        to_status=rule.target,
        note=note if public else None,
        public=True,
        internal_note=internal,
        reason=request.reason,
    )
    return change(ticket, producer=PRODUCER, fields=fields, step=step, events=[event])


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    return ticket.due_at is not None and ticket.due_at < now and ticket.status in OPEN_STATUSES
