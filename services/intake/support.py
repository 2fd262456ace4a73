""" "Dukung laporan ini": citizens add their voice to a public report instead of filing anew.

One document per supported ticket in `supporters` (intake writes it; notify reads the contacts
to tell them of the resolution once; everyone else reads only the count), read by `_id`.
A contact supports a ticket once (its hash is the idempotency key); supports without contact
are counted, and all are limited per address.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared import publication
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.tickets import LOCKS, Ticket, TicketStatus

COLLECTION = "supporters"
# Supporters with contact kept per ticket (notify tells each); beyond that only counted.
MAX_CONTACTS = 1000
SUPPORTABLE = frozenset({TicketStatus.VERIFIED, TicketStatus.IN_PROGRESS})


def contact_key(*, email: str | None, phone: str | None) -> str | None:
    """The hash a contact is known by (lower-cased e-mail, else the phone's digits)."""
    if email:
        raw = "email:" + email.strip().lower()
    elif phone:
        raw = "phone:" + "".join(ch for ch in phone if ch.isdigit())
    else:
        return None
    return hashlib.sha256(raw.encode()).hexdigest()


def supportable(ticket: Ticket) -> bool:
    """Open, and public under the publication policy (verified, not confidential or hidden)."""
    return ticket.status in SUPPORTABLE and publication.shows_content(ticket)


@dataclass(frozen=True)
class Supported:
    count: int
    new: bool


class SupportRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]
        self._locks = DocumentLocks(db[LOCKS])

    async def count(self, tracking_code: str) -> int:
        doc = await self.collection.find_one({"_id": tracking_code}, {"count": 1})
        return int(doc["count"]) if doc else 0

    async def add(
        self,
        tracking_code: str,
        *,
        email: str | None,
        phone: str | None,
        lang: str,
        now: datetime,
    ) -> Supported:
        """Count a support; a contact that already supports the ticket changes nothing."""
        key = contact_key(email=email, phone=phone)
        async with self._locks.hold(f"support|{tracking_code}"):
            doc: dict[str, Any] = await self.collection.find_one({"_id": tracking_code}) or {
                "_id": tracking_code,
                "count": 0,
                "contacts": [],
            }
            contacts: list[dict[str, Any]] = doc.get("contacts") or []
            if key is not None and any(c.get("key") == key for c in contacts):
                return Supported(int(doc["count"]), new=False)
            if key is not None and len(contacts) < MAX_CONTACTS:
                contacts.append(
                    {"key": key, "email": email, "phone": phone, "lang": lang, "at": now}
                )
            doc.update(count=int(doc["count"]) + 1, contacts=contacts, updated_at=now)
            await self.collection.replace_one({"_id": tracking_code}, doc, upsert=True)
        return Supported(int(doc["count"]), new=True)
