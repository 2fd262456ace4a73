"""The stored ticket: one document per complaint in the `tickets` collection.

Intake creates it; routing owns it afterwards; intake adds citizen follow-ups through
version-checked updates. Pending events ride along in `outbox` (see shared.outbox).
The model only: the collection's adapter is `shared.ticket_store.TicketStore`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.documents import Document
from shared.events import Envelope

COLLECTION = "tickets"


class TicketStatus(StrEnum):
    SUBMITTED = "submitted"
    TRIAGE = "triage"
    ROUTED = "routed"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    # The deadline is paused while the OPD waits (services/routing/pauses.py).
    WAITING_CITIZEN = "waiting_citizen"  # menunggu pelapor: for the citizen's information
    WAITING_THIRD_PARTY = "waiting_third_party"  # menunggu pihak ketiga: on another party
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
    internal_note: str | None = None  # staff only: a note on a step whose note is not public


class RoutingAlternative(_Stored):
    """An OPD the router weighed after its answer, with its confidence (0-1)."""

    opd: str
    confidence: float


class RoutingDecision(_Stored):
    opd: str
    confidence: float
    reasons: list[str] = Field(default_factory=list)
    model: str
    # The runners-up, best first (tickets routed before they were stored have none).
    alternatives: list[RoutingAlternative] = Field(default_factory=list)


class Photo(_Stored):
    id: str
    content_type: str
    size: int
    uploaded_at: AwareDatetime


class Comment(_Stored):
    """A note on the ticket: an officer's (public or internal) or the reporter's added info."""

    id: str
    at: AwareDatetime
    author: str
    body: str
    public: bool = False


class Rating(_Stored):
    score: int
    comment: str | None = None
    at: AwareDatetime


class ChoiceCandidate(_Stored):
    opd: str
    confidence: float


class RoutingQuestion(_Stored):
    """Routing's unsure decision on a chat ticket, kept while the citizen is asked to choose."""

    candidates: list[ChoiceCandidate]
    asked_at: AwareDatetime
    confidence: float
    reasons: list[str] = Field(default_factory=list)
    model: str


class RoutingChoice(_Stored):
    """The citizen's answer (intake writes it): an OPD of the question, or None for "lainnya"."""

    opd: str | None = None
    at: AwareDatetime


class Publication(_Stored):
    """An officer's decision on what the public sees (shared.publication reads it)."""

    text: str | None = None  # the edited public text; None: the description, redacted
    hidden: bool = False  # the content is not public at all (status, OPD and dates only)
    reason: str | None = None
    by: str | None = None
    at: AwareDatetime | None = None


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
    confidential: bool = False  # in force: the citizen's choice, else the publication policy's
    confidential_requested: bool | None = None  # what the citizen chose; None: no choice
    publication: Publication | None = None
    reply_token_hash: str
    submitted_at: AwareDatetime
    updated_at: AwareDatetime
    opd: str | None = None
    routing: RoutingDecision | None = None
    due_at: AwareDatetime | None = None
    # While paused: when the pause began and the deadline it holds for later.
    paused_at: AwareDatetime | None = None
    paused_due_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)
    photos: list[Photo] = Field(default_factory=list)
    rating: Rating | None = None
    source: str = "api"
    # The canary's synthetic complaint (services/intake/canary.py): measured, then closed at
    # once; no message, no statistics, never public.
    synthetic: bool = False
    # A ticket filed in a chat (source whatsapp or sms): the conversation it came from.
    conversation_id: str | None = None
    routing_question: RoutingQuestion | None = None
    routing_choice: RoutingChoice | None = None
    search_tokens: list[str] = Field(default_factory=list)
    # Same description from the same reporter shortly before: flagged, not refused.
    duplicate_key: str | None = None
    possible_duplicate_of: str | None = None
    # The cluster of related tickets it belongs to (routing's `clusters` holds the members).
    cluster_id: str | None = None
    # How many citizens it speaks for: its cluster's size plus its supporters (queue order).
    weight: int = 1
    # The officer of the OPD handling it ("ditangani oleh"); None: nobody yet.
    assigned_to: str | None = None
    correlation_id: str
    # Guards of the deadline scheduler: the deadline already escalated / reminded of, so a
    # restart or a second instance never repeats the event (services/routing/deadlines.py).
    escalated_for: AwareDatetime | None = None
    reminded_for: AwareDatetime | None = None
    # When the reporter's identity and contact were purged (UU 27/2022 retention).
    reporter_purged_at: AwareDatetime | None = None
    outbox: list[dict[str, Any]] = Field(default_factory=list)

    def to_document(self) -> Document:
        doc = self.model_dump(mode="python", by_alias=True)
        doc["_id"] = self.tracking_code
        return doc

    @classmethod
    def from_document(cls, doc: Document) -> Ticket:
        return cls.model_validate(doc)


def queue_weight(*, cluster_size: int, supporters: int) -> int:
    """How many citizens a ticket speaks for: its cluster's reporters plus its supporters."""
    return max(cluster_size, 1) + max(supporters, 0)


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


LOCKS = "ticket_locks"
# Told of each write that added outbox events: the tracking code and the events as stored.
OutboxListener = Callable[[str, list[Document]], None]


def outbox_flag(producer: str) -> str:
    """The top-level field that says a ticket has events of `producer` waiting: an equality
    FerretDB hands to its storage (a query on `outbox.producer` would decode every ticket)."""
    return f"outbox_{producer}"


def outbox_flags(entries: list[Document]) -> Document:
    return {outbox_flag(str(e["producer"])): True for e in entries}


def outbox_entry(envelope: Envelope) -> Document:
    """The stored form of an event waiting to be published."""
    return envelope.model_dump(mode="python")
