"""MongoDB access for notify: its delivery log and digests (notify writes them), and the
tickets, accounts and OPD names it reads (routing and intake write those)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.notify.recipients import Contact, Status, normalised_address
from services.notify.rendering import TicketFacts
from shared.chat import CHAT_SOURCES, CONVERSATIONS, MESSAGES
from shared.mongo import Document
from shared.tickets import COLLECTION as TICKETS

DELIVERIES = "deliveries"
CLAIMS = "delivery_claims"
DIGEST_ITEMS = "digest_items"
DIGESTS = "digests"
ACCOUNTS = "accounts"
ACTIVE = [Status.PENDING.value, Status.RETRYING.value]
SUMMARY_CHARS = 120


class DeliveryRepository:
    """One record per (event, recipient, channel), written before sending, updated after.

    A sender holds a record through a lease (`lease_until`, `lease_id`): only the holder
    sends it and records the outcome; a lease left by a crashed process expires. The writer
    of a new record holds its first lease; later attempts are claimed with `acquire`.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._deliveries = db[DELIVERIES]
        self._claims = db[CLAIMS]

    async def ensure_indexes(self) -> None:
        await self._deliveries.create_index("tracking_code")
        await self._deliveries.create_index("event_id")
        await self._deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])

    async def claim(self, record: Document) -> tuple[Document, bool]:
        """Insert the record unless its key exists; the stored record, and whether it is new."""
        try:
            await self._deliveries.insert_one(record)
        except DuplicateKeyError:
            existing = await self._deliveries.find_one({"_id": record["_id"]})
            assert existing is not None
            return existing, False
        return record, True

    async def due(self, channel: str, *, now: datetime, limit: int) -> list[str]:
        """Keys of records of a channel waiting to be (re)sent whose lease is free.

        One query per status: equalities FerretDB filters in its storage, so the sent records,
        nearly all of them, are never decoded (with `$in` every record would be, every poll).
        """
        due: list[tuple[datetime, str]] = []
        for status in ACTIVE:
            cursor = (
                self._deliveries.find(
                    {
                        "channel": channel,
                        "status": status,
                        "next_attempt_at": {"$lte": now},
                        "lease_until": {"$lte": now},
                    },
                    {"_id": 1, "next_attempt_at": 1},
                )
                .sort("next_attempt_at", ASCENDING)
                .limit(limit)
            )
            due += [(doc["next_attempt_at"], doc["_id"]) async for doc in cursor]
        return [key for _, key in sorted(due)[:limit]]

    async def acquire(
        self, key: str, *, now: datetime, lease_until: datetime, lease_id: str
    ) -> Document | None:
        """Take a due record for one more attempt; None if another sender has it.

        Exclusive even where conditional updates are not atomic (FerretDB v1 lets two
        concurrent `find_one_and_update` calls both match): the claim is the insert of
        `<key>#<attempt>` into `delivery_claims`, which only one sender can make.
        """
        record = await self._deliveries.find_one(
            {
                "_id": key,
                "status": {"$in": ACTIVE},
                "next_attempt_at": {"$lte": now},
                "lease_until": {"$lte": now},
            }
        )
        if record is None:
            return None
        attempt = int(record.get("attempts", 0)) + 1
        for _ in range(3):
            try:
                await self._claims.insert_one(
                    {
                        "_id": f"{key}#{attempt}",
                        "key": key,
                        "lease_id": lease_id,
                        "at": now,
                        "lease_until": lease_until,
                    }
                )
                break
            except DuplicateKeyError:
                other = await self._claims.find_one({"_id": f"{key}#{attempt}"})
                if other is None or other["lease_until"] > now:
                    return None  # taken, and its sender is alive
                attempt += 1  # its sender died before taking the record: the next one is free
        else:
            return None
        fields: Document = {
            "lease_until": lease_until,
            "lease_id": lease_id,
            "attempts": attempt,
            "updated_at": now,
        }
        await self._deliveries.update_one({"_id": key}, {"$set": fields})
        return record | fields

    async def prune_claims(self, before: datetime) -> int:
        """Forget claims of attempts long over (they only guard attempts in flight)."""
        result = await self._claims.delete_many({"at": {"$lt": before}})
        return result.deleted_count

    async def finish(self, key: str, *, lease_id: str, fields: Document) -> bool:
        """Record an attempt's outcome if this sender still holds the lease."""
        result = await self._deliveries.update_one(
            {"_id": key, "lease_id": lease_id}, {"$set": fields}
        )
        return result.matched_count == 1

    async def dead_letters_waiting(self, limit: int = 100) -> list[Document]:
        cursor = self._deliveries.find(
            {"status": Status.DEAD.value, "dead_lettered": False}, {"message": 0}
        ).limit(limit)
        return await cursor.to_list()

    async def mark_dead_lettered(self, key: str) -> None:
        await self._deliveries.update_one({"_id": key}, {"$set": {"dead_lettered": True}})

    async def get(self, key: str) -> Document | None:
        return await self._deliveries.find_one({"_id": key})

    async def for_ticket(self, tracking_code: str) -> list[Document]:
        cursor = self._deliveries.find({"tracking_code": tracking_code}, {"message": 0}).sort(
            "created_at", ASCENDING
        )
        return await cursor.to_list()

    async def statuses_of_events(self, event_ids: list[str]) -> dict[str, list[str]]:
        """Statuses of the records of each event (for digests: one event, several channels)."""
        found: dict[str, list[str]] = {}
        if not event_ids:
            return found
        cursor = self._deliveries.find(
            {"event_id": {"$in": event_ids}}, {"event_id": 1, "status": 1}
        )
        async for doc in cursor:
            found.setdefault(doc["event_id"], []).append(doc["status"])
        return found


