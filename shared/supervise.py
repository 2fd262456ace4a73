"""Keep a background loop alive: log and restart it if it fails unexpectedly; stop loops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)


async def keep_running(
    name: str, loop: Callable[[], Awaitable[None]], *, pause_s: float = 1.0
) -> None:
    while True:
        try:
            await loop()
            return
        except Exception:
            log.exception("background loop %s failed; restarting", name)
            await asyncio.sleep(pause_s)


async def stop(
    tasks: Iterable[asyncio.Task[Any]], *, retry_s: float = 1.0, timeout_s: float = 15.0
) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again while one still runs,
    but not for ever: a shutdown must finish even when a library hangs in its own stop.

    A cancellation that lands inside an awaited operation can come out of it as that
    operation's own error (a timeout, a driver's error), which a loop that retries failures
    then swallows: seen with the outbox relay, whose shutdown then waited forever.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pending = set(tasks)
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=retry_s)
    for task in pending:
        log.warning("background task %s did not stop in %.0fs", task.get_name(), timeout_s)
