"""Notify's chat side without I/O: the WhatsApp Cloud API's send format (free text, buttons,
the template outside the 24-hour window), SMS parts, the chat's own channel, chat wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import ValidationError

from services.notify import recipients
from services.notify.channels import CloudApiChannel, GatewayChannel, OutboundMessage, sms_parts
from services.notify.recipients import Contact
from services.notify.rendering import Links, Renderer, TicketFacts
from services.notify.settings import NotifySettings, SmsSettings, WhatsAppSettings
from shared.events import Envelope, EventType
from tests.signing_keys import TEST_PUBLIC_KEY

NOW = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
CLOUD = WhatsAppSettings(
    transport="cloud",
    api_url="https://graph.test/v21.0",
    phone_number_id="1234567890",
    access_token="token",
    template_name="pengaduan_pembaruan",
)


def _message(text: str, **data: object) -> OutboundMessage:
    return OutboundMessage(
        key="evt1:whatsapp:citizen",
        event_type="chat.reply",
        address="+6281234567890",
        subject="s",
        text=text,
        data=dict(data),
    )


def _channel() -> CloudApiChannel:
    return CloudApiChannel(CLOUD, httpx.AsyncClient(), clock=NOW.timestamp)


def test_inside_the_window_a_reply_is_free_text_to_the_number_in_digits() -> None:
    until = (NOW + timedelta(hours=1)).isoformat()
    body = _channel().payload(_message("Di kecamatan mana lokasinya?", window_until=until))
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "biz_opaque_callback_data": "evt1:whatsapp:citizen",
        "type": "text",
        "text": {"body": "Di kecamatan mana lokasinya?", "preview_url": False},
    }


def test_buttons_become_reply_buttons() -> None:
    until = (NOW + timedelta(hours=1)).isoformat()
    buttons = [{"id": "kirim", "title": "Kirim"}, {"id": "batal", "title": "Batal"}]
    body = _channel().payload(_message("Ringkasan ...", window_until=until, buttons=buttons))
    assert body["type"] == "interactive"
    interactive = body["interactive"]
    assert interactive["type"] == "button" and interactive["body"] == {"text": "Ringkasan ..."}
    assert interactive["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "kirim", "title": "Kirim"}},
        {"type": "reply", "reply": {"id": "batal", "title": "Batal"}},
    ]


@pytest.mark.parametrize("until", [None, (NOW - timedelta(minutes=1)).isoformat()])
def test_outside_the_window_the_approved_template_carries_the_text(until: str | None) -> None:
    body = _channel().payload(
        _message("Laporan LP-1 diteruskan.\n\nBalas pesan ini.", window_until=until)
    )
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "pengaduan_pembaruan",
        "language": {"code": "id"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Laporan LP-1 diteruskan. Balas pesan ini."}
                ],
            }
        ],
    }


def test_the_cloud_transport_needs_a_number_and_a_token() -> None:
    with pytest.raises(ValidationError, match="phone_number_id"):
        WhatsAppSettings(transport="cloud", access_token="t")
    settings = NotifySettings(whatsapp=CLOUD.model_dump())
    assert settings.whatsapp.transport == "cloud"
    assert "whatsapp" in settings.enabled_channels()


def test_a_short_sms_is_one_part_and_a_long_one_numbered_parts() -> None:
    assert sms_parts("Laporan diterima.", 160) == ["Laporan diterima."]
    text = " ".join(f"kata{n}" for n in range(80))
    parts = sms_parts(text, 160)
    count = len(parts)
    assert count == -(-len(text) // 150) or count == -(-len(text) // 150) + 1
    assert all(len(p) <= 160 for p in parts)
    assert [p.split(" ", 1)[0] for p in parts] == [f"({i}/{count})" for i in range(1, count + 1)]
    assert " ".join(p.split(" ", 1)[1] for p in parts) == text
    assert sms_parts("x" * 400, 160)[0].startswith("(1/3) ")
    assert sms_parts(text, 0) == [text]


def test_each_sms_part_has_its_own_idempotency_key() -> None:
    channel = GatewayChannel(
        "sms", SmsSettings(transport="http", url="https://sms.test"), httpx.AsyncClient()
    )
    long = _message(" ".join(["panjang"] * 60))
    keys = [key for key, _ in channel.parts(long)]
    assert len(keys) > 1
    assert keys == [f"evt1:whatsapp:citizen/{i}" for i in range(1, len(keys) + 1)]
    assert [key for key, _ in channel.parts(_message("pendek"))] == ["evt1:whatsapp:citizen"]


def test_a_ticket_filed_by_sms_is_answered_by_sms() -> None:
    contact = Contact("citizen", "citizen", phone="+6281", phone_channel="sms")
    found = recipients.channels_for(contact, frozenset({"whatsapp", "sms"}))
    assert [r.channel for r in found] == ["sms"]
    by_whatsapp = Contact("citizen", "citizen", phone="+6281", phone_channel="whatsapp")
    assert [r.channel for r in recipients.channels_for(by_whatsapp, frozenset({"sms"}))] == []


def test_the_choice_buttons_fit_whatsapps_limits() -> None:
    buttons = recipients.choice_buttons(["DISKOMINFOSATIK", "KEC-WARINGINKURUNG"])
    assert [b["id"] for b in buttons] == [
        "pilih:DISKOMINFOSATIK",
        "pilih:KEC-WARINGINKURUNG",
        "pilih:lainnya",
    ]
    assert all(len(b["title"]) <= recipients.BUTTON_TITLE for b in buttons)
    extras = recipients.whatsapp_extras(last_inbound_at=NOW, buttons=buttons)
    assert extras["window_until"] == (NOW + timedelta(hours=24)).isoformat()
    assert recipients.whatsapp_extras(last_inbound_at=None)["window_until"] is None


def _render(template: str, *, chat: bool, **payload: object) -> str:
    renderer = Renderer(
        links=Links("https://lapor.test", "https://konsol.test"),
        organisation="Pemkab Serang",
        tz=ZoneInfo("Asia/Jakarta"),
    )
    event = {
        "citizen_routed": EventType.TICKET_ROUTED,
        "citizen_resolved": EventType.TICKET_TRANSITIONED,
        "citizen_choose_opd": EventType.OPD_CHOICE_ASKED,
    }[template]
    notice = recipients.notice_from(
        Envelope(
            event_type=event,
            ticket_id="LP-7K4M-Q9XZ",
            correlation_id="c",
            producer="t",
            payload=payload,
        )
    )
    context = renderer.context(
        notice, lang="id", facts=TicketFacts(chat=chat), opd_names={"DLH": "Dinas Lingkungan Hidup"}
    )
    return renderer.render(template, lang="id", channel="whatsapp", context=context).text


def test_a_chat_is_told_to_reply_not_to_open_a_link() -> None:
    routed = {"opd": "DLH", "status": "routed", "confidence": 0.9, "model": "m"}
    assert "https://lapor.test" not in _render("citizen_routed", chat=True, **routed)
    assert "Balas pesan ini" in _render("citizen_routed", chat=True, **routed)
    assert "https://lapor.test" in _render("citizen_routed", chat=False, **routed)
    resolved = {
        "action": "resolve",
        "from_status": "in_progress",
        "to_status": "resolved",
        "opd": "DLH",
        "note": "Sampah sudah diangkut.",
    }
    text = _render("citizen_resolved", chat=True, **resolved)
    assert "Sampah sudah diangkut." in text and "1 sampai 5" in text and "BELUM SELESAI" in text


def test_the_choice_question_lists_the_candidates_by_number() -> None:
    text = _render("citizen_choose_opd", chat=True, candidates=["DLH", "DPUPR"])
    assert "1. Dinas Lingkungan Hidup" in text and "2. DPUPR" in text and "3. Lainnya" in text


def test_production_refuses_the_development_access_token() -> None:
    dev = {**CLOUD.model_dump(), "access_token": "dev-whatsapp-access-token"}
    with pytest.raises(ValidationError, match="development token"):
        NotifySettings(
            environment="production",
            auth_secret="x" * 40,
            auth_public_key=TEST_PUBLIC_KEY,
            whatsapp=dev,
        )
    real = NotifySettings(
        environment="production",
        auth_secret="x" * 40,
        auth_public_key=TEST_PUBLIC_KEY,
        email={"transport": "off"},
        whatsapp={**CLOUD.model_dump(), "access_token": "EAAG-real-token"},
    )
    assert real.whatsapp.transport == "cloud"
