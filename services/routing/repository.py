"""MongoDB access for routing: tickets (version-checked updates) and accounts."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from shared.auth import Role
from shared.mongo import Document
from shared.tickets import TicketStore

ACCOUNTS = "accounts"


class TicketRepository(TicketStore):
    """Routing's access to tickets (it owns them after intake)."""


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
