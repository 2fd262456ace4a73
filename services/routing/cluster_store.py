"""MongoDB access for clusters of related tickets, and the per-OPD list of recent tickets the
router compares a new ticket with.

Everything is read by `_id` only (FerretDB v1 serves no other filter from an index).

A cluster is one document, replaced under a lock of `shared.locks` (FerretDB does not isolate
concurrent updates).

The recent list is an append-only log plus snapshots, so that remembering a ticket takes no
lock and reads nothing in the usual case:
- `cluster_recent_log`: one small document per remembered ticket, `_id` =
  `<OPD>:<day>:<n>` (the UTC day and the position within it, from 1). A writer claims the next
  position with `insert_one`; the unique `_id` refuses a position another writer took first,
  and the writer reads that entry and tries the next. Positions of the current day are never
  deleted, so a writer that inserted position n has seen every entry before it: its list is
  complete without a read. Old days are deleted once a day.
- `cluster_recent`: per OPD (`_id` = the OPD code) a snapshot, `{day, n, entries}`: the list
  as of that position (within the window, at most `cap`, newest last). The writer of the first
  and of every tenth position of a day replaces it (only with a later position), so a reader
  (a routing process starting, intake's nearby view) reads the snapshot and the few log
  entries after it.
Each routing process keeps its OPDs' lists in memory, so a proposal reads only the entries
other processes added since its own last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.routing.clustering import AppliesRewrites, Cluster, Matcher, Profile
from shared import recent_list
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.recent_list import day_of, log_id
from shared.tickets import LOCKS

CLUSTERS = "clusters"
RECENT = recent_list.SNAPSHOTS
RECENT_LOG = recent_list.LOG
SUPPORTERS = "supporters"  # intake's "dukung laporan ini" (only the count is read here)
SNAPSHOT_EVERY = 10
# A list not extended by this process for this long is refreshed from the snapshot first, so
# catching up on what other processes added costs one read, not two round trips per entry.
IDLE_S = 5.0
MAX_TAIL = 10_000  # positions walked at most in one call (bounded loops)


def latest_by_code(profiles: Iterable[Profile]) -> list[Profile]:
    """Each ticket once, at its last place (a ticket remembered twice by two processes)."""
    listed = list(profiles)
    last = {p.tracking_code: i for i, p in enumerate(listed)}
    return [p for i, p in enumerate(listed) if last[p.tracking_code] == i]


@dataclass
class _Known:
    """What this process knows of an OPD's log: every entry up to (day, n), newest last."""

    day: str
    n: int
    entries: list[Profile] = field(default_factory=list)
    touched: float = 0.0  # time.monotonic() of the last read or write


