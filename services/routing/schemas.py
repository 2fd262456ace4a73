"""HTTP request and response models of routing (never reused as events)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.routing.views import (
    BreachForecast,
    BulkDone,
    CannedAnswer,
    ClusterView,
    FilledAnswer,
    OpdCannedAnswers,
    StaffTicket,
    TicketList,
    TranscriptEntry,
    Transitioned,
)
from services.routing.workflow import Action
from shared.auth import Role
from shared.schemas import Email
from shared.tickets import TicketStatus

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$"
    ),
]
Whatsapp = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+62[0-9]{8,13}$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class TransitionIn(_Strict):
    action: Action
    note: Note | None = None
    to_opd: Annotated[str, StringConstraints(max_length=64)] | None = None
    reason: Annotated[str, StringConstraints(max_length=32)] | None = None
    version: int | None = Field(default=None, ge=1)
    cluster: bool = Field(
        default=False,
        description="On a confirmed cluster's primary: apply to every open member too",
    )


class PublicationIn(_Strict):
    """An officer's decision on what the public sees of a ticket, with the reason (logged)."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = Field(
        default=None,
        description="The public text; left out or empty: the description, redacted. Whatever is "
        "given is redacted too.",
    )
    hidden: bool = Field(default=False, description="True: the content is not public at all.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    version: int | None = Field(default=None, ge=1)


class PublicationOut(BaseModel):
    exposure: str = Field(
        description="`public`, or why not: `not_verified`, `rejected`, `confidential`, `hidden`"
    )
    text: str = Field(description="What the public sees (or will once verified): redacted")
    edited: bool
    hidden: bool
    reason: str | None = None
    by: str | None = None
    at: datetime | None = None


class ClassifyIn(_Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    category: Annotated[str, StringConstraints(max_length=64)] | None = None
    kecamatan: Annotated[str, StringConstraints(max_length=64)] | None = None
    desa: Annotated[str, StringConstraints(max_length=64)] | None = None


class CandidateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    opd: str
    confidence: float


class ClassifyOut(BaseModel):
    """The router's answer: `TRIASE` when unsure, `LUAR_KEWENANGAN` with a `referral`."""

    model_config = ConfigDict(from_attributes=True)  # from the dry run's view (views.py)

    opd: str
    confidence: float = Field(ge=0, le=1)
    reasons: list[str]
    alternatives: list[CandidateOut]
    referral: str | None
    model: str


class CommentIn(_Strict):
    body: Note
    public: bool = False
    cluster: bool = Field(
        default=False, description="A public comment on a confirmed cluster's primary: to all"
    )


class CommentOut(BaseModel):
    id: str
    at: datetime
    author: str
    body: str
    public: bool


class HistoryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: datetime
    actor: str
    action: str
    from_: str | None = Field(default=None, alias="from")
    to: str
    note: str | None = None
    public: bool
    internal_note: str | None = None


class ClusterOut(BaseModel):
    """Related tickets answered as one: `members` includes the `primary`; `proposed` are the
    router's matches to a confirmed cluster, waiting for confirmation."""

    id: str
    primary: str | None
    members: list[str]
    status: Literal["proposed", "confirmed", "dissolved"]
    proposed: list[str] = Field(default_factory=list)
    opd: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32)]


class ClusterIn(_Strict):
    primary: Code
    members: Annotated[list[Code], Field(min_length=1, max_length=200)]


