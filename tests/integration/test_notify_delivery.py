"""Notify against the real database, a real SMTP server and a real HTTP gateway sink: the right
message reaches the right person once; failures are retried, then dead and dead-lettered."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY
from pymongo.asynchronous.database import AsyncDatabase

from devstack.mailcatcher import MailCatcher
from devstack.sink import Sink
from services.notify.app import Notify, wire
from services.notify.channels import message_id
from services.notify.dispatch import KafkaDeadLetters
from services.notify.service import delivery_log
from services.notify.settings import NotifySettings
from services.notify.views import StatusChange
from shared import topics
from shared.events import Envelope, EventType, utcnow
from shared.kafka import KafkaPublisher, ensure_topics
from shared.mongo import Document
from tests.conftest import Infra

pytestmark = pytest.mark.integration

JAKARTA = ZoneInfo("Asia/Jakarta")
SECRET = "rahasia-webhook-untuk-uji-0123"
CITIZEN_EMAIL = "warga@example.com"
CITIZEN_PHONE = "+628123456789"
DUE = "2025-06-02T09:00:00+00:00"


class DeadLetterList:
    def __init__(self) -> None:
        self.published: list[Document] = []

    async def publish(self, record: Document) -> None:
        self.published.append(record)


@pytest.fixture
def sink_secret() -> str:
    """The conftest's `sink` checks the webhook signatures."""
    return SECRET


