"""The statistics projection's rules. Pure: no clock, no database.

Every ticket event is kept, compacted, with its ticket (`merge_ticket`). A ticket's facts are a
function of the *set* of its events, sorted by time, so a replay, a duplicate or an event that
arrives late changes nothing or converges to the same facts. The facts give the ticket's
contribution to one cell (submission month x OPD x category x kecamatan). A cell keeps each
member ticket's contribution with the size of the event set it came from (`merge_members`), and
a month's summary keeps each cell's totals with the cell's version (`merge_cells`): a write
carrying older knowledge never overwrites newer, so concurrent writers and replays converge.
The merges never change the documents they are given: they copy what they change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.catalogue import LUAR_KEWENANGAN, TRIASE
from shared.events import Envelope, EventType
from shared.lifecycle import statuses
from shared.workdays import JAKARTA, WorkCalendar

Document = dict[str, Any]
E = EventType

COUNTERS = (
    "received",
    "auto",
    "triage",
    "transferred",
    "resolved",
    "rejected",
    "open",
    "overdue",
    "paused",
    "answered",
    "on_time",
    "reopened",
    "responded",
    "confidential",
    "rated",
    "rating_sum",
)
HISTOGRAMS = ("first_response", "resolution")
OPEN_STATUSES = frozenset(status.value for status in statuses.OPEN_STATUSES)
# Open, but waiting on the reporter or another party: the deadline is paused (issue 14).
PAUSED_STATUSES = frozenset(status.value for status in statuses.PAUSED_STATUSES)
DONE_STATUSES = frozenset({"resolved", "closed"})
# Actions that set a new deadline: a breach of the old one is no longer "open overdue".
NEW_DEADLINE = frozenset({"transfer", "verify", "reopen", "resolve", "reject", "close"})
FIRST_RESPONSES = frozenset({"verify", "resolve", "reject"})
# Events of one moment keep the order in which they are produced.
_RANK = {
    E.TICKET_SUBMITTED: 0,
    E.TICKET_ROUTED: 1,
    E.TICKET_TRIAGED: 1,
    E.TICKET_TRANSITIONED: 2,
    E.CITIZEN_REPLIED: 2,
    E.TICKET_COMMENTED: 3,
    E.TICKET_ESCALATED: 4,
    E.TICKET_RATED: 5,
}
# What each event type contributes, as (stored name, payload field).
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    E.TICKET_SUBMITTED: (
        ("kind", "kind"),
        ("category", "category"),
        ("kecamatan", "kecamatan"),
        ("confidential", "confidential"),
        ("synthetic", "synthetic"),
    ),
    E.TICKET_ROUTED: (("status", "status"), ("opd", "opd"), ("due_at", "due_at")),
    E.TICKET_TRIAGED: (("status", "status"), ("opd", "opd"), ("due_at", "due_at")),
    E.TICKET_TRANSITIONED: (
        ("action", "action"),
        ("from", "from_status"),
        ("status", "to_status"),
        ("opd", "opd"),
        ("due_at", "due_at"),
        ("role", "actor_role"),
    ),
    E.CITIZEN_REPLIED: (
        ("action", "action"),
        ("from", "from_status"),
        ("status", "to_status"),
        ("due_at", "due_at"),
    ),
    E.TICKET_COMMENTED: (("public", "public"), ("role", "author_role")),
    E.TICKET_ESCALATED: (("due_at", "due_at"),),
    E.TICKET_RATED: (("score", "score"),),
}


# -- events ---------------------------------------------------------------------------------------


def month_of(moment: datetime) -> str:
    """`2026-05`: the month in Asia/Jakarta."""
    return moment.astimezone(JAKARTA).strftime("%Y-%m")


def submitted_month(envelope: Envelope) -> str | None:
    """The month the event's ticket was submitted, from the event alone (None: not known)."""
    if envelope.event_type == E.TICKET_SUBMITTED:
        return month_of(envelope.occurred_at)
    raw = envelope.payload.get("submitted_at")
    if not raw:
        return None
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return month_of(moment)


def compact(envelope: Envelope) -> Document | None:
    """What the projection keeps of an event; None for the types it does not count."""
    fields = _FIELDS.get(envelope.event_type)
    if fields is None:
        return None
    event: Document = {
        "id": envelope.event_id,
        "type": envelope.event_type,
        "at": envelope.occurred_at,
    }
    for name, source in fields:
        value = envelope.payload.get(source)
        if name == "due_at" and value is not None and not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        event[name] = value
    return event


# -- a ticket's facts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the statistics know of one ticket."""

    month: str
    opd: str
    category: str | None
    kecamatan: str | None
    confidential: bool
    status: str
    routed_via: str | None  # "auto" (the router) or "triage" (the admin koordinator)
    transferred: bool
    overdue: bool  # open, and its deadline in force was missed
    first_response_days: int | None
    resolution_days: int | None
    on_time: bool | None  # the first resolution came by the deadline in force then
    reopened: bool
    rating: int | None


