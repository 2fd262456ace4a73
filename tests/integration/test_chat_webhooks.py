"""Intake's chat webhooks against the real database and broker: the WhatsApp Cloud API's
handshake, signatures, messages and statuses, the SMS gateway, and the conversation's effects
on tickets through intake's own use cases. The sink plays the Graph API that serves photos."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient
from PIL import Image

from devstack.sink import Sink
from services.intake.app import create_app
from services.intake.chat import whatsapp
from services.intake.chat.replies import SMS_SEGMENT, sms_length
from services.intake.chat.repository import ConversationRepository
from services.intake.settings import (
    DEV_SMS_SECRET,
    DEV_WHATSAPP_APP_SECRET,
    DEV_WHATSAPP_VERIFY_TOKEN,
    IntakeSettings,
)
from shared import topics
from shared.events import utcnow
from shared.kafka import ensure_topics
from shared.mongo import connect
from tests.conftest import Infra, start_of_a_rate_window

pytestmark = pytest.mark.integration

NUMBER = "6281234567890"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
SMS = "/api/v1/channels/sms/webhook"
_ids = count(1)


def _client(infra: Infra, db_name: str, sink: Sink, **settings: Any) -> TestClient:
    asyncio.run(ensure_topics(infra.kafka_bootstrap))
    return TestClient(
        create_app(
            IntakeSettings(
                mongodb_url=infra.mongodb_url,
                mongodb_database=db_name,
                kafka_bootstrap_servers=infra.kafka_bootstrap,
                whatsapp={"graph_url": f"{sink.url}/whatsapp/v21.0", "access_token": "dev-token"},
                outbox_poll_interval_s=0.2,
                **settings,
            )
        ),
        raise_server_exceptions=False,
    )


@pytest.fixture
def client(infra: Infra, db_name: str, sink: Sink, stored: Any) -> Iterator[TestClient]:
    """The app stops before its database is dropped (`stored` is set up first)."""
    with _client(infra, db_name, sink) as test_client:
        yield test_client


def signed(body: bytes, secret: str = DEV_WHATSAPP_APP_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": whatsapp.sign(body, secret)}


@dataclass
class Phone:
    """A citizen's WhatsApp, posting what the platform would post for each message."""

    client: TestClient
    number: str = NUMBER
    name: str = "Budi Santoso"
    sent: list[str] = field(default_factory=list)

    def post(self, message: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(whatsapp.envelope(sender=self.number, name=self.name, message=message))
        response = self.client.post(WEBHOOK, content=body.encode(), headers=signed(body.encode()))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def _message(self, kind: str, content: dict[str, Any], id: str | None) -> dict[str, Any]:
        message_id = id or f"wamid.test{next(_ids)}"
        self.sent.append(message_id)
        return {
            "from": self.number,
            "id": message_id,
            "timestamp": str(int(time.time())),
            "type": kind,
            kind: content,
        }

    def text(self, body: str, *, id: str | None = None) -> dict[str, Any]:
        return self.post(self._message("text", {"body": body}, id))

    def image(self, media_id: str, caption: str = "", *, id: str | None = None) -> dict[str, Any]:
        content = {"id": media_id, "mime_type": "image/jpeg", "caption": caption}
        return self.post(self._message("image", content, id))

    def button(self, reply_id: str, title: str, *, id: str | None = None) -> dict[str, Any]:
        content = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
        return self.post(self._message("interactive", content, id))

    def pin(self, lat: float, lon: float, name: str) -> dict[str, Any]:
        content = {"latitude": lat, "longitude": lon, "name": name, "address": ""}
        return self.post(self._message("location", content, None))


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "brown").save(out, "JPEG")
    return out.getvalue()


def replies(stored: Any) -> list[str]:
    """What the chat answered, in order."""
    return [
        m["text"]
        for m in stored.chat_messages.find({"direction": "out"}).sort([("at", 1), ("_id", 1)])
    ]


def file_complaint(phone: Phone, sink: Sink, stored: Any) -> str:
    """The whole conversation of one complaint, ending with the ticket's code."""
    phone.text("Assalamualaikum min")
    phone.text("sampah numpuk di pinggir jalan dekat pasar, bau bgt sdh seminggu")
    phone.text("kragilan")
    phone.text("desa sentul")
    phone.image(sink.add_media(jpeg(), "image/jpeg"))
    phone.text("iya boleh")
    phone.button("kirim", "Kirim")
    doc = stored.tickets.find_one({"reporter.phone": "+" + phone.number})
    assert doc is not None, "no ticket filed"
    return str(doc["_id"])


