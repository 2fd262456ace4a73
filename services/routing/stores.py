"""What routing's staff use cases and the backlog counts need of their stores, as Protocols:
the MongoDB adapters (`queries.TicketQueries`, `repository.AccountRepository`,
`ops_counts.BacklogQueries`) satisfy them, and so do the in-memory fakes of `tests/fakes.py`.
Pure: importing this module loads no driver (the filter's type is named for type checking)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from shared.documents import Document
from shared.principals import Principal
from shared.tickets import Ticket

if TYPE_CHECKING:
    from services.routing.queries import TicketFilter


class TicketLists(Protocol):
    """The officers' lists and counts, always within the caller's scope."""

    async def page(
        self,
        principal: Principal,
        f: TicketFilter,
        *,
        now: datetime,
        sort: str,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Ticket], str | None]: ...

    async def counts(self, principal: Principal, now: datetime) -> dict[str, int]: ...

    async def open_deadlines(
        self, opd: str, *, limit: int = 2000
    ) -> list[tuple[str, datetime]]: ...

    async def resolved_since(self, opd: str, since: datetime) -> int: ...


class ActiveAccounts(Protocol):
    """An active account by username (assignment checks the officer it names)."""

    async def get(self, username: str) -> Document | None: ...


class Backlog(Protocol):
    """The figures behind the backlog gauges (services/routing/ops_counts.py)."""

    async def by_status_and_opd(self) -> dict[tuple[str, str], int]: ...

    async def overdue_by_opd(self, now: datetime) -> dict[str, int]: ...

    async def reaching_accounts(self) -> list[Document]: ...


class ChatTranscripts(Protocol):
    """A chat ticket's conversation as the citizen saw it (repository.Transcripts)."""

    async def for_ticket(self, tracking_code: str, *, limit: int = 500) -> list[Document]: ...
