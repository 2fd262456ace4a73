"""Keep a background loop alive: log and restart it if it fails unexpectedly; stop loops.

A loop that retries failures must still end when it is cancelled. A driver can turn the
`CancelledError` that lands inside one of its operations into an error of its own (PyMongo's
`AutoReconnect("operation cancelled")`, a timeout), and a loop that catches that error to retry
would swallow the request to stop and run on. Such a loop asks `raise_if_stopping()` in its
handler: the task's own count of cancellation requests survives the lost exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)


def stopping() -> bool:
    """Whether the running task has been asked to stop (cancelled), even if the
    `CancelledError` never reached its code."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raise_if_stopping() -> None:
    """End a retrying loop that was cancelled while an operation turned the cancellation into
    the error it is handling."""
    if stopping():
        raise asyncio.CancelledError


async def keep_running(
    name: str, loop: Callable[[], Awaitable[None]], *, pause_s: float = 1.0
) -> None:
    while True:
        try:
            await loop()
            return
        except Exception:
            raise_if_stopping()
            log.exception("background loop %s failed; restarting", name)
            await asyncio.sleep(pause_s)


async def gather_all(work: Iterable[Awaitable[object]]) -> None:
    """Await all, side by side; once every one has finished, raise the first failure (so that
    none is left running when the caller goes on)."""
    results = await asyncio.gather(*work, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def run_together(*loops: Coroutine[Any, Any, None]) -> None:
    """Run the loops side by side until all end. When one fails or the runner is cancelled,
    cancel the others and wait until every one has ended, passing each further cancellation
    on (as `stop` does), then raise what ended them.

    Not `asyncio.gather` alone: a cancelled gather returns as soon as one child ends, and a
    child still running is left behind, owned by nobody, after its service closed its clients.
    Nor a TaskGroup: it passes on only the first cancellation, so a child that lost that one
    runs on and the group waits for ever.
    """
    tasks = [asyncio.create_task(loop) for loop in loops]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # A cancelled gather has cancelled each child already. Cancelling one twice in a row
        # breaks Python 3.11's `asyncio.wait_for`, which then returns before the operation it
        # wraps has ended: PyMongo's server selection left its topology lock held that way.
        for task in tasks:
            if not task.cancelling():
                task.cancel()
        while not all(task.done() for task in tasks):
            try:
                await asyncio.wait(tasks)
            except asyncio.CancelledError:
                for task in tasks:
                    task.cancel()
        raise


async def stop(
    tasks: Iterable[asyncio.Task[Any]], *, retry_s: float = 1.0, timeout_s: float = 15.0
) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again while one still runs,
    but not for ever: a shutdown must finish even when a library hangs in its own stop.
    A task still running at the end is logged with where it waits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pending = set(tasks)
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=retry_s)
    for task in pending:
        log.warning(
            "background task %s did not stop in %.0fs; it waits in %s",
            task.get_name(),
            timeout_s,
            " > ".join(waiting_in(task)) or "(unknown)",
        )


def waiting_in(task: asyncio.Task[Any]) -> list[str]:
    """The chain of coroutines the task is suspended in, outermost first (`name:line`)."""
    chain: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(chain) < 40:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            chain.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return chain
