"""Keep a background loop alive: log and restart it if it fails unexpectedly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

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


async def stop(*tasks: asyncio.Task[object], timeout_s: float = 10.0) -> None:
    """Cancel background tasks and wait for them, but not for ever: a shutdown must finish even
    when a client library hangs in its own stop (a consumer leaving its group, say)."""
    for task in tasks:
        task.cancel()
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        log.warning(
            "background task %s did not stop in %.0fs; left behind", task.get_name(), timeout_s
        )
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("background task %s ended with %r", task.get_name(), task.exception())
