"""Outbound channels behind one interface. The skeleton has the logging channel."""

from __future__ import annotations

import logging
from typing import Protocol

from services.notify.domain import mask

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str

    async def send(self, *, delivery_key: str, address: str, subject: str, body: str) -> None:
        """Deliver one message or raise; `delivery_key` lets the receiver drop a repeat."""


class LogChannel:
    """Writes a line per message to the log (addresses masked): for development."""

    name = "log"

    async def send(self, *, delivery_key: str, address: str, subject: str, body: str) -> None:
        log.info("message %s to %s: %s", delivery_key, mask(address), subject)
