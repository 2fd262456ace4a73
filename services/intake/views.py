"""What intake's use cases answer, as typed values: the HTTP layer serialises them with its
response models (schemas.py: ComplaintCreated, PublicComplaint, FollowUpOut, PhotoOut,
SupportOut), which read them by attribute, so the JSON is what it was when the use cases built
dicts; the pages and Open311 read the same attributes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.tickets import Kind, Location, Rating, Reporter, TicketStatus


@dataclass(frozen=True)
class ComplaintTaken:
    """A complaint stored (or a replay of it): the 201 answer, the reply token shown once."""

    tracking_code: str
    status: TicketStatus
    submitted_at: datetime
    reply_token: str


@dataclass(frozen=True)
class OpdNamed:
    code: str
    name: str


@dataclass(frozen=True)
class TimelineItem:
    """A history entry as the tracking page shows it (its note redacted for the public)."""

    at: datetime
    status: str
    note: str | None


@dataclass(frozen=True)
class PublicAnswer:
    """An OPD's public answer: a resolution note or a public comment."""

    at: datetime
    by: str
    message: str


@dataclass(frozen=True)
class FollowUpDone:
    """The reporter's info, confirm, dispute, rating or chat choice, as written."""

    tracking_code: str
    status: TicketStatus
    action: str
    at: datetime


@dataclass(frozen=True)
class PhotoAdded:
    id: str
    content_type: str
    size: int
    url: str


@dataclass(frozen=True)
class ComplaintContent:
    """What a ticket says, once its content is public (or for its reporter)."""

    kind: Kind
    category: str | None
    public_text: str | None
    timeline: tuple[TimelineItem, ...]
    replies: tuple[PublicAnswer, ...]
    photos: tuple[PhotoAdded, ...]


@dataclass(frozen=True)
class PublicationShown:
    """What the public sees of the reporter's ticket (`exposure`: public, or why not)."""

    exposure: str
    text: str


@dataclass(frozen=True)
class ReporterDetails:
    """What only the reporter with their token sees."""

    title: str | None
    description: str
    location: Location
    reporter: Reporter | None
    rating: Rating | None
    publication: PublicationShown


@dataclass(frozen=True)
class TrackedComplaint:
    """A ticket looked up by its tracking code, under the publication policy: status, OPD and
    dates always; `content` only where it is public or for the reporter (None: not shown),
    `mine` only for the reporter; `supporters` only where it is counted (None: not shown)."""

    tracking_code: str
    status: TicketStatus
    opd: OpdNamed | None
    submitted_at: datetime
    updated_at: datetime
    due_at: datetime | None
    content: ComplaintContent | None = None
    mine: ReporterDetails | None = None
    supporters: int | None = None

    @property
    def photos(self) -> tuple[PhotoAdded, ...]:
        """The photos shown (none where the content is not)."""
        return self.content.photos if self.content is not None else ()


@dataclass(frozen=True)
class SupportCounted:
    tracking_code: str
    supporters: int
    new: bool  # False: this contact supported the report already (nothing changed)


@dataclass(frozen=True)
class NearbyItem:
    """A public, verified, open report like the one being typed, as the form offers it for
    support: its public (redacted) text, never who sent it."""

    tracking_code: str
    status: TicketStatus
    category: str | None
    public_text: str | None
    submitted_at: datetime
    supporters: int
