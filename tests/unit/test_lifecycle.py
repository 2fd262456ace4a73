"""The lifecycle (shared.lifecycle): one table for every actor, one set of SLA rules, one set
of status groups, and the same deadline for a dispute as for an admin's reopen."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.intake import complaints
from services.routing import deadlines, workflow
from shared.catalogue import Catalogue, packaged_catalogue
from shared.events import EventType, TicketEscalated
from shared.lifecycle import actors, sla, statuses
from shared.lifecycle.actors import Actor, ActorRole
from shared.lifecycle.changes import Step, change
from shared.lifecycle.table import TABLE, Action, CitizenAction, SystemAction, permitted
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from shared.workdays import WorkCalendar
from tests.fakes import NOW, a_ticket

S = TicketStatus
CALENDAR = WorkCalendar()
CATALOGUE = packaged_catalogue()
ADMIN = Principal(username="admin", role=Role.ADMIN)


def _with_resolution_days(days: int | None) -> Catalogue:
    return CATALOGUE.model_copy(
        update={
            "categories": tuple(
                c.model_copy(update={"resolution_working_days": days})
                if c.code == "jalan-rusak"
                else c
                for c in CATALOGUE.categories
            )
        }
    )


@pytest.mark.parametrize("days", [None, 3, 30])
def test_a_dispute_reopens_with_the_same_deadline_as_an_admins_reopen(days: int | None) -> None:
    """DOMAIN.md: resolution within the category's working days (14 by default); a reopened
    ticket is worked toward that deadline again, whoever reopened it."""
    catalogue = _with_resolution_days(days)
    ticket = a_ticket(S.RESOLVED, resolved_at=NOW - timedelta(days=1))
    disputed = complaints.citizen_follow_up(
        ticket,
        action="dispute",
        message="Jalannya belum diperbaiki.",
        now=NOW,
        calendar=CALENDAR,
        resolution_working_days=sla.resolution_days(ticket, catalogue),
    )
    reopened = workflow.transition(
        ticket,
        workflow.Request(action=Action.REOPEN, note="Dibuka lagi."),
        principal=ADMIN,
        now=NOW,
        catalogue=catalogue,
        calendar=CALENDAR,
    )
    expected = CALENDAR.add_working_days(NOW, days or 14)
    assert disputed.set_fields["due_at"] == reopened.set_fields["due_at"] == expected
    assert disputed.set_fields["status"] == reopened.set_fields["status"] == "in_progress"


def test_the_status_groups_partition_the_statuses() -> None:
    everything = frozenset(TicketStatus)
    open_ = frozenset(statuses.OPEN_STATUSES)
    assert open_ | statuses.ANSWERED_STATUSES == everything
    assert not open_ & statuses.ANSWERED_STATUSES
    assert statuses.FINAL_STATUSES < statuses.ANSWERED_STATUSES
    assert everything - statuses.FINAL_STATUSES == statuses.NOT_FINAL_STATUSES
    assert set(statuses.PAUSED_STATUSES) < open_


@pytest.mark.parametrize(
    ("actor", "steps"),
    [
        (actors.CITIZEN, set(CitizenAction)),
        (actors.ROUTER, set(SystemAction)),
        (actors.CLOCK, set(SystemAction)),
        (Actor("admin", ActorRole.ADMIN), set(Action)),
        (Actor("auditor", ActorRole.AUDITOR), set()),
        (
            Actor("dpupr", ActorRole.OFFICER, opd="DPUPR"),
            set(Action) - {Action.REJECT, Action.CLOSE, Action.REOPEN},
        ),
        (
            Actor("dpupr-kepala", ActorRole.SUPERVISOR, opd="DPUPR"),
            set(Action) - {Action.CLOSE, Action.REOPEN},
        ),
        (Actor("dlh", ActorRole.OFFICER, opd="DLH"), set()),
    ],
)
def test_each_actor_takes_only_its_own_steps(actor: Actor, steps: set[object]) -> None:
    assert {step for step in TABLE if permitted(step, actor, opd="DPUPR")} == steps


def test_staff_buttons_never_offer_a_citizen_or_system_step() -> None:
    for status in TicketStatus:
        offered = workflow.allowed_actions(ADMIN, a_ticket(status))
        assert all(isinstance(a, Action) for a in offered)


def test_the_citizen_and_the_system_steps_follow_the_table() -> None:
    assert TABLE[CitizenAction.CONFIRM].sources == {S.RESOLVED}
    assert TABLE[CitizenAction.CONFIRM].target is S.CLOSED
    assert TABLE[CitizenAction.DISPUTE].sources == {S.RESOLVED, S.CLOSED}
    assert TABLE[CitizenAction.DISPUTE].target is S.IN_PROGRESS
    assert TABLE[SystemAction.AUTO_CLOSE].sources == TABLE[Action.CLOSE].sources
    for routing in (SystemAction.ROUTE, SystemAction.TRIAGE):
        assert TABLE[routing].sources == {S.SUBMITTED}


def test_the_automatic_close_is_a_close_by_the_system() -> None:
    closed = deadlines.auto_close(a_ticket(S.RESOLVED, resolved_at=NOW), NOW)
    assert closed is not None
    assert closed.set_fields == {"status": "closed", "updated_at": NOW, "due_at": None}
    entry = closed.push["history"][0]
    assert (entry["actor"], entry["action"], entry["from"], entry["to"]) == (
        "sistem:tenggat",
        "close",
        "resolved",
        "closed",
    )
    [event] = closed.push["outbox"]
    assert event["event_type"] == EventType.TICKET_TRANSITIONED
    assert event["payload"]["actor_role"] == "system" and event["payload"]["action"] == "close"
    assert deadlines.auto_close(a_ticket(S.IN_PROGRESS), NOW) is None


def test_the_dispute_window_is_the_auto_close_window() -> None:
    resolved = NOW  # Thursday 26 November 2026
    last = sla.dispute_deadline(resolved, CALENDAR)
    assert CALENDAR.working_days_between(resolved, last) == sla.CLOSE_AFTER_WORKING_DAYS
    assert sla.may_dispute(resolved, last, CALENDAR)
    assert not sla.closes_unanswered(resolved, last, CALENDAR)
    next_day = CALENDAR.add_working_days(last, 1)
    assert not sla.may_dispute(resolved, next_day, CALENDAR)
    assert sla.closes_unanswered(resolved, next_day, CALENDAR)


def test_routing_deadlines_come_from_the_sla_rules() -> None:
    submitted = NOW - timedelta(hours=1)
    routed = sla.due_after_routing(
        S.ROUTED, submitted_at=submitted, routed_at=NOW, calendar=CALENDAR
    )
    triaged = sla.due_after_routing(
        S.TRIAGE, submitted_at=submitted, routed_at=NOW, calendar=CALENDAR
    )
    assert routed == CALENDAR.add_working_days(NOW, sla.FOLLOW_UP_WORKING_DAYS)
    assert triaged == CALENDAR.add_working_days(submitted, sla.ROUTING_WORKING_DAYS)


def test_one_helper_builds_history_and_outbox_entries() -> None:
    ticket = a_ticket(S.IN_PROGRESS, due_at=NOW)
    event = TicketEscalated(opd="DPUPR", status="in_progress", due_at=NOW)
    step = Step(
        at=NOW,
        actor="sistem:tenggat",
        action="escalate",
        from_status=S.IN_PROGRESS,
        to_status=S.IN_PROGRESS,
        public=False,
        internal_note="Lewat tenggat.",
        reason="late",
    )
    made = change(ticket, producer="routing", fields={"x": 1}, step=step, events=[event])
    assert made.set_fields == {"x": 1} and made.event is event
    [entry] = made.push["history"]
    assert entry["public"] is False and entry["internal_note"] == "Lewat tenggat."
    assert entry["reason"] == "late" and entry["note"] is None
    [stored] = made.push["outbox"]
    assert stored["producer"] == "routing" and stored["ticket_id"] == ticket.tracking_code
    assert stored["correlation_id"] == "c"
    # The ticket's submitted_at rides along, so a consumer places the event without a read.
    assert datetime.fromisoformat(stored["payload"]["submitted_at"]) == ticket.submitted_at
