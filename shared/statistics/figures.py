"""From stored totals to the published figures and tables. Pure.

A month's summary holds the totals of each cell (OPD x category x kecamatan). Any selection
(months, an OPD, a kecamatan) adds the totals of its cells; the medians and 90th percentiles
come from the added histograms of whole working days, by the nearest-rank rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from shared.statistics.projection import add_to, empty_totals, split_cell

Totals = dict[str, Any]


def percentile(histogram: Mapping[str, int], p: float) -> int | None:
    """The nearest-rank p-th percentile (0 < p <= 100) of values counted in a histogram."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for value in sorted(histogram, key=int):
        seen += histogram[value]
        if seen >= rank:
            return int(value)
    return None  # pragma: no cover - the ranks always end within the total


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Figures:
    """The published figures of a selection (see docs/statistics.md for each definition)."""

    received: int
    routed_auto: int
    routed_triage: int
    resolved: int
    rejected: int
    open: int
    open_overdue: int
    paused: int  # of the open, waiting on the reporter or another party (deadline paused)
    first_response_days_median: int | None
    first_response_days_p90: int | None
    resolution_days_median: int | None
    resolution_days_p90: int | None
    answered: int
    within_deadline: float | None
    reopen_rate: float | None
    satisfaction_mean: float | None
    ratings: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FIGURE_FIELDS = tuple(Figures.__dataclass_fields__)


def figures(totals: Mapping[str, Any]) -> Figures:
    n: Mapping[str, int] = totals.get("n", {})
    answered = n.get("answered", 0)
    rated = n.get("rated", 0)
    return Figures(
        received=n.get("received", 0),
        routed_auto=n.get("auto", 0),
        routed_triage=n.get("triage", 0),
        resolved=n.get("resolved", 0),
        rejected=n.get("rejected", 0),
        open=n.get("open", 0),
        open_overdue=n.get("overdue", 0),
        paused=n.get("paused", 0),
        first_response_days_median=percentile(totals.get("first_response", {}), 50),
        first_response_days_p90=percentile(totals.get("first_response", {}), 90),
        resolution_days_median=percentile(totals.get("resolution", {}), 50),
        resolution_days_p90=percentile(totals.get("resolution", {}), 90),
        answered=answered,
        within_deadline=_share(n.get("on_time", 0), answered),
        reopen_rate=_share(n.get("reopened", 0), answered),
        satisfaction_mean=round(n.get("rating_sum", 0) / rated, 2) if rated else None,
        ratings=rated,
    )


def summed(parts: Iterable[Mapping[str, Any]]) -> Totals:
    totals = empty_totals()
    for part in parts:
        add_to(totals, part)
    return totals


# -- selections -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    month: str
    opd: str
    category: str | None
    kecamatan: str | None
    totals: Mapping[str, Any]


@dataclass(frozen=True)
class Selection:
    months: tuple[str, ...]
    opd: str | None = None
    kecamatan: str | None = None


def cells(summaries: Mapping[str, Mapping[str, Any]], selection: Selection) -> list[Cell]:
    """The cells of the selected months that match the OPD and kecamatan filters (a cell every
    ticket left, when it moved to another OPD, counts nothing and is left out)."""
    found = []
    for month in selection.months:
        summary = summaries.get(month) or {}
        for key, held in (summary.get("cells") or {}).items():
            if not held["t"]["n"].get("received"):
                continue  # every ticket moved on to another cell
            opd, category, kecamatan = split_cell(key)
            if selection.opd is not None and opd != selection.opd:
                continue
            if selection.kecamatan is not None and kecamatan != selection.kecamatan:
                continue
            found.append(Cell(month, opd, category, kecamatan, held["t"]))
    return found


def grouped(found: Iterable[Cell], key: Callable[[Cell], tuple[Any, ...]]) -> dict[Any, Figures]:
    """Figures per group of cells (`key` names the group), groups in sorted order."""
    groups: dict[tuple[Any, ...], Totals] = {}
    for cell in found:
        add_to(groups.setdefault(key(cell), empty_totals()), cell.totals)
    return {k: figures(groups[k]) for k in sorted(groups, key=_sort_key)}


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if part is None else str(part) for part in key)


@dataclass(frozen=True)
class Statistics:
    """Every table the page, the open data and the reports show, for one selection."""

    selection: Selection
    totals: Figures
    by_month: dict[str, Figures]
    by_opd_month: dict[tuple[str, str], Figures]
    by_category_kecamatan_month: dict[tuple[str, str | None, str | None], Figures]
    by_opd: dict[str, Figures]
    by_kecamatan: dict[str | None, Figures]
    by_category: dict[str | None, Figures]


def statistics(summaries: Mapping[str, Mapping[str, Any]], selection: Selection) -> Statistics:
    found = cells(summaries, selection)
    by_month = grouped(found, lambda c: (c.month,))
    return Statistics(
        selection=selection,
        totals=figures(summed(c.totals for c in found)),
        by_month={m: by_month.get((m,), figures(empty_totals())) for m in selection.months},
        by_opd_month=grouped(found, lambda c: (c.month, c.opd)),
        by_category_kecamatan_month=grouped(found, lambda c: (c.month, c.category, c.kecamatan)),
        by_opd={k[0]: v for k, v in grouped(found, lambda c: (c.opd,)).items()},
        by_kecamatan={k[0]: v for k, v in grouped(found, lambda c: (c.kecamatan,)).items()},
        by_category={k[0]: v for k, v in grouped(found, lambda c: (c.category,)).items()},
    )


def league(by_opd: Mapping[str, Figures], *, least_answered: int = 1) -> list[tuple[str, Figures]]:
    """OPDs by their share of answers within the deadline (then by answers), best first."""
    ranked = [(opd, f) for opd, f in by_opd.items() if f.answered >= least_answered]
    return sorted(ranked, key=lambda item: (-(item[1].within_deadline or 0), -item[1].answered))


# -- months ---------------------------------------------------------------------------------------


def parse_month(value: str) -> date:
    """`2026-05` as the first day of that month; ValueError for anything else."""
    if len(value) != 7 or value[4] != "-":
        raise ValueError(value)
    return date(int(value[:4]), int(value[5:]), 1)


def months_back(last: str, count: int) -> tuple[str, ...]:
    """`count` months ending with `last`, oldest first."""
    day = parse_month(last)
    year, month = day.year, day.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return tuple(reversed(found))


def previous_month(month: str) -> str:
    return months_back(month, 2)[0]
