"""Open311's errors: the spec's `code`/`description` list under one HTTP status, and the spec's
names of the fields a validation error points at. Pure; api.py translates other failures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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
