"""A ticket's delivery log (services/notify/service.py `delivery_log`) on the in-memory stores
of tests/fakes.py: every message, contacts masked and texts left out, and the messages kept for
an officer's digest with the digest's own fate."""

from __future__ import annotations

from datetime import timedelta

from services.notify import service
from services.notify.api import DeliveryOut
from shared.documents import Document
from tests.fakes import CODE, NOW, InMemoryDeliveries, InMemoryDigestItems


def _record(event: str, recipient: str, status: str, minutes: int, **fields: object) -> Document:
    return {
        "_id": f"{event}|{recipient}",
        "event_id": event,
        "event_type": "ticket.transitioned",
        "template": "citizen_resolved",
        "tracking_code": CODE,
        "channel": "email" if "@" in recipient else "whatsapp",
        "recipient": recipient,
        "recipient_kind": "reporter",
        "status": status,
        "attempts": 1,
        "created_at": NOW + timedelta(minutes=minutes),
        "message": {"subject": "Laporan Anda selesai", "body": "Yth. Siti Aminah, ..."},
        **fields,
    }


def _item(event: str, username: str, minutes: int, digest_id: str | None) -> Document:
    return {
        "_id": f"{event}|{username}",
        "event_id": event,
        "event_type": "ticket.escalated",
        "template": "officer_escalated",
        "tracking_code": CODE,
        "username": username,
        "digest_id": digest_id,
        "created_at": NOW + timedelta(minutes=minutes),
    }


async def test_the_log_shows_each_message_masked_oldest_first_without_its_text() -> None:
    deliveries = InMemoryDeliveries(
        _record("e2", "+6281234567890", "retrying", 5, last_error="gateway 503"),
        _record("e1", "siti.aminah@example.com", "sent", 1, sent_at=NOW),
        _record("e9", "budi@example.com", "sent", 0, tracking_code="LP-ZZZZ-ZZZZ"),
    )
    log = await service.delivery_log(
        tracking_code=CODE, deliveries=deliveries, digests=InMemoryDigestItems()
    )
    assert [(e.event_id, e.recipient, e.status) for e in log] == [
        ("e1", "s***@example.com", "sent"),
        ("e2", "+6281*******90", "retrying"),
    ]
    assert log[1].last_error == "gateway 503" and log[0].message == "citizen_resolved"
    assert all("Siti" not in str(entry) for entry in log)  # neither the text nor the name


async def test_a_digested_message_stands_as_its_digest_does() -> None:
    deliveries = InMemoryDeliveries(
        _record("d-sent", "dpupr@example.com", "dead", 10, tracking_code="-"),
        _record("d-sent", "+6281234567890", "sent", 10, tracking_code="-"),
        _record("d-dead", "dlh@example.com", "dead", 10, tracking_code="-"),
    )
    digests = InMemoryDigestItems(
        _item("e1", "dpupr", 1, "d-sent"),  # sent on one channel of two: sent
        _item("e2", "dlh", 2, "d-dead"),  # every channel gave up: dead
        _item("e3", "dpupr-kepala", 3, None),  # waiting for tomorrow's digest
    )
    log = await service.delivery_log(tracking_code=CODE, deliveries=deliveries, digests=digests)
    assert [(e.recipient, e.channel, e.status) for e in log] == [
        ("user:dpupr", "digest", "sent"),
        ("user:dlh", "digest", "dead"),
        ("user:dpupr-kepala", "digest", "pending"),
    ]


async def test_a_ticket_nobody_was_told_about_has_an_empty_log() -> None:
    log = await service.delivery_log(
        tracking_code="LP-NONE-0000",
        deliveries=InMemoryDeliveries(_record("e1", "siti@example.com", "sent", 1)),
        digests=InMemoryDigestItems(_item("e2", "dpupr", 2, None)),
    )
    assert log == []


async def test_the_routes_body_names_the_status_change_from_and_to() -> None:
    change = {"action": "resolve", "from": "in_progress", "to": "resolved"}
    deliveries = InMemoryDeliveries(
        _record("e1", "siti@example.com", "sent", 1, transition=change),
        _record("e2", "budi@example.com", "sent", 2),
    )
    log = await service.delivery_log(
        tracking_code=CODE, deliveries=deliveries, digests=InMemoryDigestItems()
    )
    bodies = [DeliveryOut.of(entry).model_dump(mode="json") for entry in log]
    assert bodies[0]["transition"] == change and bodies[1]["transition"] is None
    assert bodies[0]["recipient"] == "s***@example.com" and "message" in bodies[0]
    assert set(bodies[0]) == set(DeliveryOut.model_fields)
