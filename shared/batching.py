"""Group commit: concurrent calls share one round trip (`GroupCommit`); of inserts, one
`insert_many` (`InsertBatcher`); shared/locks.py releases locks the same way.

Under load most of a single insert's cost is per command, not per document: the driver's
encoding and socket round trip in this process, and FerretDB's command handling and
PostgreSQL's transaction (docs/benchmarks.md). So while one batch is on its way, the inserts
that arrive wait for the next and go together (`ordered=False`: one refused document does not
hold up the others). Nothing waits for a timer: with nothing in flight an insert goes at once,
so a lone request costs what `insert_one` costs.

Each caller learns its own document's outcome, exactly as from `insert_one`: it returns once
the server acknowledged that document, raises `DuplicateKeyError` when its `_id` (or another
unique key) exists, `WriteError` for another refusal, and whatever the driver raised for the
whole batch (a connection failure, a timeout) when the batch as a whole failed.
"""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

from shared.mongo import Document

DUPLICATE_KEY = 11000

Item = TypeVar("Item")


class GroupCommit(Generic[Item]):
    """Concurrent calls share one round trip: while one batch is on its way (or `in_flight`
    of them), the items that arrive wait and go together in the next. Each caller learns its
    own item's outcome: `_write` returns, per index in the batch, the error an item got (none
    for success), and an error of the whole batch reaches every caller in it."""

    def __init__(self, *, max_batch: int = 100, in_flight: int = 1) -> None:
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._waiting: list[tuple[Item, asyncio.Future[None]]] = []
        self._flushing = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> None:
        """Send `item` in a batch with whatever else waits; return once it is written."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flushing < self._in_flight:
            self._flushing += 1
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: a caller that gives up must not cancel the batch the others wait for.
        await asyncio.shield(future)

    async def _write(self, items: list[Item]) -> dict[int, Exception]:
        raise NotImplementedError

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._send(batch)
        finally:
            self._flushing -= 1

    async def _send(self, batch: list[tuple[Item, asyncio.Future[None]]]) -> None:
        try:
            errors = await self._write([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - handed to each caller, who sees it raised
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (shutting down): so are the callers' waits
            for _, future in batch:
                future.cancel()
            raise
        for i, (_, future) in enumerate(batch):
            if future.done():
                continue
            if i in errors:
                future.set_exception(errors[i])
            else:
                future.set_result(None)

    @property
    def waiting(self) -> int:
        """Items queued for the next batch."""
        return len(self._waiting)


class InsertBatcher(GroupCommit[Document]):
    def __init__(
        self, collection: AsyncCollection[Document], *, max_batch: int = 100, in_flight: int = 2
    ) -> None:
        super().__init__(max_batch=max_batch, in_flight=in_flight)
        self.collection = collection

    async def insert(self, doc: Document) -> None:
        """Insert `doc` (with its `_id`), in a batch with whatever else waits."""
        await self.submit(doc)

    async def _write(self, items: list[Document]) -> dict[int, Exception]:
        try:
            await self.collection.insert_many(items, ordered=False)
        except BulkWriteError as exc:
            errors = _write_errors(exc)
            # only a write concern error: it concerns every document
            return errors or dict.fromkeys(range(len(items)), exc)
        return {}


def _write_errors(exc: BulkWriteError) -> dict[int, Exception]:
    """Per document index, the error `insert_one` would have raised for it."""
    found: dict[int, Exception] = {}
    for error in exc.details.get("writeErrors", []):
        index, code, message = int(error["index"]), error.get("code"), str(error.get("errmsg"))
        details: dict[str, Any] = dict(error)
        if code == DUPLICATE_KEY:
            found[index] = DuplicateKeyError(message, code, details)
        else:
            found[index] = WriteError(message, code, details)
    return found
