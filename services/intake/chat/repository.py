"""MongoDB access of the chat channels (intake writes these collections):

- `chat_conversations`: one per (channel, number): the conversation's state, the message ids
  already handled, and an embedded outbox of the replies to send (relayed to
  `pengaduan.chats.v1` like a ticket's events);
- `chat_messages`: the transcript, one document per message in or out, tagged with the ticket
  it belongs to (the console shows it; notify reads a reply's text from it);
- `chat_statuses`: the platform's delivery statuses of what was sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.intake.chat.dialogue import Channel, Conversation
from shared.chat import CONVERSATIONS, MESSAGES, STATUSES
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.tickets import LOCKS, OutboxListener, outbox_flags

SEEN_KEPT = 200  # message ids remembered per conversation (the platform retries for days)
DUPLICATE_KEY = 11000


@dataclass(frozen=True)
class Stored:
    """A conversation as stored: its state and what the service needs around it."""

    id: str
    version: int
    phone: str
    state: Conversation
    seen: tuple[str, ...]
    flood_warned_at: datetime | None


class ConversationRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CONVERSATIONS]
        self._messages = db[MESSAGES]
        self._statuses = db[STATUSES]
        # A step holds its conversation while it files a ticket and fetches photos.
        self.locks = DocumentLocks(db[LOCKS], lease_s=60.0, wait_s=30.0)
        self._outbox_listener: OutboxListener = lambda _id, _entries: None

    def on_outbox(self, listener: OutboxListener) -> None:
        """Call `listener(conversation_id, entries)` after each write that queued replies."""
        self._outbox_listener = listener

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("channel", ASCENDING), ("phone", ASCENDING)], unique=True
        )
        await self.collection.create_index("updated_at")
        await self._messages.create_index("tracking_code")
        await self._messages.create_index([("conversation", ASCENDING), ("draft", ASCENDING)])
        await self._messages.create_index("at")
        await self._statuses.create_index("delivery_key")

    async def open(self, channel: Channel, phone: str, now: datetime) -> str:
        """The id of the conversation with this number on this channel, created if new."""
        found = await self.collection.find_one(
            {"channel": channel.value, "phone": phone}, {"_id": 1}
        )
        if found is not None:
            return str(found["_id"])
        doc: Document = {
            "_id": "c" + uuid.uuid4().hex[:20],
            "channel": channel.value,
            "phone": phone,
            "state": Conversation(channel=channel).model_dump(mode="python"),
            "seen": [],
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "last_inbound_at": None,
            "outbox": [],
        }
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:  # the same number's first two messages at once
            again = await self.collection.find_one(
                {"channel": channel.value, "phone": phone}, {"_id": 1}
            )
            if again is None:
                raise
            return str(again["_id"])
        return str(doc["_id"])

    async def get(self, conversation_id: str) -> Stored | None:
        doc = await self.collection.find_one({"_id": conversation_id}, {"outbox": 0})
        if doc is None:
            return None
        return Stored(
            id=str(doc["_id"]),
            version=int(doc.get("version", 1)),
            phone=str(doc["phone"]),
            state=Conversation.model_validate(doc["state"]),
            seen=tuple(doc.get("seen") or ()),
            flood_warned_at=doc.get("flood_warned_at"),
        )

    async def save(
        self,
        stored: Stored,
        *,
        state: Conversation,
        handled: str,
        outbox: list[Document],
        fields: Document,
    ) -> bool:
        """Write the step's outcome if nobody else did meanwhile (the caller holds the lock)."""
        change: Document = {
            "$set": {
                "state": state.model_dump(mode="python"),
                "seen": [*stored.seen, handled][-SEEN_KEPT:],
                **fields,
            },
            "$inc": {"version": 1},
        }
        if outbox:
            change["$push"] = {"outbox": {"$each": outbox}}
            change["$set"].update(outbox_flags(outbox))
        result = await self.collection.update_one(
            {"_id": stored.id, "version": stored.version}, change
        )
        if result.modified_count != 1:
            return False
        if outbox:
            self._outbox_listener(stored.id, outbox)
        return True

    async def add_messages(self, messages: list[Document]) -> None:
        """Store transcript entries; ones already stored (a retried step) stay as they are."""
        if not messages:
            return
        try:
            await self._messages.insert_many(messages, ordered=False)
        except BulkWriteError as exc:
            errors: list[dict[str, Any]] = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise

    async def tag_draft(self, conversation_id: str, draft_id: str, tracking_code: str) -> None:
        """The messages of a draft belong to the ticket it became."""
        await self._messages.update_many(
            {"conversation": conversation_id, "draft": draft_id},
            {"$set": {"tracking_code": tracking_code}},
        )

    async def record_status(self, status: Document) -> bool:
        """Keep one delivery status (once per message and status); False if known already."""
        try:
            await self._statuses.insert_one(status)
        except DuplicateKeyError:
            return False
        return True

    async def purge_before(self, cutoff: datetime) -> int:
        """Forget conversations and transcripts untouched since `cutoff` (UU 27/2022)."""
        old = await self.collection.find({"updated_at": {"$lt": cutoff}}, {"_id": 1}).to_list()
        ids = [doc["_id"] for doc in old]
        if ids:
            await self._messages.delete_many({"conversation": {"$in": ids}})
            await self.collection.delete_many({"_id": {"$in": ids}, "updated_at": {"$lt": cutoff}})
        await self._messages.delete_many({"at": {"$lt": cutoff}})
        await self._statuses.delete_many({"at": {"$lt": cutoff}})
        return len(ids)
