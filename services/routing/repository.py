"""MongoDB access for routing: tickets (version-checked updates), accounts, sign-in throttling."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.auth import Role
from shared.mongo import Document
from shared.tickets import TicketStore

ACCOUNTS = "accounts"
LOGIN_FAILURES = "login_failures"
ACCOUNT_FIELDS = ("role", "opd", "full_name", "email", "whatsapp", "notify_mode", "active")


class TicketRepository(TicketStore):
    """Routing's access to tickets (it owns them after intake)."""


class AccountExists(Exception):
    pass


class AccountRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._accounts = db[ACCOUNTS]

    async def get(self, username: str) -> Document | None:
        """An active account."""
        return await self._accounts.find_one({"_id": username, "active": True})

    async def find(self, username: str) -> Document | None:
        return await self._accounts.find_one({"_id": username})

    async def all(self) -> list[Document]:
        return await self._accounts.find({}, {"password_hash": 0}).sort("_id", 1).to_list()

    async def usernames(self) -> set[str]:
        return {doc["_id"] async for doc in self._accounts.find({}, {"_id": 1})}

    async def add(
        self,
        *,
        username: str,
        password_hash: str,
        role: Role,
        opd: str | None,
        **profile: Any,
    ) -> None:
        doc = {
            "_id": username,
            "password_hash": password_hash,
            "role": role.value,
            "opd": opd,
            "active": True,
            "notify_mode": "immediate",
            **profile,
        }
        try:
            await self._accounts.insert_one(doc)
        except DuplicateKeyError as exc:
            raise AccountExists(username) from exc

    async def update(self, username: str, fields: Document) -> Document | None:
        return await self._accounts.find_one_and_update(
            {"_id": username},
            {"$set": fields},
            return_document=ReturnDocument.AFTER,
        )


class LoginThrottle:
    """Failed sign-ins per (username, address); past the limit the pair waits out a lock."""

    def __init__(
        self, db: AsyncDatabase[Document], *, max_failures: int, window: timedelta
    ) -> None:
        self._failures = db[LOGIN_FAILURES]
        self.max_failures = max_failures
        self.window = window

    @staticmethod
    def _key(username: str, address: str) -> str:
        return f"{username.lower()}|{address}"

    async def wait_seconds(self, username: str, address: str, now: datetime) -> int:
        doc = await self._failures.find_one({"_id": self._key(username, address)})
        if not doc or doc["count"] < self.max_failures:
            return 0
        until: datetime = doc["first_at"] + self.window
        return max(0, int((until - now).total_seconds()) + 1)

    async def failed(self, username: str, address: str, now: datetime) -> None:
        key = self._key(username, address)
        doc = await self._failures.find_one({"_id": key})
        if doc is None or doc["first_at"] + self.window < now:
            await self._failures.replace_one(
                {"_id": key}, {"first_at": now, "count": 1}, upsert=True
            )
        else:
            await self._failures.update_one({"_id": key}, {"$inc": {"count": 1}})

    async def succeeded(self, username: str, address: str) -> None:
        await self._failures.delete_one({"_id": self._key(username, address)})
