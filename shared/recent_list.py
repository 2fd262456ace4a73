"""Routing's per-OPD list of recent tickets as stored: the layout both routing (its writer,
services/routing/cluster_store.py) and intake's nearby view (a reader) rely on.

- `cluster_recent`: per OPD (`_id` = the OPD code) a snapshot `{day, n, entries}`, the list as of
  position `n` of the UTC `day`;
- `cluster_recent_log`: one document per remembered ticket after that, `_id` =
  `<OPD>:<day>:<n>`, with the profile under `entry`.

Every read is by `_id` (FerretDB v1 serves no other filter from an index).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from shared.mongo import Document

SNAPSHOTS = "cluster_recent"
LOG = "cluster_recent_log"


def log_id(opd: str, day: str, n: int) -> str:
    return f"{opd}:{day}:{n}"


def day_of(at: datetime) -> str:
    return at.date().isoformat()


def last_of_each(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each ticket once, at its last place (a ticket remembered twice by two processes)."""
    last = {str(e["code"]): i for i, e in enumerate(entries)}
    return [e for i, e in enumerate(entries) if last[str(e["code"])] == i]


async def stored_entries(
    snapshots: AsyncCollection[Document],
    log: AsyncCollection[Document],
    opd: str,
    now: datetime,
    *,
    max_tail: int,
) -> list[dict[str, Any]]:
    """The OPD's recent entries as stored, newest last: its snapshot, then the log after the
    snapshot's position (of the snapshot's day, then of today), at most `max_tail` of them,
    each ticket once."""
    doc = await snapshots.find_one({"_id": opd}) or {}
    entries: list[dict[str, Any]] = list(doc.get("entries") or [])
    day, n = str(doc.get("day", "")), int(doc.get("n", 0))
    today = day_of(now)
    read = 0
    for walk_day, start in ((day, n), (today, 0)) if day < today else ((day, n),):
        position = start + 1
        while read < max_tail:
            found = await log.find_one({"_id": log_id(opd, walk_day, position)})
            if found is None:
                break
            entries.append(found["entry"])
            read += 1
            position += 1
    return last_of_each(entries)
