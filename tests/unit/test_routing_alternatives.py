"""The router's alternatives are stored on the routing decision, and the console's triage
page takes its candidates from them (a ticket stored before then: from its reason texts)."""

from __future__ import annotations

from datetime import timedelta

from services.routing import service
from services.routing.web.views import triage_candidates
from shared.catalogue import packaged_catalogue
from shared.tickets import RoutingDecision, TicketStatus
from shared.workdays import WorkCalendar
from tests.fakes import CODE, NOW, InMemoryTickets, a_ticket

STREET_LIGHT = "Lampu jalan mati sudah seminggu, gelap sekali kalau malam"


async def test_a_triaged_ticket_keeps_the_routers_alternatives() -> None:
    submitted = a_ticket(
        TicketStatus.SUBMITTED,
        description=STREET_LIGHT,
        category=None,
        submitted_at=NOW - timedelta(minutes=1),
    )
    tickets = InMemoryTickets(submitted)
    routed = await service.route_submitted_ticket(
        tracking_code=CODE,
        tickets=tickets,
        catalogue=packaged_catalogue(),
        threshold=1.0,  # never sure: triage, with the candidates as alternatives
        calendar=WorkCalendar(),
    )
    assert routed
    decision = tickets.stored(CODE)["routing"]
    assert decision["opd"] == "TRIASE"
    assert decision["alternatives"][0]["opd"] == "DISHUB"
    assert all(0 < a["confidence"] <= 1 for a in decision["alternatives"])
    ticket = await tickets.get(CODE)
    assert ticket is not None and ticket.routing is not None
    assert [a.opd for a in ticket.routing.alternatives] == [
        a["opd"] for a in decision["alternatives"]
    ]


def test_triage_candidates_come_from_the_stored_alternatives_not_the_reasons() -> None:
    routing = {
        "opd": "TRIASE",
        "confidence": 0.41,
        # A reason naming a code that is no alternative: not a candidate once they are stored.
        "reasons": ["Kata kunci: 'lampu' → DISPERKIM 30%"],
        "model": "nb-test",
        "alternatives": [{"opd": "DISHUB", "confidence": 0.41}, {"opd": "DLH", "confidence": 0.2}],
    }
    decision = RoutingDecision.model_validate(routing)
    assert [
        (c["code"], c["confidence"], c["via"])
        for c in triage_candidates(decision, None, packaged_catalogue())
    ] == [("DISHUB", 0.41, "router"), ("DLH", 0.2, "router")]
    stored_before = decision.model_copy(update={"alternatives": []})
    assert [
        (c["code"], c["confidence"], c["via"])
        for c in triage_candidates(stored_before, None, packaged_catalogue())
    ] == [("DISPERKIM", 0.3, "reason")]


def test_a_decision_stored_without_alternatives_still_reads() -> None:
    old = a_ticket(
        TicketStatus.TRIAGE,
        routing={"opd": "TRIASE", "confidence": 0.3, "reasons": ["x"], "model": "rules"},
    )
    assert old.routing is not None and old.routing.alternatives == []
