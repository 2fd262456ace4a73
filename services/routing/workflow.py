"""The ticket lifecycle as an explicit state machine (ARCHITECTURE.md's transition table).

Pure: who may do which action from which status, what each action needs, and the change it
makes to the ticket (fields, history entry, event). No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.routing import pauses
from shared import publication
from shared.auth import Principal, Role
from shared.catalogue import Catalogue
from shared.events import TicketTransitioned
from shared.outbox import outbox_entry
from shared.tickets import Ticket, TicketStatus, history_entry
from shared.workdays import WorkCalendar

S = TicketStatus
PRODUCER = "routing"
FOLLOW_UP_WORKING_DAYS = 5
RESOLUTION_WORKING_DAYS = 14
PAUSED_STATUSES = (S.WAITING_CITIZEN, S.WAITING_THIRD_PARTY)
OPEN_STATUSES = (S.SUBMITTED, S.TRIAGE, S.ROUTED, S.VERIFIED, S.IN_PROGRESS, *PAUSED_STATUSES)


class Action(StrEnum):
    TRANSFER = "transfer"
    VERIFY = "verify"
    START = "start"
    RESOLVE = "resolve"
    REJECT = "reject"
    CLOSE = "close"
    REOPEN = "reopen"
    WAIT_CITIZEN = "wait_citizen"
    WAIT_THIRD_PARTY = "wait_third_party"
    RESUME = "resume"


class RejectReason(StrEnum):
    INVALID = "invalid"
    SPAM = "spam"
    DUPLICATE = "duplicate"
    OUT_OF_AUTHORITY = "out_of_authority"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[TicketStatus]
    target: TicketStatus
    # Roles that may act on a ticket of their own OPD; admins may always act.
    opd_roles: frozenset[Role]
    needs: tuple[str, ...] = ()
    public_note: bool = False


_OPD_STAFF = frozenset({Role.OFFICER, Role.SUPERVISOR})
TABLE: dict[Action, Rule] = {
    Action.TRANSFER: Rule(
        frozenset({S.TRIAGE, S.ROUTED, S.VERIFIED}), S.ROUTED, _OPD_STAFF, ("to_opd", "note")
    ),
    Action.VERIFY: Rule(frozenset({S.ROUTED}), S.VERIFIED, _OPD_STAFF),
    Action.START: Rule(frozenset({S.VERIFIED}), S.IN_PROGRESS, _OPD_STAFF),
    Action.RESOLVE: Rule(
        frozenset({S.VERIFIED, S.IN_PROGRESS, *PAUSED_STATUSES}),
        S.RESOLVED,
        _OPD_STAFF,
        ("note",),
        public_note=True,
    ),
    Action.REJECT: Rule(
        frozenset({S.TRIAGE, S.ROUTED, S.VERIFIED}),
        S.REJECTED,
        frozenset({Role.SUPERVISOR}),
        ("reason", "note"),
        public_note=True,
    ),
    Action.CLOSE: Rule(frozenset({S.RESOLVED}), S.CLOSED, frozenset()),
    Action.REOPEN: Rule(
        frozenset({S.RESOLVED, S.CLOSED}), S.IN_PROGRESS, frozenset(), ("note",), public_note=True
    ),
    # The deadline pauses while the OPD waits; the note says for what (it is public).
    Action.WAIT_CITIZEN: Rule(
        frozenset({S.VERIFIED, S.IN_PROGRESS, S.WAITING_THIRD_PARTY}),
        S.WAITING_CITIZEN,
        _OPD_STAFF,
        ("note",),
        public_note=True,
    ),
    Action.WAIT_THIRD_PARTY: Rule(
        frozenset({S.VERIFIED, S.IN_PROGRESS, S.WAITING_CITIZEN}),
        S.WAITING_THIRD_PARTY,
        _OPD_STAFF,
        ("note",),
        public_note=True,
    ),
    Action.RESUME: Rule(frozenset(PAUSED_STATUSES), S.IN_PROGRESS, _OPD_STAFF),
}
PAUSES = frozenset({Action.WAIT_CITIZEN, Action.WAIT_THIRD_PARTY})


class NotAllowed(Exception):
    """The action is not allowed now (HTTP 409)."""


class RoleNotAllowed(Exception):
    """The caller's role may not take this action on this ticket (HTTP 403)."""


