"""End to end: slow clients against intake run as in production (`python -m services.intake`,
uvicorn with the guarded httptools protocol), over loopback sockets.

Each scenario runs slow clients while a prompt client keeps asking for the categories, and
asserts that the prompt client is answered every time, quickly, and that the server closes the
slow connections within the configured bound: seen by the client (an answer, EOF or a reset)
and by the server (its count of open sockets, from /proc, back to where it was).
The bounds are set short here (HEADER_S, BODY_S, WRITE_S); production's defaults are in
shared/slow_clients.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Infra, running_services
from tests.e2e.conftest import FIGURES

pytestmark = pytest.mark.e2e

HEADER_S = 2.0
BODY_S = 3.0
WRITE_S = 3.0
KEEP_ALIVE_S = 2.0
MIN_RATE = 1000  # bytes per second that extend the body's deadline by a second
# How much later than its bound a slow connection may be closed (timers, a loaded machine).
SLACK_S = 3.0
# The prompt client: answered every time, and this fast at worst (2 shared cores).
PROMPT_MAX_S = 3.0
PROMPT_MEDIAN_S = 0.5


@dataclass
class Intake:
    url: str
    host: str
    port: int
    pid: int
    log: Path


@pytest.fixture(scope="module")
def intake(infra: Infra) -> Iterator[Intake]:
    with running_services(
        infra,
        "slow",
        "intake",
        INTAKE_HTTP__HEADER_TIMEOUT_SECONDS=str(HEADER_S),
        INTAKE_HTTP__BODY_TIMEOUT_SECONDS=str(BODY_S),
        INTAKE_HTTP__WRITE_TIMEOUT_SECONDS=str(WRITE_S),
        INTAKE_HTTP__KEEP_ALIVE_SECONDS=str(KEEP_ALIVE_S),
        INTAKE_HTTP__MAX_HEADER_BYTES="16384",
        INTAKE_HTTP__BODY_MIN_RATE_BYTES=str(MIN_RATE),
        INTAKE_RATE_LIMIT_PER_MINUTE="100000",
    ) as stack:
        pid = stack.pid("intake")
        assert pid is not None
        port = stack.ports.intake
        yield Intake(
            f"http://127.0.0.1:{port}", "127.0.0.1", port, pid, stack.log_dir / "intake.log"
        )


def open_sockets(pid: int) -> int:
    """The process's open sockets (its listener and connections, Kafka's and MongoDB's too)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
    return count


