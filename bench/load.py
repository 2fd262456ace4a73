"""A small HTTP/1.1 load client for the benchmarks: keep-alive connections on loopback only.

Written on raw asyncio streams so that the client costs little next to the server it measures
(an HTTP library would spend more CPU per request than the servers do). It understands only
what the services answer: a status line, headers and a Content-Length body.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
# Builds the bytes of request number i.
RequestFactory = Callable[[int], bytes]


def post_json(
    path: str, body: Callable[[int], bytes], *, forwarded_for: bool = False
) -> RequestFactory:
    """POST requests with a JSON body; with `forwarded_for`, each from another client address
    (as a trusted proxy would say in X-Forwarded-For; the addresses are loopback ones)."""

    def build(i: int) -> bytes:
        payload = body(i)
        extra = ""
        if forwarded_for:
            extra = f"X-Forwarded-For: {client_address(i)}\r\n"
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {LOOPBACK}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{extra}\r\n"
        )
        return head.encode() + payload

    return build


def client_address(i: int, spread: int = 4096) -> str:
    """One of `spread` distinct addresses in 127.64.0.0/16 for request i."""
    n = i % spread
    return f"127.64.{n // 256}.{n % 256}"


@dataclass
class Result:
    """What a run saw: status counts and per-request latencies (seconds)."""

    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    def rate(self, status: int | None = None) -> float:
        """Responses per second (only those with `status`, when given)."""
        n = self.count if status is None else self.statuses[status]
        return n / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "seconds": round(self.seconds, 2),
            "responses": self.count,
            "per_second": round(self.rate(), 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": dict(self.errors),
            **percentiles_ms(self.latencies),
        }


def percentiles_ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


class Connection:
    """One keep-alive connection that reconnects after the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            if self._streams is None:
                self._streams = await asyncio.open_connection(LOOPBACK, self.port)
            reader, writer = self._streams
            try:
                writer.write(raw)
                return await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def closed_loop(
    port: int, requests: RequestFactory, *, clients: int, seconds: float, max_requests: int
) -> Result:
    """`clients` connections, each sending its next request as soon as the last answered,
    until `seconds` have passed or `max_requests` were sent."""
    result = Result()
    counter: Iterator[int] = itertools.count()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def client() -> None:
        conn = Connection(port)
        try:
            while loop.time() < deadline:
                i = next(counter)
                if i >= max_requests:
                    return
                started = time.perf_counter()
                try:
                    status, _ = await conn.request(requests(i))
                except (OSError, asyncio.IncompleteReadError) as exc:
                    result.errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


async def open_loop(
    port: int,
    requests: RequestFactory,
    *,
    per_second: float,
    seconds: float,
    on_answer: Callable[[int, float, int, bytes], None],
) -> Result:
    """Requests started at a fixed rate whatever the answers' speed (as citizens arrive);
    `on_answer(i, started_at, status, body)` sees each answer (started_at: perf_counter)."""
    result = Result()
    idle: list[Connection] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int) -> None:
        conn = idle.pop() if idle else Connection(port)
        started = time.perf_counter()
        try:
            status, body = await conn.request(requests(i))
        except (OSError, asyncio.IncompleteReadError) as exc:
            result.errors[type(exc).__name__] += 1
            await conn.close()
            return
        result.latencies.append(time.perf_counter() - started)
        result.statuses[status] += 1
        on_answer(i, started, status, body)
        idle.append(conn)

    total = int(per_second * seconds)
    begin = time.perf_counter()
    for i in range(total):
        delay = begin + i / per_second - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - begin
    for conn in idle:
        await conn.close()
    return result