class ClusterRepository(AppliesRewrites):
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CLUSTERS]
        self._recent = db[RECENT]
        self._log = db[RECENT_LOG]
        self._supporters = db[SUPPORTERS]
        self.locks = DocumentLocks(db[LOCKS])
        self._known: dict[str, _Known] = {}
        self._local: dict[str, asyncio.Lock] = {}
        self._swept_day: str | None = None

    async def ensure_indexes(self) -> None:
        """For the daily removal of old log entries (MongoDB; FerretDB scans anyway)."""
        await self._log.create_index("day")

    async def get(self, cluster_id: str) -> Cluster | None:
        doc = await self.collection.find_one({"_id": cluster_id})
        return Cluster.from_document(doc) if doc else None

    async def supporters(self, tracking_code: str) -> int:
        doc = await self._supporters.find_one({"_id": tracking_code}, {"count": 1})
        return int(doc["count"]) if doc else 0

    async def add(self, cluster: Cluster) -> None:
        await self.collection.insert_one(cluster.to_document())

    async def save(self, before: Cluster, after: Cluster | None) -> bool:
        """Replace (or, for None, delete) the cluster if it is still at `before`'s version."""
        async with self.locks.hold(f"cluster|{before.id}"):
            if after is None:
                deleted = await self.collection.delete_one(
                    {"_id": before.id, "version": before.version}
                )
                return deleted.deleted_count == 1
            replaced = await self.collection.replace_one(
                {"_id": before.id, "version": before.version}, after.to_document()
            )
            return replaced.modified_count == 1

    def proposing(self, opd: str) -> AbstractAsyncContextManager[None]:
        """The lock of an OPD's proposals: one at a time, so two related tickets routed at
        once cannot each start a cluster of their own with the same match."""
        return self.locks.hold(f"cluster_recent|{opd}")

    # -- the recent list ---------------------------------------------------------------------

    async def remember(
        self, profile: Profile, *, matcher: Matcher, cap: int, now: datetime
    ) -> list[Profile]:
        """Add a routed ticket to its OPD's recent list, without a lock; returns the list as
        it was before it (within the window, at most `cap`), the candidates to compare it
        with. A ticket already in the list is not added again."""
        opd, code = profile.opd, profile.tracking_code
        async with self._local.setdefault(opd, asyncio.Lock()):
            known = await self._current(opd, now)
            # Never back to an earlier day (another process's clock, or an older `now`): its
            # positions after ours would be read by no one.
            day = max(day_of(now), known.day)
            if known.day < day:
                await self._walk(known, opd, known.day)
                known.day, known.n = day, 0
            for _ in range(MAX_TAIL):
                if any(p.tracking_code == code for p in known.entries):
                    return _candidates(known.entries, code, matcher=matcher, cap=cap, now=now)
                n = known.n + 1
                entry = {"_id": log_id(opd, day, n), "opd": opd, "day": day, "n": n}
                try:
                    await self._log.insert_one({**entry, "entry": profile.to_document()})
                except DuplicateKeyError:
                    if not await self._step(known, opd, day, n):
                        raise RuntimeError(f"log entry {entry['_id']} vanished") from None
                    continue
                pool = _candidates(known.entries, code, matcher=matcher, cap=cap, now=now)
                known.n = n
                known.entries = latest_by_code([*known.entries, profile])[-cap:]
                known.touched = time.monotonic()
                if n == 1 or n % SNAPSHOT_EVERY == 0:
                    await self._snapshot(opd, known, matcher=matcher, cap=cap, now=now)
                await self._sweep(now, matcher.window)
                return pool
        raise RuntimeError(f"the recent list of {opd} did not settle")

    async def recent(self, opd: str, now: datetime) -> list[Profile]:
        """The OPD's recent list as stored, newest last, as another process reads it."""
        entries = await recent_list.stored_entries(
            self._recent, self._log, opd, now, max_tail=MAX_TAIL
        )
        return [Profile.from_document(e) for e in entries]

    async def _current(self, opd: str, now: datetime) -> _Known:
        """This process's list, refreshed from the snapshot when it is missing or idle."""
        known = self._known.get(opd)
        if known is not None and time.monotonic() - known.touched < IDLE_S:
            return known
        snapshot = _from_snapshot(await self._recent.find_one({"_id": opd}))
        if known is None or (snapshot.day, snapshot.n) > (known.day, known.n):
            known = snapshot
        known.touched = time.monotonic()
        self._known[opd] = known
        return known

    async def _step(self, known: _Known, opd: str, day: str, n: int) -> bool:
        """Take in the entry another writer stored at (day, n); False when there is none."""
        doc = await self._log.find_one({"_id": log_id(opd, day, n)})
        if doc is None:
            return False
        known.entries = latest_by_code([*known.entries, Profile.from_document(doc["entry"])])
        known.n = n
        return True

    async def _walk(self, known: _Known, opd: str, day: str) -> None:
        """Read the entries of `day` after `known`'s position (for a day being left, a reader)."""
        if known.day != day:
            return
        for _ in range(MAX_TAIL):
            if not await self._step(known, opd, day, known.n + 1):
                return

    async def _snapshot(
        self, opd: str, known: _Known, *, matcher: Matcher, cap: int, now: datetime
    ) -> None:
        """Replace the OPD's snapshot, unless a later one is stored already."""
        entries = matcher.recent(known.entries, now, cap)
        later_than_stored = {
            "$or": [
                {"day": {"$lt": known.day}},
                {"day": known.day, "n": {"$lt": known.n}},
                {"n": {"$exists": False}},
            ]
        }
        doc = {
            "_id": opd,
            "day": known.day,
            "n": known.n,
            "entries": [e.to_document() for e in entries],
        }
        with contextlib.suppress(DuplicateKeyError):  # a later snapshot is stored: keep it
            await self._recent.replace_one({"_id": opd, **later_than_stored}, doc, upsert=True)

    async def _sweep(self, now: datetime, window: timedelta) -> None:
        """Once a day per process: delete the log entries of days the window has left."""
        today = day_of(now)
        if self._swept_day == today:
            return
        self._swept_day = today
        cutoff = day_of(now - window - timedelta(days=1))
        await self._log.delete_many({"day": {"$lt": cutoff}})


def _from_snapshot(doc: dict[str, Any] | None) -> _Known:
    """A snapshot document (or none: an empty list before the first entry)."""
    if doc is None:
        return _Known(day="", n=0)
    entries = [Profile.from_document(e) for e in doc.get("entries") or ()]
    return _Known(day=str(doc.get("day", "")), n=int(doc.get("n", 0)), entries=entries)


def _candidates(
    entries: list[Profile], code: str, *, matcher: Matcher, cap: int, now: datetime
) -> list[Profile]:
    others = [e for e in latest_by_code(entries) if e.tracking_code != code]
    return matcher.recent(others, now, cap)
