"""What routing's staff use cases answer, as typed values: a ticket as staff see it, a
transition's outcome, a page of the list, a bulk action's report, the breach forecast, an
account, the classifier's dry run, a cluster, a chat's transcript, canned answers, a change of
the catalogue. The JSON API maps them to the contract's bodies (schemas.py: `ticket_body`,
`transition_body`, `page_body`, `bulk_body`, `cluster_body`, `transcript_body`, `canned_body`;
AccountOut and ClassifyOut read theirs by attribute), the console's pages read their
attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.routing.forecast import AtRisk
from shared.tickets import (
    Comment,
    HistoryEntry,
    Kind,
    Location,
    Rating,
    Reporter,
    RoutingAlternative,
    RoutingDecision,
    TicketStatus,
)


@dataclass(frozen=True)
class StaffPhoto:
    id: str
    content_type: str
    size: int
    uploaded_at: datetime
    url: str


@dataclass(frozen=True)
class PublicationPreview:
    """What the public sees of the ticket (shared.publication), and the officers' decision."""

    exposure: str
    text: str
    edited: bool
    hidden: bool
    reason: str | None
    by: str | None
    at: datetime | None


@dataclass(frozen=True)
class ClusterView:
    """Related tickets answered as one (the contract's `{"id", "primary", "members"}`):
    `members` includes the primary; `status` proposed, confirmed or dissolved; `proposed` the
    router's matches waiting for confirmation."""

    id: str
    primary: str | None
    members: tuple[str, ...]
    status: str
    proposed: tuple[str, ...] = ()
    opd: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class StaffTicket:
    """A ticket as staff see it. `reporter` is None for an anonymous ticket, for everyone;
    `cluster` (the cluster's contract view) is looked up for one ticket's view only."""

    tracking_code: str
    status: TicketStatus
    version: int
    kind: Kind
    category: str | None
    opd: str | None
    opd_name: str | None
    title: str | None
    description: str
    location: Location
    routing: RoutingDecision | None
    due_at: datetime | None
    overdue: bool
    submitted_at: datetime
    updated_at: datetime
    anonymous: bool
    confidential: bool
    possible_duplicate_of: str | None
    cluster_id: str | None
    weight: int
    assigned_to: str | None
    history: tuple[HistoryEntry, ...]
    comments: tuple[Comment, ...]
    photos: tuple[StaffPhoto, ...]
    rating: Rating | None
    source: str
    publication: PublicationPreview
    allowed_actions: tuple[str, ...]
    reporter: Reporter | None = None
    cluster: ClusterView | None = None


@dataclass(frozen=True)
class MemberResult:
    """What the primary's transition did to one member of its cluster: `done` (with the
    member's new status) or `skipped` (with the refusal's detail)."""

    tracking_code: str
    result: str
    status: TicketStatus | None = None
    detail: object = None


@dataclass(frozen=True)
class Transitioned:
    """A transition done. `ticket` is the ticket as the caller sees it now, None when it left
    their scope (a transfer): then only its code, status, version and OPD are theirs to see.
    `cluster_results` only for a transition applied to a cluster's members."""

    tracking_code: str
    status: TicketStatus
    version: int
    opd: str | None
    ticket: StaffTicket | None
    cluster_results: tuple[MemberResult, ...] | None = None


@dataclass(frozen=True)
class TicketList:
    """One page of the caller's tickets; `next_cursor` None on the last."""

    items: tuple[StaffTicket, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class BulkResult:
    """One ticket of a bulk action: `done` (with its new status) or why not (`conflict`,
    `not_allowed`, `forbidden`, `invalid`, `not_found`, with the refusal's detail); `version`
    is the ticket's as it is now, when known."""

    tracking_code: str
    result: str
    status: TicketStatus | None = None
    version: int | None = None
    detail: object = None


@dataclass(frozen=True)
class BulkDone:
    """A bulk action's report: each ticket's result, and how many ended each way."""

    action: str
    results: tuple[BulkResult, ...]
    counts: Mapping[str, int]


@dataclass(frozen=True)
class BreachForecast:
    """An OPD's open tickets that will miss their deadline at its recent pace."""

    opd: str
    resolved_recently: int
    window_working_days: int
    pace_per_working_day: float
    at_risk: tuple[AtRisk, ...]


@dataclass(frozen=True)
class AccountView:
    """An account as the API and the console show it (never its password hash or tokens);
    `role` as stored."""

    username: str
    role: str
    opd: str | None
    full_name: str | None
    email: str | None
    whatsapp: str | None
    notify_mode: str
    active: bool


@dataclass(frozen=True)
class Classified:
    """The router's answer to a text without a ticket (the classifier's dry run): `opd` is
    `TRIASE` when it is not sure, `LUAR_KEWENANGAN` with a `referral`; the runners-up best
    first; `model` the version that answered."""

    opd: str
    confidence: float
    reasons: tuple[str, ...]
    alternatives: tuple[RoutingAlternative, ...]
    referral: str | None
    model: str


@dataclass(frozen=True)
class TranscriptEntry:
    """One message of a chat ticket's conversation as the citizen saw it: `sender` is
    `citizen`, `chat` (the chat's reply) or `notify` (news sent to the chat, with its
    delivery `status`)."""

    at: datetime
    sender: str
    channel: str | None
    text: str
    status: str | None = None


@dataclass(frozen=True)
class CannedAnswer:
    """One of an OPD's canned answers: `body` with its `{kode}`, `{tenggat}` and `{opd}`
    placeholders; who changed it last, and when."""

    id: str
    title: str
    body: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class OpdCannedAnswers:
    """An OPD's canned answers, by title."""

    opd: str
    items: tuple[CannedAnswer, ...]


@dataclass(frozen=True)
class FilledAnswer:
    """A canned answer with its placeholders filled for one ticket (`text`)."""

    answer: CannedAnswer
    text: str


@dataclass(frozen=True)
class CatalogueChange:
    """One audited change of the catalogue: who, when, which entry, its value before (None for
    a new entry) and after (entries of each kind have their own fields)."""

    at: datetime
    actor: str
    kind: str
    code: str
    before: dict[str, Any] | None
    after: dict[str, Any]
