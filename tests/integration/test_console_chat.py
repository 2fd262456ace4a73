"""A chat ticket in the console and the staff API: the conversation as the citizen saw it,
without their number, and only for those who may see the ticket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.events import utcnow
from tests.integration.test_console import put_ticket, signed_in, web

pytestmark = pytest.mark.integration
__all__ = ["web"]  # a fixture

PHONE = "+6281234567890"


def chat_ticket(stored: Any, *, anonymous: bool = False) -> str:
    code = put_ticket(
        stored,
        status="resolved",
        opd="DPUPR",
        anonymous=anonymous,
        source="whatsapp",
        conversation_id="c1",
        reporter={"name": "Budi", "email": None, "phone": PHONE},
    )
    start = utcnow() - timedelta(hours=1)
    stored.chat_messages.insert_many(
        [
            {
                "_id": "whatsapp:wamid.1",
                "conversation": "c1",
                "direction": "in",
                "channel": "whatsapp",
                "text": "jalan berlubang di depan SD, sudah 2 bulan",
                "at": start,
                "tracking_code": code,
            },
            {
                "_id": "r1",
                "conversation": "c1",
                "direction": "out",
                "channel": "whatsapp",
                "text": "Di kecamatan mana lokasinya?",
                "at": start + timedelta(seconds=1),
                "tracking_code": code,
            },
            {
                "_id": "whatsapp:wamid.2",
                "conversation": "c1",
                "direction": "in",
                "channel": "whatsapp",
                "text": "ciruas",
                "at": start + timedelta(minutes=1),
                "tracking_code": code,
            },
        ]
    )
    stored.deliveries.insert_one(
        {
            "_id": "e1:whatsapp:citizen",
            "tracking_code": code,
            "recipient_kind": "citizen",
            "recipient": PHONE,
            "channel": "whatsapp",
            "template": "citizen_resolved",
            "status": "sent",
            "created_at": start + timedelta(minutes=30),
            "message": {"text": "Laporan selesai ditindaklanjuti: lubang sudah ditambal."},
        }
    )
    return code


def test_the_ticket_page_shows_the_conversation_in_order(web: TestClient, stored: Any) -> None:
    code = chat_ticket(stored)
    page = signed_in(web, "dpupr").get(f"/konsol/tiket/{code}").text
    assert "Percakapan WhatsApp" in page
    said = [
        "jalan berlubang di depan SD, sudah 2 bulan",
        "Di kecamatan mana lokasinya?",
        "ciruas",
        "lubang sudah ditambal",
    ]
    positions = [page.index(text) for text in said]
    assert positions == sorted(positions)
    assert "dikirim ke chat yang sama" in page


def test_an_anonymous_chat_shows_no_number(web: TestClient, stored: Any) -> None:
    code = chat_ticket(stored, anonymous=True)
    page = signed_in(web, "dpupr").get(f"/konsol/tiket/{code}").text
    assert "ciruas" in page
    assert PHONE not in page and "81234567890" not in page


def test_the_staff_api_gives_the_transcript_within_scope(web: TestClient, stored: Any) -> None:
    code = chat_ticket(stored)
    signed_in(web, "dpupr")
    token = web.post(
        "/api/v1/auth/token", data={"username": "dpupr", "password": "officer"}
    ).json()["access_token"]
    items = web.get(
        f"/api/v1/tickets/{code}/transcript", headers={"Authorization": f"Bearer {token}"}
    ).json()["items"]
    assert [i["from"] for i in items] == ["citizen", "chat", "citizen", "notify"]
    assert PHONE not in str(items)
    other = web.post("/api/v1/auth/token", data={"username": "dlh", "password": "officer"}).json()[
        "access_token"
    ]
    outside = web.get(
        f"/api/v1/tickets/{code}/transcript", headers={"Authorization": f"Bearer {other}"}
    )
    assert outside.status_code == 404


def test_a_web_ticket_has_no_conversation_section(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    assert "Percakapan" not in signed_in(web, "dpupr").get(f"/konsol/tiket/{code}").text
