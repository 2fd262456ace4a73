"""MongoDB access for routing: tickets (version-checked updates), accounts, sign-in throttling."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.routing.stores import AccountExists
from shared.auth import PasswordHashing, Role
from shared.chat import MESSAGES
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.ticket_store import TicketStore
from shared.tickets import LOCKS

ACCOUNTS = "accounts"
LOGIN_FAILURES = "login_attempts"
ACCOUNT_FIELDS = ("role", "opd", "full_name", "email", "whatsapp", "notify_mode", "active")


class TicketRepository(TicketStore):
    """Routing's access to tickets (it owns them after intake).

    The deadline scheduler's scans ask per status (an equality FerretDB hands to its storage,
    where `$in` cannot) for at most `limit` small documents: `_id` and the fields named."""

    async def _scan(self, query: Document, fields: dict[str, int], limit: int) -> list[Document]:
        return await self.collection.find(query, fields).limit(limit).to_list()

    async def due_before(self, status: str, before: datetime, *, limit: int) -> list[Document]:
        """Tickets in `status` due before `before`: `_id`, `due_at` and the deadline guards."""
        return await self._scan(
            {"status": status, "due_at": {"$lt": before}},
            {"due_at": 1, "escalated_for": 1, "reminded_for": 1},
            limit,
        )

    async def resolved_before(self, before: datetime, *, limit: int) -> list[Document]:
        """Resolved tickets resolved before `before`: `_id` and `resolved_at`."""
        return await self._scan(
            {"status": "resolved", "resolved_at": {"$lt": before}}, {"resolved_at": 1}, limit
        )

    async def submitted_before(self, before: datetime, *, limit: int) -> list[Document]:
        """Tickets still `submitted` that were submitted before `before`: `_id` only."""
        return await self._scan(
            {"status": "submitted", "submitted_at": {"$lt": before}}, {"_id": 1}, limit
        )

    async def contact_kept(
        self, status: str, updated_before: datetime, *, limit: int
    ) -> list[Document]:
        """Tickets in `status` unchanged since `updated_before` that still hold a reporter."""
        return await self._scan(
            {"status": status, "updated_at": {"$lt": updated_before}, "reporter": {"$ne": None}},
            {"_id": 1},
            limit,
        )


DELIVERIES = "deliveries"  # notify's delivery log (read only here)
CHAT_CHANNELS = ["whatsapp", "sms"]
CHAT_REPLY_TEMPLATE = "chat_reply"


class Transcripts:
    """A chat ticket's conversation as the citizen saw it: their messages and the chat's
    replies (intake's `chat_messages`), and the news notify sent to the chat (`deliveries`).
    Read only; no phone number is read."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._messages = db[MESSAGES]
        self._deliveries = db[DELIVERIES]

    async def for_ticket(self, tracking_code: str, *, limit: int = 500) -> list[Document]:
        """`{"at", "from" (citizen | chat | notify), "channel", "text", "status"}`, oldest first."""
        messages = self._messages.find(
            {"tracking_code": tracking_code},
            {"direction": 1, "channel": 1, "text": 1, "at": 1},
        ).sort([("at", 1), ("direction", 1)])
        entries: list[Document] = [
            {
                "at": m["at"],
                "from": "citizen" if m.get("direction") == "in" else "chat",
                "channel": m.get("channel"),
                "text": m.get("text") or "",
                "status": None,
            }
            async for m in messages.limit(limit)
        ]
        news = self._deliveries.find(
            {
                "tracking_code": tracking_code,
                "recipient_kind": "citizen",
                "channel": {"$in": CHAT_CHANNELS},
                "template": {"$ne": CHAT_REPLY_TEMPLATE},
            },
            {"created_at": 1, "channel": 1, "message.text": 1, "status": 1},
        )
        entries += [
            {
                "at": d["created_at"],
                "from": "notify",
                "channel": d.get("channel"),
                "text": (d.get("message") or {}).get("text") or "",
                "status": d.get("status"),
            }
            async for d in news.limit(limit)
        ]
        return sorted(entries, key=lambda e: e["at"])


class AccountRepository:
    """Accounts, and the bounded argon2 hashing of the passwords they store (`passwords`)."""

    def __init__(
        self, db: AsyncDatabase[Document], *, passwords: PasswordHashing | None = None
    ) -> None:
        self._accounts = db[ACCOUNTS]
        self._locks = DocumentLocks(db[LOCKS])
        self.passwords = passwords or PasswordHashing()

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

    async def update(
        self, username: str, fields: Document, *, revoke_tokens: bool = False
    ) -> Document | None:
        """Set `fields`; with `revoke_tokens` also bump the token version, which makes every
        token issued before invalid (sign-out, password change)."""
        change: Document = {"$set": fields} if fields else {}
        if revoke_tokens:
            change["$inc"] = {"token_version": 1}
        if not change:
            return await self.find(username)
        async with self._locks.hold(f"account|{username}"):
            return await self._accounts.find_one_and_update(
                {"_id": username}, change, return_document=ReturnDocument.AFTER
            )


class LoginThrottle:
    """Sign-in attempts per (username, address) and per address, recorded *before* the
    password is checked.

    Each attempt is its own insert (atomic everywhere), so parallel guesses cannot slip past
    the count; a successful sign-in clears the pair's attempts. The per-address count stops
    password spraying over the predictable usernames (`<opd>`, `<opd>-kepala`); it is higher
    than the per-username one, because many officers may share an office's address.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        max_failures: int,
        window: timedelta,
        max_failures_per_address: int = 30,
    ) -> None:
        self._attempts = db[LOGIN_FAILURES]
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window = window

    async def ensure_indexes(self) -> None:
        await self._attempts.create_index([("key", 1), ("at", 1)])
        await self._attempts.create_index([("address", 1), ("at", 1)])

    @staticmethod
    def _key(username: str, address: str) -> str:
        return f"{username.lower()}|{address}"

    async def attempt(self, username: str, address: str, now: datetime) -> int:
        """Count this attempt; 0 when it may go ahead, else the seconds to wait."""
        key = self._key(username, address)
        await self._attempts.insert_one(
            {"_id": uuid.uuid4().hex, "key": key, "address": address, "at": now}
        )
        since = {"$gte": now - self.window}
        for recent, limit in (
            ({"key": key, "at": since}, self.max_failures),
            ({"address": address, "at": since}, self.max_failures_per_address),
        ):
            if await self._attempts.count_documents(recent) > limit:
                oldest = await self._attempts.find_one(recent, sort=[("at", 1)])
                until: datetime = (oldest["at"] if oldest else now) + self.window
                return max(1, int((until - now).total_seconds()) + 1)
        return 0

    async def succeeded(self, username: str, address: str) -> None:
        await self._attempts.delete_many({"key": self._key(username, address)})

    async def purge_before(self, cutoff: datetime) -> None:
        await self._attempts.delete_many({"at": {"$lt": cutoff}})
