"""Pausing and resuming the SLA clock ("menunggu pelapor", "menunggu pihak ketiga") through
routing's staff use case (services/routing/staff.py `transition`) on the in-memory stores of
tests/fakes.py: what is stored (status, the held deadline, history, the event), the deadline
given back on resuming, and what is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from services.routing import staff, workflow
from shared.errors import Conflict, Forbidden, InvalidField, NotFound
from shared.events import EventType
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from shared.workdays import JAKARTA
from tests.fakes import AUDITOR, CODE, OFFICER, InMemoryTickets, a_ticket, routing_context

S = TicketStatus
A = workflow.Action
OTHER_OFFICER = Principal(username="dlh", role=Role.OFFICER, opd="DLH")
# 2026-11-23 is a Monday; no national holiday falls in the weeks these tests use.
MON = datetime(2026, 11, 23, 10, 0, tzinfo=JAKARTA)
DUE = datetime(2026, 12, 4, 16, 0, tzinfo=JAKARTA)  # a Friday


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the time the staff use cases read."""

    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(staff, "utcnow", lambda: moment)

    set_to(MON)
    return set_to


async def _act(
    tickets: InMemoryTickets,
    action: workflow.Action,
    note: str | None = None,
    *,
    by: Principal = OFFICER,
) -> None:
    request = workflow.Request(action=action, note=note)
    await staff.transition(routing_context(tickets), by, CODE, request, version=None)


async def test_waiting_for_the_citizen_holds_the_deadline_and_tells_why_publicly(
    clock: Callable[[datetime], None],
) -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, due_at=DUE))
    await _act(tickets, A.WAIT_CITIZEN, "Mohon kirim foto lokasi jalan yang rusak.")
    stored = tickets.stored(CODE)
    assert stored["status"] == "waiting_citizen" and stored["version"] == 2
    assert stored["due_at"] is None  # no clock runs while the OPD waits
    assert (stored["paused_at"], stored["paused_due_at"]) == (MON, DUE)
    [entry] = stored["history"]
    assert (entry["action"], entry["from"], entry["to"], entry["public"]) == (
        "wait_citizen",
        "in_progress",
        "waiting_citizen",
        True,
    )
    assert entry["note"] == "Mohon kirim foto lokasi jalan yang rusak."
    [event] = stored["outbox"]
    assert event["event_type"] == EventType.TICKET_TRANSITIONED
    payload = event["payload"]
    assert (payload["action"], payload["to_status"], payload["due_at"]) == (
        "wait_citizen",
        "waiting_citizen",
        None,
    )
    assert payload["note"] == "Mohon kirim foto lokasi jalan yang rusak."


async def test_resuming_gives_back_the_working_days_the_pause_took(
    clock: Callable[[datetime], None],
) -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, due_at=DUE))
    await _act(tickets, A.WAIT_THIRD_PARTY, "Menunggu jawaban BBWS tentang saluran.")
    clock(MON + timedelta(days=2, hours=5))  # Wednesday afternoon: Tuesday and Wednesday lost
    await _act(tickets, A.RESUME)
    stored = tickets.stored(CODE)
    assert stored["status"] == "in_progress"
    assert stored["due_at"] == datetime(2026, 12, 8, 16, 0, tzinfo=JAKARTA)  # Friday + 2: Tuesday
    assert stored["paused_at"] is None and stored["paused_due_at"] is None
    assert [h["action"] for h in stored["history"]] == ["wait_third_party", "resume"]
    resumed = stored["outbox"][-1]["payload"]
    assert resumed["action"] == "resume"
    assert datetime.fromisoformat(resumed["due_at"]) == stored["due_at"]


async def test_a_pause_over_the_weekend_only_costs_no_working_day(
    clock: Callable[[datetime], None],
) -> None:
    friday = MON + timedelta(days=4)
    clock(friday)
    tickets = InMemoryTickets(a_ticket(S.VERIFIED, due_at=DUE))
    await _act(tickets, A.WAIT_CITIZEN, "Mohon nomor rumah yang tepat.")
    clock(friday + timedelta(days=2))  # Sunday
    await _act(tickets, A.RESUME)
    assert tickets.stored(CODE)["due_at"] == DUE


async def test_moving_from_one_wait_to_the_other_keeps_the_same_pause(
    clock: Callable[[datetime], None],
) -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, due_at=DUE))
    await _act(tickets, A.WAIT_CITIZEN, "Mohon foto lokasi.")
    clock(MON + timedelta(days=1))
    await _act(tickets, A.WAIT_THIRD_PARTY, "Foto diterima; menunggu PLN memindahkan tiang.")
    stored = tickets.stored(CODE)
    assert stored["status"] == "waiting_third_party"
    assert (stored["paused_at"], stored["paused_due_at"], stored["due_at"]) == (MON, DUE, None)
    clock(MON + timedelta(days=3))  # Thursday: three working days since the pause began
    await _act(tickets, A.RESUME)
    assert tickets.stored(CODE)["due_at"] == datetime(2026, 12, 9, 16, 0, tzinfo=JAKARTA)


async def test_resolving_a_waiting_ticket_ends_the_pause_with_no_deadline_left(
    clock: Callable[[datetime], None],
) -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, due_at=DUE))
    await _act(tickets, A.WAIT_THIRD_PARTY, "Menunggu BBWS.")
    clock(MON + timedelta(days=1))
    await _act(tickets, A.RESOLVE, "Saluran sudah dibersihkan bersama BBWS.")
    stored = tickets.stored(CODE)
    assert stored["status"] == "resolved" and stored["resolved_at"] == MON + timedelta(days=1)
    assert stored["due_at"] is None and stored["paused_at"] is None


async def test_resuming_a_ticket_that_does_not_wait_is_refused_and_nothing_is_written(
    clock: Callable[[datetime], None],
) -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, due_at=DUE))
    with pytest.raises(Conflict):
        await _act(tickets, A.RESUME)
    routed = InMemoryTickets(a_ticket(S.ROUTED, due_at=DUE))  # not accepted by the OPD yet
    with pytest.raises(Conflict):
        await _act(routed, A.WAIT_CITIZEN, "Mohon foto.")
    assert tickets.writes == routed.writes == 0
    assert tickets.stored(CODE)["due_at"] == DUE


async def test_a_pause_needs_its_public_note_and_an_actor_of_the_opd(
    clock: Callable[[datetime], None],
) -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, due_at=DUE))
    with pytest.raises(InvalidField) as missing:
        await _act(tickets, A.WAIT_CITIZEN)  # the citizen must read what is awaited
    assert missing.value.detail[0]["loc"] == ["body", "note"]
    with pytest.raises(Forbidden):
        await _act(tickets, A.WAIT_CITIZEN, "Mohon foto.", by=AUDITOR)
    with pytest.raises(NotFound):
        await _act(tickets, A.WAIT_CITIZEN, "Mohon foto.", by=OTHER_OFFICER)
    assert tickets.writes == 0 and tickets.stored(CODE)["status"] == "in_progress"


async def test_a_resume_that_lost_its_race_keeps_the_pause_as_it_was(
    clock: Callable[[datetime], None],
) -> None:
    tickets = InMemoryTickets(
        a_ticket(S.WAITING_CITIZEN, due_at=None, paused_at=MON, paused_due_at=DUE)
    )
    clock(MON + timedelta(days=2))
    tickets.interfere(CODE, 1)  # someone else wrote between the read and this write
    with pytest.raises(Conflict):
        await _act(tickets, A.RESUME)
    stored = tickets.stored(CODE)
    assert stored["status"] == "waiting_citizen" and stored["paused_due_at"] == DUE
    assert tickets.writes == 0
