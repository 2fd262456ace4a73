"""Form posts into values, and validation errors into messages beside their form fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.datastructures import FormData

from shared.pages.i18n import Translator


def form_text(form: FormData, name: str, limit: int | None = None) -> str:
    """A text field, trimmed (and cut to `limit`); empty when missing or a file."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return text if limit is None else text[:limit]


def error_field(loc: Sequence[str | int], default: str) -> str:
    """The field a `loc` names: its last name (FastAPI's leading `body` is not a field)."""
    names = [part for part in loc if isinstance(part, str)]
    if len(names) > 1 and names[0] in ("body", "query"):
        names = names[1:]
    return names[-1] if names else default


def form_errors(
    t: Translator,
    errors: Sequence[Mapping[str, Any]],
    *,
    default: str,
    prefix: str = "",
    rename: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """FastAPI-shaped error details as {form field: message}, the first message per field.

    A field's key is `prefix` + its name, or what `rename` maps the name to (the form field
    that shows it); `default` names the field of an error without a `loc`.
    """
    found: dict[str, str] = {}
    for error in errors:
        name = error_field(error.get("loc", ()), default)
        key = prefix + (rename or {}).get(name, name)
        if key not in found:
            found[key] = t.field_error(
                name, str(error.get("type", "")), error.get("ctx") or {}, str(error.get("msg", ""))
            )
    return found
