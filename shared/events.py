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
    CITIZEN_REPLIED = "ticket.citizen_replied"
    TICKET_RATED = "ticket.rated"
    TICKET_TRANSITIONED = "ticket.transitioned"
    TICKET_COMMENTED = "ticket.commented"
    TICKET_ESCALATED = "ticket.escalated"
    TICKET_DUE_SOON = "ticket.due_soon"
    OPD_CHOICE_ASKED = "ticket.opd_choice_asked"
    OPD_CHOSEN = "ticket.opd_chosen"
    CHAT_REPLY = "chat.reply"


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
    # When the ticket was submitted: a consumer can place any event of a ticket (the statistics'
    # month) without reading the ticket. None only in events written before it was added.
    submitted_at: AwareDatetime | None = None

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
    synthetic: bool = False  # the canary's (docs/operations.md): left out of the statistics


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


class CitizenReplied(EventPayload):
    """The reporter added information (`info`), accepted (`confirm`) or disputed the answer."""

    event_type: ClassVar[EventType] = EventType.CITIZEN_REPLIED
    action: str
    from_status: str
    to_status: str
    opd: str | None = None
    due_at: AwareDatetime | None = None  # dispute: the new resolution deadline


class TicketRated(EventPayload):
    event_type: ClassVar[EventType] = EventType.TICKET_RATED
    score: int
    opd: str | None = None


class ClusterAnswer(BaseModel):
    """One answer of a confirmed cluster's primary applied to its members (issue 14).

    Every event of the answer carries the same `id`, so notify tells each contact once.
    `members` are the tracking codes the answer goes to, the primary first (codes only: no
    personal data).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    primary: str
    members: list[str] = Field(default_factory=list)


class TicketTransitioned(EventPayload):
    """Staff or the system moved the ticket along the transition table of ARCHITECTURE.md.

    `note` is carried only when the history entry is public (a resolution's answer, a public
    transfer or reopening note); internal notes stay on the ticket.
    """

    event_type: ClassVar[EventType] = EventType.TICKET_TRANSITIONED
    action: str  # verify | start | resolve | reject | close | reopen | transfer
    from_status: str
    to_status: str
    opd: str | None = None  # the responsible OPD after the transition
    from_opd: str | None = None  # transfer: the OPD that handed the ticket over
    actor_role: str = "officer"  # officer | supervisor | admin | system
    reason: str | None = None  # reject: invalid | spam | duplicate | out_of_authority
    note: str | None = None
    due_at: AwareDatetime | None = None
    cluster_answer: ClusterAnswer | None = None  # part of one answer for a whole cluster


class TicketCommented(EventPayload):
    """Staff commented; only a public comment carries its text (it is public anyway)."""

    event_type: ClassVar[EventType] = EventType.TICKET_COMMENTED
    comment_id: str
    public: bool
    author_role: str = "officer"
    opd: str | None = None
    body: str | None = None
    cluster_answer: ClusterAnswer | None = None  # part of one answer for a whole cluster


class TicketEscalated(EventPayload):
    """A deadline was missed (once per breach): the OPD's supervisor and the admin are told."""

    event_type: ClassVar[EventType] = EventType.TICKET_ESCALATED
    opd: str | None = None  # None or TRIASE: the admin side's routing deadline
    status: str
    due_at: AwareDatetime
    stage: str = "follow_up"  # routing | follow_up | resolution


class TicketDueSoon(EventPayload):
    """A deadline is near (once per deadline): the OPD's officers are reminded."""

    event_type: ClassVar[EventType] = EventType.TICKET_DUE_SOON
    opd: str | None = None
    status: str
    due_at: AwareDatetime


# How a citizen answers routing's choice question in a chat: a button id or a number.
CHOICE_PREFIX = "pilih:"
CHOICE_OTHER = "lainnya"


def choice_id(opd: str | None) -> str:
    """The reply id of a choice button: `pilih:DLH`, or `pilih:lainnya` for none of them."""
    return CHOICE_PREFIX + (opd or CHOICE_OTHER)


class OpdChoiceAsked(EventPayload):
    """Routing was unsure where a chat ticket belongs: the citizen is asked to choose among
    `candidates` (OPD codes, best first) or "lainnya". The ticket stays `submitted`."""

    event_type: ClassVar[EventType] = EventType.OPD_CHOICE_ASKED
    candidates: list[str]


class OpdChosen(EventPayload):
    """The citizen answered the choice question; `opd` None means "lainnya" (the admin decides)."""

    event_type: ClassVar[EventType] = EventType.OPD_CHOSEN
    opd: str | None = None


class ChatReply(EventPayload):
    """A reply of a chat conversation is stored (intake's `chat_messages`): notify sends it.

    On `pengaduan.chats.v1`; the envelope's `ticket_id` is the conversation's id (the key), and
    neither the text nor the number travels: notify reads them from the stored message.
    """

    event_type: ClassVar[EventType] = EventType.CHAT_REPLY
    message_id: str
    channel: str  # whatsapp | sms
    tracking_code: str | None = None
