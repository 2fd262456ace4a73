"""In-memory fakes of the repositories, for fast unit tests of the use cases.

`InMemoryTickets` keeps documents in their stored form and honours the version check as
`shared.ticket_store.TicketStore` does; `apply` is the lifecycle's own, not a copy. The
deadline scans filter the documents as the MongoDB queries do.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.documents import Document
from shared.lifecycle.repository import AppliesChanges
from shared.tickets import Ticket, TicketStatus

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # a Thursday
CODE = "LP-ABCD-EFGH"


def a_ticket(status: TicketStatus, code: str = CODE, **fields: object) -> Ticket:
    """A DPUPR road complaint in `status` (no OPD while submitted or in triage), submitted 30
    days before NOW; `fields` override."""
    return Ticket.model_validate(
        {
            "tracking_code": code,
            "status": status,
            "kind": "complaint",
            "title": "Jalan rusak",
            "description": "Jalan rusak berlubang besar di depan sekolah, sudah tiga bulan",
            "category": "jalan-rusak",
            "reply_token_hash": "x",
            "submitted_at": NOW - timedelta(days=30),
            "updated_at": NOW - timedelta(days=20),
            "correlation_id": "c",
            "opd": None if status in (TicketStatus.SUBMITTED, TicketStatus.TRIAGE) else "DPUPR",
            **fields,
        }
    )


class InMemoryTickets(AppliesChanges):
    """The ticket store in memory; `interfere(code, n)` makes the next n writes to a ticket
    lose their race (as if someone else wrote first), `writes` counts successful writes."""

    def __init__(self, *tickets: Ticket) -> None:
        self.docs: dict[str, Document] = {}
        self.writes = 0
        self._interference: dict[str, int] = {}
        for ticket in tickets:
            self.docs[ticket.tracking_code] = ticket.to_document()

    def interfere(self, tracking_code: str, times: int) -> None:
        self._interference[tracking_code] = times

    def stored(self, tracking_code: str) -> Document:
        return copy.deepcopy(self.docs[tracking_code])

    async def get(self, tracking_code: str) -> Ticket | None:
        doc = self.docs.get(tracking_code)
        return Ticket.from_document(copy.deepcopy(doc)) if doc is not None else None

    async def add(self, ticket: Ticket) -> None:
        self.docs[ticket.tracking_code] = ticket.to_document()

    async def update(
        self, ticket: Ticket, *, set_fields: Document, push: dict[str, list[Any]] | None = None
    ) -> Ticket | None:
        code = ticket.tracking_code
        doc = self.docs.get(code)
        if self._interference.get(code, 0) > 0 and doc is not None:
            self._interference[code] -= 1
            doc["version"] += 1  # another writer came first
        if doc is None or doc["version"] != ticket.version:
            return None
        doc.update(copy.deepcopy(set_fields))
        for field, values in (push or {}).items():
            doc.setdefault(field, []).extend(copy.deepcopy(values))
        doc["version"] += 1
        self.writes += 1
        return Ticket.from_document(copy.deepcopy(doc))

    def _scan(
        self, keep: Callable[[Document], bool], fields: tuple[str, ...], limit: int
    ) -> list[Document]:
        found = [d for d in self.docs.values() if keep(d)][:limit]
        return [{"_id": d["_id"], **{f: d[f] for f in fields if f in d}} for d in found]

    async def due_before(self, status: str, before: datetime, *, limit: int) -> list[Document]:
        return self._scan(
            lambda d: (
                d["status"] == status and d.get("due_at") is not None and d["due_at"] < before
            ),
            ("due_at", "escalated_for", "reminded_for"),
            limit,
        )

    async def resolved_before(self, before: datetime, *, limit: int) -> list[Document]:
        return self._scan(
            lambda d: (
                d["status"] == "resolved"
                and d.get("resolved_at") is not None
                and d["resolved_at"] < before
            ),
            ("resolved_at",),
            limit,
        )

    async def submitted_before(self, before: datetime, *, limit: int) -> list[Document]:
        return self._scan(
            lambda d: d["status"] == "submitted" and d["submitted_at"] < before, (), limit
        )

    async def contact_kept(
        self, status: str, updated_before: datetime, *, limit: int
    ) -> list[Document]:
        return self._scan(
            lambda d: (
                d["status"] == status
                and d["updated_at"] < updated_before
                and d.get("reporter") is not None
            ),
            (),
            limit,
        )
