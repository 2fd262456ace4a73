"""MongoDB access for intake: tickets it creates and reads, the catalogue it reads."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document
from shared.tickets import COLLECTION, Ticket


class TicketRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tickets = db[COLLECTION]

    async def add(self, ticket: Ticket) -> None:
        await self._tickets.insert_one(ticket.to_document())

    async def get(self, tracking_code: str) -> Ticket | None:
        doc = await self._tickets.find_one({"_id": tracking_code})
        return Ticket.from_document(doc) if doc else None
