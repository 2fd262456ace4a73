"""Routing's supervised start-up: every step retried on any failure, in two branches, so
that neither Kafka nor a failing step can leave a process live but never ready unnoticed.

- The database branch (catalogue, indexes, dev accounts, the router's model) starts what
  needs only the database: the deadline scheduler, housekeeping and retraining. The officer
  console and staff API are ready once it is done, with Kafka down or not.
- The Kafka branch creates the topics, then (once the database branch is done too) starts
  the consumers and the outbox relay. Kafka being down only delays events: they wait in the
  tickets' outboxes, and /readyz reports Kafka as degraded.
- A step that keeps failing past ROUTING_STARTUP_TIMEOUT_S makes /healthz fail as well, so the
  orchestrator restarts the process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from shared.supervise import keep_running, raise_if_stopping, run_together

log = logging.getLogger(__name__)


class Startup:
    """The state of start-up, which /healthz and /readyz read."""

    def __init__(self, *, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._timeout_s = timeout_s
        self._began = clock()
        self.prepared = asyncio.Event()  # the database branch is done
        self.failing: dict[str, str] = {}  # step -> the error type of its last failure

    def alive(self) -> bool:
        """False once start-up has been stuck longer than the timeout."""
        return self.prepared.is_set() or self._clock() - self._began < self._timeout_s

    async def step(
        self, name: str, work: Callable[[], Awaitable[None]], *, max_delay_s: float = 10.0
    ) -> None:
        """Run one step until it succeeds, whatever it raises, with a growing pause."""
        delay = 0.5
        while True:
            raise_if_stopping()  # a call may have swallowed the request to stop
            try:
                await work()
            except Exception as exc:
                raise_if_stopping()
                self.failing[name] = type(exc).__name__
                log.warning(
                    "start-up step %s failed (%s); retrying in %.1fs",
                    name,
                    type(exc).__name__,
                    delay,
                    exc_info=not isinstance(exc, OSError | TimeoutError),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay_s)
            else:
                self.failing.pop(name, None)
                return

    async def run(
        self,
        *,
        database: list[tuple[str, Callable[[], Awaitable[None]]]],
        database_loops: list[tuple[str, Callable[[], Awaitable[None]]]],
        kafka: list[tuple[str, Callable[[], Awaitable[None]]]],
        kafka_loops: list[tuple[str, Callable[[], Awaitable[None]]]],
    ) -> None:
        """Both branches side by side; each loop kept running once its branch is ready."""

        async def database_branch() -> None:
            for name, work in database:
                await self.step(name, work)
            self.prepared.set()
            log.info("start-up: database ready")
            await run_together(*(keep_running(name, loop) for name, loop in database_loops))

        async def kafka_branch() -> None:
            for name, work in kafka:
                await self.step(name, work)
            await self.prepared.wait()
            log.info("start-up: Kafka ready")
            await run_together(*(keep_running(name, loop) for name, loop in kafka_loops))

        await run_together(database_branch(), kafka_branch())
