"""The officers' lists and counts (services/routing/staff.py `list_tickets`, `counts`), the
breach forecast (throughput.py) and the backlog gauges (ops_counts.py) on the in-memory stores
of tests/fakes.py: scope, filters, order and paging, and what each leaves out or refuses."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.routing import ops_counts, staff, throughput
from services.routing.queries import TicketFilter
from shared.catalogue import packaged_catalogue
from shared.errors import InvalidField
from shared.events import utcnow
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from tests.fakes import (
    ADMIN,
    AUDITOR,
    HEAD,
    OFFICER,
    InMemoryAccounts,
    InMemoryBacklog,
    InMemoryQueries,
    InMemoryTickets,
    a_ticket,
    an_account,
    routing_context,
)

S = TicketStatus
NOW = utcnow()
LATE = NOW - timedelta(days=2)
LATER = NOW + timedelta(days=9)


def _code(n: int) -> str:
    return f"LP-TEST-{n:04d}"


def _desk() -> InMemoryTickets:
    """Nine tickets: DPUPR's open, late, paused, answered; DLH's; one in triage; a canary's."""
    return InMemoryTickets(
        a_ticket(S.VERIFIED, _code(1), due_at=LATE, submitted_at=NOW - timedelta(days=9)),
        a_ticket(S.IN_PROGRESS, _code(2), due_at=LATER, assigned_to="dpupr"),
        a_ticket(S.WAITING_CITIZEN, _code(3), due_at=None, paused_due_at=LATE),
        a_ticket(S.RESOLVED, _code(4), due_at=LATE, resolved_at=NOW - timedelta(days=1)),
        a_ticket(S.ROUTED, _code(5), due_at=None, search_tokens=["jembatan", "putus"]),
        a_ticket(S.ROUTED, _code(6), opd="DLH", due_at=LATE, category="sampah"),
        a_ticket(S.TRIAGE, _code(7), due_at=LATER),
        a_ticket(S.CLOSED, _code(8), opd="DLH", due_at=None),
        a_ticket(S.ROUTED, _code(9), due_at=LATE, synthetic=True),
    )


async def _list(
    tickets: InMemoryTickets,
    principal: Principal,
    f: TicketFilter | None = None,
    *,
    sort: str = "-submitted_at",
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[str], str | None]:
    ctx = routing_context(tickets, queries=InMemoryQueries(tickets))
    page = await staff.list_tickets(
        ctx, principal, f or TicketFilter(), sort=sort, limit=limit, cursor=cursor
    )
    return [item.tracking_code for item in page.items], page.next_cursor


async def test_officers_list_their_opds_tickets_only_and_admins_every_one() -> None:
    tickets = _desk()
    mine, _ = await _list(tickets, OFFICER)
    assert sorted(mine) == [_code(n) for n in (1, 2, 3, 4, 5, 9)]
    everyone, _ = await _list(tickets, AUDITOR)
    assert len(everyone) == 9
    # An officer asking for another OPD's tickets still gets only their own OPD's: none.
    assert await _list(tickets, OFFICER, TicketFilter(opd="DLH")) == ([], None)


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (TicketFilter(status=["routed"]), [5, 9]),
        (TicketFilter(status=["verified", "in_progress"]), [1, 2]),
        (TicketFilter(overdue=True), [1, 9]),  # open and past due: not the paused, not answered
        (TicketFilter(overdue=False), [2, 3, 4, 5]),
        (TicketFilter(q="jembatan putus"), [5]),
        (TicketFilter(q="jembatan roboh"), []),  # every word must be there
        (TicketFilter(assigned_to=""), [1, 3, 4, 5, 9]),  # nobody handles them yet
        (TicketFilter(assigned_to="dpupr"), [2]),
        (TicketFilter(submitted_to=NOW - timedelta(days=20)), [2, 3, 4, 5, 9]),
    ],
)
async def test_the_filters_select_within_the_scope(f: TicketFilter, expected: list[int]) -> None:
    found, _ = await _list(_desk(), OFFICER, f)
    assert sorted(found) == [_code(n) for n in expected]


async def test_by_deadline_tickets_without_one_come_first_and_paging_visits_each_once() -> None:
    tickets = _desk()
    everything, _ = await _list(tickets, ADMIN, sort="due_at")
    dues = [tickets.stored(code).get("due_at") for code in everything]
    assert dues[:3] == [None, None, None]
    timed: list[datetime] = [d for d in dues if d is not None]
    assert timed == dues[3:] and timed == sorted(timed) and timed[-1] == LATER
    seen: list[str] = []
    cursor = None
    for _ in range(10):  # bounded: 9 tickets, 2 a page
        page, cursor = await _list(tickets, ADMIN, sort="due_at", limit=2, cursor=cursor)
        seen.extend(page)
        if cursor is None:
            break
    assert seen == everything and cursor is None


