"""One error hierarchy, mapped to HTTP in one place; no response ever carries a traceback."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError

from shared.lifecycle.repository import ChangedMeanwhile
from shared.locks import LockTimeout

log = logging.getLogger(__name__)


class AppError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(
        self,
        detail: Any,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        if headers is not None:
            self.headers = headers


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class InvalidField(AppError):
    """A 422 in FastAPI's validation shape, for rules a schema alone cannot check."""

    status_code = 422

    def __init__(self, loc: tuple[str | int, ...], msg: str, type_: str = "value_error") -> None:
        super().__init__([{"loc": list(loc), "msg": msg, "type": type_}])


class PayloadTooLarge(AppError):
    status_code = 413


class UnsupportedMediaType(AppError):
    status_code = 415


class TooManyRequests(AppError):
    status_code = 429


class ServiceUnavailable(AppError):
    status_code = 503


DATABASE_UNAVAILABLE = (
    "Basis data sedang tidak dapat dihubungi; silakan coba lagi. (Database unavailable.)"
)
BUSY = "Laporan ini sedang diubah; coba lagi sebentar. (The ticket is busy; try again shortly.)"
CHANGING = "Laporan sedang diubah; coba lagi. (The ticket is changing; try again.)"


@contextlib.contextmanager
def conflict_when_changing() -> Iterator[None]:
    """A change that lost every race to write it (the lifecycle's `apply`) is 409."""
    try:
        yield
    except ChangedMeanwhile as exc:
        raise Conflict(CHANGING) from exc


def install_error_handlers(app: FastAPI) -> None:
    """Map the hierarchy, database outages and anything unexpected to JSON errors."""

    async def app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        body = jsonable_encoder({"detail": exc.detail, **exc.extra})
        return JSONResponse(body, exc.status_code, headers=exc.headers)

    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        return JSONResponse({"detail": DATABASE_UNAVAILABLE}, 503, headers={"Retry-After": "5"})

    async def lock_timeout(request: Request, exc: Exception) -> JSONResponse:
        log.warning("lock wait timed out on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": BUSY}, 503, headers={"Retry-After": "2"})

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        """A database timeout (an operation, a write concern) is 503; anything else a bug."""
        assert isinstance(exc, PyMongoError)
        if exc.timeout:
            return await database_down(request, exc)
        return await unexpected(request, exc)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "Terjadi kesalahan internal. (Internal server error.)"}, 500)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(ServerSelectionTimeoutError, database_down)
    app.add_exception_handler(ConnectionFailure, database_down)
    app.add_exception_handler(LockTimeout, lock_timeout)
    app.add_exception_handler(PyMongoError, database_error)
    app.add_exception_handler(Exception, unexpected)