async def anonymise_deliveries(
    db: AsyncDatabase[Document],
    *,
    before: datetime,
    mask: Callable[[str], str],
    batch: int = 1000,
    pause_s: float = 0.0,
) -> int:
    """Finished deliveries older than the retention period keep only a masked address and no
    message text (UU 27/2022); the log of what was sent when stays.

    Batch after batch until none is left (a backlog larger than one batch is not carried
    over to the next hour), pausing `pause_s` between batches for the store's other users.
    """
    deliveries = db[DELIVERIES]
    due = {
        "created_at": {"$lt": before},
        "status": {"$in": ["sent", "dead"]},
        "anonymised_at": None,
    }
    count = 0
    while True:
        found = await deliveries.find(due, {"recipient": 1}).limit(batch).to_list()
        for doc in found:
            await deliveries.update_one(
                {"_id": doc["_id"]},
                {
                    "$set": {
                        "recipient": mask(str(doc.get("recipient", ""))),
                        "message": None,
                        "anonymised_at": before,
                    }
                },
            )
        count += len(found)
        if len(found) < batch:
            return count
        await asyncio.sleep(pause_s)


async def anonymise_digest_items(db: AsyncDatabase[Document], *, before: datetime) -> int:
    """Digest items older than the retention period, once in a digest, keep no text: their
    line (the message's subject, which may quote the ticket) and link go."""
    result = await db[DIGEST_ITEMS].update_many(
        {"created_at": {"$lt": before}, "digest_id": {"$ne": None}, "anonymised_at": None},
        {"$set": {"line": None, "url": None, "anonymised_at": before}},
    )
    return result.modified_count


