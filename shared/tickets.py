"""The stored ticket: one document per complaint in the `tickets` collection.

Intake creates it; routing owns it afterwards; intake adds citizen follow-ups through
version-checked updates. Pending events ride along in `outbox` (see shared.outbox).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.mongo import Document

COLLECTION = "tickets"


class TicketStatus(StrEnum):
    SUBMITTED = "submitted"
    TRIAGE = "triage"
    ROUTED = "routed"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"


class Kind(StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    INFORMATION = "information"


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Location(_Stored):
    kecamatan: str | None = None
    desa: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


class Reporter(_Stored):
    name: str | None = None
    email: str | None = None
    phone: str | None = None

    def has_contact(self) -> bool:
        return bool(self.email or self.phone)


class HistoryEntry(_Stored):
    at: AwareDatetime
    actor: str
    action: str
    from_status: str | None = Field(default=None, alias="from")
    to_status: str = Field(alias="to")
    note: str | None = None
    public: bool = True


class RoutingDecision(_Stored):
    opd: str
    confidence: float
    reasons: list[str] = Field(default_factory=list)
    model: str


class Ticket(_Stored):
    tracking_code: str
    version: int = 1
    status: TicketStatus
    kind: Kind
    title: str | None = None
    description: str
    category: str | None = None
    location: Location = Field(default_factory=Location)
    reporter: Reporter | None = None
    anonymous: bool = False
    confidential: bool = False
    reply_token_hash: str
    submitted_at: AwareDatetime
    updated_at: AwareDatetime
    opd: str | None = None
    routing: RoutingDecision | None = None
    due_at: AwareDatetime | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    correlation_id: str
    outbox: list[dict[str, Any]] = Field(default_factory=list)

    def to_document(self) -> Document:
        doc = self.model_dump(mode="python", by_alias=True)
        doc["_id"] = self.tracking_code
        return doc

    @classmethod
    def from_document(cls, doc: Document) -> Ticket:
        return cls.model_validate(doc)


def history_entry(
    *,
    at: datetime,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str,
    note: str | None = None,
    public: bool = True,
) -> Document:
    """A history entry in its stored form (keys `from` and `to`)."""
    return HistoryEntry.model_validate(
        {
            "at": at,
            "actor": actor,
            "action": action,
            "from": from_status,
            "to": to_status,
            "note": note,
            "public": public,
        }
    ).model_dump(mode="python", by_alias=True)
