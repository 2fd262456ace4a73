"""MongoDB access for clusters of related tickets, and the per-OPD list of recent tickets the
router compares a new ticket with.

Both are read by `_id` only (FerretDB serves no other filter from an index): a cluster by its
id, the recent list by its OPD's code. Each write holds a lock of `shared.locks`, since
FerretDB does not isolate concurrent updates.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from services.routing.clustering import AppliesRewrites, Cluster, Matcher, Profile
from shared.locks import DocumentLocks
from shared.mongo import Document
from shared.tickets import LOCKS

CLUSTERS = "clusters"
RECENT = "cluster_recent"
SUPPORTERS = "supporters"  # intake's "dukung laporan ini" (only the count is read here)


class ClusterRepository(AppliesRewrites):
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CLUSTERS]
        self._recent = db[RECENT]
        self._supporters = db[SUPPORTERS]
        self.locks = DocumentLocks(db[LOCKS])

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

    async def remember(
        self, profile: Profile, *, matcher: Matcher, cap: int, now: datetime
    ) -> list[Profile]:
        """Add a routed ticket to its OPD's recent list (the caller holds `proposing`); returns
        the list as it was (pruned to the window and `cap`), the candidates to compare it with."""
        doc = await self._recent.find_one({"_id": profile.opd})
        entries = [Profile.from_document(e) for e in (doc or {}).get("entries", [])]
        pool = [
            e for e in matcher.recent(entries, now, cap) if e.tracking_code != profile.tracking_code
        ]
        kept = [*pool, profile][-cap:]
        await self._recent.replace_one(
            {"_id": profile.opd},
            {"_id": profile.opd, "entries": [e.to_document() for e in kept]},
            upsert=True,
        )
        return pool
