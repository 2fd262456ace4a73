"""Outbound channels behind one interface: email over SMTP, JSON gateways for WhatsApp and SMS,
signed webhooks, and a log channel. Each passes the delivery key on, so the receiving side can
drop a repeat: email `Message-ID`, the gateway's idempotency header, the webhook's delivery id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import aiosmtplib
import httpx
from jinja2 import Environment, StrictUndefined

from services.notify.recipients import Channel as ChannelName
from services.notify.recipients import mask
from services.notify.settings import (
    ChannelLimits,
    EmailSettings,
    GatewayBase,
    NotifySettings,
    SmsSettings,
    WebhookSettings,
    WhatsAppSettings,
)
from shared import metrics as shared_metrics

log = logging.getLogger(__name__)

DELIVERY_HEADER = "X-Pengaduan-Delivery"
EVENT_HEADER = "X-Pengaduan-Event"


class DeliveryFailed(Exception):
    """A send that did not go through; `permanent` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = scrub(reason)[:500]
        self.permanent = permanent


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s-]{7,}\d")


def scrub(text: str) -> str:
    """Mask contacts inside an error text (servers like to quote the rejected address)."""
    text = _EMAIL.sub(lambda m: mask(m.group(0)), text)
    return _PHONE.sub(lambda m: mask(m.group(0)), text)


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message on its way out; `data` is a webhook's JSON body."""

    key: str
    event_type: str
    address: str
    subject: str
    text: str
    html: str | None = None
    data: dict[str, Any] | None = None


class RateLimiter:
    """A token bucket: `rate` sends per second on average, up to `burst` at once."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)


@dataclass
class Limits:
    """A channel's timeout per send, its rate limit and how many senders work on it."""

    timeout_s: float = 10.0
    limiter: RateLimiter | None = None
    concurrency: int = 1

    @classmethod
    def of(cls, settings: ChannelLimits) -> Limits:
        return cls(
            timeout_s=settings.timeout_seconds,
            limiter=RateLimiter(settings.rate_per_second, settings.burst),
            concurrency=settings.concurrency,
        )


class Channel(Protocol):
    name: str
    limits: Limits

    async def send(self, message: OutboundMessage) -> None:
        """Deliver one message or raise `DeliveryFailed`."""


async def send_within_limits(channel: Channel, message: OutboundMessage) -> None:
    """Wait for the rate limit, then send within the channel's timeout."""
    if channel.limits.limiter is not None:
        await channel.limits.limiter.acquire()
    started = time.perf_counter()
    outcome = "failed"
    try:
        async with asyncio.timeout(channel.limits.timeout_s):
            await channel.send(message)
        outcome = "sent"
    except TimeoutError as exc:
        raise DeliveryFailed(f"no answer within {channel.limits.timeout_s:g}s") from exc
    finally:
        shared_metrics.NOTIFICATION_SEND_SECONDS.labels(channel.name, outcome).observe(
            time.perf_counter() - started
        )


@dataclass
class LogChannel:
    """Writes a line per message (address masked): for development, and for the record kept
    when nobody of a group can be reached."""

    name: str = ChannelName.LOG
    limits: Limits = field(default_factory=Limits)

    async def send(self, message: OutboundMessage) -> None:
        log.info(
            "%s message %s to %s: %s",
            self.name,
            message.key,
            mask(message.address),
            message.subject,
        )


