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
