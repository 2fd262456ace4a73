"""The statistics projection at work: ticket events in, stored documents up to date.

`Projector.apply` is the whole write path, for the live consumer (each batch the consume loop
reads, `handle_batch`) and for a rebuild (large batches): each ticket's document takes the new
events, then every cell the ticket counts (or counted) in takes its share, then each month's
summary takes those cells' totals. Each step is a locked read-modify-write of one document by
`_id` (FerretDB does not isolate updates), a month's documents of one step together
(`change_many`: their locks and new documents in one round trip each); the merges
(shared.statistics.projection) make a repeated or raced step a no-op, so a batch handled
again (redelivery, a retry event by event) changes nothing twice. A rebuild writes a new
generation beside the one readers use, while the live consumer writes both, then switches
readers over.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.events import Envelope, EventType
from shared.statistics import projection as p
from shared.workdays import WorkCalendar

log = logging.getLogger(__name__)

Document = p.Document
Change = Callable[[Document | None], tuple[Document, bool]]
MonthOfTicket = Callable[[str], Awaitable[str | None]]
MONTH_CACHE_SIZE = 100_000


@dataclass(frozen=True)
class Generations:
    """Readers use `active`; a rebuild under way fills `building`, which writers fill too."""

    active: int
    building: int | None = None

    @property
    def written(self) -> tuple[int, ...]:
        return (self.active,) if self.building is None else (self.active, self.building)


class ProjectionStore(Protocol):
    async def generations(self) -> Generations: ...

    async def change(self, generation: int, month: str, doc_id: str, change: Change) -> Document:
        """Apply `change` to a document of one month's part (a ticket or a cell), locked."""
        ...

    async def change_many(
        self, generation: int, month: str, changes: Mapping[str, Change]
    ) -> dict[str, Document]:
        """`change` for many documents of one month's part; by id, each as written."""
        ...

    async def change_summary(self, generation: int, month: str, change: Change) -> Document: ...

    async def begin_rebuild(self) -> int: ...

    async def finish_rebuild(self, generation: int) -> None:
        """Readers use `generation` from now on."""
        ...

    async def drop_generations_but(self, generation: int) -> None: ...


async def _unknown_month(_: str) -> str | None:
    return None


class Projector:
    def __init__(
        self,
        store: ProjectionStore,
        calendar: WorkCalendar,
        *,
        month_of_ticket: MonthOfTicket = _unknown_month,
    ) -> None:
        self._store = store
        self._calendar = calendar
        self._month_of_ticket = month_of_ticket
        self._months: dict[str, str] = {}

    async def handle(self, envelope: Envelope) -> None:
        """The consume loop's handler: one event, into every generation being written."""
        await self.apply([envelope])

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        """The consume loop's batch handler: a batch's events together."""
        await self.apply(envelopes)

    async def apply(self, envelopes: Sequence[Envelope], *, generation: int | None = None) -> int:
        """Project the events; returns how many counted (the others are of no interest)."""
        placed = await self._placed(envelopes)
        generations = (
            (generation,) if generation is not None else (await self._store.generations()).written
        )
        for written in generations:
            await self._apply(written, placed)
        return sum(len(events) for events in placed.values())

    async def rebuild(
        self, batches: AsyncIterable[Sequence[Envelope]], *, settle_s: float = 5.0
    ) -> int:
        """Project every event again into a new generation, then let readers use it.

        The old generation is dropped `settle_s` later, once live writes that began before the
        switch have finished (they would otherwise leave a few old documents behind)."""
        generation = await self._store.begin_rebuild()
        counted = 0
        async for batch in batches:
            counted += await self.apply(batch, generation=generation)
        await self._store.finish_rebuild(generation)
        await asyncio.sleep(settle_s)
        await self._store.drop_generations_but(generation)
        return counted

    async def _placed(self, envelopes: Sequence[Envelope]) -> dict[tuple[str, str], list[Document]]:
        """The events by (submission month, ticket)."""
        placed: dict[tuple[str, str], list[Document]] = {}
        for envelope in envelopes:
            event = p.compact(envelope)
            if event is None:
                continue
            month = await self._month(envelope)
            if month is None:
                log.warning("statistics: event %s of an unknown ticket skipped", envelope.event_id)
                continue
            placed.setdefault((month, envelope.ticket_id), []).append(event)
        return placed

    async def _month(self, envelope: Envelope) -> str | None:
        code = envelope.ticket_id
        month = p.submitted_month(envelope) or self._months.get(code)
        if month is None:  # an event from before events carried `submitted_at`
            month = await self._month_of_ticket(code)
        if month is not None and envelope.event_type == EventType.TICKET_SUBMITTED:
            if len(self._months) >= MONTH_CACHE_SIZE:
                self._months.clear()
            self._months[code] = month
        return month

    async def _apply(self, generation: int, placed: dict[tuple[str, str], list[Document]]) -> None:
        tickets: dict[str, dict[str, Change]] = {}
        for (month, code), events in placed.items():
            tickets.setdefault(month, {})[p.ticket_doc_id(code)] = functools.partial(
                p.merge_ticket, code=code, events=events, calendar=self._calendar
            )
        cell_updates: dict[str, dict[str, dict[str, tuple[int, Document | None]]]] = {}
        for month, changes in tickets.items():
            written = await self._store.change_many(generation, month, changes)
            for ticket in written.values():
                for cell, update in p.placements(ticket).items():
                    cell_updates.setdefault(month, {}).setdefault(cell, {})[ticket["code"]] = update
        for month, by_cell in cell_updates.items():
            members: dict[str, Change] = {
                p.cell_doc_id(cell): functools.partial(p.merge_members, cell=cell, updates=updates)
                for cell, updates in by_cell.items()
            }
            held = await self._store.change_many(generation, month, members)
            totals = {doc["cell"]: (doc["v"], doc["totals"]) for doc in held.values()}
            cells = functools.partial(
                p.merge_cells, generation=generation, month=month, updates=totals
            )
            await self._store.change_summary(generation, month, cells)