async def _chat_events(bootstrap: str, key: str, want: int) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(
        topics.CHATS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(found) < want:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key == key.encode():
                        found.append(json.loads(record.value or b"{}"))
    finally:
        await consumer.stop()
    return found


def test_the_handshake_echoes_the_challenge_for_the_verify_token(client: TestClient) -> None:
    ok = client.get(
        WEBHOOK,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": DEV_WHATSAPP_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = client.get(
        WEBHOOK, params={"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403
    assert client.get(WEBHOOK, params={"hub.challenge": "1"}).status_code == 403


def test_posts_without_a_valid_signature_are_refused_and_change_nothing(
    client: TestClient, stored: Any
) -> None:
    body = json.dumps(
        whatsapp.envelope(
            sender=NUMBER,
            name="x",
            message={
                "from": NUMBER,
                "id": "wamid.forged",
                "timestamp": "1",
                "type": "text",
                "text": {"body": "jalan rusak parah di depan rumah saya"},
            },
        )
    ).encode()
    missing = client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    wrong = client.post(WEBHOOK, content=body, headers=signed(body, "another-secret"))
    tampered = client.post(WEBHOOK, content=body.replace(b"rusak", b"bagus"), headers=signed(body))
    assert [missing.status_code, wrong.status_code, tampered.status_code] == [403, 403, 403]
    assert stored.chat_conversations.count_documents({}) == 0
    assert stored.chat_messages.count_documents({}) == 0


def test_a_complaint_filed_over_whatsapp_once_despite_retried_webhooks(
    infra: Infra, client: TestClient, stored: Any, sink: Sink
) -> None:
    phone = Phone(client)
    phone.text("Assalamualaikum min")
    phone.text("sampah numpuk di pinggir jalan dekat pasar, bau bgt sdh seminggu", id="wamid.story")
    assert phone.text("again", id="wamid.story")["messages"] == 0  # the platform retried
    phone.text("kragilan")
    phone.text("desa sentul")
    media = sink.add_media(jpeg(), "image/jpeg")
    phone.image(media, id="wamid.photo")
    assert phone.image(media, id="wamid.photo")["messages"] == 0
    phone.text("iya boleh")
    assert phone.button("kirim", "Kirim", id="wamid.send")["messages"] == 1
    assert phone.button("kirim", "Kirim", id="wamid.send")["messages"] == 0

    tickets = list(stored.tickets.find({}))
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket["source"] == "whatsapp"
    assert ticket["reporter"] == {"name": "Budi Santoso", "email": None, "phone": "+6281234567890"}
    assert ticket["location"]["kecamatan"] == "KEC-KRAGILAN"
    assert ticket["location"]["desa"] == "Sentul"
    assert ticket["anonymous"] is False
    assert len(ticket["photos"]) == 1
    conversation = stored.chat_conversations.find_one({})
    assert ticket["conversation_id"] == conversation["_id"]
    assert conversation["phone"] == "+6281234567890"

    said = replies(stored)
    assert len(said) == 6  # welcome and five questions; the filing is answered by notify
    assert "kecamatan" in said[1].lower() and "Ringkasan" in said[-1]
    transcript = list(stored.chat_messages.find({"tracking_code": ticket["_id"]}))
    assert {m["direction"] for m in transcript} == {"in", "out"}
    assert stored.chat_messages.count_documents({"direction": "in"}) == 7  # each message once
    assert "+6281234567890" not in json.dumps(transcript, default=str)

    events = asyncio.run(_chat_events(infra.kafka_bootstrap, conversation["_id"], len(said)))
    assert sorted(e["event_id"] for e in events) == sorted(
        m["_id"] for m in stored.chat_messages.find({"direction": "out"})
    )
    assert all(e["event_type"] == "chat.reply" for e in events)
    assert NUMBER not in json.dumps(events) and "sampah" not in json.dumps(events)


def test_follow_ups_ratings_and_disputes_follow_the_web_rules(
    client: TestClient, stored: Any, sink: Sink
) -> None:
    phone = Phone(client, number="6285711112222")
    code = file_complaint(phone, sink, stored)
    stored.tickets.update_one({"_id": code}, {"$set": {"status": "routed", "opd": "DLH"}})
    phone.text("tumpukannya makin tinggi, sekarang sampai ke badan jalan")
    ticket = stored.tickets.find_one({"_id": code})
    assert [c["body"] for c in ticket["comments"]] == [
        "tumpukannya makin tinggi, sekarang sampai ke badan jalan"
    ]
    assert "Informasi tambahan" in replies(stored)[-1]

    phone.text("5")
    assert "Penilaian dapat diberikan setelah" in replies(stored)[-1]  # not resolved yet
    stored.tickets.update_one(
        {"_id": code}, {"$set": {"status": "resolved", "resolved_at": utcnow()}}
    )
    phone.text("5 mantap, cepat")
    assert stored.tickets.find_one({"_id": code})["rating"]["score"] == 5
    phone.text("4")
    assert stored.tickets.find_one({"_id": code})["rating"]["score"] == 5
    assert "sudah Anda nilai" in replies(stored)[-1]
    phone.text("belum selesai min, sampahnya cuma dipindah")
    ticket = stored.tickets.find_one({"_id": code})
    assert ticket["status"] == "in_progress"
    assert ticket["history"][-1]["action"] == "citizen_dispute"


def test_the_choice_question_is_answered_once(client: TestClient, stored: Any, sink: Sink) -> None:
    phone = Phone(client, number="6285733334444")
    code = file_complaint(phone, sink, stored)
    stored.tickets.update_one(
        {"_id": code},
        {
            "$set": {
                "routing_question": {
                    "candidates": [
                        {"opd": "DLH", "confidence": 0.31},
                        {"opd": "DISPERINDAG", "confidence": 0.29},
                    ],
                    "asked_at": utcnow(),
                    "confidence": 0.31,
                    "reasons": [],
                    "model": "m",
                }
            }
        },
    )
    phone.text("apa ya")
    assert "Dinas Lingkungan Hidup" in replies(stored)[-1]
    phone.button("pilih:DISPERINDAG", "2. DISPERINDAG")
    ticket = stored.tickets.find_one({"_id": code})
    assert ticket["routing_choice"]["opd"] == "DISPERINDAG"
    assert [e["event_type"] for e in ticket["outbox"]][-1:] in ([], ["ticket.opd_chosen"])
    phone.button("pilih:DLH", "1. DLH")
    assert stored.tickets.find_one({"_id": code})["routing_choice"]["opd"] == "DISPERINDAG"
    assert "tidak diperlukan lagi" in replies(stored)[-1]


def test_cek_tells_the_status_and_an_unknown_code(
    client: TestClient, stored: Any, sink: Sink
) -> None:
    phone = Phone(client, number="6285755556666")
    code = file_complaint(phone, sink, stored)
    phone.text(f"cek {code.lower().replace('-', ' ')}")
    assert replies(stored)[-1].startswith(f"Laporan {code}: diterima")
    phone.text("cek LP-2222-3333")
    assert "tidak ditemukan" in replies(stored)[-1]


def test_a_location_pin_is_kept_on_the_ticket(client: TestClient, stored: Any) -> None:
    phone = Phone(client, number="6285777778888")
    phone.text("lampu jalan mati sepanjang jalan raya, gelap kalau malam")
    phone.pin(-6.0561, 106.0877, "Kramatwatu")
    for answer in ("lewati", "lewati", "anonim", "kirim"):
        phone.text(answer)
    ticket = stored.tickets.find_one({})
    assert (ticket["location"]["lat"], ticket["location"]["lon"]) == (-6.0561, 106.0877)
    assert ticket["location"]["kecamatan"] == "KEC-KRAMATWATU"
    assert ticket["anonymous"] is True and ticket["reporter"]["name"] is None


def test_a_flood_is_throttled_with_one_warning(
    infra: Infra, db_name: str, sink: Sink, stored: Any
) -> None:
    start_of_a_rate_window()
    with _client(infra, db_name, sink, rate_limit_per_minute=3) as client:
        phone = Phone(client, number="6285799990000")
        for n in range(6):
            phone.text(f"halo {n}")
    said = replies(stored)
    assert len(said) == 4
    assert "terlalu banyak" in said[-1]
    counted = stored.chat_messages.count_documents({"direction": "in"})
    assert counted == 6  # every message is in the transcript, none is lost


def test_status_callbacks_are_recorded_once(client: TestClient, stored: Any) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "statuses": [
                                {
                                    "id": "wamid.out1",
                                    "status": "failed",
                                    "timestamp": "1717300000",
                                    "recipient_id": NUMBER,
                                    "biz_opaque_callback_data": "r1:whatsapp:citizen",
                                    "errors": [{"code": 131047, "title": "Re-engagement"}],
                                }
                            ]
                        },
                    }
                ]
            }
        ],
    }
    body = json.dumps(payload).encode()
    first = client.post(WEBHOOK, content=body, headers=signed(body)).json()
    again = client.post(WEBHOOK, content=body, headers=signed(body)).json()
    assert (first["statuses"], again["statuses"]) == (1, 0)
    status = stored.chat_statuses.find_one({})
    assert (status["delivery_key"], status["error_code"]) == ("r1:whatsapp:citizen", 131047)
    assert NUMBER not in json.dumps(status, default=str)


