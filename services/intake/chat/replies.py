"""What the chat says: reply texts from `data/replies.json`, per channel. Pure.

A step of the conversation gives replies by key with their values; `Replies.render` joins them
into the one message that answers a citizen's message. SMS texts are plain and fit one
160-character segment with typical values: the value a reply names in `shrink` is shortened
when they would not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DATA = Path(__file__).parent / "data" / "replies.json"
SMS_SEGMENT = 160
MIN_SHRUNK = 12
# Extension characters of the GSM 03.38 alphabet take two septets.
_GSM_EXTENDED = set("^{}\\[~]|€")
# A value a citizen wrote cannot turn a reply into bold, italics or strike-through.
_WHATSAPP_MARKS = str.maketrans({"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"})


def sms_length(text: str) -> int:
    """Septets the text takes in GSM 7-bit (extension characters count twice)."""
    return sum(2 if c in _GSM_EXTENDED else 1 for c in text)


@dataclass(frozen=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True)
class Reply:
    """One thing to say: a key of replies.json and the values it names."""

    key: str
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[Button, ...] = ()


class Replies:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._replies: Mapping[str, Mapping[str, Any]] = data["replies"]
        self._data = data

    def names(self) -> list[str]:
        return sorted(self._replies)

    def word(self, name: str) -> str:
        value: str = self._data[name]
        return value

    def status(self, status: str) -> str:
        return str(self._data["status"].get(status, status))

    def identity(self, anonymous: bool, channel: str) -> str:
        key = ("anonymous" if anonymous else "named") + ("_sms" if channel == "sms" else "")
        return str(self._data["identity"][key])

    def date(self, at: datetime, tz: ZoneInfo) -> str:
        local = at.astimezone(tz)
        return f"{local.day} {self._data['months'][local.month - 1]} {local.year}"

    def one(self, reply: Reply, channel: str) -> Rendered:
        entry = self._replies[reply.key]
        template: str = entry[channel]
        params = {k: str(v) for k, v in reply.params.items()}
        if channel == "whatsapp":
            params = {k: v.translate(_WHATSAPP_MARKS) for k, v in params.items()}
        text = template.format(**params)
        shrink = entry.get("shrink")
        if channel == "sms" and shrink in params and sms_length(text) > SMS_SEGMENT:
            over = sms_length(text) - SMS_SEGMENT
            value = params[shrink]
            keep = max(MIN_SHRUNK, len(value) - over - 2)
            params[shrink] = value[:keep].rstrip() + ".."
            text = template.format(**params)
        buttons = tuple(Button(b["id"], b["title"]) for b in entry.get("buttons", ()))
        return Rendered(text, buttons if channel == "whatsapp" else ())

    def render(self, replies: Sequence[Reply], channel: str) -> Rendered:
        """The one message answering a step: its replies in order, the last one's buttons."""
        parts = [self.one(r, channel) for r in replies]
        separator = "\n\n" if channel == "whatsapp" else " "
        text = separator.join(p.text for p in parts)
        return Rendered(text, parts[-1].buttons if parts else ())


@cache
def packaged_replies() -> Replies:
    return Replies(json.loads(DATA.read_text(encoding="utf-8")))