def channels_to(
    catcher: MailCatcher, sink: Sink, *, webhooks: bool = False, base_seconds: float = 0.05
) -> NotifySettings:
    """Notify's channels aimed at the mail catcher and the sink, fast retries (what the
    dispatcher is wired with here; the database comes with `wire`, not from these)."""
    fast = {"timeout_seconds": 1.0, "rate_per_second": 1000, "burst": 100}
    targets = [{"name": "lapor", "url": f"{sink.url}/webhook", "secret": SECRET}]
    return NotifySettings(
        public_base_url="https://lapor.test",
        console_base_url="https://konsol.test",
        email={"transport": "smtp", "host": "127.0.0.1", "port": catcher.smtp_port, **fast},
        whatsapp={
            "transport": "http",
            "url": f"{sink.url}/whatsapp",
            "auth_value": "Bearer token-uji",
            **fast,
        },
        sms={"transport": "http", "url": f"{sink.url}/sms", **fast},
        webhook={"targets": targets if webhooks else [], **fast},
        retry={
            "max_attempts": 3,
            "base_seconds": base_seconds,
            "max_seconds": 0.2,
            "lease_seconds": 1.5,
            "poll_seconds": 0.1,
        },
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def notify(
    db: AsyncDatabase[Document], catcher: MailCatcher, sink: Sink, http: httpx.AsyncClient
) -> Notify:
    await seed_staff(db)
    parts = wire(channels_to(catcher, sink), db, http=http, dead_letters=DeadLetterList())
    await parts.deliveries.ensure_indexes()
    await parts.digests.ensure_indexes()
    return parts


async def seed_staff(db: AsyncDatabase[Document]) -> None:
    def account(username: str, role: str, opd: str | None, **extra: Any) -> Document:
        return {"_id": username, "role": role, "opd": opd, "active": True, **extra}

    await db.accounts.insert_many(
        [
            account("dlh", "officer", "DLH", email="dlh@serangkab.go.id", whatsapp="+628111000001"),
            account("dlh-2", "officer", "DLH", email="dlh2@serangkab.go.id", notify_mode="digest"),
            account("dlh-cuti", "officer", "DLH", email="cuti@serangkab.go.id", active=False),
            account("dlh-kepala", "supervisor", "DLH", email="kepala@serangkab.go.id", lang="en"),
            account("admin", "admin", None, email="admin@serangkab.go.id"),
        ]
    )


async def seed_ticket(
    db: AsyncDatabase[Document],
    code: str,
    *,
    email: str | None = CITIZEN_EMAIL,
    phone: str | None = CITIZEN_PHONE,
) -> None:
    await db.tickets.insert_one(
        {
            "_id": code,
            "kind": "complaint",
            "title": "Sampah menumpuk <di> pasar & bau",
            "description": "sampah numpuk di pinggir jalan dekat pasar, bau sekali",
            "reporter": {"name": "Warga", "email": email, "phone": phone},
            "confidential": False,
        }
    )


def routed(code: str, opd: str = "DLH") -> Envelope:
    return Envelope(
        event_type=EventType.TICKET_ROUTED,
        ticket_id=code,
        correlation_id="c",
        producer="routing",
        payload={"opd": opd, "status": "routed", "confidence": 0.9, "model": "m", "due_at": DUE},
    )


def resolved(code: str, note: str) -> Envelope:
    """Routing's event of DLH resolving ticket `code` with the public answer `note`."""
    return Envelope(
        event_type=EventType.TICKET_TRANSITIONED,
        ticket_id=code,
        correlation_id="c",
        producer="routing",
        payload={
            "action": "resolve",
            "from_status": "in_progress",
            "to_status": "resolved",
            "opd": "DLH",
            "note": note,
        },
    )


def submitted(code: str) -> Envelope:
    return Envelope(
        event_type=EventType.TICKET_SUBMITTED,
        ticket_id=code,
        correlation_id="c",
        producer="intake",
        payload={"kind": "complaint"},
    )


def posts(sink: Sink, path: str) -> list[dict[str, Any]]:
    return [m for m in sink.messages() if m["path"] == path]


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_routed_ticket_reaches_each_recipient_once_on_each_channel(
    db: AsyncDatabase[Document],
    catcher: MailCatcher,
    sink: Sink,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    await seed_staff(db)
    settings = channels_to(catcher, sink, webhooks=True)
    notify = wire(settings, db, http=http, dead_letters=DeadLetterList())
    await seed_ticket(db, "LP-AAAA-0001")
    event = routed("LP-AAAA-0001")

    assert await notify.notifier.handle(event) == 5  # citizen x2, officer x2, webhook
    mails = {m["rcpt_tos"][0]: m for m in catcher.messages()}
    assert set(mails) == {CITIZEN_EMAIL, "dlh@serangkab.go.id"}  # dlh-2 reads a digest
    citizen = mails[CITIZEN_EMAIL]
    assert citizen["subject"] == "Laporan LP-AAAA-0001 diteruskan ke Dinas Lingkungan Hidup"
    assert "https://lapor.test/lacak?kode=LP-AAAA-0001" in citizen["text"]
    assert "Senin, 2 Juni 2025 pukul 16.00 WIB" in citizen["text"]
    assert citizen["html"] and "https://lapor.test/lacak?kode=LP-AAAA-0001" in citizen["html"]
    assert citizen["message_id"] == message_id(citizen["delivery_key"], "pengaduan.serangkab.go.id")
    officer = mails["dlh@serangkab.go.id"]
    assert "https://konsol.test/konsol/tiket/LP-AAAA-0001" in officer["text"]
    assert "Sampah menumpuk <di> pasar & bau" in officer["text"]
    assert "Sampah menumpuk &lt;di&gt; pasar &amp; bau" in officer["html"]

    whatsapp = posts(sink, "/whatsapp")
    assert sorted(p["body"]["to"] for p in whatsapp) == ["+628111000001", CITIZEN_PHONE]
    assert all(p["headers"]["Authorization"] == "Bearer token-uji" for p in whatsapp)
    assert all(p["key"] == p["body"]["reference"] for p in whatsapp)
    assert all("LP-AAAA-0001" in p["body"]["message"] for p in whatsapp)
    [hook] = posts(sink, "/webhook")
    assert hook["signature_valid"] is True
    assert hook["body"]["event_type"] == "ticket.routed" and hook["body"]["data"]["opd"] == "DLH"
    assert CITIZEN_EMAIL not in json.dumps(hook["body"])
    assert await db.digest_items.count_documents({"username": "dlh-2"}) == 1

    # a replay (rebalance, restart) sends nothing again
    assert await notify.notifier.handle(event) == 0
    assert len(catcher.messages()) == 2 and len(sink.messages()) == 3
    records = await notify.deliveries.for_ticket("LP-AAAA-0001")
    assert len(records) == 5
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in records)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("services."))
    assert "LP-AAAA-0001" in ours  # notify logged its sends...
    assert CITIZEN_EMAIL not in ours and CITIZEN_PHONE not in ours  # ...with contacts masked


