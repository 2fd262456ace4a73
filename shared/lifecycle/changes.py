"""`Change`, a version-checked change to a ticket, and the one helper that builds it with its
history entry and outbox events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic

from typing_extensions import TypeVar

from shared.documents import Document
from shared.events import EventPayload
from shared.tickets import Ticket, history_entry, outbox_entry

EventT = TypeVar("EventT", bound=EventPayload, default=EventPayload, covariant=True)


@dataclass(frozen=True)
class Change(Generic[EventT]):
    """Fields to set and entries to append, written only if the ticket is still at the version
    read; `event` is the step's main event (also in `push["outbox"]`), when there is one."""

    set_fields: dict[str, Any]
    push: dict[str, list[Any]] = field(default_factory=dict)
    event: EventT | None = None


@dataclass(frozen=True)
class Step:
    """A history entry: who did what, from which status to which; `public` puts it on the
    citizen's timeline (with `note`), `internal_note` is for staff only."""

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    note: str | None = None
    public: bool = True
    internal_note: str | None = None
    reason: str | None = None

    def entry(self) -> Document:
        stored = history_entry(
            at=self.at,
            actor=self.actor,
            action=self.action,
            from_status=self.from_status,
            to_status=self.to_status,
            note=self.note,
            public=self.public,
        )
        if self.internal_note:
            stored["internal_note"] = self.internal_note
        if self.reason:
            stored["reason"] = self.reason
        return stored


def event_entry(ticket: Ticket, payload: EventPayload, *, producer: str) -> Document:
    """An event about this ticket in the outbox's stored form, carrying the ticket's
    submitted_at (so a consumer places it without reading the ticket)."""
    if payload.submitted_at is None:
        payload = payload.model_copy(update={"submitted_at": ticket.submitted_at})
    return outbox_entry(
        payload.envelope(
            ticket_id=ticket.tracking_code, producer=producer, correlation_id=ticket.correlation_id
        )
    )


def change(
    ticket: Ticket,
    *,
    producer: str,
    fields: Mapping[str, Any] | None = None,
    step: Step | None = None,
    events: Sequence[EventT] = (),
    push: Mapping[str, list[Any]] | None = None,
) -> Change[EventT]:
    """The change to write: `fields`, the step's history entry, `events` in the outbox (the
    first is the change's `event`) and any other entries to append (`push`)."""
    appended: dict[str, list[Any]] = {}
    if step is not None:
        appended["history"] = [step.entry()]
    if events:
        appended["outbox"] = [event_entry(ticket, e, producer=producer) for e in events]
    appended.update(push or {})
    return Change(set_fields=dict(fields or {}), push=appended, event=events[0] if events else None)
