"""What notify's use cases answer: typed views, pure (standard library only); the routes turn
them into their JSON bodies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StatusChange:
    """The status change an event records, as the delivery log shows it."""

    action: str | None
    from_status: str | None
    to_status: str | None

    @classmethod
    def stored(cls, value: Mapping[str, Any] | None) -> StatusChange | None:
        """From the stored form (`action`, `from`, `to`); None for an event that changes none."""
        if value is None:
            return None
        return cls(
            action=value.get("action"), from_status=value.get("from"), to_status=value.get("to")
        )


@dataclass(frozen=True)
class DeliveryEntry:
    """One message of a ticket's delivery log: which message, to whom (masked), how it went;
    never its content."""

    event_id: str
    event_type: str
    message: str | None
    transition: StatusChange | None
    tracking_code: str
    channel: str
    recipient: str
    recipient_kind: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime | None
    sent_at: datetime | None
    next_attempt_at: datetime | None
