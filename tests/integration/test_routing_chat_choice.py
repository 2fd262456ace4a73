"""Routing a chat ticket it is unsure of, against the real database: the question is asked once
and the ticket waits `submitted`; the citizen's answer (or the timeout) routes it as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import utcnow
from shared.mongo import Document
from shared.tickets import Location, Reporter, Ticket
from tests.integration.conftest import new_complaint, route_stored

pytestmark = pytest.mark.integration

AMBIGUOUS = "pedagang jualan di trotoar bikin macet dan sampahnya numpuk"
TIMEOUT = timedelta(minutes=60)


async def _chat_ticket(db: AsyncDatabase[Document], *, source: str = "whatsapp") -> str:
    ticket, _ = new_complaint(
        AMBIGUOUS,
        location=Location(kecamatan="KEC-KRAGILAN"),
        reporter=Reporter(phone="+6281234567890"),
    )
    doc = ticket.model_copy(update={"source": source, "conversation_id": "c1"}).to_document()
    await db.tickets.insert_one(doc)
    return ticket.tracking_code


async def _ticket(db: AsyncDatabase[Document], code: str) -> Ticket:
    doc = await db.tickets.find_one({"_id": code})
    assert doc is not None
    return Ticket.from_document(doc)


async def test_an_unsure_chat_ticket_asks_once_and_waits(db: AsyncDatabase[Document]) -> None:
    code = await _chat_ticket(db)
    assert await route_stored(db, code, choice_timeout=TIMEOUT) is True
    assert (
        await route_stored(db, code, choice_timeout=TIMEOUT) is False
    )  # a replay (or the stale sweep) asks nothing again
    ticket = await _ticket(db, code)
    assert ticket.status.value == "submitted" and ticket.opd is None
    assert ticket.routing_question is not None
    assert [c.opd for c in ticket.routing_question.candidates] == ["DLH", "SATPOLPP"]
    asked = [e for e in ticket.outbox if e["event_type"] == "ticket.opd_choice_asked"]
    assert [e["payload"]["candidates"] for e in asked] == [["DLH", "SATPOLPP"]]
    assert ticket.history[-1].action == "submit"  # no status change yet


async def test_the_citizens_choice_routes_the_ticket(db: AsyncDatabase[Document]) -> None:
    code = await _chat_ticket(db)
    await route_stored(db, code, choice_timeout=TIMEOUT)
    await db.tickets.update_one(
        {"_id": code}, {"$set": {"routing_choice": {"opd": "SATPOLPP", "at": utcnow()}}}
    )
    assert await route_stored(db, code, choice_timeout=TIMEOUT) is True
    ticket = await _ticket(db, code)
    assert (ticket.status.value, ticket.opd) == ("routed", "SATPOLPP")
    assert ticket.routing is not None and "Pelapor memilih" in ticket.routing.reasons[-1]
    assert ticket.due_at is not None
    assert ticket.outbox[-1]["event_type"] == "ticket.routed"


async def test_lainnya_goes_to_the_admin_koordinator(db: AsyncDatabase[Document]) -> None:
    code = await _chat_ticket(db, source="sms")
    await route_stored(db, code, choice_timeout=TIMEOUT)
    await db.tickets.update_one(
        {"_id": code}, {"$set": {"routing_choice": {"opd": None, "at": utcnow()}}}
    )
    assert await route_stored(db, code, choice_timeout=TIMEOUT) is True
    ticket = await _ticket(db, code)
    assert (ticket.status.value, ticket.opd) == ("triage", None)
    assert ticket.outbox[-1]["event_type"] == "ticket.triaged"


async def test_no_answer_within_the_timeout_goes_to_triage(db: AsyncDatabase[Document]) -> None:
    code = await _chat_ticket(db)
    await route_stored(db, code, choice_timeout=TIMEOUT)
    await db.tickets.update_one(
        {"_id": code}, {"$set": {"routing_question.asked_at": utcnow() - timedelta(minutes=61)}}
    )
    assert await route_stored(db, code, choice_timeout=TIMEOUT) is True
    ticket = await _ticket(db, code)
    assert ticket.status.value == "triage"
    assert ticket.routing is not None and "tidak memilih" in ticket.routing.reasons[-1]


async def test_a_web_ticket_the_router_is_unsure_of_goes_to_triage_at_once(
    db: AsyncDatabase[Document],
) -> None:
    code = await _chat_ticket(db, source="api")
    assert await route_stored(db, code, choice_timeout=TIMEOUT) is True
    ticket = await _ticket(db, code)
    assert ticket.status.value == "triage" and ticket.routing_question is None