def message_id(key: str, domain: str) -> str:
    """A Message-ID derived from the delivery key: a resend carries the same one."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


class EmailChannel:
    """Email over SMTP: plain text with an HTML alternative; STARTTLS or TLS when configured."""

    name: str = ChannelName.EMAIL

    def __init__(self, settings: EmailSettings) -> None:
        self._settings = settings
        self.limits = Limits.of(settings)

    def build(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._settings.sender
        email["To"] = message.address
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = message_id(message.key, self._settings.message_id_domain)
        email[DELIVERY_HEADER] = message.key
        email[EVENT_HEADER] = message.event_type
        email["Auto-Submitted"] = "auto-generated"
        if self._settings.reply_to:
            email["Reply-To"] = self._settings.reply_to
        email.set_content(message.text)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    async def send(self, message: OutboundMessage) -> None:
        s = self._settings
        try:
            await aiosmtplib.send(
                self.build(message),
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password.get_secret_value() if s.password else None,
                use_tls=s.security == "tls",
                start_tls=s.security == "starttls",
                cert_bundle=s.ca_file,
                timeout=self.limits.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryFailed(
                f"SMTP refused the recipient: {codes}", permanent=all(c >= 500 for c in codes)
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"SMTP {exc.code}: {exc.message}", permanent=500 <= exc.code < 600
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP {type(exc).__name__}: {exc}") from exc


def _check_response(response: httpx.Response) -> None:
    """2xx is delivered; 408, 425, 429 and 5xx are worth retrying; other answers are not."""
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"HTTP {status}: {response.text[:200]}"
    raise DeliveryFailed(reason, permanent=status not in (408, 425, 429) and status < 500)


async def _post(
    client: httpx.AsyncClient, url: str, *, body: bytes, headers: dict[str, str], timeout_s: float
) -> None:
    try:
        response = await client.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException as exc:
        raise DeliveryFailed(f"no answer within {timeout_s:g}s ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    _check_response(response)


def sms_parts(text: str, limit: int) -> list[str]:
    """A text as SMS parts of at most `limit` characters, split at spaces and numbered
    "(1/3) ..." when it takes more than one; `limit` 0 keeps it whole."""
    if limit <= 0 or len(text) <= limit:
        return [text]
    words = text.split(" ")
    count = 2
    while True:
        width = limit - len(f"({count}/{count}) ")
        parts = _pack(words, width)
        if len(parts) <= count:
            return [f"({i}/{len(parts)}) {part}" for i, part in enumerate(parts, 1)]
        count = len(parts)


def _pack(words: list[str], width: int) -> list[str]:
    parts: list[str] = []
    line = ""
    for word in words:
        while len(word) > width:  # a word longer than a part (a link): cut it
            if line:
                parts.append(line)
                line = ""
            parts.append(word[:width])
            word = word[width:]
        candidate = f"{line} {word}" if line else word
        if len(candidate) > width:
            parts.append(line)
            line = word
        else:
            line = candidate
    if line:
        parts.append(line)
    return parts


class GatewayChannel:
    """A generic JSON-over-HTTPS provider: configurable URL, auth header and body template.

    For SMS (`segment_chars`), a long text is posted as several parts, each with the delivery
    key plus `/<part>` as its idempotency key, so a resend after a partial failure repeats no
    part the provider accepted.
    """

    def __init__(self, name: str, settings: GatewayBase, client: httpx.AsyncClient) -> None:
        self.name = name
        self.limits = Limits.of(settings)
        self._settings = settings
        self._client = client
        self._segment = settings.segment_chars if isinstance(settings, SmsSettings) else 0
        env = Environment(autoescape=False, undefined=StrictUndefined)  # noqa: S701 (JSON)
        self._template = env.from_string(settings.body_template)

    def body(self, message: OutboundMessage, *, text: str | None = None, key: str = "") -> bytes:
        return self._template.render(
            to=message.address,
            text=message.text if text is None else text,
            subject=message.subject,
            key=key or message.key,
            channel=self.name,
        ).encode()

    def parts(self, message: OutboundMessage) -> list[tuple[str, str]]:
        """(idempotency key, text) of each post the message takes."""
        texts = sms_parts(message.text, self._segment)
        if len(texts) == 1:
            return [(message.key, texts[0])]
        return [(f"{message.key}/{i}", text) for i, text in enumerate(texts, 1)]

    async def send(self, message: OutboundMessage) -> None:
        s = self._settings
        for key, text in self.parts(message):
            headers = {"Content-Type": "application/json", s.idempotency_header: key}
            if s.auth_value is not None:
                headers[s.auth_header] = s.auth_value.get_secret_value()
            await _post(
                self._client,
                s.url,
                body=self.body(message, text=text, key=key),
                headers=headers,
                timeout_s=self.limits.timeout_s,
            )


CLOUD_TEXT_MAX = 4096
CLOUD_INTERACTIVE_MAX = 1024
CLOUD_TEMPLATE_PARAMETER_MAX = 1000
_TEMPLATE_SPACES = re.compile(r"\s+")


class CloudApiChannel:
    """WhatsApp Business Cloud API: `POST <api_url>/<phone_number_id>/messages`.

    Free text (with reply buttons when the message has them) inside the 24-hour customer
    service window the message carries; the approved template otherwise. The delivery key goes
    as `biz_opaque_callback_data`, which the platform's status callbacks return.
    """

    name: str = ChannelName.WHATSAPP

    def __init__(
        self,
        settings: WhatsAppSettings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = Limits.of(settings)
        self._settings = settings
        self._client = client
        self._clock = clock
        self._url = f"{settings.api_url.rstrip('/')}/{settings.phone_number_id}/messages"

    def payload(self, message: OutboundMessage) -> dict[str, Any]:
        extras = message.data or {}
        base: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": re.sub(r"[^0-9]", "", message.address),
            "biz_opaque_callback_data": message.key[:512],
        }
        until = extras.get("window_until")
        open_window = bool(until) and datetime.fromisoformat(str(until)).timestamp() > self._clock()
        if not open_window:
            text = _TEMPLATE_SPACES.sub(" ", message.text).strip()[:CLOUD_TEMPLATE_PARAMETER_MAX]
            return base | {
                "type": "template",
                "template": {
                    "name": self._settings.template_name,
                    "language": {"code": self._settings.template_language},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": text}]}
                    ],
                },
            }
        buttons = extras.get("buttons") or []
        if buttons and len(message.text) <= CLOUD_INTERACTIVE_MAX:
            return base | {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": message.text},
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": b["id"], "title": b["title"]}}
                            for b in buttons
                        ]
                    },
                },
            }
        return base | {
            "type": "text",
            "text": {"body": message.text[:CLOUD_TEXT_MAX], "preview_url": False},
        }

    async def send(self, message: OutboundMessage) -> None:
        s = self._settings
        token = s.access_token.get_secret_value() if s.access_token else ""
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            s.idempotency_header: message.key,
        }
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        await _post(
            self._client, self._url, body=body, headers=headers, timeout_s=self.limits.timeout_s
        )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>`, hex: what a receiver recomputes."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(
    header: str, *, secret: str, body: bytes, now: float, tolerance_s: float = 300
) -> bool:
    """Check a `t=<unix time>,v1=<hex>` header as a receiver should (also used by tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))


