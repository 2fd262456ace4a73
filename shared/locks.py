"""Per-document locks through unique inserts.

FerretDB v1 (both its SQLite and PostgreSQL backends) applies an update as read-modify-write
without isolation: two concurrent updates of one document can lose one of them, and two
version-checked updates can both "win" (measured here: 4 writers x 50 `$push` kept 122 of
200). An insert with an existing `_id` is refused atomically, so every write to a shared
document first inserts its lock and deletes it afterwards. On MongoDB the locks are merely
redundant. A lock left by a crashed writer expires after its lease.

With `batched`, concurrent `hold`s share round trips: their lock inserts go together in one
`insert_many` (shared.batching, each caller still learns its own outcome) and their releases
in one `delete_many`, while one such batch is on its way; a lone `hold` costs what it costs
unbatched. For a busy writer whose work per lock is a round trip or two (routing's consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import timedelta
from typing import TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from shared.batching import GroupCommit, InsertBatcher
from shared.events import utcnow
from shared.mongo import Document

DUPLICATE_KEY = 11000

T = TypeVar("T")


class LockTimeout(Exception):
    """The document stayed locked longer than the wait allowed."""


class DocumentLocks:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        *,
        lease_s: float = 15.0,
        wait_s: float = 10.0,
        batched: bool = False,
    ) -> None:
        self._locks = collection
        self._lease = timedelta(seconds=lease_s)
        self._wait_s = wait_s
        self._inserts = InsertBatcher(collection, in_flight=1) if batched else None
        self._releases = _ReleaseBatcher(collection) if batched else None

    async def _take(self, lock: Document) -> None:
        if self._inserts is not None:
            await self._inserts.insert(lock)
        else:
            await self._locks.insert_one(lock)

    async def _release(self, doc_id: str, token: str) -> None:
        if self._releases is not None:
            await self._releases.release(doc_id, token)
        else:
            await self._locks.delete_one({"_id": doc_id, "token": token})

    @contextlib.asynccontextmanager
    async def hold(self, doc_id: str) -> AsyncIterator[None]:
        token = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        pause = 0.002
        while True:
            now = utcnow()
            try:
                await self._take({"_id": doc_id, "token": token, "expires_at": now + self._lease})
                break
            except DuplicateKeyError:
                holder = await self._locks.find_one({"_id": doc_id})
                if holder is not None and holder["expires_at"] < now:
                    await self._locks.delete_one({"_id": doc_id, "token": holder["token"]})
                    continue
            if loop.time() > deadline:
                raise LockTimeout(doc_id)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
        try:
            yield
        finally:
            await self._release(doc_id, token)

    @property
    def lease_s(self) -> float:
        """How long a lock holds before another writer may take it over."""
        return self._lease.total_seconds()

    def window(self, at_once: int) -> LeaseWindow:
        """For work on many documents under locks about to be taken (`hold_free`): made before
        they are, it closes no later than a third of their lease. See LeaseWindow."""
        return LeaseWindow(self.lease_s, at_once)

    @contextlib.asynccontextmanager
    async def hold_free(self, doc_ids: Iterable[str]) -> AsyncIterator[set[str]]:
        """Take, in one round trip, the locks of those of `doc_ids` that nobody holds; yields
        the ids taken (the others are left to the caller, e.g. for `hold`, which waits and
        takes over an expired lease). Released together, in one round trip."""
        token = uuid.uuid4().hex
        wanted = list(dict.fromkeys(doc_ids))
        expires_at = utcnow() + self._lease
        held = set(wanted)
        if wanted:
            try:
                await self._locks.insert_many(
                    [{"_id": i, "token": token, "expires_at": expires_at} for i in wanted],
                    ordered=False,
                )
            except BulkWriteError as exc:
                for error in exc.details.get("writeErrors", []):
                    held.discard(wanted[int(error["index"])])
                    if error.get("code") != DUPLICATE_KEY:
                        await self._release_all(token)
                        raise
            except BaseException:
                await self._release_all(token)
                raise
        try:
            yield held
        finally:
            if held:
                await self._locks.delete_many({"_id": {"$in": sorted(held)}, "token": token})

    async def _release_all(self, token: str) -> None:
        """Best effort, after a failed batch: what of it was taken (the lease ends it anyway)."""
        with contextlib.suppress(PyMongoError):
            await self._locks.delete_many({"token": token})


class LeaseWindow:
    """Work done under locks taken together: `at_once` calls side by side at most (FerretDB v1
    stalls when as many findAndModify run at once as its PostgreSQL pool has connections),
    and a write started only within the first third of the locks' lease, never under a lock
    another writer may already have taken over. What is out of time is the caller's to do
    later."""

    def __init__(self, lease_s: float, at_once: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._third = lease_s / 3
        self._slots = asyncio.Semaphore(at_once)
        self._until = 0.0
        self.renew()

    def renew(self) -> None:
        """Another lock was taken (`hold`): the window counts from now."""
        self._until = self._loop.time() + self._third

    @property
    def open(self) -> bool:
        return self._loop.time() < self._until

    async def side_by_side(self, call: Awaitable[T]) -> T:
        """The call in one of the slots (a read: no time limit)."""
        async with self._slots:
            return await call

    async def in_time(self, write: Callable[[], Awaitable[object]]) -> bool:
        """The write in one of the slots, if the window is still open once a slot is free;
        whether it ran."""
        async with self._slots:
            if not self.open:
                return False
            await write()
            return True


class _ReleaseBatcher(GroupCommit[tuple[str, str]]):
    """Group commit of lock releases: while one `delete_many` is on its way, the releases
    that arrive wait and go together in the next (each only its own token's lock)."""

    def __init__(self, collection: AsyncCollection[Document], *, max_batch: int = 100) -> None:
        super().__init__(max_batch=max_batch, in_flight=1)
        self._locks = collection

    async def release(self, doc_id: str, token: str) -> None:
        await self.submit((doc_id, token))

    async def _write(self, items: list[tuple[str, str]]) -> dict[int, Exception]:
        if len(items) == 1:
            query: Document = {"_id": items[0][0], "token": items[0][1]}
        else:
            query = {"$or": [{"_id": doc_id, "token": token} for doc_id, token in items]}
        await self._locks.delete_many(query)
        return {}
