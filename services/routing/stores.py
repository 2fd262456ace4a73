"""What routing's staff use cases, the accounts use cases and the backlog counts need of their
stores, as Protocols: the MongoDB adapters (`queries.TicketQueries`,
`repository.AccountRepository`, `repository.LoginThrottle`, `ops_counts.BacklogQueries`)
satisfy them, and so do the in-memory fakes of `tests/fakes.py`.
Pure: importing this module loads no driver (the filter's type is named for type checking)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.documents import Document
from shared.principals import Principal, Role
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


class AccountExists(Exception):
    """The username is taken (the accounts' unique `_id`)."""


class Passwords(Protocol):
    """Password hashing (`shared.auth.PasswordHashing`: argon2, bounded)."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool: ...


class Accounts(ActiveAccounts, Protocol):
    """What the accounts use cases (services/routing/accounts.py) and the callers' checks need
    of the accounts: `get` answers active accounts only, `find` any; `add` raises
    `AccountExists` for a username taken; `update` with `revoke_tokens` bumps the account's
    token version (every token issued before stops working) and answers the account after,
    None when there is none."""

    @property
    def passwords(self) -> Passwords: ...

    async def find(self, username: str) -> Document | None: ...

    async def all(self) -> list[Document]: ...

    async def usernames(self) -> set[str]: ...

    async def add(
        self,
        *,
        username: str,
        password_hash: str,
        role: Role,
        opd: str | None,
        **profile: Any,
    ) -> None: ...

    async def update(
        self, username: str, fields: Document, *, revoke_tokens: bool = False
    ) -> Document | None: ...


class SignInThrottle(Protocol):
    """Sign-in attempts per (username, address) and per address (repository.LoginThrottle):
    `attempt` counts one before the password is checked and answers 0 or the seconds to wait;
    a sign-in that succeeded forgets the pair's attempts."""

    async def attempt(self, username: str, address: str, now: datetime) -> int: ...

    async def succeeded(self, username: str, address: str) -> None: ...


class CannedAnswerStore(Protocol):
    """Each OPD's canned answers (throughput.CannedAnswers): `of` by title, `put` creates or
    replaces one by id (answering it as stored), `delete` says whether there was one."""

    async def of(self, opd: str) -> list[Document]: ...

    async def put(
        self,
        opd: str,
        *,
        answer_id: str | None,
        title: str,
        body: str,
        by: str,
        now: datetime,
    ) -> Document: ...

    async def delete(self, opd: str, answer_id: str) -> bool: ...


class Backlog(Protocol):
    """The figures behind the backlog gauges (services/routing/ops_counts.py)."""

    async def by_status_and_opd(self) -> dict[tuple[str, str], int]: ...

    async def overdue_by_opd(self, now: datetime) -> dict[str, int]: ...

    async def reaching_accounts(self) -> list[Document]: ...


class ChatTranscripts(Protocol):
    """A chat ticket's conversation as the citizen saw it (repository.Transcripts)."""

    async def for_ticket(self, tracking_code: str, *, limit: int = 500) -> list[Document]: ...