@dataclass
class Prompt:
    """What the prompt client saw."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self, scenario: str) -> str:
        assert not self.failures, (scenario, self.failures[:5])
        assert self.latencies, scenario
        worst, median = max(self.latencies), statistics.median(self.latencies)
        assert worst < PROMPT_MAX_S, (scenario, worst)
        assert median < PROMPT_MEDIAN_S, (scenario, median)
        return (
            f"{len(self.latencies)} prompt requests answered, median {median * 1000:.0f} ms, "
            f"max {worst * 1000:.0f} ms"
        )


@contextlib.asynccontextmanager
async def prompt_client(intake: Intake) -> AsyncIterator[Prompt]:
    """A client asking for the categories every 0.2 s (one kept-alive connection, a new one
    when that is closed) until the block ends."""
    seen = Prompt()
    stop = asyncio.Event()

    async def ask() -> None:
        async with httpx.AsyncClient(base_url=intake.url, timeout=10) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    response = await client.get("/api/v1/categories")
                except httpx.HTTPError as exc:
                    seen.failures.append(repr(exc))
                else:
                    if response.status_code == 200 and response.json():
                        seen.latencies.append(time.monotonic() - started)
                    else:
                        seen.failures.append(f"status {response.status_code}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.2)

    task = asyncio.create_task(ask())
    try:
        yield seen
    finally:
        stop.set()
        await task


async def connect(
    intake: Intake, *, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection; with `receive_buffer`, both the socket's and the stream's buffers are that
    small, so that what the client does not read stays with the server."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (intake.host, intake.port))
    limit = receive_buffer // 2 if receive_buffer else 1024 * 1024  # reading pauses at 2 x limit
    return await asyncio.open_connection(sock=sock, limit=limit)


@dataclass
class Closed:
    """How a slow connection ended, seen by its client."""

    after_s: float
    answer: bytes  # the start of what the server sent before closing (empty: nothing)
    received: int  # bytes in all
    reset: bool = False


async def until_closed(
    reader: asyncio.StreamReader, started: float, *, timeout_s: float, read_pause_s: float = 0.0
) -> Closed:
    """Read until EOF or a reset, at most `timeout_s` (then the server did not close it)."""
    answer = b""
    received = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                chunk = await reader.read(1024 if read_pause_s else 65536)
                if not chunk:
                    return Closed(time.monotonic() - started, answer, received)
                received += len(chunk)
                if len(answer) < 4096:
                    answer += chunk
                if read_pause_s:
                    await asyncio.sleep(read_pause_s)
    except (ConnectionResetError, BrokenPipeError):
        return Closed(time.monotonic() - started, answer, received, reset=True)
    except TimeoutError:
        raise AssertionError(f"not closed by the server within {timeout_s}s") from None


async def drip(writer: asyncio.StreamWriter, data: bytes, *, every_s: float) -> None:
    """Send `data` a byte at a time until it is sent or the server closed the connection."""
    with contextlib.suppress(ConnectionError, OSError):
        for i in range(len(data)):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(every_s)


def status_of(answer: bytes) -> int:
    line = answer.split(b"\r\n", 1)[0].split()
    assert len(line) >= 2 and line[0] == b"HTTP/1.1", answer[:200]
    return int(line[1])


def detail_of(answer: bytes) -> Any:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"]


async def server_settles(intake: Intake, baseline: int, *, timeout_s: float) -> float:
    """Seconds until the service holds no more sockets than before the slow clients came."""
    started = time.monotonic()
    while open_sockets(intake.pid) > baseline + 2:  # the prompt client's, and a reconnect
        if time.monotonic() - started > timeout_s:
            raise AssertionError(
                f"intake still holds {open_sockets(intake.pid)} sockets (before: {baseline})"
            )
        await asyncio.sleep(0.2)
    return time.monotonic() - started


def figure(line: str, request: pytest.FixtureRequest) -> None:
    request.config.stash.setdefault(FIGURES, []).append(f"[slow clients] {line}")


async def scenario(
    intake: Intake,
    slow: Callable[[], Awaitable[list[Closed]]],
    *,
    bound_s: float,
    name: str,
    allowance_s: float = SLACK_S,
) -> tuple[list[Closed], str]:
    baseline = open_sockets(intake.pid)
    async with prompt_client(intake) as prompt:
        closed = await slow()
        settled = await server_settles(intake, baseline, timeout_s=SLACK_S)
    for one in closed:
        assert one.after_s <= bound_s + allowance_s, (name, one.after_s)
    worst = max(one.after_s for one in closed)
    summary = (
        f"{name}: {len(closed)} connections closed by the server after at most {worst:.1f} s "
        f"(bound {bound_s:.0f} s), sockets back to normal {settled:.1f} s later; "
        f"{prompt.check(name)}"
    )
    return closed, summary


def test_headers_sent_byte_by_byte_are_cut_off_with_408(
    intake: Intake, request: pytest.FixtureRequest
) -> None:
    """Slowloris: a request line and headers a byte every 0.3 s never complete in time."""
    head = (
        b"POST /api/v1/complaints HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    )

    async def slow() -> list[Closed]:
        async def one() -> Closed:
            started = time.monotonic()
            reader, writer = await connect(intake)
            dripping = asyncio.create_task(drip(writer, head, every_s=0.3))
            try:
                return await until_closed(reader, started, timeout_s=HEADER_S + 2 * SLACK_S)
            finally:
                dripping.cancel()
                writer.close()

        return list(await asyncio.gather(*(one() for _ in range(50))))

    closed, summary = asyncio.run(scenario(intake, slow, bound_s=HEADER_S, name="slowloris"))
    for one in closed:
        assert status_of(one.answer) == 408
        assert "tepat waktu" in detail_of(one.answer)
        assert one.after_s >= HEADER_S - 0.2  # the bound, not something sooner
    figure(summary, request)


def test_oversized_headers_are_431(intake: Intake) -> None:
    """17 KiB of headers, past the 16 KiB cap, sent at once (so that the server has read them
    all when it closes: unread bytes would turn its close into a reset that hides the 431)."""

    async def run() -> Closed:
        started = time.monotonic()
        reader, writer = await connect(intake)
        headers = b"".join(b"X-Big-%d: %s\r\n" % (i, b"b" * 1000) for i in range(17))
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers)
        await writer.drain()
        closed = await until_closed(reader, started, timeout_s=SLACK_S)
        writer.close()
        return closed

    closed = asyncio.run(run())
    assert status_of(closed.answer) == 431
    assert "terlalu besar" in detail_of(closed.answer)


def test_a_body_sent_slowly_is_cut_off_with_408(
    intake: Intake, request: pytest.FixtureRequest
) -> None:
    """A complaint's JSON body and a photo upload's multipart body, a byte every 0.3 s."""
    json_head = (
        b"POST /api/v1/complaints HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    boundary = b"slowboundary"
    photo_head = (
        b"POST /api/v1/complaints/LP-AAAA-AAAA/photos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"X-Reply-Token: x\r\nContent-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )
    photo_body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"'
        b"\r\nContent-Type: image/jpeg\r\n\r\n" + b"\xff" * 1000
    )

    async def slow() -> list[Closed]:
        async def one(head: bytes, body: bytes) -> Closed:
            started = time.monotonic()
            reader, writer = await connect(intake)
            writer.write(head)
            await writer.drain()
            dripping = asyncio.create_task(drip(writer, body, every_s=0.3))
            try:
                return await until_closed(reader, started, timeout_s=BODY_S + 2 * SLACK_S)
            finally:
                dripping.cancel()
                writer.close()

        complaint_body = b'{"description": "' + b"x" * 980
        return list(
            await asyncio.gather(
                *(one(json_head, complaint_body) for _ in range(20)),
                *(one(photo_head, photo_body) for _ in range(20)),
            )
        )

    closed, summary = asyncio.run(scenario(intake, slow, bound_s=BODY_S, name="slow body"))
    for one in closed:
        assert status_of(one.answer) == 408, one.answer[:300]
        assert "tepat waktu" in detail_of(one.answer)
        assert b"connection: close" in one.answer.lower()
    figure(summary, request)


def test_a_large_body_at_a_fair_rate_gets_through(intake: Intake) -> None:
    """4 KB at about 1.1 KB/s takes longer than BODY_S, but each 1000 bytes received extend
    the deadline by a second: the complaint is taken (a trickle is not: above)."""
    body = json.dumps({"description": "Jalan berlubang di depan sekolah. " + "x" * 3950}).encode()
    head = (
        b"POST /api/v1/complaints HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )

    async def run() -> tuple[float, bytes]:
        started = time.monotonic()
        reader, writer = await connect(intake)
        writer.write(head)
        for i in range(0, len(body), 400):
            await asyncio.sleep(0.35)
            writer.write(body[i : i + 400])
            await writer.drain()
        sent_s = time.monotonic() - started
        async with asyncio.timeout(10):
            answer = await reader.readuntil(b"\r\n\r\n")
        writer.close()
        return sent_s, answer

    sent_s, answer = asyncio.run(run())
    assert sent_s > BODY_S
    assert status_of(answer) == 201, answer


def test_a_body_the_app_does_not_read_does_not_keep_the_connection(intake: Intake) -> None:
    """A GET with a body trickling in: answered at once, the rest read within the body's
    deadline, then closed (each byte of it would otherwise postpone the keep-alive timeout
    for ever)."""

    async def run() -> Closed:
        started = time.monotonic()
        reader, writer = await connect(intake)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        dripping = asyncio.create_task(drip(writer, b"z" * 1000, every_s=0.2))
        try:
            return await until_closed(reader, started, timeout_s=BODY_S + 2 * SLACK_S)
        finally:
            dripping.cancel()
            writer.close()

    closed = asyncio.run(run())
    assert status_of(closed.answer) == 200
    assert BODY_S - 0.5 <= closed.after_s <= BODY_S + SLACK_S


def test_an_oversized_body_gets_its_413_and_then_the_connection_closes(intake: Intake) -> None:
    """Refused on its Content-Length before it is read: the client, still sending, gets the
    413 (not a reset), and the connection closes once the body is in."""

    async def run() -> Closed:
        started = time.monotonic()
        reader, writer = await connect(intake)
        body = b'{"description": "' + b"y" * 200_000 + b'"}'
        writer.write(
            b"POST /api/v1/complaints HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        writer.write(body)
        await writer.drain()
        closed = await until_closed(reader, started, timeout_s=SLACK_S)
        writer.close()
        return closed

    closed = asyncio.run(run())
    assert status_of(closed.answer) == 413
    assert not closed.reset and closed.after_s < SLACK_S


def test_many_idle_connections_are_closed_and_others_served(
    intake: Intake, request: pytest.FixtureRequest
) -> None:
    """500 connections that send nothing: closed silently after the header deadline."""

    async def slow() -> list[Closed]:
        async def one() -> Closed:
            started = time.monotonic()
            reader, writer = await connect(intake)
            try:
                return await until_closed(reader, started, timeout_s=HEADER_S + 2 * SLACK_S)
            finally:
                writer.close()

        return list(await asyncio.gather(*(one() for _ in range(500))))

    closed, summary = asyncio.run(scenario(intake, slow, bound_s=HEADER_S, name="idle connections"))
    for one in closed:
        assert one.answer == b""
        assert one.after_s >= HEADER_S - 0.2
    figure(summary, request)


def test_a_client_that_does_not_read_its_answers_is_dropped(
    intake: Intake, request: pytest.FixtureRequest
) -> None:
    """Pipelined requests for the OpenAPI document (tens of MB of answers) on connections
    with a 4 KiB receive buffer: two reading nothing, two reading 1 KiB every 0.1 s. The
    server's buffer fills and stays full; past the write deadline the server resets the
    connection, long before the answers could have been read. A client that reads nothing
    sees the reset as its socket's error, without reading."""
    size = len(httpx.get(f"{intake.url}/openapi.json", timeout=10).content)
    pipelined = 300
    requests = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * pipelined

    async def reset_seen(writer: asyncio.StreamWriter, started: float) -> Closed:
        sock = writer.get_extra_info("socket")
        async with asyncio.timeout(WRITE_S + 2 * SLACK_S):
            while not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # (a socket option: there is no event to wait on)
        return Closed(time.monotonic() - started, b"", 0, reset=True)

    async def slow() -> list[Closed]:
        async def one(read_pause_s: float) -> Closed:
            started = time.monotonic()
            reader, writer = await connect(intake, receive_buffer=4096)
            writer.write(requests)
            await writer.drain()
            try:
                if read_pause_s == 0:
                    return await reset_seen(writer, started)
                return await until_closed(
                    reader, started, timeout_s=WRITE_S + 2 * SLACK_S, read_pause_s=read_pause_s
                )
            finally:
                writer.close()

        return list(await asyncio.gather(*(one(pause) for pause in (0.0, 0.1, 0.0, 0.1))))

    # The readers see the reset only once they have read what their own buffers (about 12 KiB)
    # still held, at 10 KiB/s.
    closed, summary = asyncio.run(
        scenario(intake, slow, bound_s=WRITE_S, name="slow readers", allowance_s=SLACK_S + 2)
    )
    for one in closed:
        assert one.received < size * pipelined / 2, one
        assert one.after_s >= WRITE_S - 0.2
    silent = max(one.after_s for one in closed if one.received == 0)
    figure(
        f"{summary} (answers {size * pipelined / 1e6:.0f} MB per connection; those reading "
        f"nothing saw the reset after {silent:.1f} s)",
        request,
    )


def test_the_slow_clients_left_no_error_in_the_log(intake: Intake) -> None:
    """Every slow client above was handled without an error or a traceback (uvicorn alone
    logged one for each pipelined answer written after a disconnect)."""
    lines = intake.log.read_text().splitlines()
    levels = Counter(json.loads(line).get("level") for line in lines if line.startswith("{"))
    assert levels["info"] > 0
    assert levels["error"] == 0 and levels["critical"] == 0, levels
