"""The configuration reference in docs/operations.md, generated from the settings classes.

`python -m devstack.config_reference` rewrites the part of docs/operations.md between its
markers (`--check` only says whether it is current; tests/unit/test_operations_docs.py fails
when it is not). Descriptions are the comments written above (or beside) each field.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import json
import re
import sys
import typing
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from devstack.tools import ROOT
from services.intake.settings import IntakeSettings
from services.notify.settings import NotifySettings
from services.routing.settings import RoutingSettings
from shared.settings import SHARED_FIELDS, ServiceSettings

DOC = ROOT / "docs" / "operations.md"
START = "<!-- config-reference:start (generated: python -m devstack.config_reference) -->"
END = "<!-- config-reference:end -->"
SERVICES: tuple[tuple[str, type[ServiceSettings]], ...] = (
    ("intake", IntakeSettings),
    ("routing", RoutingSettings),
    ("notify", NotifySettings),
)
_FIELD = re.compile(r"^\s+(\w+)\s*:")


@cache
def _comments(cls: type) -> dict[str, str]:
    """Field name -> the comment lines above it (or the comment on its line), in `cls`."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        match = _FIELD.match(line)
        if match is None or line.strip().startswith("#"):
            continue
        above: list[str] = []
        j = i - 1
        while j >= 0 and lines[j].strip().startswith("#"):
            above.insert(0, lines[j].strip().lstrip("#").strip())
            j -= 1
        beside = line.split("  # ", 1)[1].strip() if "  # " in line else ""
        text = " ".join([*above, beside]).strip()
        if text and not text.startswith("noqa"):
            found[match.group(1)] = text
    return found


def _description(owner: type[BaseModel], name: str, info: FieldInfo) -> str:
    if info.description:
        return info.description
    for cls in owner.__mro__:
        if name in getattr(cls, "__annotations__", {}):
            text = _comments(cls).get(name)
            if text:
                return text
    return ""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + " (optional)"
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(str(m.value) for m in annotation)
    if annotation is SecretStr:
        return "secret"
    return getattr(annotation, "__name__", str(annotation))


def _default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, Path):
        return str(value.relative_to(ROOT)) if value.is_relative_to(ROOT) else str(value)
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if "\\|" not in text else text


def _rows(prefix: str, model: type[BaseModel], *, shared: bool) -> list[str]:
    rows: list[str] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        default = info.get_default(call_default_factory=True)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(_rows(f"{prefix}{name.upper()}__", annotation, shared=False))
            continue
        env = f"{prefix}{name.upper()}"
        description = _description(model, name, info)
        if shared and name in SHARED_FIELDS:
            description = f"{description} Also read unprefixed as `{name.upper()}`.".strip()
        rows.append(
            f"| `{env}` | {_cell(_type_name(annotation))} | {_cell(_default(default))} "
            f"| {_cell(description)} |"
        )
    return rows


def reference() -> str:
    """The generated Markdown, markers included."""
    parts = [START, ""]
    for service, cls in SERVICES:
        prefix = str(cls.model_config.get("env_prefix", ""))
        parts += [
            f"#### {service} (`{prefix}*`)",
            "",
            "| Variable | Type | Default | Meaning |",
            "|---|---|---|---|",
            *_rows(prefix, cls, shared=True),
            "",
        ]
    parts.append(END)
    return "\n".join(parts)


def updated(text: str) -> str:
    """`text` with the part between the markers replaced by the current reference."""
    start, end = text.index(START), text.index(END) + len(END)
    return text[:start] + reference() + text[end:]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.config_reference")
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    ns = parser.parse_args()
    text = DOC.read_text()
    fresh = updated(text)
    if ns.check:
        if fresh != text:
            print(
                "docs/operations.md: the configuration reference is out of date;", file=sys.stderr
            )
            print("run `python -m devstack.config_reference`", file=sys.stderr)
            return 1
        return 0
    if fresh != text:
        DOC.write_text(fresh)
        print("docs/operations.md: configuration reference updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
