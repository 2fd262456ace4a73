"""Notify against the real database and a real gateway sink while the database refuses the
write of a send's outcome for longer than the lease: the message is posted once, not again
by the retry loop (the cause of "after a database kill, one webhook was posted twice")."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect

from devstack.sink import Sink
from services.notify.channels import build_channels
from services.notify.dispatch import Dispatcher, retry_policy
from services.notify.repository import DeliveryRepository
from services.notify.settings import NotifySettings
from shared.events import utcnow
from shared.mongo import Document

pytestmark = pytest.mark.integration

LEASE_S = 1.0
OUTAGE_S = 4.5  # longer than the lease, and than the 3.6 s the outcome write used to wait


class OutcomesRefused(DeliveryRepository):
    """The real repository, whose outcome writes fail as a killed database's would while
    `outage_until` lies ahead; reads and claims reach the database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self.outage_until = 0.0
        self.refused = 0

    async def finish(self, key: str, *, lease_id: str, fields: Document) -> bool:
        if time.monotonic() < self.outage_until:
            self.refused += 1
            raise AutoReconnect("127.0.0.1:27017: [Errno 111] Connection refused")
        return await super().finish(key, lease_id=lease_id, fields=fields)


class NoDeadLetters:
    async def publish(self, record: Document) -> None:
        raise AssertionError(f"nothing should be dead: {record['_id']}")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def settings_for(sink: Sink) -> NotifySettings:
    fast = {"timeout_seconds": 0.5, "rate_per_second": 1000, "burst": 100}
    return NotifySettings(
        email={"transport": "off"},
        whatsapp={"transport": "http", "url": f"{sink.url}/whatsapp", **fast},
        sms={"transport": "off"},
        retry={
            "max_attempts": 3,
            "base_seconds": 0.05,
            "max_seconds": 0.2,
            "lease_seconds": LEASE_S,
            "poll_seconds": 0.05,
        },
    )


def pending_record(key: str, lease_id: str) -> Document:
    now = utcnow()
    return {
        "_id": key,
        "event_id": key.split(":")[0],
        "event_type": "ticket.submitted",
        "tracking_code": "LP-OUTG-0001",
        "template": "citizen_received",
        "recipient_kind": "citizen",
        "recipient_key": "citizen",
        "recipient": "+628123450000",
        "channel": "whatsapp",
        "status": "pending",
        "attempts": 1,
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": now,
        "lease_id": lease_id,
        "lease_until": now + timedelta(seconds=LEASE_S),
        "message": {"subject": "", "text": "Pengaduan Anda diterima", "html": None},
    }


async def test_an_outcome_the_database_refuses_for_longer_than_the_lease_is_not_resent(
    db: AsyncDatabase[Document], sink: Sink, http: httpx.AsyncClient
) -> None:
    deliveries = OutcomesRefused(db)
    await deliveries.ensure_indexes()
    settings = settings_for(sink)
    dispatcher = Dispatcher(
        deliveries=deliveries,
        channels=build_channels(settings, http),
        policy=retry_policy(settings),
        dead_letters=NoDeadLetters(),
    )
    key = f"{uuid.uuid4().hex}:whatsapp:citizen"
    lease_id, _ = dispatcher.lease(utcnow())
    record, created = await deliveries.claim(pending_record(key, lease_id))
    assert created

    retrying = asyncio.create_task(dispatcher.run())  # the retry loops, as in the service
    try:
        deliveries.outage_until = time.monotonic() + OUTAGE_S
        status = await dispatcher.first_attempt(record)  # sent, then waits for the database
        assert status.value == "sent"
        assert deliveries.refused >= 5  # the outcome was refused for the whole outage
        await asyncio.sleep(LEASE_S + 1.0)  # the retry loop had every chance to resend
    finally:
        retrying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await retrying

    stored = await deliveries.get(key)
    assert stored is not None
    assert (stored["status"], stored["attempts"]) == ("sent", 1)
    posts = [m for m in sink.messages() if m["key"] == key]
    assert len(posts) == 1, posts
