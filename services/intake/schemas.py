"""HTTP request and response models of intake (never reused as events)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from services.intake.views import TrackedComplaint
from shared.schemas import Email
from shared.tickets import Kind, TicketStatus

Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=10, max_length=4000)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def normalise_phone(raw: str) -> str:
    """Indonesian numbers as +62…: `0812-3456-7890`, `62812…`, `(0254) 123456`."""
    digits = re.sub(r"[\s().-]", "", raw)
    if digits.startswith("+62"):
        national = digits[3:]
    elif digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise ValueError("nomor telepon Indonesia diawali 0, 62 atau +62 (Indonesian number)")
    if not re.fullmatch(r"[1-9][0-9]{6,11}", national):
        raise ValueError("nomor telepon tidak sah (invalid phone number)")
    return "+62" + national


Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=24), AfterValidator(normalise_phone)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocationIn(_Strict):
    kecamatan: Code | None = None
    desa: ShortText | None = None
    address: Address | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class ReporterIn(_Strict):
    name: ShortText | None = None
    email: Email | None = None
    phone: Phone | None = None


class SupportIn(_Strict):
    """ "Dukung laporan ini": optional contact, to hear of the resolution (once)."""

    email: Email | None = None
    phone: Phone | None = None
    lang: Literal["id", "en"] = "id"


class SupportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from the use case's view (views.py)

    tracking_code: str
    supporters: int = Field(description="How many citizens support the report (never who)")
    new: bool = Field(description="False: this contact already supported it (nothing changed)")


class NearbyReport(BaseModel):
    """A public, verified, open report like the one being typed (its text redacted)."""

    tracking_code: str
    status: TicketStatus
    category: str | None
    public_text: str | None
    submitted_at: datetime
    supporters: int


class NearbyReports(BaseModel):
    items: list[NearbyReport]


class ComplaintIn(_Strict):
    """A citizen's complaint, suggestion or information request."""

    description: Description
    title: ShortText | None = None
    kind: Kind = Kind.COMPLAINT
    category: Code | None = None
    location: LocationIn | None = None
    reporter: ReporterIn | None = None
    anonymous: StrictBool = False
    confidential: StrictBool | None = Field(
        default=None,
        description="True: only status, OPD and dates are ever public. False: the redacted "
        "content is public once verified. Left out: confidential only for misconduct matters "
        "(INSPEKTORAT).",
    )


class ReplyAction(StrEnum):
    INFO = "info"
    CONFIRM = "confirm"
    DISPUTE = "dispute"


Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ReplyToken = Annotated[str, StringConstraints(max_length=200)]  # blank: 401, not 422


class ReplyIn(_Strict):
    """The reporter's follow-up: add information, accept the answer, or dispute it."""

    reply_token: ReplyToken | None = None
    message: Message | None = None
    action: ReplyAction = ReplyAction.INFO


class RatingIn(_Strict):
    reply_token: ReplyToken | None = None
    score: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Message | None = None


class FollowUpOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from the use case's view (views.py)

    tracking_code: str
    status: TicketStatus
    action: str
    at: datetime


class PhotoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from the use case's view (views.py)

    id: str
    content_type: str
    size: int
    url: str


class CategoryOut(BaseModel):
    code: str
    name: str
    opd: str


class RegionOut(BaseModel):
    code: str
    name: str
    desa: list[str]


class OpdOut(BaseModel):
    code: str
    name: str
    description: str


class ComplaintCreated(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from the use case's view (views.py)

    tracking_code: str
    status: TicketStatus
    submitted_at: datetime
    reply_token: str = Field(description="The citizen's secret for follow-ups; shown only once.")


class OpdRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from views.py

    code: str
    name: str


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from views.py

    at: datetime
    status: str
    note: str | None = None


class PublicReply(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from views.py

    at: datetime
    by: str
    message: str


class PublicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from views.py

    exposure: str = Field(
        description="`public`, or why not: `not_verified`, `rejected`, `confidential`, `hidden`."
    )
    text: str = Field(description="The text the public sees (or will), redacted.")


class PublicComplaint(BaseModel):
    """What anyone with the tracking code may see: never the reporter's identity or contact.

    Before an officer verified it, once rejected, or when confidential or hidden: only
    `tracking_code`, `status`, `opd` and the dates."""

    tracking_code: str
    kind: Kind | None = None
    status: TicketStatus
    category: str | None = None
    opd: OpdRef | None
    submitted_at: datetime
    updated_at: datetime
    due_at: datetime | None
    supporters: int = Field(default=0, description="Citizens who support it (a count, never who)")
    public_text: str | None = Field(
        default=None, description="The report's text as published: redacted of personal data."
    )
    timeline: list[TimelineEntry] | None = None
    replies: list[PublicReply] | None = None
    photos: list[PhotoOut] | None = None
    rating: dict[str, object] | None = Field(default=None, description="Only with the token.")
    title: str | None = Field(default=None, description="Only with the reporter's X-Reply-Token.")
    description: str | None = Field(default=None, description="Only with the X-Reply-Token.")
    location: dict[str, object] | None = Field(default=None, description="Only with the token.")
    reporter: dict[str, object] | None = Field(default=None, description="Only with the token.")
    publication: PublicationOut | None = Field(
        default=None, description="Only with the token: what the public sees of it, and why."
    )

    @classmethod
    def of(cls, view: TrackedComplaint) -> PublicComplaint:
        """The view's JSON: a part the view does not show is left unset, so that the route
        (`response_model_exclude_unset`) leaves its fields out rather than sending nulls."""
        shown: dict[str, Any] = {
            "tracking_code": view.tracking_code,
            "status": view.status,
            "opd": view.opd,
            "submitted_at": view.submitted_at,
            "updated_at": view.updated_at,
            "due_at": view.due_at,
        }
        if view.supporters is not None:
            shown["supporters"] = view.supporters
        if view.content is not None:
            content = view.content
            shown.update(
                kind=content.kind,
                category=content.category,
                public_text=content.public_text,
                timeline=content.timeline,
                replies=content.replies,
                photos=content.photos,
            )
        if view.mine is not None:
            mine = view.mine
            shown.update(
                title=mine.title,
                description=mine.description,
                location=mine.location.model_dump(),
                reporter=mine.reporter.model_dump() if mine.reporter else None,
                rating=mine.rating.model_dump() if mine.rating else None,
                publication=mine.publication,
            )
        return cls.model_validate(shown)