class Missing(Exception):
    """A field the action needs is missing or invalid (HTTP 422); args[0] names it."""


def can_see(principal: Principal, ticket: Ticket) -> bool:
    """Admins and auditors see everything; officers and supervisors their OPD's tickets."""
    if principal.role in (Role.ADMIN, Role.AUDITOR):
        return True
    return ticket.opd is not None and ticket.opd == principal.opd


def allowed_actions(principal: Principal, ticket: Ticket) -> list[Action]:
    """What this caller may do with this ticket now (for buttons in the console)."""
    return [
        a for a in Action if _permitted(principal, ticket, a) and ticket.status in TABLE[a].sources
    ]


def _permitted(principal: Principal, ticket: Ticket, action: Action) -> bool:
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.AUDITOR or not can_see(principal, ticket):
        return False
    return principal.role in TABLE[action].opd_roles


@dataclass(frozen=True)
class Request:
    action: Action
    note: str | None = None
    to_opd: str | None = None
    reason: str | None = None
    # Applied to a cluster's member because its primary (this code) took the action.
    cluster_primary: str | None = None


@dataclass(frozen=True)
class Change:
    set_fields: dict[str, Any]
    push: dict[str, list[Any]] = field(default_factory=dict)
    event: TicketTransitioned | None = None


KEEP = object()  # the deadline stays as it is


def resolution_days(ticket: Ticket, catalogue: Catalogue) -> int:
    """The category's resolution deadline in working days, else the default 14."""
    category = catalogue.category(ticket.category) if ticket.category else None
    days = category.resolution_working_days if category else None
    return days or RESOLUTION_WORKING_DAYS


def due_after(
    action: Action, now: datetime, calendar: WorkCalendar, *, resolution_working_days: int
) -> datetime | object | None:
    """The deadline once the action is done: a new one, None when nothing is pending on staff,
    or KEEP (`start` works toward the resolution deadline set at verification)."""
    if action is Action.TRANSFER:
        return calendar.add_working_days(now, FOLLOW_UP_WORKING_DAYS)
    if action in (Action.VERIFY, Action.REOPEN):
        return calendar.add_working_days(now, resolution_working_days)
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
    rule = TABLE[request.action]
    if not _permitted(principal, ticket, request.action):
        raise RoleNotAllowed(request.action)
    if ticket.status not in rule.sources:
        raise NotAllowed(
            f"'{request.action}' tidak bisa dari status '{ticket.status}'. "
            f"('{request.action}' is not allowed from '{ticket.status}'.)"
        )
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
        request.action, now, calendar, resolution_working_days=resolution_days(ticket, catalogue)
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
        resumed = pauses.resumed_due_at(
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
    # Every status change shows on the public timeline; a note only where it is an answer.
    entry = history_entry(
        at=now,
        actor=principal.username,
        action=request.action.value,
        from_status=ticket.status,
        to_status=rule.target,
        note=note if public else None,
        public=True,
    )
    if note and not public:
        entry["internal_note"] = note
    if request.cluster_primary:
        together = f"Bersama kelompok, dari laporan utama {request.cluster_primary}."
        entry["internal_note"] = " ".join(filter(None, [entry.get("internal_note"), together]))
    if request.reason:
        entry["reason"] = request.reason
    return Change(
        set_fields=fields,
        push={
            "history": [entry],
            "outbox": [
                outbox_entry(
                    event.envelope(
                        ticket_id=ticket.tracking_code,
                        producer=PRODUCER,
                        correlation_id=ticket.correlation_id,
                    )
                )
            ],
        },
        event=event,
    )


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    return ticket.due_at is not None and ticket.due_at < now and ticket.status in OPEN_STATUSES
