"""The statistics projection equals a from-scratch recomputation over thousands of generated
tickets, whatever the replays, duplicates, concurrent partitions and rebuilds.

The store is an in-memory fake with the real one's contract (a locked read-modify-write of one
document, yielding to other tasks between read and write); the real store runs the same test
on FerretDB and Kafka in tests/integration/test_statistics.py.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest

from shared.events import Envelope
from shared.statistics import figures, projection
from shared.statistics.figures import Figures, Selection
from shared.statistics.service import Change, Generations, Projector
from tests.statistics_history import (
    CALENDAR,
    History,
    differences,
    expected,
    generate,
    partitions,
)

Document = dict[str, Any]
TICKETS = 3000


class FakeStore:
    """In memory, with the contract of shared.statistics.store.StatisticsStore."""

    def __init__(self) -> None:
        self.docs: dict[tuple[Any, ...], Document] = {}
        self.locks: dict[tuple[Any, ...], asyncio.Lock] = {}
        self.meta = Generations(active=1)
        self.writes = 0

    async def generations(self) -> Generations:
        return self.meta

    async def change(self, generation: int, month: str, doc_id: str, change: Change) -> Document:
        return await self._change(("part", generation, month, doc_id), change)

    async def change_many(
        self, generation: int, month: str, changes: Mapping[str, Change]
    ) -> dict[str, Document]:
        return {
            doc_id: await self.change(generation, month, doc_id, change)
            for doc_id, change in changes.items()
        }

    async def change_summary(self, generation: int, month: str, change: Change) -> Document:
        return await self._change(("summary", generation, month), change)

    async def _change(self, key: tuple[Any, ...], change: Change) -> Document:
        async with self.locks.setdefault(key, asyncio.Lock()):
            held = self.docs.get(key)
            await asyncio.sleep(0)  # others run between the read and the write
            doc, changed = change(held)
            if changed:
                self.writes += 1
                self.docs[key] = doc
        return doc

    async def begin_rebuild(self) -> int:
        generation = max(self.meta.active, self.meta.building or 0) + 1
        self.meta = Generations(active=self.meta.active, building=generation)
        return generation

    async def finish_rebuild(self, generation: int) -> None:
        self.meta = Generations(active=generation)

    async def drop_generations_but(self, generation: int) -> None:
        self.docs = {k: v for k, v in self.docs.items() if k[1] == generation}

    def summaries(self) -> dict[str, Document]:
        return {
            key[2]: doc
            for key, doc in self.docs.items()
            if key[0] == "summary" and key[1] == self.meta.active
        }


@pytest.fixture(scope="module")
def history() -> History:
    return generate(TICKETS)


def _compare(history: History, summaries: dict[str, Document]) -> None:
    assert differences(history, summaries) == {}
    months = tuple(sorted({t.month for t in history.truths}))
    kecamatan = "KEC-CIRUAS"
    filtered = figures.statistics(
        summaries, Selection(months=months, opd="DPUPR", kecamatan=kecamatan)
    )
    assert filtered.totals == expected(
        t for t in history.truths if t.opd == "DPUPR" and t.kecamatan == kecamatan
    )


async def _consume(projector: Projector, events: Sequence[Envelope]) -> None:
    for envelope in events:
        await projector.handle(envelope)


def test_the_generated_history_is_varied_enough_to_test_every_figure(history: History) -> None:
    whole = expected(history.truths)
    assert len(history.events) > 6 * TICKETS
    assert whole.routed_auto > 1000 and whole.routed_triage > 300
    assert whole.resolved > 1000 and whole.rejected > 100 and whole.open > 200
    assert whole.open_overdue > 60 and whole.answered > 1000 and whole.ratings > 400
    assert 20 < whole.paused < whole.open
    waited = [e for e in history.events if e.payload.get("action") in ("wait_citizen", "resume")]
    assert len(waited) > 200  # paused, resumed, and answered from a wait
    assert 0.2 < (whole.within_deadline or 0) < 0.95 and 0.05 < (whole.reopen_rate or 0) < 0.5
    assert sum(1 for t in history.truths if t.transferred) > 100
    assert len({t.month for t in history.truths}) >= 6


async def test_projection_equals_recomputation_with_replays_and_concurrent_partitions(
    history: History,
) -> None:
    store = FakeStore()
    projector = Projector(store, CALENDAR)
    rng = random.Random(5)
    parts = partitions(history.events)
    # Each partition is consumed in order, side by side; a fifth of the events come twice
    # (a redelivery right after), and one partition is replayed from its start (a rebalance).
    noisy = [[e for e in part for _ in range(2 if rng.random() < 0.2 else 1)] for part in parts]
    await asyncio.gather(*(_consume(projector, part) for part in noisy))
    await _consume(projector, parts[2])
    _compare(history, store.summaries())

    writes = store.writes
    await asyncio.gather(*(_consume(projector, part) for part in parts))
    assert store.writes == writes, "a replay of everything writes nothing"
    _compare(history, store.summaries())


async def test_projection_converges_whatever_the_order_of_events(history: History) -> None:
    """Events of one ticket out of order (a rebuild racing the live consumer) change nothing."""
    store = FakeStore()
    projector = Projector(store, CALENDAR)
    shuffled = list(history.events)
    random.Random(9).shuffle(shuffled)
    for start in range(0, len(shuffled), 500):
        await projector.apply(shuffled[start : start + 500])
    _compare(history, store.summaries())


async def test_a_rebuild_beside_the_live_consumer_gives_the_same_figures(history: History) -> None:
    store = FakeStore()
    projector = Projector(store, CALENDAR)
    log = sorted(history.events, key=lambda e: e.occurred_at)
    published = len(log) * 6 // 10
    await projector.apply(log[:published])  # the live projection so far, into generation 1
    store.docs = {k: v for k, v in store.docs.items() if k[0] != "summary"}  # and lost its sums

    async def producer_and_live_consumer() -> None:
        nonlocal published
        while published < len(log):
            published += 1
            await projector.handle(log[published - 1])

    async def from_the_start() -> AsyncIterator[Sequence[Envelope]]:
        snapshot = published  # the end offsets, read once the new generation exists
        for start in range(0, snapshot, 700):
            yield log[start : min(start + 700, snapshot)]

    live = asyncio.create_task(producer_and_live_consumer())
    counted = await projector.rebuild(from_the_start(), settle_s=0)
    await live
    assert store.meta == Generations(active=2)
    assert counted > 0 and {key[1] for key in store.docs} <= {1, 2}
    _compare(history, store.summaries())
    await store.drop_generations_but(2)
    assert {key[1] for key in store.docs} == {2}


def test_merges_never_change_the_documents_they_are_given(history: History) -> None:
    code = history.truths[0].code
    events = [projection.compact(e) for e in history.events if e.ticket_id == code]
    kept = [e for e in events if e is not None]
    first, _ = projection.merge_ticket(None, code, kept[:2], CALENDAR)
    before = copy.deepcopy(first)
    second, changed = projection.merge_ticket(first, code, kept, CALENDAR)
    assert changed and first == before and second["n"] == len(kept)
    cell, _ = projection.merge_members(None, "X|-|-", {code: (1, first["share"])})
    before = copy.deepcopy(cell)
    projection.merge_members(cell, "X|-|-", {code: (2, second["share"])})
    assert cell == before
    summary, _ = projection.merge_cells(None, 1, "2026-01", {"X|-|-": (1, cell["totals"])})
    before = copy.deepcopy(summary)
    projection.merge_cells(summary, 1, "2026-01", {"X|-|-": (2, cell["totals"])})
    assert summary == before


def _facts_of(events: list[Envelope]) -> projection.Facts | None:
    return projection.ticket_facts(
        [e for e in (projection.compact(x) for x in events) if e is not None], CALENDAR
    )


async def test_one_ticket_moving_between_opds_counts_once_in_the_last(history: History) -> None:
    moved = next(t for t in history.truths if t.transferred)
    events = [e for e in history.events if e.ticket_id == moved.code]
    facts = _facts_of(events)
    assert facts is not None and facts.opd == moved.opd and facts.transferred
    store = FakeStore()
    for envelope in events:  # one at a time: it counts in the first OPD, then only the last
        await Projector(store, CALENDAR).apply([envelope])
    summary = store.summaries()[moved.month]
    received = {key: held["t"]["n"].get("received", 0) for key, held in summary["cells"].items()}
    assert sum(received.values()) == 1 and received[projection.cell_key(facts)] == 1


def test_percentiles_are_nearest_rank() -> None:
    histogram = {"0": 3, "2": 1, "5": 5, "11": 1}  # 0 0 0 2 5 5 5 5 5 11
    assert figures.percentile(histogram, 50) == 5
    assert figures.percentile(histogram, 30) == 0
    assert figures.percentile(histogram, 90) == 5
    assert figures.percentile(histogram, 100) == 11
    assert figures.percentile({}, 50) is None


def test_months_are_counted_back_across_a_year() -> None:
    assert figures.months_back("2026-02", 4) == ("2025-11", "2025-12", "2026-01", "2026-02")
    assert figures.previous_month("2026-01") == "2025-12"
    with pytest.raises(ValueError):
        figures.parse_month("2026-5")


def test_an_event_without_its_ticket_submission_counts_nowhere_yet() -> None:
    history = generate(5, seed=3)
    later = [e for e in history.events if e.event_type != "ticket.submitted"]
    assert _facts_of(later) is None


def test_figures_of_nothing_are_empty() -> None:
    empty = figures.figures(projection.empty_totals())
    assert empty == Figures(
        received=0,
        routed_auto=0,
        routed_triage=0,
        resolved=0,
        rejected=0,
        open=0,
        open_overdue=0,
        paused=0,
        first_response_days_median=None,
        first_response_days_p90=None,
        resolution_days_median=None,
        resolution_days_p90=None,
        answered=0,
        within_deadline=None,
        reopen_rate=None,
        satisfaction_mean=None,
        ratings=0,
    )


def test_events_of_one_ticket_in_one_moment_keep_their_production_order() -> None:
    history = generate(40, seed=21)
    for truth in history.truths[:40]:
        events = [e for e in history.events if e.ticket_id == truth.code]
        shifted = [
            e.model_copy(update={"occurred_at": events[0].occurred_at + timedelta(seconds=i)})
            for i, e in enumerate(events)
        ]
        assert _facts_of(list(reversed(shifted))) == _facts_of(shifted)


def test_charts_escape_every_label_and_carry_their_numbers() -> None:
    from shared.statistics import charts

    bars = charts.horizontal_bars(
        [charts.Bar('<script>"x"</script>', 40, "40%")], title="a & b", chart_id="c", maximum=100
    )
    assert "<script>" not in bars and "&lt;script&gt;" in bars and "40%" in bars
    assert 'role="img"' in bars and "a &amp; b" in bars and " style=" not in bars
    columns = charts.grouped_columns(
        ["Mei 26"], [charts.Series("Masuk <b>", [7])], title="t", chart_id="d"
    )
    assert "Masuk &lt;b&gt; Mei 26: 7" in columns and "<tspan" in columns