def test_a_foreign_number_is_pointed_to_the_web_form(client: TestClient, stored: Any) -> None:
    Phone(client, number="447700900123").text("jalan rusak parah di depan hotel kami")
    assert "nomor Indonesia" in replies(stored)[-1]
    assert stored.tickets.count_documents({}) == 0


def test_an_sms_gateway_files_a_complaint_in_one_segment_replies(
    client: TestClient, stored: Any
) -> None:
    secret = {"X-Sms-Secret": DEV_SMS_SECRET}

    def sms(text: str, id: str, **extra: str) -> int:
        response = client.post(
            SMS, data={"from": "0812-9999-8888", "text": text, "id": id, **extra}, headers=secret
        )
        return response.status_code

    assert client.post(SMS, data={"from": "08129", "text": "x", "id": "1"}).status_code == 403
    assert sms("Jalan desa rusak parah di Ds Citerep Kec Ciruas, mohon diperbaiki", "s1") == 200
    assert sms("Jalan desa rusak parah di Ds Citerep Kec Ciruas, mohon diperbaiki", "s1") == 200
    as_json = client.post(
        SMS,
        json={"from": "+6281299998888", "text": "YA", "id": "s2", "secret": DEV_SMS_SECRET},
    )
    assert as_json.status_code == 200
    assert sms("KIRIM", "s3") == 200
    ticket = stored.tickets.find_one({})
    assert ticket["source"] == "sms"
    assert ticket["reporter"]["phone"] == "+6281299998888"
    assert (ticket["location"]["kecamatan"], ticket["location"]["desa"]) == (
        "KEC-CIRUAS",
        "Citerep",
    )
    said = replies(stored)
    assert len(said) == 2
    assert all(sms_length(text) <= SMS_SEGMENT for text in said)
    assert stored.chat_conversations.find_one({})["channel"] == "sms"
    bad = client.post(SMS, json={"from": "0812", "id": "s4"}, headers=secret)
    assert bad.status_code == 422


def test_transcripts_are_forgotten_after_the_retention_period(
    infra: Infra, db_name: str, client: TestClient, stored: Any
) -> None:
    Phone(client, number="6285712121212").text("halo")
    # The reply's relay rewrites the conversation when it has sent the reply (FerretDB writes the
    # whole document back), which would undo the backdating below: let it finish first.
    for _ in range(100):
        if not stored.chat_conversations.find_one({})["outbox"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the reply was never relayed")
    long_ago = utcnow() - timedelta(days=400)
    stored.chat_conversations.update_many({}, {"$set": {"updated_at": long_ago}})
    stored.chat_messages.update_many({}, {"$set": {"at": long_ago}})

    async def purge() -> int:
        mongo = connect(infra.mongodb_url)
        try:
            repo = ConversationRepository(mongo[db_name])
            return await repo.purge_before(utcnow() - timedelta(days=365))
        finally:
            await mongo.close()

    assert asyncio.run(purge()) == 1
    assert stored.chat_conversations.count_documents({}) == 0
    assert stored.chat_messages.count_documents({}) == 0
