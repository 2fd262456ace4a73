"""Use cases on the in-memory ticket store (tests/fakes.py): `apply`'s retry loop, the
deadline scheduler's and housekeeping's passes and routing a submitted ticket, in milliseconds."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.routing import service
from services.routing.deadlines import DeadlineScheduler
from services.routing.housekeeping import Housekeeping, SignInAttempts
from shared.catalogue import packaged_catalogue
from shared.events import EventType
from shared.lifecycle import sla
from shared.lifecycle.changes import Change
from shared.lifecycle.repository import MAX_ATTEMPTS, ChangedMeanwhile
from shared.tickets import Reporter, Ticket, TicketStatus
from shared.workdays import WorkCalendar
from tests.fakes import CODE, NOW, InMemoryTickets, a_ticket

S = TicketStatus
CALENDAR = WorkCalendar()


def _mark(ticket: Ticket) -> Change:
    return Change(set_fields={"assigned_to": "dpupr"})


async def test_apply_makes_the_change_again_after_a_lost_race() -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS))
    tickets.interfere(CODE, 2)
    seen: list[int] = []

    def mark(ticket: Ticket) -> Change:
        seen.append(ticket.version)
        return _mark(ticket)

    updated = await tickets.apply(CODE, mark)
    assert updated is not None and updated.assigned_to == "dpupr"
    assert seen == [1, 2, 3] and tickets.writes == 1  # each attempt from a fresh read


async def test_apply_gives_up_after_its_attempts() -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS))
    tickets.interfere(CODE, MAX_ATTEMPTS)
    with pytest.raises(ChangedMeanwhile):
        await tickets.apply(CODE, _mark)
    assert tickets.writes == 0


async def test_apply_writes_nothing_when_there_is_nothing_to_do_or_no_ticket() -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS))
    assert await tickets.apply(CODE, lambda _t: None) is None
    assert await tickets.apply("LP-NONE-NONE", _mark) is None
    assert tickets.writes == 0


def _scheduler(tickets: InMemoryTickets) -> DeadlineScheduler:
    return DeadlineScheduler(tickets, CALENDAR)


def _housekeeping(
    tickets: InMemoryTickets,
    *,
    contact_retention: timedelta = timedelta(days=365),
    route_stale: Callable[[str], Awaitable[object]] | None = None,
    sign_in_attempts: SignInAttempts | None = None,
) -> Housekeeping:
    return Housekeeping(
        tickets,
        contact_retention=contact_retention,
        route_stale=route_stale,
        sign_in_attempts=sign_in_attempts,
    )


async def test_a_missed_deadline_is_escalated_once() -> None:
    due = NOW - timedelta(hours=2)
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, due_at=due))
    first = await _scheduler(tickets).run_once(NOW)
    again = await _scheduler(tickets).run_once(NOW + timedelta(minutes=5))  # a restart
    assert (first["escalated"], again["escalated"]) == (1, 0)
    stored = tickets.stored(CODE)
    assert stored["escalated_for"] == due
    [entry] = stored["history"]
    assert (entry["action"], entry["actor"], entry["public"]) == (
        "escalate",
        "sistem:tenggat",
        False,
    )
    [event] = stored["outbox"]
    assert event["event_type"] == EventType.TICKET_ESCALATED
    assert event["payload"]["stage"] == "resolution"


async def test_a_near_deadline_is_reminded_once_and_a_new_deadline_again() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED, due_at=NOW + timedelta(hours=3)))
    assert (await _scheduler(tickets).run_once(NOW))["reminded"] == 1
    assert (await _scheduler(tickets).run_once(NOW))["reminded"] == 0
    tickets.docs[CODE]["due_at"] = NOW + timedelta(hours=5)  # e.g. transferred meanwhile
    assert (await _scheduler(tickets).run_once(NOW))["reminded"] == 1
    assert [e["event_type"] for e in tickets.stored(CODE)["outbox"]] == [
        EventType.TICKET_DUE_SOON,
        EventType.TICKET_DUE_SOON,
    ]


async def test_a_resolution_closes_itself_only_after_the_dispute_window() -> None:
    resolved_at = NOW - timedelta(days=12)
    tickets = InMemoryTickets(a_ticket(S.RESOLVED, resolved_at=resolved_at))
    window_end = sla.dispute_deadline(resolved_at, CALENDAR)
    assert (await _scheduler(tickets).run_once(window_end))["closed"] == 0
    assert tickets.stored(CODE)["status"] == "resolved"
    after = CALENDAR.add_working_days(window_end, 1)
    assert (await _scheduler(tickets).run_once(after))["closed"] == 1
    stored = tickets.stored(CODE)
    assert stored["status"] == "closed" and stored["due_at"] is None
    assert stored["history"][-1]["action"] == "close"


async def test_contacts_are_purged_after_the_retention_only() -> None:
    reporter = Reporter(name="Siti", email="siti@example.org")
    old = a_ticket(S.CLOSED, "LP-OLDD-AAAA", reporter=reporter)
    recent = a_ticket(S.CLOSED, "LP-NEWW-BBBB", reporter=reporter, updated_at=NOW)
    tickets = InMemoryTickets(old, recent)
    done = await _housekeeping(tickets, contact_retention=timedelta(days=10)).run_once(NOW)
    assert done["purged"] == 1
    assert tickets.stored("LP-OLDD-AAAA")["reporter"] is None
    assert tickets.stored("LP-OLDD-AAAA")["reporter_purged_at"] == NOW
    assert tickets.stored("LP-NEWW-BBBB")["reporter"]["email"] == "siti@example.org"


async def test_stale_submitted_tickets_are_handed_to_routing() -> None:
    tickets = InMemoryTickets(a_ticket(S.SUBMITTED), a_ticket(S.SUBMITTED, "LP-NEWW-CCCC"))
    tickets.docs["LP-NEWW-CCCC"]["submitted_at"] = NOW - timedelta(minutes=1)
    asked: list[str] = []

    async def route(code: str) -> bool:
        asked.append(code)
        return True

    done = await _housekeeping(tickets, route_stale=route).run_once(NOW)
    assert asked == [CODE] and done["rerouted"] == 1


class SignInAttemptsKept:
    """Stands in for the sign-in throttle's store: records each purge's cutoff."""

    def __init__(self) -> None:
        self.window = timedelta(minutes=15)
        self.cutoffs: list[datetime] = []

    async def purge_before(self, cutoff: datetime) -> None:
        self.cutoffs.append(cutoff)


async def test_the_retention_purges_run_at_most_once_an_hour_and_rerouting_every_pass() -> None:
    reporter = Reporter(name="Siti", email="siti@example.org")
    tickets = InMemoryTickets(a_ticket(S.SUBMITTED), a_ticket(S.CLOSED, "LP-OLDD-AAAA"))
    attempts = SignInAttemptsKept()
    asked: list[str] = []

    async def route(code: str) -> bool:
        asked.append(code)
        return True

    chores = _housekeeping(
        tickets,
        contact_retention=timedelta(days=10),
        route_stale=route,
        sign_in_attempts=attempts,
    )
    first = await chores.run_once(NOW)
    tickets.docs["LP-OLDD-AAAA"]["reporter"] = reporter.model_dump()  # kept again meanwhile
    soon = await chores.run_once(NOW + timedelta(minutes=59))
    later = await chores.run_once(NOW + timedelta(hours=1))
    assert attempts.cutoffs == [NOW - attempts.window, NOW + timedelta(minutes=45)]
    assert (first["purged"], soon["purged"], later["purged"]) == (0, 0, 1)
    assert asked == [CODE] * 3, "stale tickets are handed to routing on every pass"


async def test_the_deadline_pass_leaves_the_housekeeping_alone() -> None:
    reporter = Reporter(name="Siti", email="siti@example.org")
    tickets = InMemoryTickets(a_ticket(S.SUBMITTED), a_ticket(S.CLOSED, "LP-OLDD-AAAA"))
    tickets.docs["LP-OLDD-AAAA"]["reporter"] = reporter.model_dump()
    done = await _scheduler(tickets).run_once(NOW + timedelta(days=400))
    assert done == {"escalated": 0, "reminded": 0, "closed": 0}
    assert tickets.stored("LP-OLDD-AAAA")["reporter"]["email"] == "siti@example.org"
    assert tickets.writes == 0


async def test_a_submitted_ticket_is_routed_once_with_its_deadline() -> None:
    tickets = InMemoryTickets(a_ticket(S.SUBMITTED, submitted_at=NOW - timedelta(minutes=1)))
    routed, replay = [
        await service.route_submitted_ticket(
            tracking_code=CODE,
            tickets=tickets,
            catalogue=packaged_catalogue(),
            threshold=0.5,
            calendar=CALENDAR,
        )
        for _ in range(2)
    ]
    assert (routed, replay) == (True, False) and tickets.writes == 1
    stored = tickets.stored(CODE)
    status = TicketStatus(stored["status"])
    assert status in (S.ROUTED, S.TRIAGE)
    routed_at = stored["updated_at"]
    assert stored["due_at"] == sla.due_after_routing(
        status, submitted_at=stored["submitted_at"], routed_at=routed_at, calendar=CALENDAR
    )
    [entry] = stored["history"]
    assert (entry["action"], entry["actor"], entry["to"]) == ("route", "sistem:router", status)
    [event] = stored["outbox"]
    expected = EventType.TICKET_ROUTED if status is S.ROUTED else EventType.TICKET_TRIAGED
    assert event["event_type"] == expected and event["producer"] == "routing"


async def test_routing_decides_again_after_a_lost_race_and_a_vanished_ticket_is_skipped() -> None:
    tickets = InMemoryTickets(a_ticket(S.SUBMITTED, submitted_at=NOW - timedelta(minutes=1)))
    tickets.interfere(CODE, 1)
    catalogue = packaged_catalogue()
    routed = await service.route_submitted_ticket(
        tracking_code=CODE, tickets=tickets, catalogue=catalogue, threshold=0.5, calendar=CALENDAR
    )
    assert routed and tickets.writes == 1
    assert len(tickets.stored(CODE)["history"]) == 1  # one routing step, not two
    gone = await service.route_submitted_ticket(
        tracking_code="LP-GONE-GONE",
        tickets=tickets,
        catalogue=catalogue,
        threshold=0.5,
        calendar=CALENDAR,
    )
    assert gone is False


def _skipped(step: str) -> float:
    found = REGISTRY.get_sample_value("pengaduan_deadline_tickets_skipped_total", {"step": step})
    return found or 0.0


async def test_housekeeping_skips_a_malformed_ticket_reports_it_once_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reporter = Reporter(name="Siti", email="siti@example.org")
    broken = a_ticket(S.CLOSED, "LP-BROK-ENNN", reporter=reporter)
    tickets = InMemoryTickets(broken, a_ticket(S.CLOSED, "LP-OLDD-AAAA", reporter=reporter))
    tickets.docs["LP-BROK-ENNN"]["kind"] = "bukan-jenis"
    chores = _housekeeping(tickets, contact_retention=timedelta(days=10))
    before = _skipped("purge")
    with caplog.at_level(logging.ERROR, logger="services.routing.housekeeping"):
        done = await chores.purge_contacts(NOW)
        again = await chores.purge_contacts(NOW)
    assert (done, again) == (1, 0)
    assert tickets.stored("LP-OLDD-AAAA")["reporter"] is None
    assert _skipped("purge") - before == 2, "counted on both passes"
    assert [m for m in caplog.messages if "is invalid" in m] == [
        "housekeeping pass: ticket LP-BROK-ENNN is invalid (ValidationError); skipped"
    ], "reported once"
