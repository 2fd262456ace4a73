"""The transition table (ARCHITECTURE.md's, extended by pauses): for every actor, which step
goes from which status to which, and what it needs.

Staff take `Action`s (the API's `action`); the citizen takes `CitizenAction`s (confirm and
dispute, from the tracking page or the API); the system takes `SystemAction`s (the router's
routing and triage, the clock's automatic close).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.lifecycle.actors import OPD_STAFF, Actor, ActorRole
from shared.lifecycle.statuses import PAUSED_STATUSES
from shared.tickets import TicketStatus

S = TicketStatus
R = ActorRole


class Action(StrEnum):
    """A staff member's action on a ticket."""

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


class CitizenAction(StrEnum):
    """The reporter's answer to a resolution (the value is the history's action)."""

    CONFIRM = "citizen_confirm"
    DISPUTE = "citizen_dispute"


class SystemAction(StrEnum):
    """What the system does on its own."""

    ROUTE = "route"  # the router assigns an OPD
    TRIAGE = "triage"  # the router is unsure: the admin koordinator's queue
    AUTO_CLOSE = "auto_close"  # no reply to a resolution within the dispute window


Step = Action | CitizenAction | SystemAction


class RejectReason(StrEnum):
    INVALID = "invalid"
    SPAM = "spam"
    DUPLICATE = "duplicate"
    OUT_OF_AUTHORITY = "out_of_authority"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[TicketStatus]
    target: TicketStatus
    # Who may take the step; officers and supervisors only on a ticket of their own OPD.
    by: frozenset[ActorRole]
    needs: tuple[str, ...] = ()
    public_note: bool = False
    # The action the history and the event record, when it is not the step's own name.
    recorded_as: str | None = None


_STAFF = frozenset({*OPD_STAFF, R.ADMIN})
_WORKING = frozenset({S.VERIFIED, S.IN_PROGRESS})
TABLE: dict[Step, Rule] = {
    Action.TRANSFER: Rule(
        frozenset({S.TRIAGE, S.ROUTED, S.VERIFIED}), S.ROUTED, _STAFF, ("to_opd", "note")
    ),
    Action.VERIFY: Rule(frozenset({S.ROUTED}), S.VERIFIED, _STAFF),
    Action.START: Rule(frozenset({S.VERIFIED}), S.IN_PROGRESS, _STAFF),
    Action.RESOLVE: Rule(
        frozenset({*_WORKING, *PAUSED_STATUSES}), S.RESOLVED, _STAFF, ("note",), public_note=True
    ),
    Action.REJECT: Rule(
        frozenset({S.TRIAGE, S.ROUTED, S.VERIFIED}),
        S.REJECTED,
        frozenset({R.SUPERVISOR, R.ADMIN}),
        ("reason", "note"),
        public_note=True,
    ),
    Action.CLOSE: Rule(frozenset({S.RESOLVED}), S.CLOSED, frozenset({R.ADMIN})),
    Action.REOPEN: Rule(
        frozenset({S.RESOLVED, S.CLOSED}),
        S.IN_PROGRESS,
        frozenset({R.ADMIN}),
        ("note",),
        public_note=True,
    ),
    # The deadline pauses while the OPD waits; the note says for what (it is public).
    Action.WAIT_CITIZEN: Rule(
        frozenset({*_WORKING, S.WAITING_THIRD_PARTY}),
        S.WAITING_CITIZEN,
        _STAFF,
        ("note",),
        public_note=True,
    ),
    Action.WAIT_THIRD_PARTY: Rule(
        frozenset({*_WORKING, S.WAITING_CITIZEN}),
        S.WAITING_THIRD_PARTY,
        _STAFF,
        ("note",),
        public_note=True,
    ),
    Action.RESUME: Rule(frozenset(PAUSED_STATUSES), S.IN_PROGRESS, _STAFF),
    CitizenAction.CONFIRM: Rule(frozenset({S.RESOLVED}), S.CLOSED, frozenset({R.CITIZEN})),
    CitizenAction.DISPUTE: Rule(
        frozenset({S.RESOLVED, S.CLOSED}), S.IN_PROGRESS, frozenset({R.CITIZEN}), ("message",)
    ),
    SystemAction.ROUTE: Rule(frozenset({S.SUBMITTED}), S.ROUTED, frozenset({R.SYSTEM})),
    SystemAction.TRIAGE: Rule(
        frozenset({S.SUBMITTED}), S.TRIAGE, frozenset({R.SYSTEM}), recorded_as="route"
    ),
    SystemAction.AUTO_CLOSE: Rule(
        frozenset({S.RESOLVED}), S.CLOSED, frozenset({R.SYSTEM}), recorded_as="close"
    ),
}
PAUSES = frozenset({Action.WAIT_CITIZEN, Action.WAIT_THIRD_PARTY})


class NotAllowed(Exception):
    """The step is not allowed from the ticket's status (HTTP 409)."""


class RoleNotAllowed(Exception):
    """The actor may not take this step on this ticket (HTTP 403)."""


def recorded_as(step: Step) -> str:
    """The action name the history and events record for the step."""
    return TABLE[step].recorded_as or step.value


def permitted(step: Step, actor: Actor, *, opd: str | None) -> bool:
    """May `actor` take `step` on a ticket of `opd` (whatever its status)?"""
    if actor.role not in TABLE[step].by:
        return False
    if actor.role in OPD_STAFF:
        return opd is not None and opd == actor.opd
    return True


def allows(step: Step, status: TicketStatus) -> bool:
    return status in TABLE[step].sources


def check(step: Step, actor: Actor, *, status: TicketStatus, opd: str | None) -> Rule:
    """The rule of a step the actor may take now; raises RoleNotAllowed or NotAllowed."""
    if not permitted(step, actor, opd=opd):
        raise RoleNotAllowed(step)
    if not allows(step, status):
        raise NotAllowed(
            f"'{step}' tidak bisa dari status '{status}'. "
            f"('{step}' is not allowed from '{status}'.)"
        )
    return TABLE[step]
