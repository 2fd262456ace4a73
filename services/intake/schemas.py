"""HTTP request and response models of intake (never reused as events)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from shared.tickets import Kind, TicketStatus

Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=10, max_length=4000)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    ),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^\+?[0-9 ()-]{8,20}$")
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


class ComplaintIn(_Strict):
    """A citizen's complaint, suggestion or information request."""

    description: Description
    title: ShortText | None = None
    kind: Kind = Kind.COMPLAINT
    category: Code | None = None
    location: LocationIn | None = None
    reporter: ReporterIn | None = None
    anonymous: StrictBool = False
    confidential: StrictBool = False


class ComplaintCreated(BaseModel):
    tracking_code: str
    status: TicketStatus
    submitted_at: datetime
    reply_token: str = Field(description="The citizen's secret for follow-ups; shown only once.")


class OpdRef(BaseModel):
    code: str
    name: str


class TimelineEntry(BaseModel):
    at: datetime
    status: str
    note: str | None = None


class PublicComplaint(BaseModel):
    """What anyone with the tracking code may see: never the reporter's identity or contact."""

    tracking_code: str
    kind: Kind | None = None
    status: TicketStatus
    category: str | None = None
    opd: OpdRef | None
    submitted_at: datetime
    updated_at: datetime
    due_at: datetime | None
    timeline: list[TimelineEntry] | None = None
    replies: list[dict[str, str]] | None = None
    title: str | None = Field(default=None, description="Only with the reporter's X-Reply-Token.")
    description: str | None = Field(default=None, description="Only with the X-Reply-Token.")
    location: dict[str, object] | None = Field(default=None, description="Only with the token.")
    reporter: dict[str, object] | None = Field(default=None, description="Only with the token.")
