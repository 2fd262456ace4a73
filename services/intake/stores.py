"""What intake's use cases need of their stores, as Protocols: the MongoDB adapters
(`repository.py`, `api_keys.py`, `support.py`, `shared.photos`, `shared.catalogue`) satisfy
them, and so do the in-memory fakes of `tests/fakes.py`. Pure: importing this module loads no
driver."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from services.intake.views import NearbyItem
from shared.catalogue import Catalogue
from shared.documents import Document
from shared.lifecycle.repository import Tickets
from shared.tickets import Ticket

if TYPE_CHECKING:
    from services.intake.chat.dialogue import Channel, Conversation
    from services.intake.chat.repository import Stored


class IntakeTickets(Tickets, Protocol):
    """Intake's ticket store (repository.TicketRepository): the lifecycle's `Tickets`, with
    `add` for a new complaint and Open311's `search`."""

    async def add(self, ticket: Ticket) -> None: ...

    async def search(
        self,
        *,
        codes: list[str] | None = None,
        categories: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        statuses: list[str] | None = None,
        include_confidential: bool = False,
        limit: int = 1000,
    ) -> list[Ticket]: ...


class ApiClientOf(Protocol):
    """The client application an Open311 key was issued to (api_keys.ApiClient)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


class ApiKeys(Protocol):
    """Open311's API keys by the key presented (api_keys.ApiKeyRepository keeps their hashes)."""

    async def find(self, key: str) -> ApiClientOf | None: ...

    async def ensure(self, key: str, *, name: str, contact: str, now: datetime) -> None: ...


class Catalogues(Protocol):
    async def get(self) -> Catalogue: ...


class IdempotencyRecords(Protocol):
    """One record per Idempotency-Key (hashed): the body's hash and the answer to replay."""

    async def claim(self, record: Document) -> Document | None: ...

    async def forget(self, key_hash: str) -> None: ...


class DuplicateKeys(Protocol):
    """The latest ticket per duplicate key."""

    async def mark(
        self, key: str, tracking_code: str, now: datetime
    ) -> tuple[str, datetime] | None: ...

    async def forget(self, key: str, tracking_code: str) -> None: ...


class PhotoFiles(Protocol):
    async def put(self, data: bytes, *, content_type: str, tracking_code: str) -> str: ...

    async def get(self, photo_id: str) -> bytes | None: ...

    async def delete(self, photo_id: str) -> None: ...


class Supported(Protocol):
    @property
    def count(self) -> int: ...

    @property
    def new(self) -> bool: ...


class Supporters(Protocol):
    """The supporters of public reports ("dukung laporan ini")."""

    async def cluster_size(self, ticket: Ticket) -> int: ...

    async def count(self, tracking_code: str) -> int: ...

    async def add(
        self,
        tracking_code: str,
        *,
        email: str | None,
        phone: str | None,
        lang: str,
        now: datetime,
    ) -> Supported: ...


class Nearby(Protocol):
    async def find(
        self,
        *,
        opd: str,
        category: str | None,
        kecamatan: str | None,
        desa: str | None,
        lat: float | None,
        lon: float | None,
        text: str,
        limit: int = 5,
    ) -> list[NearbyItem]: ...


class StatisticsSummaries(Protocol):
    async def summaries(self, months: tuple[str, ...]) -> dict[str, Document]: ...


class ConversationLocks(Protocol):
    def hold(self, doc_id: str) -> AbstractAsyncContextManager[None]: ...


class Conversations(Protocol):
    """The chat's conversations, their transcript and delivery statuses
    (chat/repository.ConversationRepository); a step holds its conversation's lock."""

    @property
    def locks(self) -> ConversationLocks: ...

    async def open(self, channel: Channel, phone: str, now: datetime) -> str: ...

    async def get(self, conversation_id: str) -> Stored | None: ...

    async def save(
        self,
        stored: Stored,
        *,
        state: Conversation,
        handled: str,
        outbox: list[Document],
        fields: Document,
    ) -> bool: ...

    async def add_messages(self, messages: list[Document]) -> None: ...

    async def tag_draft(self, conversation_id: str, draft_id: str, tracking_code: str) -> None: ...

    async def record_status(self, status: Document) -> bool: ...
