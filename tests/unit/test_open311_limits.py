"""Open311's public list reads at most its limit in all, however many categories it names."""

from __future__ import annotations

from typing import Any, cast

from services.intake.open311.mapping import RequestQuery
from services.intake.open311.service import find_requests
from services.intake.repository import TicketRepository
from shared.tickets import Ticket


class RecordingTickets:
    """Stands in for TicketRepository.search, recording each query and its limit."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def search(self, **query: Any) -> list[Ticket]:
        self.calls.append(query)
        return []


async def test_many_categories_are_one_query_under_one_limit() -> None:
    tickets = RecordingTickets()
    categories = [f"kategori-{i}" for i in range(40)]
    query = RequestQuery(limit=1000, categories=categories)
    await find_requests(cast(TicketRepository, tickets), query)
    assert len(tickets.calls) == 1, "one query, not one per category"
    (call,) = tickets.calls
    assert call["categories"] == categories and call["limit"] == 1000


async def test_no_category_is_one_query_for_all() -> None:
    tickets = RecordingTickets()
    await find_requests(cast(TicketRepository, tickets), RequestQuery(limit=5))
    assert [c["categories"] for c in tickets.calls] == [None]
