"""The chat conversation's model: its stored state, the message a step reads, what the step
knows besides (the context) and what it returns (replies and effects). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.intake.chat.lexicon import Lexicon
from services.intake.chat.places import Gazetteer
from services.intake.chat.replies import Replies, Reply
from shared.tickets import TicketStatus


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"


class Kind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    LOCATION = "location"
    INTERACTIVE = "interactive"  # a pressed reply button or list row
    OTHER = "other"  # audio, video, sticker, document, contacts, ...


class Ask(StrEnum):
    DESCRIPTION = "description"
    KECAMATAN = "kecamatan"
    DESA = "desa"
    PHOTO = "photo"
    ANONYMOUS = "anonymous"
    CONFIRM = "confirm"
    EDIT = "edit"


@dataclass(frozen=True)
class Message:
    """One message from the citizen, as the channel adapters read it."""

    id: str
    at: datetime
    kind: Kind
    text: str = ""  # the text, a photo's caption, or a pressed button's title
    choice: str | None = None  # a pressed button's id
    media_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None  # a location pin's name and address


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Draft(_State):
    """A complaint being put together."""

    id: str
    started_at: AwareDatetime
    updated_at: AwareDatetime
    description: str = ""
    kecamatan: str | None = None  # region code
    kecamatan_skipped: bool = False
    desa: str | None = None
    desa_hint: str | None = None  # named before the kecamatan was known
    desa_skipped: bool = False
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    photos: tuple[str, ...] = ()  # the platform's media ids, fetched when filing
    photo_skipped: bool = False
    anonymous: bool | None = None
    asking: Ask = Ask.DESCRIPTION
    misses: int = 0  # answers to the current question not understood


class Filed(_State):
    """A ticket this conversation filed; the reply token stands for the chat's number."""

    code: str
    reply_token: str
    filed_at: AwareDatetime


class Conversation(_State):
    channel: Channel
    draft: Draft | None = None
    tickets: tuple[Filed, ...] = ()  # oldest first

    @property
    def latest(self) -> Filed | None:
        return self.tickets[-1] if self.tickets else None


@dataclass(frozen=True)
class TicketState:
    """What the conversation needs to know of its latest ticket, read before each step."""

    code: str
    status: TicketStatus
    rated: bool = False
    candidates: tuple[str, ...] = ()  # routing's open choice question, best first


@dataclass(frozen=True)
class Bounds:
    lat: tuple[float, float]
    lon: tuple[float, float]

    def contain(self, lat: float, lon: float) -> bool:
        return self.lat[0] <= lat <= self.lat[1] and self.lon[0] <= lon <= self.lon[1]


@dataclass(frozen=True)
class Context:
    now: datetime
    places: Gazetteer
    lexicon: Lexicon
    replies: Replies
    bounds: Bounds
    tracking_prefix: str = "LP"
    organisation: str = "Kabupaten Serang"
    draft_timeout: timedelta = timedelta(hours=2)
    latest: TicketState | None = None
    opd_names: Mapping[str, str] = field(default_factory=dict)
    max_photos: int = 3
    min_description: int = 10
    max_description: int = 4000


# -- effects: what the service carries out ---------------------------------------------------


@dataclass(frozen=True)
class FileComplaint:
    draft: Draft


@dataclass(frozen=True)
class FollowUp:
    code: str
    action: str  # info | dispute
    message: str


@dataclass(frozen=True)
class Rate:
    code: str
    score: int
    comment: str | None = None


@dataclass(frozen=True)
class AttachPhoto:
    code: str
    media_id: str


@dataclass(frozen=True)
class ChooseOpd:
    code: str
    opd: str | None  # None: "lainnya"


@dataclass(frozen=True)
class CheckStatus:
    code: str


Effect = FileComplaint | FollowUp | Rate | AttachPhoto | ChooseOpd | CheckStatus


@dataclass(frozen=True)
class Step:
    conversation: Conversation
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
