"""The statistics in MongoDB: routing writes them (its projection), intake and the console read.

FerretDB v1 reads every document of a collection for any query, `_id` look-ups included
(docs/benchmarks.md), so no hot path touches a large collection:
- `statistics_months`: one small summary per month (and generation): all that readers read;
- `statistics_g<generation>_<yyyymm>`: the tickets submitted in that month, and its cells;
  an event reads and writes only its ticket's month, a bounded collection;
- `statistics_meta`: which generation readers use and which a rebuild is filling;
- `statistics_locks`: per-document locks (shared.locks), held only while writing.

`change_many` writes many documents of one collection with few round trips (the live
consumer's batches, a rebuild): the free locks taken in one insert and released in one delete,
the reads and writes a few at a time between, new documents inserted together.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.statistics.projection import summary_doc_id
from shared.statistics.service import Change, Generations
from shared.supervise import gather_all

META = "statistics_meta"
MONTHS = "statistics_months"
LOCKS = "statistics_locks"
META_ID = "projection"
_PART = re.compile(r"^statistics_g(\d+)_\d{6}$")
# Reads and replaces of one `change_many` running at once (FerretDB v1 stalls when as many
# commands wait at once as its PostgreSQL pool has connections).
CALLS_AT_ONCE = 8


def part_name(generation: int, month: str) -> str:
    return f"statistics_g{generation}_{month.replace('-', '')}"


class StatisticsStore:
    """The projection's documents (the write side) and the month summaries (the read side)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._meta = db[META]
        self._months = db[MONTHS]
        self._locks = DocumentLocks(db[LOCKS])

    async def generations(self) -> Generations:
        doc = await self._meta.find_one({"_id": META_ID})
        if doc is None:
            return Generations(active=1)
        return Generations(active=int(doc["active"]), building=doc.get("building"))

    async def change(self, generation: int, month: str, doc_id: str, change: Change) -> Document:
        return await self._change(self._db[part_name(generation, month)], doc_id, change)

    async def change_many(
        self, generation: int, month: str, changes: Mapping[str, Change]
    ) -> dict[str, Document]:
        """`change` for many documents of one month's part; each one's document as written."""
        return await self._change_many(self._db[part_name(generation, month)], changes)

    async def change_summary(self, generation: int, month: str, change: Change) -> Document:
        return await self._change(self._months, summary_doc_id(generation, month), change)

    async def _change(
        self, collection: AsyncCollection[Document], doc_id: str, change: Change
    ) -> Document:
        async with self._locks.hold(f"{collection.name}/{doc_id}"):
            held = await collection.find_one({"_id": doc_id})
            doc, changed = change(held)
            if changed:
                await collection.replace_one({"_id": doc_id}, doc, upsert=True)
        return doc

    async def _change_many(
        self, collection: AsyncCollection[Document], changes: Mapping[str, Change]
    ) -> dict[str, Document]:
        """Locked read-modify-writes of many documents with few round trips.

        The locks nobody holds are taken in one insert (`hold_free`); their documents are read
        a few at a time, changed, and written: the new ones in one `insert_many`, the others
        replaced a few at a time, each write started only within the first third of the locks'
        lease. What is left (a lock someone holds, a write refused or out of time) goes one
        document at a time through `_change` afterwards."""
        lock_of = {f"{collection.name}/{doc_id}": doc_id for doc_id in changes}
        written: dict[str, Document] = {}
        window = self._locks.window(CALLS_AT_ONCE)

        async def replace(doc_id: str, doc: Document) -> None:
            async def write() -> None:
                result = await collection.replace_one({"_id": doc_id}, doc)
                if result.matched_count:  # else gone meanwhile (a dropped generation)
                    written[doc_id] = doc

            await window.in_time(write)

        async with self._locks.hold_free(lock_of) as held:
            mine = [doc_id for lock, doc_id in lock_of.items() if lock in held]
            found = await asyncio.gather(
                *(window.side_by_side(collection.find_one({"_id": doc_id})) for doc_id in mine)
            )
            new: dict[str, Document] = {}
            replaced: dict[str, Document] = {}
            for doc_id, before in zip(mine, found, strict=True):
                doc, changed = changes[doc_id](before)
                if not changed:
                    written[doc_id] = doc
                elif before is None:
                    new[doc_id] = doc
                else:
                    replaced[doc_id] = doc
            if new and window.open:
                await self._insert_new(collection, new, written)
            # Every write ended before the locks go (a failure is raised after).
            await gather_all(replace(doc_id, doc) for doc_id, doc in replaced.items())
        for doc_id, change in changes.items():
            if doc_id not in written:
                written[doc_id] = await self._change(collection, doc_id, change)
        return written

    @staticmethod
    async def _insert_new(
        collection: AsyncCollection[Document],
        new: dict[str, Document],
        written: dict[str, Document],
    ) -> None:
        """Insert documents that did not exist; those refused are left out of `written`."""
        ids = list(new)
        refused: set[int] = set()
        try:
            await collection.insert_many([{**new[i], "_id": i} for i in ids], ordered=False)
        except BulkWriteError as exc:
            refused = {int(error["index"]) for error in exc.details.get("writeErrors", [])}
            if not refused:  # a write concern error: none is known to be written
                refused = set(range(len(ids)))
        for index, doc_id in enumerate(ids):
            if index not in refused:
                written[doc_id] = new[doc_id]

    async def begin_rebuild(self) -> int:
        """A new generation, empty, that writers fill from now on beside the active one."""
        async with self._locks.hold(f"{META}/{META_ID}"):
            current = await self.generations()
            generation = max(current.active, current.building or 0) + 1
            await self._meta.replace_one(
                {"_id": META_ID},
                {"_id": META_ID, "active": current.active, "building": generation},
                upsert=True,
            )
        if current.building is not None:  # an earlier rebuild that did not finish
            await self._drop_generations(lambda g: g == current.building)
        return generation

    async def finish_rebuild(self, generation: int) -> None:
        """Readers use `generation` from now on."""
        async with self._locks.hold(f"{META}/{META_ID}"):
            await self._meta.replace_one(
                {"_id": META_ID},
                {"_id": META_ID, "active": generation, "building": None},
                upsert=True,
            )

    async def drop_generations_but(self, generation: int) -> None:
        await self._drop_generations(lambda g: g != generation)

    async def _drop_generations(self, which: Callable[[int], bool]) -> None:
        for name in await self._db.list_collection_names():
            found = _PART.match(name)
            if found and which(int(found.group(1))):
                await self._db.drop_collection(name)
        held = {int(doc["generation"]) async for doc in self._months.find({}, {"generation": 1})}
        stale = sorted(g for g in held if which(g))
        if stale:
            await self._months.delete_many({"generation": {"$in": stale}})

    async def summaries(self, months: Iterable[str]) -> dict[str, Document]:
        """The active generation's summaries of these months, by month (missing: no tickets)."""
        active = (await self.generations()).active
        wanted = {summary_doc_id(active, m): m for m in months}
        found: dict[str, Document] = {}
        async for doc in self._months.find({"_id": {"$in": list(wanted)}}):
            found[wanted[doc["_id"]]] = doc
        return found


class StatisticsReader:
    """Month summaries for the public page, the open data and the reports, re-read at most
    once per `ttl_s` (the figures change slowly; a page view costs no database query)."""

    def __init__(self, store: StatisticsStore, *, ttl_s: float = 60.0) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._cached: dict[tuple[str, ...], tuple[float, dict[str, Document]]] = {}

    async def summaries(self, months: tuple[str, ...]) -> dict[str, Document]:
        now = time.monotonic()
        held = self._cached.get(months)
        if held is not None and now - held[0] < self._ttl_s:
            return held[1]
        found = await self._store.summaries(months)
        if len(self._cached) > 64:
            self._cached.clear()
        self._cached[months] = (now, found)
        return found
