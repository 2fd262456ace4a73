"""Assignment ("ditangani oleh": services/routing/throughput.py `assign`, and bulk assignment)
on the in-memory stores of tests/fakes.py: who handles a ticket after an officer takes it or a
supervisor reassigns it, the internal history entry, and every refusal, with nothing written."""

from __future__ import annotations

import pytest

from services.routing import throughput
from services.routing.queries import TicketFilter
from shared.errors import Conflict, Forbidden, InvalidField, NotFound
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from tests.fakes import (
    ADMIN,
    AUDITOR,
    CODE,
    HEAD,
    OFFICER,
    InMemoryAccounts,
    InMemoryQueries,
    InMemoryTickets,
    a_ticket,
    an_account,
    routing_context,
)

S = TicketStatus
DLH_OFFICER = Principal(username="dlh", role=Role.OFFICER, opd="DLH")
ACCOUNTS = (
    an_account("dpupr", Role.OFFICER, "DPUPR"),
    an_account("dpupr.budi", Role.OFFICER, "DPUPR"),
    an_account("dpupr-kepala", Role.SUPERVISOR, "DPUPR"),
    an_account("dpupr.lama", Role.OFFICER, "DPUPR", active=False),
    an_account("dlh", Role.OFFICER, "DLH"),
    an_account("auditor", Role.AUDITOR, None),
)


async def _assign(
    tickets: InMemoryTickets,
    officer: str | None,
    *,
    by: Principal = OFFICER,
    version: int | None = None,
) -> None:
    ctx = routing_context(tickets, accounts=InMemoryAccounts(*ACCOUNTS))
    await throughput.assign(ctx, by, CODE, officer=officer, version=version)


async def test_an_officer_takes_a_ticket_nobody_handles() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED))
    await _assign(tickets, "dpupr", version=1)
    stored = tickets.stored(CODE)
    assert (stored["assigned_to"], stored["status"], stored["version"]) == (
        "dpupr",
        "verified",
        2,
    )
    [entry] = stored["history"]
    assert (entry["action"], entry["actor"], entry["from"], entry["to"]) == (
        "assign",
        "dpupr",
        "verified",
        "verified",
    )
    # Staff's business only: not on the citizen's timeline, and no event for anyone.
    assert entry["public"] is False and entry["internal_note"] == "Ditangani oleh dpupr."
    assert not stored.get("outbox")


async def test_the_supervisor_reassigns_and_the_history_names_who_had_it() -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, assigned_to="dpupr"))
    await _assign(tickets, "dpupr.budi", by=HEAD)
    stored = tickets.stored(CODE)
    assert stored["assigned_to"] == "dpupr.budi"
    assert stored["history"][-1]["internal_note"] == (
        "Ditangani oleh dpupr.budi. (Sebelumnya: dpupr.)"
    )


async def test_an_officer_gives_back_their_own_ticket() -> None:
    tickets = InMemoryTickets(a_ticket(S.IN_PROGRESS, assigned_to="dpupr"))
    await _assign(tickets, None)
    stored = tickets.stored(CODE)
    assert stored["assigned_to"] is None
    assert stored["history"][-1]["internal_note"] == (
        "Tidak ada lagi yang menangani. (Sebelumnya: dpupr.)"
    )


async def test_assigning_whoever_handles_it_already_writes_nothing() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED, assigned_to="dpupr.budi"))
    await _assign(tickets, "dpupr.budi", by=HEAD)
    assert tickets.writes == 0 and not tickets.stored(CODE).get("history")


@pytest.mark.parametrize(
    ("by", "assigned", "officer"),
    [
        (OFFICER, "dpupr.budi", "dpupr"),  # a colleague's ticket is not for the taking
        (OFFICER, None, "dpupr.budi"),  # officers do not hand out tickets
        (OFFICER, "dpupr.budi", None),  # nor take them away from a colleague
        (AUDITOR, None, "dpupr"),  # auditors change nothing
    ],
)
async def test_who_may_not_assign_is_refused_and_nothing_is_written(
    by: Principal, assigned: str | None, officer: str | None
) -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED, assigned_to=assigned))
    with pytest.raises(Forbidden):
        await _assign(tickets, officer, by=by)
    assert tickets.writes == 0 and tickets.stored(CODE)["assigned_to"] == assigned


@pytest.mark.parametrize("officer", ["dlh", "dpupr.lama", "auditor", "nobody"])
async def test_only_an_active_officer_or_supervisor_of_the_tickets_opd_is_assigned(
    officer: str,
) -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED))
    with pytest.raises(InvalidField) as caught:
        await _assign(tickets, officer, by=ADMIN)
    assert caught.value.detail[0]["loc"] == ["body", "officer"]
    assert tickets.writes == 0 and tickets.stored(CODE)["assigned_to"] is None


async def test_another_opd_does_not_see_the_ticket_to_assign() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED))
    with pytest.raises(NotFound):  # never 403: that would reveal the ticket exists
        await _assign(tickets, "dlh", by=DLH_OFFICER)
    assert tickets.writes == 0


async def test_a_stale_version_or_a_lost_race_is_a_conflict_and_assigns_nobody() -> None:
    tickets = InMemoryTickets(a_ticket(S.VERIFIED))
    with pytest.raises(Conflict):
        await _assign(tickets, "dpupr", version=4)
    tickets.interfere(CODE, 1)  # someone else wrote between the read and this write
    with pytest.raises(Conflict) as caught:
        await _assign(tickets, "dpupr")
    current = caught.value.extra["ticket"]  # the ticket as it is now, to decide again
    assert current["version"] == 2 and current["assigned_to"] is None
    assert tickets.writes == 0 and tickets.stored(CODE)["assigned_to"] is None


async def test_a_supervisor_assigns_every_unhandled_ticket_a_filter_selects() -> None:
    codes = [CODE, "LP-BBBB-BBBB", "LP-CCCC-CCCC", "LP-DDDD-DDDD"]
    tickets = InMemoryTickets(
        a_ticket(S.VERIFIED, codes[0]),
        a_ticket(S.VERIFIED, codes[1], assigned_to="dpupr"),  # handled: not selected
        a_ticket(S.IN_PROGRESS, codes[2]),  # another status: not selected
        a_ticket(S.VERIFIED, codes[3], opd="DLH"),  # another OPD: outside the scope
    )
    ctx = routing_context(
        tickets, queries=InMemoryQueries(tickets), accounts=InMemoryAccounts(*ACCOUNTS)
    )
    done = await throughput.bulk(
        ctx,
        HEAD,
        action="assign",
        items=None,
        selection=TicketFilter(status=["verified"], assigned_to=""),
        officer="dpupr.budi",
    )
    results = [(r.tracking_code, r.result) for r in done.results]
    assert results == [(CODE, "done")]
    assert [tickets.stored(c).get("assigned_to") for c in codes] == [
        "dpupr.budi",
        "dpupr",
        None,
        None,
    ]
