"""What the server-rendered pages share at the HTTP level: hardening headers, static files, CSRF,
gzip. The pages themselves (language, templates, words) are shared/pages/.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.types import Scope

from shared.errors import AppError

GZIP_MIN_BYTES = 1024


def security_headers(content_security_policy: str) -> dict[str, str]:
    """Headers for every page and asset: no framing, no sniffing, no Referer (reply tokens)."""
    return {
        "Content-Security-Policy": content_security_policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


class HardenedStaticFiles(StaticFiles):
    """Static assets with the pages' headers, cached for a week (their URLs carry a hash)."""

    def __init__(self, *, directory: Path, headers: Mapping[str, str]) -> None:
        super().__init__(directory=directory)
        self._headers = dict(headers)

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(self._headers)
        response.headers["Cache-Control"] = "public, max-age=604800"
        return response


class StaticUrls:
    """`static("app.css")` → `/static/app.css?v=<content hash>`, for long caching."""

    def __init__(self, directory: Path, prefix: str) -> None:
        self._directory = directory
        self._prefix = prefix.rstrip("/")
        self._version = functools.cache(self._hash)

    def _hash(self, name: str) -> str:
        return hashlib.sha256((self._directory / name).read_bytes()).hexdigest()[:10]

    def __call__(self, name: str) -> str:
        return f"{self._prefix}/{name}?v={self._version(name)}"


class Csrf:
    """A signed double submit: `nonce.HMAC(secret, purpose:nonce)` in a cookie and the form."""

    def __init__(self, purpose: str) -> None:
        self._purpose = purpose

    def _sign(self, secret: str, nonce: str) -> str:
        mac = hmac.new(secret.encode(), f"{self._purpose}:{nonce}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")

    def new(self, secret: str) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(secret, nonce)}"

    def valid(self, secret: str, token: str | None) -> bool:
        if not token or token.count(".") != 1:
            return False
        nonce, signature = token.split(".")
        expected = self._sign(secret, nonce)
        return bool(nonce) and hmac.compare_digest(signature.encode(), expected.encode())


def html_response(
    html: str, request: Request, *, status_code: int = 200, headers: Mapping[str, str] = {}
) -> HTMLResponse:
    """An HTML page, gzipped when it is worth it and the browser accepts it (slow lines)."""
    body = html.encode()
    out = {**headers, "Vary": "Accept-Encoding"}
    if len(body) > GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", "").lower():
        body = gzip.compress(body, compresslevel=6)
        out["Content-Encoding"] = "gzip"
    return HTMLResponse(body, status_code=status_code, headers=out)


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """A schema's errors in FastAPI's `detail` shape, without the input (it may be personal)."""
    return [dict(e) for e in exc.errors(include_url=False, include_input=False)]


def app_error_details(exc: AppError) -> list[dict[str, Any]]:
    """The field errors an AppError carries (InvalidField), else none."""
    return list(exc.detail) if isinstance(exc.detail, list) else []
