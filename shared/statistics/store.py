"""The statistics in MongoDB: routing writes them (its projection), intake and the console read.

FerretDB v1 reads every document of a collection for any query, `_id` look-ups included
(docs/benchmarks.md), so no hot path touches a large collection:
- `statistics_months`: one small summary per month (and generation): all that readers read;
- `statistics_g<generation>_<yyyymm>`: the tickets submitted in that month, and its cells;
  an event reads and writes only its ticket's month, a bounded collection;
- `statistics_meta`: which generation readers use and which a rebuild is filling;
- `statistics_locks`: per-document locks (shared.locks), held only while writing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.statistics.projection import summary_doc_id
from shared.statistics.service import Change, Generations

META = "statistics_meta"
MONTHS = "statistics_months"
LOCKS = "statistics_locks"
META_ID = "projection"
_PART = re.compile(r"^statistics_g(\d+)_\d{6}$")


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
