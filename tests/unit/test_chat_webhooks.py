"""The chat channels' formats and settings, without I/O: the Cloud API's signature and payloads,
and production's refusal of the development secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from services.intake.chat import whatsapp
from services.intake.chat.dialogue import Kind
from services.intake.settings import (
    DEV_SMS_SECRET,
    DEV_WHATSAPP_APP_SECRET,
    DEV_WHATSAPP_VERIFY_TOKEN,
    IntakeSettings,
)
from tests.signing_keys import TEST_PUBLIC_KEY

SECRET = "an-app-secret-of-the-meta-app"
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "auth_secret": "x" * 40,
    "auth_public_key": TEST_PUBLIC_KEY,
}


def _payload(*messages: dict[str, Any], statuses: list[dict[str, Any]] | None = None) -> bytes:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "62254000000", "phone_number_id": "1234"},
        "contacts": [{"profile": {"name": "Siti"}, "wa_id": "6281234567890"}],
        "messages": list(messages),
    }
    if statuses is not None:
        value["statuses"] = statuses
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def _message(kind: str, content: dict[str, Any], id: str = "wamid.A") -> dict[str, Any]:
    return {
        "from": "6281234567890",
        "id": id,
        "timestamp": "1717300000",
        "type": kind,
        kind: content,
    }


def test_the_signature_is_an_hmac_of_the_raw_body() -> None:
    body = _payload(_message("text", {"body": "halo"}))
    header = whatsapp.sign(body, SECRET)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert whatsapp.signature_valid(header, body, SECRET)
    assert whatsapp.signature_valid(header.upper().replace("SHA256=", "sha256="), body, SECRET)
    assert not whatsapp.signature_valid(header, body + b" ", SECRET)
    assert not whatsapp.signature_valid(header, body, "another")
    assert not whatsapp.signature_valid(None, body, SECRET)
    assert not whatsapp.signature_valid(header.removeprefix("sha256="), body, SECRET)


def test_every_message_type_is_read() -> None:
    body = _payload(
        _message("text", {"body": "jalan rusak"}, "w1"),
        _message("image", {"id": "m1", "mime_type": "image/jpeg", "caption": "ini"}, "w2"),
        _message(
            "location",
            {"latitude": -6.1, "longitude": 106.2, "name": "Pasar", "address": "Ciruas"},
            "w3",
        ),
        _message(
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "kirim", "title": "Kirim"}},
            "w4",
        ),
        _message(
            "interactive",
            {"type": "list_reply", "list_reply": {"id": "pilih:DLH", "title": "DLH"}},
            "w5",
        ),
        _message("button", {"payload": "lewati", "text": "Lewati"}, "w6"),
        _message("audio", {"id": "a1"}, "w7"),
        _message("reaction", {"message_id": "x", "emoji": "👍"}, "w8"),
    )
    inbound, statuses = whatsapp.read(whatsapp.WebhookIn.model_validate_json(body))
    assert statuses == []
    assert {i.sender for i in inbound} == {"6281234567890"} and inbound[0].name == "Siti"
    read = [(i.message.id, i.message.kind, i.message.text, i.message.choice) for i in inbound]
    assert read == [
        ("w1", Kind.TEXT, "jalan rusak", None),
        ("w2", Kind.IMAGE, "ini", None),
        ("w3", Kind.LOCATION, "", None),
        ("w4", Kind.INTERACTIVE, "Kirim", "kirim"),
        ("w5", Kind.INTERACTIVE, "DLH", "pilih:DLH"),
        ("w6", Kind.INTERACTIVE, "Lewati", "lewati"),
        ("w7", Kind.OTHER, "", None),  # a voice note: help is answered
    ]  # the reaction asks for nothing
    assert inbound[1].message.media_id == "m1"
    assert (inbound[2].message.lat, inbound[2].message.lon) == (-6.1, 106.2)
    assert inbound[2].message.place == "Pasar, Ciruas"


def test_status_callbacks_carry_notifys_delivery_key() -> None:
    status = {
        "id": "wamid.out",
        "status": "failed",
        "timestamp": "1717300000",
        "recipient_id": "6281234567890",
        "biz_opaque_callback_data": "evt:whatsapp:citizen",
        "errors": [{"code": 131047, "title": "Re-engagement message"}],
    }
    _, statuses = whatsapp.read(whatsapp.WebhookIn.model_validate_json(_payload(statuses=[status])))
    assert [(s.status, s.delivery_key, s.error_code) for s in statuses] == [
        ("failed", "evt:whatsapp:citizen", 131047)
    ]


def test_a_payload_that_is_not_the_platforms_is_refused() -> None:
    with pytest.raises(ValidationError):
        whatsapp.WebhookIn.model_validate_json(b'{"entry": [{"changes": [{"value": 3}]}]}')


def test_production_refuses_the_development_chat_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        IntakeSettings(**PRODUCTION)
    text = str(refused.value)
    for name in ("VERIFY_TOKEN", "APP_SECRET", "ACCESS_TOKEN", "INTAKE_SMS__SECRET"):
        assert name in text
    with pytest.raises(ValidationError, match="APP_SECRET"):
        IntakeSettings(
            **PRODUCTION,
            whatsapp={
                "verify_token": "a-verify-token-typed-in-meta",
                "app_secret": DEV_WHATSAPP_APP_SECRET,
                "access_token": "EAAG-long-lived-token",
            },
            sms={"enabled": False},
        )
    with pytest.raises(ValidationError, match="VERIFY_TOKEN"):
        IntakeSettings(
            **PRODUCTION,
            whatsapp={
                "verify_token": DEV_WHATSAPP_VERIFY_TOKEN,
                "app_secret": SECRET,
                "access_token": "EAAG-long-lived-token",
            },
            sms={"enabled": False},
        )
    with pytest.raises(ValidationError, match="INTAKE_SMS__SECRET"):
        IntakeSettings(**PRODUCTION, whatsapp={"enabled": False}, sms={"secret": DEV_SMS_SECRET})


def test_production_accepts_real_chat_secrets_or_channels_switched_off() -> None:
    real = IntakeSettings(
        **PRODUCTION,
        whatsapp={
            "verify_token": "a-verify-token-typed-in-meta",
            "app_secret": SECRET,
            "access_token": "EAAG-long-lived-token",
        },
        sms={"secret": "a-gateway-secret-long-enough"},
    )
    assert real.whatsapp.enabled and real.sms.enabled
    off = IntakeSettings(**PRODUCTION, whatsapp={"enabled": False}, sms={"enabled": False})
    assert not off.whatsapp.enabled