def _order(event: Mapping[str, Any]) -> tuple[datetime, int, str]:
    return event["at"], _RANK.get(event["type"], 9), event["id"]


def _responsible(opd: str | None) -> str:
    """The unit a ticket counts under: its OPD, or the admin koordinator's queue."""
    return TRIASE if opd in (None, "", LUAR_KEWENANGAN) else str(opd)


def ticket_facts(events: Iterable[Mapping[str, Any]], calendar: WorkCalendar) -> Facts | None:
    """The facts of a ticket from its events (any order); None until its submission is known."""
    ordered = sorted(events, key=_order)
    submitted = next((e for e in ordered if e["type"] == E.TICKET_SUBMITTED), None)
    if submitted is None or submitted.get("synthetic"):
        return None  # not known yet, or the canary's (counted nowhere)
    start: datetime = submitted["at"]
    status, opd = "submitted", None
    routed_via: str | None = None
    transferred = overdue = reopened = False
    deadline: datetime | None = None
    first_response: datetime | None = None
    resolution: datetime | None = None
    on_time: bool | None = None
    rating: int | None = None
    for event in ordered:
        kind = event["type"]
        if kind in (E.TICKET_ROUTED, E.TICKET_TRIAGED):
            status = event.get("status") or status
            opd = event.get("opd") if kind == E.TICKET_ROUTED else TRIASE
            routed_via = routed_via or ("auto" if kind == E.TICKET_ROUTED else None)
            deadline, overdue = event.get("due_at"), False
        elif kind == E.TICKET_TRANSITIONED:
            action = event.get("action")
            if action == "transfer":
                if event.get("from") == "triage":
                    routed_via = routed_via or "triage"
                else:
                    transferred = True
            if action in FIRST_RESPONSES and first_response is None:
                first_response = event["at"]
            if action == "resolve" and resolution is None:
                resolution = event["at"]
                on_time = deadline is None or event["at"] <= deadline
            if action == "reopen" and resolution is not None:
                reopened = True
            status, opd = event.get("status") or status, event.get("opd")
            deadline = event.get("due_at")
            overdue = overdue and action not in NEW_DEADLINE
        elif kind == E.CITIZEN_REPLIED:
            if event.get("action") == "dispute":
                reopened = reopened or resolution is not None
                deadline, overdue = event.get("due_at"), False
            status = event.get("status") or status
        elif kind == E.TICKET_COMMENTED:
            if event.get("public") and event.get("role") != "citizen" and first_response is None:
                first_response = event["at"]
        elif kind == E.TICKET_ESCALATED:
            overdue = status in OPEN_STATUSES
        elif kind == E.TICKET_RATED:
            rating = event.get("score")
    return Facts(
        month=month_of(start),
        opd=_responsible(opd),
        category=submitted.get("category"),
        kecamatan=submitted.get("kecamatan"),
        confidential=bool(submitted.get("confidential")),
        status=status,
        routed_via=routed_via,
        transferred=transferred,
        overdue=overdue and status in OPEN_STATUSES,
        first_response_days=(
            calendar.working_days_between(start, first_response) if first_response else None
        ),
        resolution_days=calendar.working_days_between(start, resolution) if resolution else None,
        on_time=on_time,
        reopened=reopened,
        rating=rating,
    )


# -- cells and their totals ------------------------------------------------------------------------

CELL_SEPARATOR = "|"
NONE = "-"


def cell_key(facts: Facts) -> str:
    """`DLH|sampah|KEC-CIRUAS`: the cell a ticket counts in (within its month)."""
    return CELL_SEPARATOR.join((facts.opd, facts.category or NONE, facts.kecamatan or NONE))


def split_cell(key: str) -> tuple[str, str | None, str | None]:
    opd, category, kecamatan = key.split(CELL_SEPARATOR)
    return opd, None if category == NONE else category, None if kecamatan == NONE else kecamatan


def contribution(facts: Facts) -> Document:
    """A ticket's share of its cell's totals: counters (zeros left out) and its working days."""
    flags = {
        "received": True,
        "auto": facts.routed_via == "auto",
        "triage": facts.routed_via == "triage",
        "transferred": facts.transferred,
        "resolved": facts.status in DONE_STATUSES,
        "rejected": facts.status == "rejected",
        "open": facts.status in OPEN_STATUSES,
        "overdue": facts.overdue,
        "paused": facts.status in PAUSED_STATUSES,
        "answered": facts.resolution_days is not None,
        "on_time": bool(facts.on_time),
        "reopened": facts.reopened and facts.resolution_days is not None,
        "responded": facts.first_response_days is not None,
        "confidential": facts.confidential,
        "rated": facts.rating is not None,
    }
    counters = {name: 1 for name, on in flags.items() if on}
    if facts.rating is not None:
        counters["rating_sum"] = facts.rating
    share: Document = {"n": counters}
    if facts.first_response_days is not None:
        share["first_response"] = facts.first_response_days
    if facts.resolution_days is not None:
        share["resolution"] = facts.resolution_days
    return share