class WebhookChannel:
    """Ticket events to other government systems, signed with each target's secret."""

    name: str = ChannelName.WEBHOOK

    def __init__(
        self,
        settings: WebhookSettings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = Limits.of(settings)
        self._settings = settings
        self._targets = {t.name: t for t in settings.targets}
        self._client = client
        self._clock = clock

    async def send(self, message: OutboundMessage) -> None:
        target = self._targets.get(message.address.removeprefix("webhook:"))
        if target is None:
            raise DeliveryFailed(f"no webhook target {message.address}", permanent=True)
        body = json.dumps(message.data or {}, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        signature = sign(target.secret.get_secret_value(), timestamp, body)
        headers = {
            "Content-Type": "application/json",
            self._settings.signature_header: f"t={timestamp},v1={signature}",
            "Idempotency-Key": message.key,
            DELIVERY_HEADER: message.key,
            EVENT_HEADER: message.event_type,
        }
        await _post(
            self._client, target.url, body=body, headers=headers, timeout_s=self.limits.timeout_s
        )


def build_channels(settings: NotifySettings, client: httpx.AsyncClient) -> dict[str, Channel]:
    """The channels the settings turn on; `log` is always there."""
    channels: dict[str, Channel] = {ChannelName.LOG: LogChannel()}
    if settings.email.transport == "smtp":
        channels[ChannelName.EMAIL] = EmailChannel(settings.email)
    elif settings.email.transport == "log":
        channels[ChannelName.EMAIL] = LogChannel(ChannelName.EMAIL)
    if settings.whatsapp.transport == "cloud":
        channels[ChannelName.WHATSAPP] = CloudApiChannel(settings.whatsapp, client)
    gateways: tuple[tuple[str, GatewayBase], ...] = (
        (ChannelName.WHATSAPP, settings.whatsapp),
        (ChannelName.SMS, settings.sms),
    )
    for name, gateway in gateways:
        if gateway.transport == "http":
            channels[name] = GatewayChannel(name, gateway, client)
        elif gateway.transport == "log":
            channels[name] = LogChannel(name)
    if settings.webhook.targets:
        channels[ChannelName.WEBHOOK] = WebhookChannel(settings.webhook, client)
    return channels