class DigestRepository:
    """Messages waiting for an officer's daily digest, and the digests made of them.

    A digest document (one per officer and day, `_id` = its event id) freezes the items it
    contains before any message is written, so a rerun builds the same digest, never a second.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._items = db[DIGEST_ITEMS]
        self._digests = db[DIGESTS]

    async def ensure_indexes(self) -> None:
        await self._items.create_index([("digest_id", ASCENDING), ("day", ASCENDING)])
        await self._items.create_index("tracking_code")

    async def add_item(self, item: Document) -> bool:
        try:
            await self._items.insert_one(item)
        except DuplicateKeyError:
            return False
        return True

    async def waiting_usernames(self, until_day: str) -> list[str]:
        """Officers with items for a digest day up to `until_day` not in a digest yet."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"digest_id": None, "day": {"$lte": until_day}}},
            {"$group": {"_id": "$username", "items": {"$sum": 1}}},
        ]
        cursor = await self._items.aggregate(pipeline)
        return sorted([doc["_id"] async for doc in cursor])

    async def waiting(self, username: str, until_day: str) -> list[Document]:
        cursor = self._items.find(
            {"username": username, "digest_id": None, "day": {"$lte": until_day}}
        ).sort("created_at", ASCENDING)
        return await cursor.to_list()

    async def items(self, ids: list[str]) -> list[Document]:
        cursor = self._items.find({"_id": {"$in": ids}}).sort("created_at", ASCENDING)
        return await cursor.to_list()

    async def freeze(self, digest: Document) -> Document:
        """Store the digest unless one exists for that officer and day; return the stored one."""
        try:
            await self._digests.insert_one(digest)
        except DuplicateKeyError:
            existing = await self._digests.find_one({"_id": digest["_id"]})
            assert existing is not None
            return existing
        return digest

    async def mark_included(self, ids: list[str], digest_id: str) -> None:
        await self._items.update_many(
            {"_id": {"$in": ids}, "digest_id": None}, {"$set": {"digest_id": digest_id}}
        )

    async def for_ticket(self, tracking_code: str) -> list[Document]:
        cursor = self._items.find({"tracking_code": tracking_code}).sort("created_at", ASCENDING)
        return await cursor.to_list()


@dataclass(frozen=True)
class TicketView:
    """What notify reads of a ticket: the reporter's contact and what messages may say.

    A ticket filed in a chat is answered on that chat's channel (`source`), and WhatsApp's
    24-hour window runs from the citizen's last message there (`last_inbound_at`).
    """

    facts: TicketFacts
    email: str | None = None
    phone: str | None = None
    lang: str | None = None
    source: str | None = None
    last_inbound_at: datetime | None = None
    # The stored history and public comments: the only source of text quoted to anyone.
    history: tuple[Document, ...] = ()
    comments: tuple[Document, ...] = ()
    synthetic: bool = False  # the canary's: nobody hears of it


class TicketContacts:
    """Reads the reporter's contact from the ticket (events carry no personal data), and for a
    chat ticket when its citizen last wrote (intake's `chat_conversations`, read only)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tickets = db[TICKETS]
        self._conversations = db[CONVERSATIONS]

    async def reporter_addresses(self, tracking_codes: Iterable[str]) -> list[frozenset[str]]:
        """The reporters' normalised addresses of some tickets (each read by `_id`)."""
        found: list[frozenset[str]] = []
        for code in dict.fromkeys(tracking_codes):
            doc = await self._tickets.find_one({"_id": code}, {"reporter": 1})
            reporter = (doc or {}).get("reporter") or {}
            found.append(
                frozenset(
                    normalised_address(a)
                    for a in (_text(reporter.get("email")), _text(reporter.get("phone")))
                    if a
                )
            )
        return found

    async def read(self, tracking_code: str) -> TicketView | None:
        doc = await self._tickets.find_one(
            {"_id": tracking_code},
            {
                "reporter": 1,
                "kind": 1,
                "title": 1,
                "description": 1,
                "confidential": 1,
                "lang": 1,
                "source": 1,
                "conversation_id": 1,
                "history": 1,
                "comments": 1,
                "synthetic": 1,
            },
        )
        if doc is None:
            return None
        reporter = doc.get("reporter") or {}
        confidential = bool(doc.get("confidential"))
        source = _text(doc.get("source"))
        chat = source in CHAT_SOURCES and bool(doc.get("conversation_id"))
        last_inbound = None
        if chat:
            conversation = await self._conversations.find_one(
                {"_id": doc["conversation_id"]}, {"last_inbound_at": 1}
            )
            last_inbound = (conversation or {}).get("last_inbound_at")
        return TicketView(
            facts=TicketFacts(
                kind=doc.get("kind"),
                summary=None if confidential else _summary(doc),
                confidential=confidential,
                chat=chat,
            ),
            email=_text(reporter.get("email")),
            phone=_text(reporter.get("phone")),
            lang=_text(doc.get("lang")),
            source=source if chat else None,
            last_inbound_at=last_inbound,
            history=tuple(h for h in doc.get("history") or () if isinstance(h, dict)),
            comments=tuple(
                c for c in doc.get("comments") or () if isinstance(c, dict) and c.get("public")
            ),
            synthetic=bool(doc.get("synthetic")),
        )