def empty_totals() -> Document:
    return {"n": {}, "first_response": {}, "resolution": {}}


def add_to(totals: Document, share: Mapping[str, Any] | None, sign: int = 1) -> None:
    """Add (or with sign -1 take away) one contribution or another cell's totals, in place."""
    if not share:
        return
    for name, value in share.get("n", {}).items():
        _bump(totals["n"], name, sign * int(value))
    for histogram in HISTOGRAMS:
        found = share.get(histogram)
        if found is None:
            continue
        counts = found if isinstance(found, Mapping) else {str(found): 1}
        for days, count in counts.items():
            _bump(totals[histogram], str(days), sign * int(count))


def _bump(counts: dict[str, int], key: str, by: int) -> None:
    value = counts.get(key, 0) + by
    if value:
        counts[key] = value
    else:
        counts.pop(key, None)


# -- the stored documents and their merges ---------------------------------------------------------


def ticket_doc_id(code: str) -> str:
    return f"t:{code}"


def cell_doc_id(cell: str) -> str:
    return f"c:{cell}"


def merge_ticket(
    doc: Document | None, code: str, events: Iterable[Document], calendar: WorkCalendar
) -> tuple[Document, bool]:
    """The ticket's document with these events added (each once); its facts recomputed.

    `n` (how many events it holds) only grows, so it orders what the document knew when.
    `cells` lists every cell the ticket ever counted in, to take it out of the old ones."""
    merged: Document = dict(doc) if doc else {"_id": ticket_doc_id(code), "code": code}
    held: list[Document] = list(merged.get("events", []))
    merged["events"] = held
    known = {e["id"] for e in held}
    added = False
    for event in events:
        if event["id"] not in known:
            held.append(event)
            known.add(event["id"])
            added = True
    if not added and doc is not None:
        return merged, False
    merged["n"] = len(held)
    facts = ticket_facts(held, calendar)
    merged["cell"] = cell_key(facts) if facts else None
    merged["share"] = contribution(facts) if facts else None
    cells: list[str] = list(merged.get("cells", []))
    if merged["cell"] and merged["cell"] not in cells:
        cells.append(merged["cell"])
    merged["cells"] = cells
    return merged, True


def placements(ticket: Mapping[str, Any]) -> dict[str, tuple[int, Document | None]]:
    """For each cell the ticket ever counted in: (its `n`, its share there, None if no more)."""
    return {
        cell: (int(ticket["n"]), ticket["share"] if cell == ticket.get("cell") else None)
        for cell in ticket.get("cells", [])
    }


def merge_members(
    doc: Document | None, cell: str, updates: Mapping[str, tuple[int, Document | None]]
) -> tuple[Document, bool]:
    """The cell with these members' shares, each kept only if it is newer than the one held
    (a larger `n`); the totals follow, and the cell's version `v` counts the changes."""
    fresh: Document = {
        "_id": cell_doc_id(cell),
        "cell": cell,
        "members": {},
        "totals": empty_totals(),
        "v": 0,
    }
    merged: Document = dict(doc) if doc else fresh
    merged["members"] = dict(merged["members"])
    merged["totals"] = {name: dict(counts) for name, counts in merged["totals"].items()}
    changed = False
    for code, (n, share) in updates.items():
        held = merged["members"].get(code)
        if held is not None and held["n"] >= n:
            continue
        add_to(merged["totals"], held["share"] if held else None, -1)
        add_to(merged["totals"], share)
        merged["members"][code] = {"n": n, "share": share}
        changed = True
    if changed:
        merged["v"] += 1
    return merged, changed


def summary_doc_id(generation: int, month: str) -> str:
    return f"g{generation}:{month}"


def merge_cells(
    doc: Document | None,
    generation: int,
    month: str,
    updates: Mapping[str, tuple[int, Document]],
) -> tuple[Document, bool]:
    """A month's summary with these cells' totals, each kept only if newer (a larger `v`)."""
    fresh: Document = {
        "_id": summary_doc_id(generation, month),
        "generation": generation,
        "month": month,
        "cells": {},
    }
    merged: Document = dict(doc) if doc else fresh
    merged["cells"] = dict(merged["cells"])
    changed = False
    for cell, (version, totals) in updates.items():
        held = merged["cells"].get(cell)
        if held is not None and held["v"] >= version:
            continue
        merged["cells"][cell] = {"v": version, "t": totals}
        changed = True
    return merged, changed