async def test_a_cursor_that_is_not_one_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        await _list(_desk(), OFFICER, cursor="bm90LWEtY3Vyc29y")
    assert caught.value.detail[0]["loc"] == ["query", "cursor"]


async def test_counts_per_status_and_overdue_stay_within_the_scope() -> None:
    tickets = _desk()
    ctx = routing_context(tickets, queries=InMemoryQueries(tickets))
    assert await staff.counts(ctx, HEAD) == {
        "verified": 1,
        "in_progress": 1,
        "waiting_citizen": 1,
        "resolved": 1,
        "routed": 2,
        "overdue": 2,
    }
    every = await staff.counts(ctx, ADMIN)
    assert every["routed"] == 3 and every["closed"] == 1 and every["overdue"] == 3


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The forecast's clock, pinned: a Monday morning in Jakarta."""
    moment = datetime.fromisoformat("2026-11-23T02:00:00+00:00")
    monkeypatch.setattr(throughput, "utcnow", lambda: moment)
    return moment


def _forecast_desk(now: datetime, *, resolved: int) -> InMemoryTickets:
    """Three open DPUPR tickets due in 1, 2 and 30 days, `resolved` answered this week."""
    due = [now + timedelta(days=1), now + timedelta(days=2), now + timedelta(days=30)]
    return InMemoryTickets(
        *(a_ticket(S.IN_PROGRESS, _code(n), due_at=d) for n, d in enumerate(due, 1)),
        *(
            a_ticket(S.RESOLVED, _code(10 + n), resolved_at=now - timedelta(days=1), due_at=None)
            for n in range(resolved)
        ),
        a_ticket(S.IN_PROGRESS, _code(20), opd="DLH", due_at=now + timedelta(days=1)),
    )


async def test_at_a_slow_pace_the_forecast_names_the_tickets_that_will_be_late(
    now: datetime,
) -> None:
    tickets = _forecast_desk(now, resolved=5)  # 5 in 10 working days: one every two days
    ctx = routing_context(tickets, queries=InMemoryQueries(tickets))
    told = await throughput.breach_forecast(ctx, OFFICER, None)
    assert (told.opd, told.resolved_recently, told.pace_per_working_day) == (
        "DPUPR",
        5,
        0.5,
    )
    assert [r.tracking_code for r in told.at_risk] == [_code(1), _code(2)]
    quick = _forecast_desk(now, resolved=20)  # two a day: nothing at risk
    fast = await throughput.breach_forecast(
        routing_context(quick, queries=InMemoryQueries(quick)), ADMIN, "dpupr"
    )
    assert fast.opd == "DPUPR" and fast.at_risk == ()


async def test_admins_must_name_the_opd_to_forecast(now: datetime) -> None:
    tickets = _forecast_desk(now, resolved=0)
    with pytest.raises(InvalidField):
        await throughput.breach_forecast(
            routing_context(tickets, queries=InMemoryQueries(tickets)), ADMIN, None
        )


def _gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_the_backlog_gauges_count_real_tickets_and_the_opds_nobody_can_reach() -> None:
    tickets = _desk()
    accounts = InMemoryAccounts(
        an_account("dpupr", Role.OFFICER, "DPUPR", email="dpupr@serangkab.go.id"),
        an_account("dlh", Role.OFFICER, "DLH"),  # no email or WhatsApp: cannot be told
        an_account("dinkes", Role.OFFICER, "DINKES", whatsapp="+62811", active=False),
        an_account("dinsos-kepala", Role.SUPERVISOR, "DINSOS", whatsapp="+62812"),
    )
    backlog = InMemoryBacklog(tickets, accounts)
    await ops_counts.OpsCounts(backlog).count(packaged_catalogue())
    assert _gauge("pengaduan_tickets", status="routed", opd="DPUPR") == 1.0  # not the canary's
    assert _gauge("pengaduan_tickets", status="triage", opd="none") == 1.0
    assert _gauge("pengaduan_tickets", status="closed", opd="DLH") == 1.0
    assert _gauge("pengaduan_tickets_overdue", opd="DPUPR") == 1.0  # the paused one is not
    assert _gauge("pengaduan_tickets_overdue", opd="DLH") == 1.0
    assert _gauge("pengaduan_tickets_overdue", opd="DINKES") == 0.0
    reachable = {"DPUPR": 0.0, "DINSOS": 0.0, "DLH": 1.0, "DINKES": 1.0}
    for opd, flag in reachable.items():
        assert _gauge("pengaduan_opd_unreachable", opd=opd) == flag
    # A later count replaces the figures: a status no ticket has any more is gone.
    tickets.docs.pop(_code(7))
    await ops_counts.OpsCounts(backlog).count(packaged_catalogue())
    assert _gauge("pengaduan_tickets", status="triage", opd="none") is None
