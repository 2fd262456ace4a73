"""Channel adapters against real servers: SMTP (plain, STARTTLS, TLS) and the HTTP sink."""

from __future__ import annotations

import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from devstack.mailcatcher import MailCatcher
from devstack.sink import Sink
from services.notify.channels import (
    DeliveryFailed,
    EmailChannel,
    GatewayChannel,
    OutboundMessage,
    WebhookChannel,
    send_within_limits,
)
from services.notify.settings import EmailSettings, GatewaySettings, WebhookSettings

pytestmark = pytest.mark.integration

MESSAGE = OutboundMessage(
    key="e1:email:citizen",
    event_type="ticket.routed",
    address="warga@example.com",
    subject="Laporan LP-7K4M-Q9XZ diteruskan ke Dinas Lingkungan Hidup",
    text="Teks biasa: café & <b>",
    html="<p>Teks &amp; HTML</p>",
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


async def test_email_arrives_as_text_with_an_html_alternative(catcher: MailCatcher) -> None:
    channel = EmailChannel(EmailSettings(transport="smtp", port=catcher.smtp_port))
    await send_within_limits(channel, MESSAGE)
    [mail] = catcher.messages()
    assert mail["rcpt_tos"] == ["warga@example.com"]
    assert mail["subject"] == MESSAGE.subject
    assert mail["text"].strip() == MESSAGE.text
    assert mail["html"].strip() == MESSAGE.html
    assert mail["delivery_key"] == MESSAGE.key
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_email_goes_over_tls_when_configured(
    certificate: tuple[Path, Path], security: str
) -> None:
    catcher = MailCatcher(
        tls_context=_server_context(certificate),
        require_starttls=True,
        implicit_tls=security == "tls",
    ).start()
    try:
        settings = EmailSettings(
            transport="smtp", port=catcher.smtp_port, security=security, ca_file=str(certificate[0])
        )
        await send_within_limits(EmailChannel(settings), MESSAGE)
        assert [m["subject"] for m in catcher.messages()] == [MESSAGE.subject]
        # without TLS the server refuses: permanent, with the server's reason
        plain = EmailSettings(transport="smtp", port=catcher.smtp_port, timeout_seconds=2)
        if security == "starttls":
            with pytest.raises(DeliveryFailed, match="SMTP 530") as refused:
                await send_within_limits(EmailChannel(plain), MESSAGE)
            assert refused.value.permanent
    finally:
        catcher.stop()


async def test_email_refused_for_now_is_worth_retrying(catcher: MailCatcher) -> None:
    catcher.configure(fail_next=1, fail_code=451)
    channel = EmailChannel(EmailSettings(transport="smtp", port=catcher.smtp_port))
    with pytest.raises(DeliveryFailed, match="SMTP 451") as failed:
        await send_within_limits(channel, MESSAGE)
    assert not failed.value.permanent
    await send_within_limits(channel, MESSAGE)
    assert len(catcher.messages()) == 1


async def test_an_unreachable_mail_server_is_a_failure_worth_retrying() -> None:
    channel = EmailChannel(EmailSettings(transport="smtp", port=1, timeout_seconds=1))
    with pytest.raises(DeliveryFailed) as failed:
        await send_within_limits(channel, MESSAGE)
    assert not failed.value.permanent


async def test_gateway_and_webhook_send_what_the_receiver_can_check() -> None:
    secret = "rahasia-webhook-0123456789"
    sink = Sink(webhook_secret=secret).start()
    try:
        async with httpx.AsyncClient() as client:
            gateway = GatewayChannel(
                "sms",
                GatewaySettings(
                    transport="http",
                    url=f"{sink.url}/sms",
                    auth_header="X-Api-Key",
                    auth_value="kunci",
                    idempotency_header="X-Request-Id",
                ),
                client,
            )
            await send_within_limits(gateway, MESSAGE)
            webhook = WebhookChannel(
                WebhookSettings(
                    targets=[{"name": "lapor", "url": f"{sink.url}/hook", "secret": secret}]
                ),
                client,
            )
            hook = OutboundMessage(
                key="e1:webhook:webhook:lapor",
                event_type="ticket.routed",
                address="webhook:lapor",
                subject="",
                text="",
                data={"event_type": "ticket.routed", "tracking_code": "LP-7K4M-Q9XZ"},
            )
            await send_within_limits(webhook, hook)
            sink.configure(delay_ms=1500)
            slow = GatewayChannel(
                "sms",
                GatewaySettings(transport="http", url=f"{sink.url}/sms", timeout_seconds=0.3),
                client,
            )
            started = time.monotonic()
            with pytest.raises(DeliveryFailed, match="no answer within") as failed:
                await send_within_limits(slow, MESSAGE)
            assert not failed.value.permanent and time.monotonic() - started < 1.4
    finally:
        sink.stop()
    sms, signed = sink.messages()[:2]
    assert sms["headers"]["X-Api-Key"] == "kunci"
    assert sms["body"] == {
        "to": "warga@example.com",
        "message": MESSAGE.text,
        "reference": MESSAGE.key,
        "channel": "sms",
    }
    assert signed["key"] == hook.key and signed["signature_valid"] is True
    assert signed["body"] == hook.data