async def test_gateway_answering_500_then_200_delivers_one_message_after_retry(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    await seed_ticket(db, "LP-AAAA-0002", email=None)
    sink.configure(fail_next=1, fail_status=500)

    assert await notify.notifier.handle(submitted("LP-AAAA-0002")) == 0
    [record] = await notify.deliveries.for_ticket("LP-AAAA-0002")
    assert record["status"] == "retrying" and record["last_error"].startswith("HTTP 500")

    async def retried() -> bool:
        await notify.dispatcher.retry_due("whatsapp")
        [record] = await notify.deliveries.for_ticket("LP-AAAA-0002")
        return bool(record["status"] == "sent")

    assert await eventually(retried)
    [record] = await notify.deliveries.for_ticket("LP-AAAA-0002")
    assert record["attempts"] == 2
    raw = posts(sink, "/whatsapp")
    assert [p["status"] for p in raw] == [500, 200]
    assert {p["key"] for p in raw} == {f"{record['event_id']}:whatsapp:citizen"}
    assert sum(p["delivered"] for p in raw) == 1


async def test_gateway_always_failing_ends_dead_with_reason_metric_and_dead_letter(
    infra: Infra,
    db: AsyncDatabase[Document],
    catcher: MailCatcher,
    sink: Sink,
    http: httpx.AsyncClient,
) -> None:
    await ensure_topics(infra.kafka_bootstrap)
    publisher = KafkaPublisher(infra.kafka_bootstrap, client_id="notify-test")
    notify = wire(
        channels_to(catcher, sink), db, http=http, dead_letters=KafkaDeadLetters(publisher)
    )
    await seed_ticket(db, "LP-AAAA-0003", email=None)
    sink.configure(fail_always=True, fail_status=503)
    dead_before = REGISTRY.get_sample_value(
        "pengaduan_notifications_dead_total", {"channel": "whatsapp"}
    )
    try:
        await notify.notifier.handle(submitted("LP-AAAA-0003"))

        async def dead() -> Document | None:
            await notify.dispatcher.retry_due("whatsapp")
            [record] = await notify.deliveries.for_ticket("LP-AAAA-0003")
            return record if record["status"] == "dead" else None

        record = await eventually(dead)
        assert record, "the delivery never ended dead"
        assert record["attempts"] == 3 and record["last_error"].startswith("HTTP 503")
        assert [p["status"] for p in posts(sink, "/whatsapp")] == [503, 503, 503]
        dead_after = REGISTRY.get_sample_value(
            "pengaduan_notifications_dead_total", {"channel": "whatsapp"}
        )
        assert dead_after == (dead_before or 0) + 1
        key = f"{record['event_id']}:whatsapp:citizen"
        letter = await _dead_letter(infra, key)
        assert letter["error"].startswith("HTTP 503") and letter["recipient"] == "+6281******89"
        stored = await notify.deliveries.get(key)
        assert stored is not None and stored["dead_lettered"] is True
    finally:
        await publisher.close()


async def _dead_letter(infra: Infra, key: str) -> Document:
    consumer = AIOKafkaConsumer(
        topics.DLQ_NOTIFY, bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for record in (r for records in batch.values() for r in records):
                headers = dict(record.headers or ())
                if headers.get("dlq.delivery_key") == key.encode():
                    assert headers["dlq.kind"] == b"delivery"
                    body: Document = json.loads(record.value or b"{}")
                    return body
    finally:
        await consumer.stop()
    raise AssertionError(f"no dead letter for {key}")


async def test_a_channel_that_just_failed_leaves_new_messages_to_the_retry_loop(
    db: AsyncDatabase[Document], catcher: MailCatcher, sink: Sink, http: httpx.AsyncClient
) -> None:
    notify = wire(
        channels_to(catcher, sink, base_seconds=5), db, http=http, dead_letters=DeadLetterList()
    )
    sink.configure(fail_next=1)
    for code in ("LP-REST-0001", "LP-REST-0002"):
        await seed_ticket(db, code, email=None)
        await notify.notifier.handle(submitted(code))
    assert len(sink.messages()) == 1  # the second message did not wait on a failing gateway
    [first] = await notify.deliveries.for_ticket("LP-REST-0001")
    [second] = await notify.deliveries.for_ticket("LP-REST-0002")
    assert (first["status"], first["attempts"]) == ("retrying", 1)
    assert (second["status"], second["attempts"]) == ("retrying", 0)
    assert second["next_attempt_at"] > utcnow()


async def test_a_refused_recipient_is_dead_at_once(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    await seed_ticket(db, "LP-AAAA-0004", email=None)
    sink.configure(fail_always=True, fail_status=400)
    await notify.notifier.handle(submitted("LP-AAAA-0004"))
    [record] = await notify.deliveries.for_ticket("LP-AAAA-0004")
    assert (record["status"], record["attempts"]) == ("dead", 1)
    assert record["last_error"].startswith("HTTP 400")


async def test_a_send_cut_off_by_a_crash_is_resent_once_after_the_lease_expires(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    await seed_ticket(db, "LP-AAAA-0005", email=None)
    sink.configure(delay_ms=400)  # the sink accepts the post, then answers slowly
    handling = asyncio.create_task(notify.notifier.handle(submitted("LP-AAAA-0005")))

    async def accepted() -> bool:
        return bool(sink.messages())

    assert await eventually(accepted, timeout_s=1)
    handling.cancel()  # the process dies after the gateway accepted, before recording it
    with pytest.raises(asyncio.CancelledError):
        await handling
    [record] = await notify.deliveries.for_ticket("LP-AAAA-0005")
    assert record["status"] == "pending"
    assert await notify.dispatcher.retry_due("whatsapp") == 0  # the lease still holds it
    await asyncio.sleep(1.6)
    assert await notify.dispatcher.retry_due("whatsapp") == 1
    [record] = await notify.deliveries.for_ticket("LP-AAAA-0005")
    assert (record["status"], record["attempts"]) == ("sent", 2)
    raw = posts(sink, "/whatsapp")
    assert len(raw) == 2 and len({p["key"] for p in raw}) == 1  # one resend, same key
    assert [p["duplicate"] for p in raw] == [False, True]  # the gateway drops the repeat


async def test_nobody_reachable_leaves_a_log_record_in_the_delivery_log(
    db: AsyncDatabase[Document], notify: Notify
) -> None:
    await seed_ticket(db, "LP-AAAA-0006", email=None, phone=None)
    await notify.notifier.handle(routed("LP-AAAA-0006", opd="DPUPR"))
    records = await notify.deliveries.for_ticket("LP-AAAA-0006")
    assert [(r["channel"], r["recipient"], r["status"]) for r in records] == [
        ("log", "opd:DPUPR", "sent")
    ]


async def test_an_officer_reading_digests_gets_one_digest_a_day(
    db: AsyncDatabase[Document],
    catcher: MailCatcher,
    sink: Sink,
    http: httpx.AsyncClient,
) -> None:
    await seed_staff(db)
    today = datetime(2025, 3, 3, 10, 0, tzinfo=JAKARTA)
    clock = [today]
    notify = wire(
        channels_to(catcher, sink),
        db,
        http=http,
        dead_letters=DeadLetterList(),
        clock=lambda: clock[0],
    )
    for code in ("LP-DGST-0001", "LP-DGST-0002"):
        await seed_ticket(db, code, email=None, phone=None)
        await notify.notifier.handle(routed(code))
    assert await notify.digest_builder.build_due() == 0  # tomorrow's digest is not due yet

    clock[0] = today + timedelta(days=1, hours=-2)  # 08:00 the next day
    assert await notify.digest_builder.build_due() == 1
    assert await notify.digest_builder.build_due() == 0  # once per day and officer
    digests = [m for m in catcher.messages() if m["rcpt_tos"] == ["dlh2@serangkab.go.id"]]
    assert len(digests) == 1
    assert digests[0]["subject"] == "Ringkasan harian: 2 pemberitahuan laporan"
    assert "LP-DGST-0001" in digests[0]["text"] and "LP-DGST-0002" in digests[0]["text"]

    await seed_ticket(db, "LP-DGST-0003", email=None, phone=None)
    await notify.notifier.handle(routed("LP-DGST-0003"))  # after 07:00: the day after's digest
    assert await notify.digest_builder.build_due() == 0
    log = [
        (r["channel"], r["recipient"], r["status"])
        for r in await notify.deliveries.for_ticket("LP-DGST-0001")
    ]
    assert ("email", "dlh@serangkab.go.id", "sent") in log
    items = await db.digest_items.find({"tracking_code": "LP-DGST-0003"}).to_list()
    assert [i["day"] for i in items] == ["2025-03-05"] and items[0]["digest_id"] is None
    assert Counter(m["rcpt_tos"][0] for m in catcher.messages())["dlh2@serangkab.go.id"] == 1


async def test_the_delivery_log_names_the_message_and_the_transition(
    db: AsyncDatabase[Document], notify: Notify
) -> None:
    await seed_ticket(db, "LP-AAAA-0009")
    await notify.notifier.handle(routed("LP-AAAA-0009"))
    await notify.notifier.handle(resolved("LP-AAAA-0009", "Sampah sudah diangkut."))
    log = await delivery_log(
        tracking_code="LP-AAAA-0009", deliveries=notify.deliveries, digests=notify.digests
    )
    seen = {(e.event_type, e.channel, e.message) for e in log}
    assert ("ticket.transitioned", "email", "citizen_resolved") in seen
    assert ("ticket.routed", "email", "citizen_routed") in seen
    assert ("ticket.routed", "digest", "staff_assigned") in seen
    for entry in log:
        if entry.event_type == "ticket.transitioned":
            assert entry.transition == StatusChange("resolve", "in_progress", "resolved")
        else:
            assert entry.transition == StatusChange("route", "submitted", "routed")
