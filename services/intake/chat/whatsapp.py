"""The WhatsApp Business Cloud API's webhook format: the signature, and its payloads read into
the conversation's messages and delivery statuses. Pure.

A POST carries `entry[].changes[].value` with `contacts[]` (the sender's profile name and
wa_id), `messages[]` (text, image, location, interactive, ...) and/or `statuses[]` (sent,
delivered, read, failed for what we sent). Reactions and system notices are dropped: they ask
for no answer.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.intake.chat.dialogue import Kind, Message

SIGNATURE_PREFIX = "sha256="
IGNORED_TYPES = frozenset({"reaction", "system", "ephemeral", "request_welcome"})


def signature_valid(header: str | None, body: bytes, app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix(SIGNATURE_PREFIX).strip().lower(), expected)


def sign(body: bytes, app_secret: str) -> str:
    """The header value the platform would send (tests and the dev sink's simulator)."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Text(_In):
    body: str = ""


class _Media(_In):
    id: str
    mime_type: str | None = None
    caption: str | None = None


class _Location(_In):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class _Reply(_In):
    id: str
    title: str = ""
    description: str | None = None


class _Interactive(_In):
    type: str
    button_reply: _Reply | None = None
    list_reply: _Reply | None = None


class _Button(_In):  # a template's quick-reply button
    payload: str | None = None
    text: str = ""


class _Message(_In):
    id: str
    from_: str = Field(alias="from")
    timestamp: str
    type: str
    text: _Text | None = None
    image: _Media | None = None
    location: _Location | None = None
    interactive: _Interactive | None = None
    button: _Button | None = None


class _Profile(_In):
    name: str | None = None


class _Contact(_In):
    wa_id: str
    profile: _Profile | None = None


class _Error(_In):
    code: int | None = None
    title: str | None = None


class _Status(_In):
    id: str
    status: str
    timestamp: str
    biz_opaque_callback_data: str | None = None
    errors: list[_Error] = Field(default_factory=list)


class _Value(_In):
    contacts: list[_Contact] = Field(default_factory=list)
    messages: list[_Message] = Field(default_factory=list)
    statuses: list[_Status] = Field(default_factory=list)


class _Change(_In):
    field: str = "messages"
    value: _Value


class _Entry(_In):
    changes: list[_Change] = Field(default_factory=list)


class WebhookIn(_In):
    """What the platform posts (only the parts this service reads)."""

    object: str = "whatsapp_business_account"
    entry: list[_Entry] = Field(default_factory=list)


@dataclass(frozen=True)
class Inbound:
    """A message and who sent it: the wa_id (digits with country code) and profile name."""

    sender: str
    name: str | None
    message: Message


@dataclass(frozen=True)
class StatusUpdate:
    """What became of a message we sent; `delivery_key` is notify's key (callback data)."""

    message_id: str
    status: str
    at: datetime
    delivery_key: str | None
    error_code: int | None


def _at(timestamp: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _message(raw: _Message) -> Message | None:
    at = _at(raw.timestamp)
    if raw.type in IGNORED_TYPES:
        return None
    if raw.type == "text" and raw.text is not None:
        return Message(id=raw.id, at=at, kind=Kind.TEXT, text=raw.text.body)
    if raw.type == "image" and raw.image is not None:
        caption = raw.image.caption or ""
        return Message(id=raw.id, at=at, kind=Kind.IMAGE, text=caption, media_id=raw.image.id)
    if raw.type == "location" and raw.location is not None:
        loc = raw.location
        place = ", ".join(p for p in (loc.name, loc.address) if p) or None
        return Message(
            id=raw.id,
            at=at,
            kind=Kind.LOCATION,
            lat=loc.latitude,
            lon=loc.longitude,
            place=place,
        )
    if raw.type == "interactive" and raw.interactive is not None:
        picked = raw.interactive.button_reply or raw.interactive.list_reply
        if picked is not None:
            return Message(
                id=raw.id, at=at, kind=Kind.INTERACTIVE, text=picked.title, choice=picked.id
            )
    if raw.type == "button" and raw.button is not None:
        return Message(
            id=raw.id,
            at=at,
            kind=Kind.INTERACTIVE,
            text=raw.button.text,
            choice=raw.button.payload,
        )
    return Message(id=raw.id, at=at, kind=Kind.OTHER)


def read(payload: WebhookIn) -> tuple[list[Inbound], list[StatusUpdate]]:
    """The messages (in the order posted) and status updates of one webhook call."""
    inbound: list[Inbound] = []
    statuses: list[StatusUpdate] = []
    for entry in payload.entry:
        for change in entry.changes:
            if change.field != "messages":
                continue
            value = change.value
            names = {c.wa_id: c.profile.name if c.profile else None for c in value.contacts}
            for raw in value.messages:
                message = _message(raw)
                if message is not None:
                    inbound.append(Inbound(raw.from_, names.get(raw.from_), message))
            for status in value.statuses:
                statuses.append(
                    StatusUpdate(
                        message_id=status.id,
                        status=status.status,
                        at=_at(status.timestamp),
                        delivery_key=status.biz_opaque_callback_data,
                        error_code=status.errors[0].code if status.errors else None,
                    )
                )
    return inbound, statuses


def envelope(*, sender: str, name: str | None, message: dict[str, Any]) -> dict[str, Any]:
    """A webhook payload around one message as the platform sends it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "0",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "0", "phone_number_id": "0"},
                            "contacts": [{"profile": {"name": name or ""}, "wa_id": sender}],
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }
