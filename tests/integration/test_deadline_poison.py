"""An invalid ticket no longer aborts the deadline pass: it is skipped, reported and counted,
and every other ticket's deadline is handled."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.deadlines import DeadlineScheduler
from services.routing.repository import TicketRepository
from shared.events import utcnow
from shared.mongo import Document
from shared.workdays import WorkCalendar
from tests.integration.conftest import put_ticket

pytestmark = pytest.mark.integration


def _skipped(step: str) -> float:
    found = REGISTRY.get_sample_value("pengaduan_deadline_tickets_skipped_total", {"step": step})
    return found or 0.0


async def test_invalid_tickets_are_skipped_and_the_pass_goes_on(
    db: AsyncDatabase[Document], stored: Any, caplog: pytest.LogCaptureFixture
) -> None:
    now = utcnow()
    broken_kind = put_ticket(stored, status="verified", due_in=-timedelta(hours=2))
    stored.tickets.update_one({"_id": broken_kind}, {"$set": {"kind": "bukan-jenis"}})
    broken_resolved = put_ticket(stored, status="resolved")
    stored.tickets.update_one(
        {"_id": broken_resolved},
        {"$set": {"resolved_at": now - timedelta(days=30), "history": "hilang"}},
    )
    valid = put_ticket(stored, status="verified", due_in=-timedelta(hours=1))
    scheduler = DeadlineScheduler(TicketRepository(db), WorkCalendar())
    before = {step: _skipped(step) for step in ("deadline", "close")}
    with caplog.at_level(logging.ERROR, logger="services.routing.deadlines"):
        done = await scheduler.run_once(now)
        again = await scheduler.run_once(now)
    assert done["escalated"] == 1 and again["escalated"] == 0
    escalated = stored.tickets.find_one({"_id": valid})
    assert escalated["escalated_for"] is not None
    assert [e["event_type"] for e in escalated["outbox"]] == ["ticket.escalated"]
    assert _skipped("deadline") - before["deadline"] == 2, "broken_kind, on both passes"
    assert _skipped("close") - before["close"] == 2, "broken_resolved, on both passes"
    reported = [m for m in caplog.messages if "is invalid" in m]
    assert sorted(reported) == sorted(
        f"deadline pass: ticket {code} is invalid (ValidationError); skipped"
        for code in (broken_kind, broken_resolved)
    ), "once per ticket"
