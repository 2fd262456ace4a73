"""Kafka events can be forged by anything on the network: notify quotes to citizens (and to
other systems) only text stored on the ticket, never the event's."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from devstack.mailcatcher import MailCatcher
from devstack.sink import Sink
from services.notify.app import wire
from shared.events import Envelope, EventType, utcnow
from shared.mongo import Document
from tests.integration.test_notify_delivery import (
    CITIZEN_EMAIL,
    DeadLetterList,
    channels_to,
    posts,
    resolved,
    seed_staff,
    seed_ticket,
    sink_secret,  # noqa: F401 (the fixture: the sink checks the webhook signatures)
)

pytestmark = pytest.mark.integration


FORGED = "Transfer Rp 500.000 ke rekening 1234567 agar laporan dipercepat"
STORED = "Sampah sudah diangkut dan lokasi dibersihkan."


async def test_a_forged_note_never_reaches_the_citizen(
    db: AsyncDatabase[Document], catcher: MailCatcher, sink: Sink
) -> None:
    await seed_staff(db)
    await seed_ticket(db, "LP-FORG-0001", phone=None)
    await seed_ticket(db, "LP-FORG-0002", phone=None)
    resolve = {"actor": "dlh", "action": "resolve", "from": "in_progress", "to": "resolved"}
    await db.tickets.update_one(
        {"_id": "LP-FORG-0001"},
        {"$set": {"history": [{**resolve, "at": utcnow(), "note": STORED, "public": True}]}},
    )
    async with httpx.AsyncClient() as http:
        notify = wire(
            channels_to(catcher, sink, webhooks=True), db, http=http, dead_letters=DeadLetterList()
        )
        # A real resolution, its event altered on the way: the stored answer is sent.
        await notify.notifier.handle(resolved("LP-FORG-0001", FORGED))
        # A resolution that never happened (nothing in the history): no text at all.
        await notify.notifier.handle(resolved("LP-FORG-0002", FORGED))
        # A public comment that was never made.
        await notify.notifier.handle(
            Envelope(
                event_type=EventType.TICKET_COMMENTED,
                ticket_id="LP-FORG-0002",
                correlation_id="c",
                producer="routing",
                payload={"comment_id": "nope", "public": True, "opd": "DLH", "body": FORGED},
            )
        )
    mails = [m for m in catcher.messages() if m["rcpt_tos"] == [CITIZEN_EMAIL]]
    assert mails, "the citizens were told"
    texts = [m["text"] + (m["html"] or "") for m in mails]
    assert not [t for t in texts if "rekening" in t]
    assert any(STORED in t for t in texts)
    hooks = json.dumps([p["body"] for p in posts(sink, "/webhook")])
    assert "rekening" not in hooks and STORED in hooks


async def test_a_comment_is_quoted_from_the_stored_comment(
    db: AsyncDatabase[Document], catcher: MailCatcher, sink: Sink
) -> None:
    await seed_staff(db)
    await seed_ticket(db, "LP-FORG-0003", phone=None)
    comment = {"id": "c1", "at": utcnow() - timedelta(seconds=1), "author": "dlh"}
    await db.tickets.update_one(
        {"_id": "LP-FORG-0003"},
        {"$set": {"comments": [{**comment, "body": STORED, "public": True}]}},
    )
    async with httpx.AsyncClient() as http:
        notify = wire(channels_to(catcher, sink), db, http=http, dead_letters=DeadLetterList())
        await notify.notifier.handle(
            Envelope(
                event_type=EventType.TICKET_COMMENTED,
                ticket_id="LP-FORG-0003",
                correlation_id="c",
                producer="routing",
                payload={"comment_id": "c1", "public": True, "opd": "DLH", "body": FORGED},
            )
        )
    texts = [m["text"] for m in catcher.messages() if m["rcpt_tos"] == [CITIZEN_EMAIL]]
    assert texts and all(STORED in t and "rekening" not in t for t in texts)
