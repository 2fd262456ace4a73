"""MongoDB access for notify: its delivery log, and the tickets it reads contacts from."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.mongo import Document
from shared.tickets import COLLECTION

DELIVERIES = "deliveries"


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._deliveries = db[DELIVERIES]

    async def ensure_indexes(self) -> None:
        await self._deliveries.create_index("tracking_code")

    async def claim(self, record: Document) -> Document:
        """Insert the record unless its key exists; return the stored record either way."""
        try:
            await self._deliveries.insert_one(record)
        except DuplicateKeyError:
            existing = await self._deliveries.find_one({"_id": record["_id"]})
            assert existing is not None
            return existing
        return record

    async def mark(self, key: str, *, status: str, at: datetime, error: str | None = None) -> None:
        fields: Document = {"status": status, "updated_at": at, "last_error": error}
        if status == "sent":
            fields["sent_at"] = at
        await self._deliveries.update_one({"_id": key}, {"$set": fields, "$inc": {"attempts": 1}})

    async def for_ticket(self, tracking_code: str) -> list[Document]:
        cursor = self._deliveries.find({"tracking_code": tracking_code}).sort("created_at", 1)
        return await cursor.to_list()


class TicketContacts:
    """Reads the reporter's contact from the ticket (events carry no personal data)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tickets = db[COLLECTION]

    async def citizen_email(self, tracking_code: str) -> str | None:
        doc = await self._tickets.find_one({"_id": tracking_code}, {"reporter": 1})
        reporter = (doc or {}).get("reporter") or {}
        email = reporter.get("email")
        return email if isinstance(email, str) else None
