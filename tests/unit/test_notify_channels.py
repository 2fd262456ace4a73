"""Channel adapters without the network: message building, signatures, limits, settings."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from pydantic import ValidationError

from services.notify.channels import (
    EmailChannel,
    GatewayChannel,
    OutboundMessage,
    RateLimiter,
    message_id,
    scrub,
    sign,
    verify_signature,
)
from services.notify.settings import EmailSettings, GatewaySettings, NotifySettings
from shared.settings import DEV_AUTH_SECRET
from tests.signing_keys import TEST_PUBLIC_KEY

MESSAGE = OutboundMessage(
    key="e1:email:citizen",
    event_type="ticket.routed",
    address="warga@example.com",
    subject="Laporan LP-7K4M-Q9XZ diteruskan",
    text='Teks "biasa"\nbaris dua',
    html="<p>HTML</p>",
)


def test_email_has_text_and_html_and_a_message_id_derived_from_the_delivery_key() -> None:
    channel = EmailChannel(EmailSettings(message_id_domain="pengaduan.test"))
    email = channel.build(MESSAGE)
    again = channel.build(MESSAGE)
    assert email["Message-ID"] == again["Message-ID"] == message_id(MESSAGE.key, "pengaduan.test")
    assert email["Message-ID"].endswith("@pengaduan.test>")
    assert email["X-Pengaduan-Delivery"] == MESSAGE.key
    assert email.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]
    other = channel.build(OutboundMessage(**{**MESSAGE.__dict__, "key": "e2:email:citizen"}))
    assert other["Message-ID"] != email["Message-ID"]


async def test_gateway_body_template_gives_json_with_the_text_quoted() -> None:
    settings = GatewaySettings(
        transport="http",
        url="https://gateway.example/send",
        body_template='{"phone": {{ to|tojson }}, "msg": {{ text|tojson }}, '
        '"ref": {{ key|tojson }}}',
    )
    async with httpx.AsyncClient() as client:
        body = GatewayChannel("whatsapp", settings, client).body(MESSAGE)
    assert json.loads(body) == {
        "phone": "warga@example.com",
        "msg": 'Teks "biasa"\nbaris dua',
        "ref": MESSAGE.key,
    }


def test_a_body_template_that_is_not_json_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="body_template"):
        GatewaySettings(body_template='{"msg": "{{ text }}"}')
    with pytest.raises(ValidationError, match="url"):
        GatewaySettings(transport="http", url="")


def test_webhook_signature_verifies_and_rejects_tampering_and_old_timestamps() -> None:
    body = b'{"event_type":"ticket.routed"}'
    now = time.time()
    header = f"t={int(now)},v1={sign('rahasia-panjang-sekali', int(now), body)}"
    assert verify_signature(header, secret="rahasia-panjang-sekali", body=body, now=now)
    assert not verify_signature(header, secret="lain", body=body, now=now)
    assert not verify_signature(header, secret="rahasia-panjang-sekali", body=body + b" ", now=now)
    assert not verify_signature(header, secret="rahasia-panjang-sekali", body=body, now=now + 3600)
    assert not verify_signature("garbage", secret="x", body=body, now=now)


def test_error_texts_lose_the_contacts_they_quote() -> None:
    text = "550 5.1.1 <warga@example.com>: unknown; also +628123456789"
    assert scrub(text) == "550 5.1.1 <w***@example.com>: unknown; also +6281******89"


async def test_rate_limiter_spaces_sends_after_a_burst() -> None:
    limiter = RateLimiter(rate=50, burst=2)
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire() for _ in range(5)))
    assert time.monotonic() - started >= 3 / 50 * 0.9  # two at once, then one per 20 ms


def test_nested_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_EMAIL__TRANSPORT", "smtp")
    monkeypatch.setenv("NOTIFY_EMAIL__HOST", "mail.serangkab.go.id")
    monkeypatch.setenv("NOTIFY_EMAIL__SECURITY", "starttls")
    monkeypatch.setenv("NOTIFY_WHATSAPP__TIMEOUT_SECONDS", "3.5")
    monkeypatch.setenv("NOTIFY_RETRY__MAX_ATTEMPTS", "4")
    monkeypatch.setenv(
        "NOTIFY_WEBHOOK__TARGETS",
        '[{"name": "lapor", "url": "https://lapor.example/hook", '
        '"secret": "s3cret-s3cret-s3cret"}]',
    )
    settings = NotifySettings()
    assert (settings.email.transport, settings.email.host) == ("smtp", "mail.serangkab.go.id")
    assert settings.email.security == "starttls"
    assert settings.whatsapp.timeout_seconds == 3.5
    assert settings.retry.max_attempts == 4
    assert settings.webhook.targets[0].name == "lapor"
    assert settings.enabled_channels() == {"email", "whatsapp"}


def test_production_refuses_log_transports_and_short_webhook_secrets() -> None:
    secret = "x" * 40
    with pytest.raises(ValidationError, match="NOTIFY_EMAIL__TRANSPORT is log"):
        NotifySettings(
            environment="production", auth_secret=secret, auth_public_key=TEST_PUBLIC_KEY
        )
    settings = NotifySettings(
        environment="production",
        auth_secret=secret,
        auth_public_key=TEST_PUBLIC_KEY,
        email={"transport": "smtp", "host": "mail"},
        whatsapp={"transport": "off"},
    )
    assert settings.is_production and settings.auth_secret != DEV_AUTH_SECRET
    with pytest.raises(ValidationError, match="secret needs at least"):
        NotifySettings(
            environment="production",
            auth_secret=secret,
            auth_public_key=TEST_PUBLIC_KEY,
            email={"transport": "off"},
            whatsapp={"transport": "off"},
            webhook={"targets": [{"name": "a", "url": "https://a", "secret": "short"}]},
        )


def test_the_lease_must_outlast_every_send() -> None:
    with pytest.raises(ValidationError, match="lease_seconds"):
        NotifySettings(retry={"lease_seconds": 5}, email={"timeout_seconds": 10})
