"""Pure notify rules: who hears of which event, delivery keys, masking of contacts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.catalogue import LUAR_KEWENANGAN, TRIASE
from shared.events import Envelope, EventType


@dataclass(frozen=True)
class Recipient:
    """An address on a channel; `kind` says whose it is (citizen, opd, admin)."""

    kind: str
    address: str
    channel: str


ADMIN_QUEUE = Recipient(kind="admin", address=f"opd:{TRIASE}", channel="log")


def recipients_for(envelope: Envelope, *, citizen_email: str | None) -> list[Recipient]:
    """Skeleton rules: the citizen hears of receipt and routing, the OPD or admin of new work."""
    found: list[Recipient] = []
    if envelope.event_type == EventType.TICKET_SUBMITTED:
        if citizen_email:
            found.append(Recipient(kind="citizen", address=citizen_email, channel="log"))
    elif envelope.event_type in (EventType.TICKET_ROUTED, EventType.TICKET_TRIAGED):
        opd = envelope.payload.get("opd")
        if envelope.event_type == EventType.TICKET_ROUTED and opd not in (
            None,
            TRIASE,
            LUAR_KEWENANGAN,
        ):
            found.append(Recipient(kind="opd", address=f"opd:{opd}", channel="log"))
        else:
            found.append(ADMIN_QUEUE)
        if citizen_email:
            found.append(Recipient(kind="citizen", address=citizen_email, channel="log"))
    return found


def delivery_key(envelope: Envelope, recipient: Recipient) -> str:
    """The unique key of one message: (event, recipient, channel)."""
    return f"{envelope.event_id}:{recipient.channel}:{recipient.address}"


def mask(address: str) -> str:
    """`a***@example.com`, `+62812****789`; group addresses (`opd:…`) are not personal."""
    if address.startswith("opd:"):
        return address
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = re.sub(r"[^0-9+]", "", address)
    if len(digits) > 7:
        return f"{digits[:6]}{'*' * (len(digits) - 9)}{digits[-3:]}"
    return "***"
