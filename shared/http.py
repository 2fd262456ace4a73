"""Pieces every service's app has: health, readiness, metrics, body limit, JSON-only bodies."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shared import metrics, tracing
from shared.auth import TokenCodec
from shared.correlation import CorrelationMiddleware
from shared.errors import UnsupportedMediaType, install_error_handlers
from shared.logging import configure_logging
from shared.settings import ServiceSettings
from shared.slow_clients import BodyDeadline, protocol_for

# name -> "ok" | "degraded" | "down"; any "down" makes the service not ready.
ReadinessProbe = Callable[[Request], Awaitable[dict[str, str]]]
# False when the process should be restarted (e.g. its start-up has been stuck too long).
LivenessProbe = Callable[[Request], bool]


# Text no store can keep: NUL (PostgreSQL's JSONB, behind FerretDB, refuses it) and lone UTF-16
# surrogates (not encodable as UTF-8), escaped in JSON (an odd number of backslashes before
# `u`) or percent-encoded in forms, queries and paths.
_JSON_UNSTORABLE = re.compile(
    rb"(?<!\\)(?:\\\\)*(?:\\u0000"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)
_ENCODED_UNSTORABLE = re.compile(rb"\x00|%00|%[eE][dD]%[aAbB][0-9a-fA-F]")
_CHECKED_BODIES = (b"application/json", b"application/x-www-form-urlencoded")


class UnstorableText:
    """422 for a request whose text holds NUL or a lone surrogate, in its path, query or a
    JSON or form body, before anything parses it: the store would refuse it with a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for where, raw in (
            ("path", scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")),
            ("query", scope.get("query_string", b"")),
        ):
            if _ENCODED_UNSTORABLE.search(raw):
                await self._refuse(scope, send, where)
                return
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        if not content_type.startswith(_CHECKED_BODIES):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        pattern = _JSON_UNSTORABLE if b"json" in content_type else _ENCODED_UNSTORABLE
        if pattern.search(body) or b"\x00" in body:
            await self._refuse(scope, send, "body")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, where: str) -> None:
        detail = [
            {
                "loc": [where],
                "msg": "Teks berisi karakter yang tidak diizinkan (NUL atau surrogate). "
                "(Text holds a character that is not allowed: NUL or a lone surrogate.)",
                "type": "string_unstorable",
            }
        ]
        response = JSONResponse({"detail": detail}, status_code=422)
        await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413 before anything parses them.

    A declared Content-Length is checked at once; a chunked body is read up to the limit and
    then handed on unchanged.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, overrides: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = [(re.compile(pattern), limit) for pattern, limit in overrides]

    def limit_for(self, path: str) -> int:
        """The first matching override (e.g. photo uploads), else the default."""
        return next((limit for rx, limit in self.overrides if rx.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await self._too_large(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._too_large(scope, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        detail = f"Isi permintaan melebihi {limit} byte. (Request body too large.)"
        response = JSONResponse({"detail": detail}, status_code=413)
        await response(scope, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


async def require_json(request: Request) -> None:
    """Dependency for JSON endpoints: any other Content-Type is 415."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            "Content-Type harus application/json. (Content-Type must be application/json.)"
        )


def ops_router(readiness: ReadinessProbe, liveness: LivenessProbe | None = None) -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/healthz", summary="Process is alive")
    async def healthz(request: Request) -> JSONResponse:
        if liveness is not None and not liveness(request):
            return JSONResponse({"status": "stuck"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", summary="Dependencies answer")
    async def readyz(request: Request) -> JSONResponse:
        checks = await readiness(request)
        ready = all(state != "down" for state in checks.values())
        body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestMetrics:
    """Count and time every HTTP request by route template (a plain ASGI middleware: the
    decorator form, BaseHTTPMiddleware, costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_REQUESTS.labels(self.service, scope["method"], template, status).inc()
            metrics.HTTP_LATENCY.labels(self.service, template).observe(
                time.perf_counter() - started
            )


def build_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    lifespan: Lifespan[FastAPI],
    readiness: ReadinessProbe,
    body_limit_overrides: Sequence[tuple[str, int]] = (),
    liveness: LivenessProbe | None = None,
) -> FastAPI:
    """A FastAPI app with what every service has; the caller adds its routers."""
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.token_codec = TokenCodec(
        settings.auth_public_key,
        private=settings.signing_private_key(),
        ttl_seconds=settings.auth_token_ttl_seconds,
    )
    install_error_handlers(app)
    app.add_middleware(UnstorableText)
    app.add_middleware(RequestMetrics, service=settings.service_name)
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, overrides=body_limit_overrides
    )
    # Outside the body's readers (size limit, text check), so that its deadline covers them.
    app.add_middleware(
        BodyDeadline,
        timeout_s=settings.http.body_timeout_seconds,
        min_rate=settings.http.body_min_rate_bytes,
    )
    proxies = settings.trusted_proxies()
    if proxies:
        # Outermost: the client address every limit and throttle sees is the one the trusted
        # proxy vouches for (the nearest untrusted hop of X-Forwarded-For), never a client's.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.include_router(ops_router(readiness, liveness))
    tracing.instrument_app(
        app,
        service=settings.service_name,
        endpoint=settings.tracing_otlp_endpoint,
        sample_ratio=settings.tracing_sample_ratio,
    )
    return app


def server_options(settings: ServiceSettings) -> dict[str, Any]:
    """How uvicorn runs a service (and the benchmark's baselines, so they compare alike).

    uvloop and httptools: the faster event loop and HTTP parser (docs/benchmarks.md), the
    latter bounded against slow clients (`settings.http`, docs/reliability.md). Proxy
    headers are the app's own concern (`build_app`, from FORWARDED_ALLOW_IPS), so uvicorn's
    default of believing 127.0.0.1 is switched off.
    """
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        # httptools, with deadlines for slow clients (shared/slow_clients.py).
        "http": protocol_for(settings.http),
        "timeout_keep_alive": settings.http.keep_alive_seconds,
        "proxy_headers": False,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service in the foreground (the services' __main__)."""
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(app, **server_options(settings))
