"""What intake's follow-up use cases answer, as typed values: the HTTP layer serialises them
with its response models (schemas.py: FollowUpOut, PhotoOut, SupportOut), which read them by
attribute, so the JSON is what it was when the use cases built dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.tickets import TicketStatus


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
class SupportCounted:
    tracking_code: str
    supporters: int
    new: bool  # False: this contact supported the report already (nothing changed)
