"""What the lifecycle needs of the ticket store, and `apply`: the version-checked write with
its retry loop, written once for every use case (and for the in-memory fake in tests);
`apply_versioned` is that loop for any version-checked document (routing's clusters too)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from shared.documents import Document
from shared.lifecycle.changes import Change
from shared.tickets import Ticket

MAX_ATTEMPTS = 5

Doc = TypeVar("Doc")
Made = TypeVar("Made")
Written = TypeVar("Written")


class ChangedMeanwhile(Exception):
    """The ticket kept changing under every attempt to write a change."""


class TicketWrites(Protocol):
    async def get(self, tracking_code: str) -> Ticket | None: ...

    async def update(
        self, ticket: Ticket, *, set_fields: Document, push: dict[str, list[Any]] | None = None
    ) -> Ticket | None: ...


class Tickets(TicketWrites, Protocol):
    """A ticket store with `apply` (shared.ticket_store.TicketStore; the fake in tests)."""

    async def apply(
        self,
        tracking_code: str,
        make: Callable[[Ticket], Change | None],
        *,
        current: Ticket | None = None,
        attempts: int = MAX_ATTEMPTS,
    ) -> Ticket | None: ...


async def apply(
    tickets: TicketWrites,
    tracking_code: str,
    make: Callable[[Ticket], Change | None],
    *,
    current: Ticket | None = None,
    attempts: int = MAX_ATTEMPTS,
) -> Ticket | None:
    """Make the change from the ticket as read (or `current`) and write it version-checked;
    on a lost race read it again and make the change anew.

    Returns the ticket as written; None when the ticket is gone or `make` found nothing to do
    (returned None). `make` may raise to refuse; ChangedMeanwhile after `attempts` lost races.
    """

    async def write(ticket: Ticket, made: Change) -> Ticket | None:
        return await tickets.update(ticket, set_fields=made.set_fields, push=made.push)

    return await apply_versioned(
        tickets.get, write, tracking_code, make, current=current, attempts=attempts
    )


async def apply_versioned(
    read: Callable[[str], Awaitable[Doc | None]],
    write: Callable[[Doc, Made], Awaitable[Written | None]],
    key: str,
    make: Callable[[Doc], Made | None],
    *,
    current: Doc | None = None,
    attempts: int = MAX_ATTEMPTS,
) -> Written | None:
    """`apply` for any version-checked document (tickets; routing's clusters): `write`
    returns None when the document moved on since it was read, and then it is read again and
    the change made anew. None when the document is gone or `make` found nothing to do."""
    doc = current
    for _ in range(attempts):
        if doc is None:
            doc = await read(key)
            if doc is None:
                return None
        made = make(doc)
        if made is None:
            return None
        written = await write(doc, made)
        if written is not None:
            return written
        doc = None
    raise ChangedMeanwhile(key)


class AppliesChanges:
    """Gives a ticket store (with `get` and `update`) the method `apply`."""

    async def apply(
        self: TicketWrites,
        tracking_code: str,
        make: Callable[[Ticket], Change | None],
        *,
        current: Ticket | None = None,
        attempts: int = MAX_ATTEMPTS,
    ) -> Ticket | None:
        """`apply` (above) on this store."""
        return await apply(self, tracking_code, make, current=current, attempts=attempts)
