"""Open311's errors: the spec's `code`/`description` list, and every failure translated to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pymongo.errors import ConnectionFailure

from shared.errors import DATABASE_UNAVAILABLE, AppError


class Open311Error(Exception):
    """An answer in the spec's error shape: one or more descriptions under one HTTP status."""

    def __init__(
        self, status: int, *descriptions: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions
        self.headers = headers


# Where ComplaintIn's fields come from in the spec's form, to name them in errors.
FORM_FIELDS: dict[tuple[str | int, ...], str] = {
    ("category",): "service_code",
    ("location", "lat"): "lat",
    ("location", "lon"): "long",
    ("location", "address"): "address_string",
    ("location", "kecamatan"): "attribute[kecamatan]",
    ("location", "desa"): "attribute[desa]",
    ("reporter", "name"): "first_name/last_name",
    ("reporter", "email"): "email",
    ("reporter", "phone"): "phone",
    ("anonymous",): "attribute[anonymous]",
    ("confidential",): "attribute[confidential]",
}
_LOC_SOURCES = {"body", "query", "path", "header"}


def form_field(loc: Sequence[str | int]) -> str:
    """The spec's name for a field a validation error points at."""
    parts = tuple(p for p in loc if p not in _LOC_SOURCES)
    return FORM_FIELDS.get(parts, ".".join(str(p) for p in parts))


def describe_errors(errors: Sequence[Any]) -> list[str]:
    """pydantic's/FastAPI's error entries (`loc`, `msg`) as `field: message` lines."""
    return [f"{form_field(e['loc'])}: {e['msg']}" for e in errors]


Failure = Open311Error | RequestValidationError | AppError | ConnectionFailure


def open311_error(exc: Failure) -> Open311Error:
    """A failure of a call as the spec's error: its status, and each problem described."""
    if isinstance(exc, Open311Error):
        return exc
    if isinstance(exc, RequestValidationError):
        errors = list(exc.errors())
        if any(tuple(e["loc"]) == ("path", "format") for e in errors):
            return Open311Error(
                404, "Format tidak dikenal; pakai .json atau .xml. (Use .json or .xml.)"
            )
        return Open311Error(400, *describe_errors(errors))
    if isinstance(exc, AppError):
        if isinstance(exc.detail, list):  # InvalidField: a 422 elsewhere, the spec's 400 here
            return Open311Error(400, *describe_errors(exc.detail))
        status = 400 if exc.status_code == 422 else exc.status_code
        return Open311Error(status, str(exc.detail), headers=exc.headers)
    return Open311Error(503, DATABASE_UNAVAILABLE, headers={"Retry-After": "5"})
