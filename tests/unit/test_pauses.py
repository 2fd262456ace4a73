"""Paused deadlines: "menunggu pelapor" and "menunggu pihak ketiga" stop the SLA clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.routing import pauses, workflow
from services.routing.workflow import Action
from shared.catalogue import packaged_catalogue
from shared.tickets import Ticket, TicketStatus
from shared.workdays import JAKARTA, WorkCalendar
from tests.fakes import OFFICER

CALENDAR = WorkCalendar(national=False)
# 2026-11-23 is a Monday; times are 10:00 in Jakarta.
MON = datetime(2026, 11, 23, 10, 0, tzinfo=JAKARTA)
FRI = MON + timedelta(days=4)


def _at(base: datetime, days: int = 0, hours: int = 0) -> datetime:
    return base + timedelta(days=days, hours=hours)


@pytest.mark.parametrize(
    ("paused", "resumed", "days"),
    [
        (MON, _at(MON, hours=5), 0),  # within one day
        (FRI, _at(FRI, days=2), 0),  # Friday to Sunday: only the weekend
        (FRI, _at(FRI, days=3), 1),  # Friday to Monday: Monday is lost
        (MON, _at(MON, days=7), 5),  # a whole week
        (_at(FRI, days=1), _at(FRI, days=3, hours=-1), 1),  # Saturday to Monday 09:00
    ],
)
def test_a_pause_lasts_the_working_days_it_crossed(
    paused: datetime, resumed: datetime, days: int
) -> None:
    assert pauses.paused_working_days(paused, resumed, CALENDAR) == days


def test_resuming_moves_the_deadline_by_the_pause_in_working_days() -> None:
    due = _at(MON, days=3)  # Thursday
    moved = pauses.resumed_due_at(
        due, paused_at=MON, resumed_at=_at(MON, days=2), calendar=CALENDAR
    )
    assert moved == _at(MON, days=7)  # two working days later: the next Monday
    assert moved is not None and moved.astimezone(JAKARTA).hour == 10


def test_holidays_during_a_pause_are_not_counted_and_the_deadline_skips_them() -> None:
    holiday = date(2026, 11, 25)  # the Wednesday
    calendar = WorkCalendar([holiday], national=False)
    due = _at(MON, days=4)  # Friday
    moved = pauses.resumed_due_at(
        due, paused_at=MON, resumed_at=_at(MON, days=3), calendar=calendar
    )
    # Tuesday and Thursday were lost (Wednesday is off): Friday + 2 working days = Tuesday.
    assert moved == _at(MON, days=8)


def test_an_overdue_ticket_stays_overdue_by_the_same_working_days() -> None:
    due = _at(MON, days=-3)  # the Friday before: already missed
    moved = pauses.resumed_due_at(
        due, paused_at=MON, resumed_at=_at(MON, days=1), calendar=CALENDAR
    )
    assert moved == MON  # one working day later, still before the resumption
    assert pauses.resumed_due_at(None, paused_at=MON, resumed_at=FRI, calendar=CALENDAR) is None


def _ticket(status: TicketStatus, **fields: object) -> Ticket:
    return Ticket.model_validate(
        {
            "tracking_code": "LP-ABCD-EFGH",
            "status": status,
            "kind": "complaint",
            "description": "Jembatan ambrol",
            "reply_token_hash": "x",
            "submitted_at": MON,
            "updated_at": MON,
            "correlation_id": "c",
            "opd": "DPUPR",
            **fields,
        }
    )


def _do(ticket: Ticket, action: Action, now: datetime, note: str | None = None) -> workflow.Change:
    return workflow.transition(
        ticket,
        workflow.Request(action=action, note=note),
        principal=OFFICER,
        now=now,
        catalogue=packaged_catalogue(),
        calendar=CALENDAR,
    )


def test_waiting_stops_the_clock_and_resuming_restarts_it_extended() -> None:
    due = _at(MON, days=10).astimezone(UTC)
    change = _do(
        _ticket(TicketStatus.IN_PROGRESS, due_at=due),
        Action.WAIT_CITIZEN,
        MON,
        note="Mohon kirim foto lokasi jembatan.",
    )
    fields = change.set_fields
    assert fields["status"] == "waiting_citizen" and fields["due_at"] is None
    assert fields["paused_at"] == MON and fields["paused_due_at"] == due
    entry = change.push["history"][0]
    assert entry["public"] and entry["note"] == "Mohon kirim foto lokasi jembatan."
    assert change.event is not None and change.event.due_at is None

    waiting = _ticket(TicketStatus.WAITING_CITIZEN, paused_at=MON, paused_due_at=due)
    assert not workflow.is_overdue(waiting, _at(MON, days=30))  # no clock while waiting
    other = _do(waiting, Action.WAIT_THIRD_PARTY, _at(MON, days=1), note="Menunggu BBWS")
    assert "paused_at" not in other.set_fields  # still the same pause
    resumed = _do(waiting, Action.RESUME, _at(MON, days=3))
    assert resumed.set_fields["status"] == "in_progress"
    assert resumed.set_fields["due_at"] == CALENDAR.add_working_days(due, 3)
    assert resumed.set_fields["paused_at"] is None and resumed.set_fields["paused_due_at"] is None
    assert resumed.push["history"][0]["action"] == "resume"


def test_resolving_a_waiting_ticket_ends_the_pause_without_a_deadline() -> None:
    waiting = _ticket(TicketStatus.WAITING_THIRD_PARTY, paused_at=MON, paused_due_at=FRI)
    change = _do(waiting, Action.RESOLVE, _at(MON, days=2), note="Sudah diperbaiki BBWS.")
    assert change.set_fields["status"] == "resolved" and change.set_fields["due_at"] is None
    assert change.set_fields["paused_at"] is None


def test_waiting_needs_a_note_saying_for_what() -> None:
    with pytest.raises(workflow.Missing):
        _do(_ticket(TicketStatus.VERIFIED), Action.WAIT_THIRD_PARTY, MON)
