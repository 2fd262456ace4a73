"""Bounds on slow HTTP clients: how long a connection may take to send its request and to read
its response, so that a few slow (or malicious) clients cannot hold the server's connections,
tasks and memory (docs/reliability.md, "Slow clients").

uvicorn bounds only the idle time of a kept-alive connection. The rest is added here:
- `GuardedHttpToolsProtocol`, uvicorn's httptools protocol with a deadline for the request line
  and headers (from the connection's opening, or from the first byte of the next request on a
  kept-alive one), a cap on their size, a deadline for a response the client does not read
  (the transport's write buffer stays over its high-water mark), and no keep-alive for a
  connection answered before its request body was all sent (the rest is read and dropped
  within the body's deadline);
- `BodyDeadline`, an ASGI middleware that answers 408 (and closes the connection) when the app
  waits for a request body longer than its deadline: counted from the request's headers and
  extended by what arrives at a minimum rate (as Apache's mod_reqtimeout does).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

log = logging.getLogger(__name__)


class HttpServerSettings(BaseModel):
    """How long a client may take over a request and its response; env e.g.
    INTAKE_HTTP__HEADER_TIMEOUT_SECONDS."""

    # Time to send a request's line and headers, counted from the connection's opening (or from
    # the first byte of the next request on a kept-alive connection); then the connection is
    # closed, with a 408 when part of a request had come.
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    # The most bytes of a request's line and headers (roughly: counted per read); more is 431
    # and the connection is closed.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024, le=1024 * 1024)
    # Time to send a request's body, counted from the end of its headers, and extended by a
    # second for every `body_min_rate_bytes` that arrive (so a large upload at a fair rate
    # always gets through, a trickle never); past it, 408 and the connection is closed.
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # The slowest upload rate, in bytes per second, that keeps extending the body's deadline
    # (32 KiB/s: the web form's 16 MB of photos in about 9 minutes at worst).
    body_min_rate_bytes: int = Field(default=32 * 1024, ge=1)
    # A response the client does not read for this long (the server's send buffer stays full)
    # is dropped and the connection closed.
    write_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # An idle kept-alive connection is closed after this long (uvicorn's timeout_keep_alive).
    keep_alive_seconds: float = Field(default=5.0, gt=0, le=600)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines and the header cap of `limits`."""

    limits: ClassVar[HttpServerSettings] = HttpServerSettings()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._write_deadline: asyncio.TimerHandle | None = None
        self._reading_headers = True  # the next bytes belong to a request's line and headers
        self._header_bytes = 0
        self._running: RequestResponseCycle | None = None  # the request being answered
        self._draining: asyncio.TimerHandle | None = None  # reading what is left of a body

    # -- request line and headers ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        if self._reading_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if (
            self._reading_headers
            and self._header_bytes > self.limits.max_header_bytes
            and not self.transport.is_closing()
        ):
            self._refuse(
                431,
                "Kepala permintaan terlalu besar. (Request header fields too large.)",
            )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._header_bytes = 0
        self._cancel_header_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_headers = True
        self._drained()  # the rest of a body answered early has come: now close

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.limits.header_timeout_seconds, self._headers_too_slow
            )

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request is slow behind one still being answered: finish that one,
            # then close.
            self.cycle.keep_alive = False
            self.flow.pause_reading()
            return
        if self._header_bytes:
            self._refuse(
                408,
                "Permintaan tidak diterima tepat waktu. (Request headers not received in time.)",
            )
        else:
            self.transport.close()  # opened and silent: nothing to answer

    def _refuse(self, status: int, message: str) -> None:
        body = json.dumps({"detail": message}).encode()
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: application/json\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()

    # -- the response -------------------------------------------------------------------------
    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_deadline is None:
            self._write_deadline = self.loop.call_later(
                self.limits.write_timeout_seconds, self._not_read
            )

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel_write_deadline()

    def _cancel_write_deadline(self) -> None:
        if self._write_deadline is not None:
            self._write_deadline.cancel()
            self._write_deadline = None

    def _not_read(self) -> None:
        self._write_deadline = None
        log.info(
            "dropped a response the client did not read for %ss",
            self.limits.write_timeout_seconds,
        )
        # A reset, not a close: close() would wait for the unread buffer to drain, and the
        # kernel would go on offering its own send buffer to the client.
        with contextlib.suppress(OSError, AttributeError):
            self.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        self.transport.abort()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        cycle = self.cycle
        if (
            cycle is not None
            and cycle.response_complete
            and cycle.more_body
            and not self.transport.is_closing()
        ):
            # Answered before its body was all sent (a 413, or an app that did not need it).
            # Closing at once would reset the connection while the client is still sending,
            # and it could lose the answer; keeping it alive would let the rest of the body
            # hold it, each byte postponing the keep-alive timeout. So the rest is read and
            # dropped, within the body's deadline, and then the connection is closed.
            self._draining = self.loop.call_later(
                self.limits.body_timeout_seconds, self.transport.close
            )
        super().on_response_complete()

    def _drained(self) -> None:
        if self._draining is not None:
            self._draining.cancel()
            self._draining = None
            self.transport.close()

    def timeout_keep_alive_handler(self) -> None:
        if self.transport.get_write_buffer_size() > 0 and not self.transport.is_closing():
            # The client is still reading the last response (the write deadline watches a
            # reader that stopped): wait again rather than cut it off.
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
            return
        super().timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        self._cancel_write_deadline()
        if self._draining is not None:
            self._draining.cancel()
        # uvicorn marks only the newest request as disconnected; with pipelined requests the
        # one being answered is an older one, which would then write to the closed transport.
        running = self._running
        if running is not None and not running.response_complete:
            running.disconnected = True
            running.message_event.set()
        super().connection_lost(exc)


def protocol_for(limits: HttpServerSettings) -> type[GuardedHttpToolsProtocol]:
    """The protocol class uvicorn builds per connection, bound to these limits."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


class BodyDeadline:
    """408 for a request whose body does not arrive within `timeout_s` of its headers, plus a
    second for every `min_rate` bytes received.

    The app waiting in `receive` is told the client disconnected (so it stops, whatever it
    was parsing), its own answer is dropped, and a 408 with `Connection: close` goes instead.
    """

    def __init__(self, app: ASGIApp, *, timeout_s: float, min_rate: int) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        body_done = False
        timed_out = False
        response_started = False

        async def receive_in_time() -> Message:
            nonlocal body_done, timed_out, deadline
            if timed_out:
                return {"type": "http.disconnect"}
            if body_done:
                return await receive()  # waiting for a disconnect: no deadline
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            else:
                deadline += len(message.get("body", b"")) / self.min_rate
            return message

        async def send_unless_timed_out(message: Message) -> None:
            nonlocal response_started
            if timed_out:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_unless_timed_out)
        except Exception:
            if not timed_out:
                raise
        if timed_out and not response_started:
            log.info("refused a request whose body took over %ss", self.timeout_s)
            detail = (
                "Isi permintaan tidak diterima tepat waktu. (Request body not received in time.)"
            )
            body = json.dumps({"detail": detail}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 408,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
