"""What notify's admin use cases need of their stores, as Protocols: the MongoDB adapters
(`repository.DeliveryRepository`, `repository.DigestRepository`) satisfy them, and so do the
in-memory fakes of `tests/fakes.py`. Pure: importing this module loads no driver."""

from __future__ import annotations

from typing import Protocol

from shared.documents import Document


class TicketDeliveries(Protocol):
    """The delivery log: one record per (event, recipient, channel)."""

    async def for_ticket(self, tracking_code: str) -> list[Document]: ...

    async def statuses_of_events(self, event_ids: list[str]) -> dict[str, list[str]]: ...


class TicketDigests(Protocol):
    """Messages kept for an officer's digest (each with its `digest_id` once sent in one)."""

    async def for_ticket(self, tracking_code: str) -> list[Document]: ...
