"""Open311's XML: the same data as its JSON, rendered the way the spec's examples show.

The JSON follows the spec's Spark convention: a list is the content of a container element whose
items are named in the singular (`services`/`service`, `attributes`/`attribute`). This renders that
data back: one element per field, `true`/`false` for booleans, an empty element for null, text
escaped, and characters XML 1.0 cannot carry dropped.
"""

from __future__ import annotations

import re
from typing import TypeAlias

Value: TypeAlias = "bool | int | float | str | list[Value] | dict[str, Value] | None"

DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
# The element each list container holds, as the spec names them.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters outside XML 1.0's Char production (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def escape_text(text: str) -> str:
    """Text content: markup characters escaped, CR kept as a reference, invalid characters gone."""
    return re.sub(r"[&<>\r]", lambda m: _ESCAPES[m.group()], _NOT_XML.sub("", text))


def _scalar(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape_text(str(value))


def _element(name: str, value: Value, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    if value is None or value == [] or value == {}:
        out.append(f"{pad}<{name}/>\n")
        return
    if isinstance(value, list):
        item = ITEM_NAMES.get(name, "item")
        out.append(f"{pad}<{name}>\n")
        for entry in value:
            _element(item, entry, depth + 1, out)
        out.append(f"{pad}</{name}>\n")
        return
    if isinstance(value, dict):
        out.append(f"{pad}<{name}>\n")
        for key, entry in value.items():
            _element(key, entry, depth + 1, out)
        out.append(f"{pad}</{name}>\n")
        return
    out.append(f"{pad}<{name}>{_scalar(value)}</{name}>\n")


def render(root: str, data: Value) -> str:
    """The document: the declaration, then `root` holding `data` (a list or an object)."""
    out = [DECLARATION, "\n"]
    _element(root, data, 0, out)
    return "".join(out)
