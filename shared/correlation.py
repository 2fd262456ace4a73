"""The correlation id that follows one complaint: born with the HTTP request, kept on the ticket
and in each outbox entry, sent as a Kafka header, and a field of every log line written while
the request or the event is handled (`shared.logging`)."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Correlation-ID"
KAFKA_HEADER = "correlation_id"
SPAN_ATTRIBUTE = "pengaduan.correlation_id"  # on every span while an id is current
# A caller's id is taken only when it looks like one (no log injection, bounded size).
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def _trace_id() -> str | None:
    """The request's trace id (32 hex digits, like a new id) when it is traced: then the
    correlation id and the trace are one (shared/tracing.py)."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def current() -> str | None:
    """The correlation id of the request or event being handled, if any."""
    return _current.get()


def current_or_new() -> str:
    """The current id, or a new one (work that no request started, such as a chat message)."""
    return _current.get() or new_correlation_id()


@contextlib.contextmanager
def bound(correlation_id: str | None) -> Iterator[None]:
    """Make `correlation_id` the current one inside the block."""
    token = _current.set(correlation_id)
    try:
        yield
    finally:
        _current.reset(token)


def accepted(value: str | None) -> str | None:
    """A caller's X-Correlation-ID when it is well-formed, else None."""
    if value is not None and _VALID.match(value):
        return value
    return None


class CorrelationMiddleware:
    """Give every HTTP request a correlation id (the caller's, when well-formed, else a new
    one), make it current while the request is handled and answer it in `X-Correlation-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.lower().encode())
        correlation_id = accepted(given.decode("latin-1") if given else None)
        correlation_id = correlation_id or _trace_id() or new_correlation_id()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((HEADER.lower().encode(), correlation_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        trace.get_current_span().set_attribute(SPAN_ATTRIBUTE, correlation_id)  # the request's
        with bound(correlation_id):
            await self.app(scope, receive, sending)