SUPPORTERS = "supporters"  # intake's "dukung laporan ini" (read only here)


class SupporterContacts:
    """The contacts of a ticket's supporters (intake's `supporters`, one document per ticket,
    read by `_id`); each is known by its contact's hash, never by the contact."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._supporters = db[SUPPORTERS]

    async def of(self, tracking_code: str) -> list[Contact]:
        doc = await self._supporters.find_one({"_id": tracking_code}, {"contacts": 1})
        return [
            Contact(
                key=f"supporter:{str(c.get('key'))[:16]}",
                kind="supporter",
                email=_text(c.get("email")),
                phone=_text(c.get("phone")),
                lang=c.get("lang") if c.get("lang") in ("id", "en") else "id",
            )
            for c in (doc or {}).get("contacts") or []
            if c.get("key") and (c.get("email") or c.get("phone"))
        ]


@dataclass(frozen=True)
class ChatMessage:
    """A reply of a chat conversation waiting to be sent, and where it goes."""

    text: str
    buttons: list[dict[str, str]]
    channel: str
    phone: str
    last_inbound_at: datetime | None


class ChatDirectory:
    """Reads a chat reply and its conversation's number (intake writes both; read only)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._messages = db[MESSAGES]
        self._conversations = db[CONVERSATIONS]

    async def reply(self, message_id: str) -> ChatMessage | None:
        message = await self._messages.find_one({"_id": message_id, "direction": "out"})
        if message is None:
            return None
        conversation = await self._conversations.find_one(
            {"_id": message["conversation"]}, {"phone": 1, "channel": 1, "last_inbound_at": 1}
        )
        if conversation is None:
            return None
        return ChatMessage(
            text=str(message.get("text") or ""),
            buttons=list(message.get("buttons") or []),
            channel=str(conversation["channel"]),
            phone=str(conversation["phone"]),
            last_inbound_at=conversation.get("last_inbound_at"),
        )


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _summary(doc: Document) -> str | None:
    text = _text(doc.get("title")) or _text(doc.get("description"))
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


class StaffDirectory:
    """Officers', supervisors' and admins' contacts and preferences, read from routing's
    `accounts` (read-only here)."""

    _FIELDS: ClassVar[Document] = {
        "role": 1,
        "opd": 1,
        "email": 1,
        "whatsapp": 1,
        "notify_mode": 1,
        "lang": 1,
    }

    def __init__(self, db: AsyncDatabase[Document], *, default_lang: str) -> None:
        self._accounts = db[ACCOUNTS]
        self._default_lang = default_lang

    async def members(self, *, role: str, opd: str | None = None) -> list[Contact]:
        query: Document = {"role": role, "active": True}
        if opd is not None:
            query["opd"] = opd
        cursor = self._accounts.find(query, self._FIELDS).sort("_id", ASCENDING)
        return [self._contact(doc) async for doc in cursor]

    async def member(self, username: str) -> Contact | None:
        doc = await self._accounts.find_one({"_id": username, "active": True}, self._FIELDS)
        return self._contact(doc) if doc else None

    async def opd_of(self, username: str) -> str | None:
        doc = await self._accounts.find_one({"_id": username}, {"opd": 1})
        opd = (doc or {}).get("opd")
        return opd if isinstance(opd, str) else None

    def _contact(self, doc: Document) -> Contact:
        lang = doc.get("lang")
        return Contact(
            key=f"user:{doc['_id']}",
            kind=str(doc.get("role")),
            email=_text(doc.get("email")),
            phone=_text(doc.get("whatsapp")),
            lang=lang if lang in ("id", "en") else self._default_lang,
            digest=doc.get("notify_mode") == "digest",
        )