class TicketOut(BaseModel):
    """A ticket as staff see it. `reporter` is absent for anonymous tickets, for everyone."""

    model_config = ConfigDict(serialize_by_alias=True)

    tracking_code: str
    status: TicketStatus
    version: int
    kind: str
    category: str | None
    opd: str | None
    opd_name: str | None = None
    title: str | None
    description: str
    location: dict[str, Any]
    reporter: dict[str, Any] | None = None
    routing: dict[str, Any] | None
    due_at: datetime | None
    overdue: bool
    submitted_at: datetime
    updated_at: datetime
    anonymous: bool
    confidential: bool
    possible_duplicate_of: str | None = None
    cluster_id: str | None = None
    weight: int = Field(default=1, description="Citizens it speaks for: cluster size + supporters")
    assigned_to: str | None = Field(default=None, description="The officer handling it")
    cluster: ClusterOut | None = Field(
        default=None, description="The cluster of related tickets (one ticket's view only)"
    )
    cluster_results: list[dict[str, Any]] | None = Field(
        default=None, description="A cluster transition: what happened to each member"
    )
    history: list[HistoryOut]
    comments: list[CommentOut]
    photos: list[dict[str, Any]] = Field(default_factory=list)
    rating: dict[str, Any] | None = None
    publication: PublicationOut | None = Field(
        default=None, description="The public text's preview and the officers' decision on it"
    )
    allowed_actions: list[str] = Field(description="Actions the caller may take now")


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


def ticket_body(view: StaffTicket, *, with_cluster: bool = False) -> dict[str, Any]:
    """The ticket's JSON (TicketOut, and the `ticket` of a 409): `reporter` only where the view
    shows one, `cluster` (null or not) only in one ticket's view (`with_cluster`)."""
    body: dict[str, Any] = {
        "tracking_code": view.tracking_code,
        "status": view.status,
        "version": view.version,
        "kind": view.kind,
        "category": view.category,
        "opd": view.opd,
        "opd_name": view.opd_name,
        "title": view.title,
        "description": view.description,
        "location": view.location.model_dump(),
        "routing": view.routing.model_dump() if view.routing else None,
        "due_at": view.due_at,
        "overdue": view.overdue,
        "submitted_at": view.submitted_at,
        "updated_at": view.updated_at,
        "anonymous": view.anonymous,
        "confidential": view.confidential,
        "possible_duplicate_of": view.possible_duplicate_of,
        "cluster_id": view.cluster_id,
        "weight": view.weight,
        "assigned_to": view.assigned_to,
        "history": [h.model_dump(by_alias=True) for h in view.history],
        "comments": [c.model_dump() for c in view.comments],
        "photos": [dataclasses.asdict(p) for p in view.photos],
        "rating": view.rating.model_dump() if view.rating else None,
        "source": view.source,
        "publication": dataclasses.asdict(view.publication),
        "allowed_actions": list(view.allowed_actions),
    }
    if view.reporter is not None:
        body["reporter"] = view.reporter.model_dump()
    if with_cluster:
        body["cluster"] = cluster_body(view.cluster) if view.cluster is not None else None
    return body


def cluster_body(view: ClusterView) -> dict[str, Any]:
    """A cluster's JSON (ClusterOut; a ticket's `cluster`)."""
    return {
        "id": view.id,
        "primary": view.primary,
        "members": list(view.members),
        "status": view.status,
        "proposed": list(view.proposed),
        "opd": view.opd,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
    }


def canned_body(answer: CannedAnswer) -> dict[str, Any]:
    """A canned answer's JSON, as it is stored."""
    return {
        "id": answer.id,
        "title": answer.title,
        "body": answer.body,
        "updated_by": answer.updated_by,
        "updated_at": answer.updated_at,
    }


def canned_list_body(answers: OpdCannedAnswers) -> dict[str, Any]:
    return {"opd": answers.opd, "items": [canned_body(a) for a in answers.items]}


def filled_answers_body(filled: Sequence[FilledAnswer]) -> dict[str, Any]:
    """A ticket's canned answers: each one's JSON with its `text` filled for the ticket."""
    return {"items": [{**canned_body(f.answer), "text": f.text} for f in filled]}


def transcript_body(entries: Sequence[TranscriptEntry]) -> dict[str, Any]:
    """A chat ticket's transcript: `{"items": [{"at", "from", "channel", "text", "status"}]}`."""
    return {
        "items": [
            {
                "at": e.at,
                "from": e.sender,
                "channel": e.channel,
                "text": e.text,
                "status": e.status,
            }
            for e in entries
        ]
    }


