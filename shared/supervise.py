"""Keep a background loop alive: log and restart it if it fails unexpectedly; stop loops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

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


async def stop(tasks: Iterable[asyncio.Task[None]], *, retry_s: float = 1.0) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again while one still runs.

    A cancellation that lands inside an awaited operation can come out of it as that
    operation's own error (a timeout, a driver's error), which a loop that retries failures
    then swallows: seen with the outbox relay, whose shutdown then waited forever.
    """
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=retry_s)
