"""Notify's chat side against the real database and the sink as the WhatsApp Cloud API and an
SMS gateway: a conversation's replies and a chat ticket's news reach the chat once, in the
platform's send format, free text inside the 24-hour window and the template outside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from devstack.sink import Sink
from services.notify.app import Notify, wire
from services.notify.settings import NotifySettings
from shared.events import ChatReply, Envelope, EventType, OpdChoiceAsked, utcnow
from shared.mongo import Document

pytestmark = pytest.mark.integration

PHONE = "+6281234567890"
SEND = "/whatsapp/v21.0/dev-number/messages"


class NoDeadLetters:
    async def publish(self, record: Document) -> None:
        raise AssertionError(f"dead: {record}")


@pytest.fixture
async def notify(db: AsyncDatabase[Document], sink: Sink) -> AsyncIterator[Notify]:
    fast = {"timeout_seconds": 2.0, "rate_per_second": 1000, "burst": 100}
    settings = NotifySettings(
        email={"transport": "off"},
        whatsapp={
            "transport": "cloud",
            "api_url": f"{sink.url}/whatsapp/v21.0",
            "phone_number_id": "dev-number",
            "access_token": "dev-token",
            **fast,
        },
        sms={"transport": "http", "url": f"{sink.url}/sms", **fast},
        retry={"lease_seconds": 5.0},
    )
    async with httpx.AsyncClient() as http:
        parts = wire(settings, db, http=http, dead_letters=NoDeadLetters())
        await parts.deliveries.ensure_indexes()
        yield parts


async def conversation(
    db: AsyncDatabase[Document], channel: str = "whatsapp", *, last_inbound: Any = None
) -> str:
    await db.chat_conversations.insert_one(
        {
            "_id": f"c-{channel}",
            "channel": channel,
            "phone": PHONE,
            "last_inbound_at": last_inbound if last_inbound is not None else utcnow(),
        }
    )
    return f"c-{channel}"


async def reply(
    db: AsyncDatabase[Document], conversation_id: str, text: str, **fields: Any
) -> Envelope:
    message_id = f"r-{conversation_id}-{len(text)}"
    channel = conversation_id.removeprefix("c-")
    await db.chat_messages.insert_one(
        {
            "_id": message_id,
            "conversation": conversation_id,
            "direction": "out",
            "text": text,
            "buttons": fields.get("buttons", []),
            "at": utcnow(),
        }
    )
    event = ChatReply(message_id=message_id, channel=channel, tracking_code="LP-7K4M-Q9XZ")
    envelope = event.envelope(
        ticket_id=conversation_id, producer="intake", correlation_id=conversation_id
    )
    return envelope.model_copy(update={"event_id": message_id})


def posts(sink: Sink, path: str) -> list[dict[str, Any]]:
    return [m for m in sink.messages() if m["path"] == path]


async def test_a_conversations_reply_goes_once_as_reply_buttons(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    conv = await conversation(db)
    buttons = [{"id": "kirim", "title": "Kirim"}, {"id": "batal", "title": "Batal"}]
    event = await reply(db, conv, "Ringkasan laporan Anda: ...", buttons=buttons)
    assert await notify.chat_replies.handle(event) == 1
    assert await notify.chat_replies.handle(event) == 0  # a replayed event sends nothing
    sent = posts(sink, SEND)
    assert len(sent) == 1
    body = sent[0]["body"]
    assert body["to"] == "6281234567890" and body["type"] == "interactive"
    assert [b["reply"]["id"] for b in body["interactive"]["action"]["buttons"]] == [
        "kirim",
        "batal",
    ]
    assert sent[0]["headers"]["Authorization"] == "Bearer dev-token"
    assert body["biz_opaque_callback_data"] == f"{event.event_id}:whatsapp:citizen"
    [record] = await notify.deliveries.for_ticket("LP-7K4M-Q9XZ")
    assert (record["channel"], record["template"], record["status"]) == (
        "whatsapp",
        "chat_reply",
        "sent",
    )


async def test_an_sms_reply_longer_than_a_segment_goes_in_numbered_parts(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    conv = await conversation(db, "sms")
    text = "Laporan: " + "jalan desa rusak parah, " * 12 + "Balas KIRIM."
    await notify.chat_replies.handle(await reply(db, conv, text))
    sent = posts(sink, "/sms")
    assert len(sent) > 1
    assert all(len(m["body"]["message"]) <= 160 for m in sent)
    assert sent[0]["body"]["message"].startswith(f"(1/{len(sent)}) Laporan:")
    assert len({m["key"] for m in sent}) == len(sent)


async def _chat_ticket(db: AsyncDatabase[Document], code: str, *, chat: bool) -> None:
    await db.tickets.insert_one(
        {
            "_id": code,
            "kind": "complaint",
            "description": "sampah numpuk di pinggir jalan dekat pasar",
            "reporter": {"phone": PHONE},
            "confidential": False,
            "source": "whatsapp" if chat else "web",
            "conversation_id": "c-whatsapp" if chat else None,
        }
    )


async def test_a_chat_tickets_news_is_free_text_in_the_window_and_a_template_after(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    await conversation(db)
    await _chat_ticket(db, "LP-CHAT-0001", chat=True)
    routed = Envelope(
        event_type=EventType.TICKET_ROUTED,
        ticket_id="LP-CHAT-0001",
        correlation_id="c",
        producer="routing",
        payload={"opd": "DLH", "status": "routed", "confidence": 0.9, "model": "m"},
    )
    await notify.notifier.handle(routed)
    [news] = posts(sink, SEND)
    assert news["body"]["type"] == "text"
    assert "Balas pesan ini" in news["body"]["text"]["body"]

    await db.chat_conversations.update_one(
        {"_id": "c-whatsapp"}, {"$set": {"last_inbound_at": utcnow() - timedelta(hours=25)}}
    )
    await notify.notifier.handle(routed.model_copy(update={"event_id": "later"}))
    later = posts(sink, SEND)[-1]["body"]
    assert later["type"] == "template" and later["template"]["name"] == "pengaduan_pembaruan"


async def test_a_web_ticket_with_a_phone_is_told_by_template(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    await _chat_ticket(db, "LP-WEB0-0001", chat=False)
    submitted = Envelope(
        event_type=EventType.TICKET_SUBMITTED,
        ticket_id="LP-WEB0-0001",
        correlation_id="c",
        producer="intake",
        payload={"kind": "complaint"},
    )
    await notify.notifier.handle(submitted)
    [sent] = posts(sink, SEND)
    assert sent["body"]["type"] == "template"  # a business-initiated message
    assert (
        "/lacak?kode=LP-WEB0-0001"
        in sent["body"]["template"]["components"][0]["parameters"][0]["text"]
    )


async def test_routings_choice_question_has_a_button_per_candidate(
    db: AsyncDatabase[Document], notify: Notify, sink: Sink
) -> None:
    await conversation(db)
    await _chat_ticket(db, "LP-CHAT-0002", chat=True)
    asked = OpdChoiceAsked(candidates=["DLH", "SATPOLPP"]).envelope(
        ticket_id="LP-CHAT-0002", producer="routing", correlation_id="c"
    )
    await notify.notifier.handle(asked)
    [sent] = posts(sink, SEND)
    interactive = sent["body"]["interactive"]
    assert "1. " in interactive["body"]["text"] and "Lainnya" in interactive["body"]["text"]
    assert [b["reply"]["id"] for b in interactive["action"]["buttons"]] == [
        "pilih:DLH",
        "pilih:SATPOLPP",
        "pilih:lainnya",
    ]