def transition_body(done: Transitioned) -> dict[str, Any]:
    """A transition's answer: the ticket, or what the caller still sees of one that left their
    scope; with each member's result for a cluster transition."""
    if done.ticket is not None:
        body = ticket_body(done.ticket)
    else:
        body = {
            "tracking_code": done.tracking_code,
            "status": done.status,
            "version": done.version,
            "opd": done.opd,
        }
    if done.cluster_results is not None:
        body["cluster_results"] = [
            {"tracking_code": r.tracking_code, "result": r.result, "status": r.status}
            if r.result == "done"
            else {"tracking_code": r.tracking_code, "result": r.result, "detail": r.detail}
            for r in done.cluster_results
        ]
    return body


def page_body(page: TicketList) -> dict[str, Any]:
    return {"items": [ticket_body(t) for t in page.items], "next_cursor": page.next_cursor}


def bulk_body(done: BulkDone) -> dict[str, Any]:
    """A bulk action's report: a done ticket's status and version, or why not and its
    version as it is now (null when unknown)."""
    return {
        "action": done.action,
        "results": [
            {
                "tracking_code": r.tracking_code,
                "result": r.result,
                "status": r.status,
                "version": r.version,
            }
            if r.result == "done"
            else {
                "tracking_code": r.tracking_code,
                "result": r.result,
                "detail": r.detail,
                "version": r.version,
            }
            for r in done.results
        ],
        "counts": dict(done.counts),
    }


def forecast_body(forecast: BreachForecast) -> dict[str, Any]:
    return dataclasses.asdict(forecast)


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from the use case's view (views.py)

    username: str
    role: Role
    opd: str | None
    full_name: str | None = None
    email: str | None = None
    whatsapp: str | None = None
    notify_mode: Literal["immediate", "digest"] = "immediate"
    active: bool = True


class ProfileIn(_Strict):
    """What officers may change about themselves: contacts and notification preference."""

    full_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = (
        None
    )
    email: Email | None = None
    whatsapp: Whatsapp | None = None
    notify_mode: Literal["immediate", "digest"] | None = None

    @field_validator("notify_mode", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Left out means unchanged; an explicit null would store a value the account cannot
        have (it broke every later read of the account)."""
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class AccountIn(ProfileIn):
    username: Username
    password: Password
    role: Role
    opd: str | None = None


class AccountPatch(ProfileIn):
    role: Role | None = None
    opd: str | None = None
    active: bool | None = None
    password: Password | None = None

    @field_validator("role", "active", "password", mode="before")
    @classmethod
    def _set_fields_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class PasswordChangeIn(_Strict):
    current_password: Password
    new_password: Password


class AssignmentIn(_Strict):
    officer: Username | None = Field(description="The officer's username; null: nobody")
    version: int | None = Field(default=None, ge=1)


class BulkItemIn(_Strict):
    tracking_code: Code
    version: int | None = Field(default=None, ge=1, description="The version the caller saw")


class BulkFilterIn(_Strict):
    status: list[TicketStatus] | None = None
    category: Annotated[str, StringConstraints(max_length=64)] | None = None
    kecamatan: Annotated[str, StringConstraints(max_length=64)] | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    overdue: bool | None = None


class BulkIn(_Strict):
    """A selection (`items`) or a `filter` (at most 200 tickets of the caller's scope)."""

    action: Literal["verify", "transfer", "assign"]
    items: Annotated[list[BulkItemIn], Field(max_length=200)] | None = None
    filter: BulkFilterIn | None = None
    note: Note | None = None
    to_opd: Annotated[str, StringConstraints(max_length=64)] | None = None
    officer: Username | None = None


class CannedAnswerIn(_Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    body: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
    ] = Field(description="The answer; {kode}, {tenggat} and {opd} are filled in per ticket")
