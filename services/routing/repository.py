"""MongoDB access for routing: tickets (version-checked updates) and accounts."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from shared.auth import Role
from shared.mongo import Document
from shared.tickets import COLLECTION, Ticket

ACCOUNTS = "accounts"


class TicketRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tickets = db[COLLECTION]

    async def get(self, tracking_code: str) -> Ticket | None:
        doc = await self._tickets.find_one({"_id": tracking_code})
        return Ticket.from_document(doc) if doc else None

    async def update(
        self, ticket: Ticket, *, set_fields: Document, push: dict[str, Any]
    ) -> Ticket | None:
        """Apply a change if the ticket is still at the version read; None when it moved on."""
        doc = await self._tickets.find_one_and_update(
            {"_id": ticket.tracking_code, "version": ticket.version},
            {
                "$set": set_fields,
                "$inc": {"version": 1},
                "$push": {field: {"$each": values} for field, values in push.items()},
            },
            return_document=ReturnDocument.AFTER,
        )
        return Ticket.from_document(doc) if doc else None


class AccountRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._accounts = db[ACCOUNTS]

    async def get(self, username: str) -> Document | None:
        return await self._accounts.find_one({"_id": username, "active": True})

    async def usernames(self) -> set[str]:
        return {doc["_id"] async for doc in self._accounts.find({}, {"_id": 1})}

    async def add(self, *, username: str, password_hash: str, role: Role, opd: str | None) -> None:
        await self._accounts.insert_one(
            {
                "_id": username,
                "password_hash": password_hash,
                "role": role.value,
                "opd": opd,
                "active": True,
            }
        )
