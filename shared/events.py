"""The event envelope and the typed payload of each ticket event.

Events carry no personal data: consumers that need the reporter's contact read the ticket.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class EventType(StrEnum):
    TICKET_SUBMITTED = "ticket.submitted"
    TICKET_ROUTED = "ticket.routed"
    TICKET_TRIAGED = "ticket.triaged"


def new_event_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """Now in UTC, to the millisecond: what MongoDB stores, so a stored time reads back equal."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Envelope(BaseModel):
    """What travels on Kafka and waits in a ticket's outbox."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(default_factory=new_event_id)
    event_type: str
    ticket_id: str
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    schema_version: int = SCHEMA_VERSION
    correlation_id: str
    producer: str
    payload: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


class EventPayload(BaseModel):
    """Base of typed payloads; `event_type` ties a payload class to its envelope type."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: ClassVar[EventType]

    def envelope(self, *, ticket_id: str, producer: str, correlation_id: str) -> Envelope:
        return Envelope(
            event_type=self.event_type,
            ticket_id=ticket_id,
            producer=producer,
            correlation_id=correlation_id,
            payload=self.model_dump(mode="json"),
        )

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> Any:
        return cls.model_validate(envelope.payload)


class TicketSubmitted(EventPayload):
    event_type: ClassVar[EventType] = EventType.TICKET_SUBMITTED
    kind: str
    category: str | None = None
    kecamatan: str | None = None
    confidential: bool = False
    has_contact: bool = False


class TicketRouted(EventPayload):
    """The router assigned an OPD (routed) or sent the ticket to the admin's queue (triaged)."""

    event_type: ClassVar[EventType] = EventType.TICKET_ROUTED
    opd: str
    status: str
    confidence: float
    model: str
    due_at: AwareDatetime | None = None


class TicketTriaged(TicketRouted):
    event_type: ClassVar[EventType] = EventType.TICKET_TRIAGED
