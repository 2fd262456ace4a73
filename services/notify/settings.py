"""Notify settings (env prefix NOTIFY_, nested groups with "__", shared names also unprefixed).

Examples: `NOTIFY_EMAIL__TRANSPORT=smtp`, `NOTIFY_EMAIL__HOST=mail.example.go.id`,
`NOTIFY_WHATSAPP__URL=https://gateway.example/send`, `NOTIFY_RETRY__MAX_ATTEMPTS=8`,
`NOTIFY_WEBHOOK__TARGETS='[{"name": "lapor", "url": "https://…", "secret": "…"}]'`.
"""

from __future__ import annotations

import json
from typing import ClassVar, Literal, Self

from jinja2 import Environment, StrictUndefined, TemplateError
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

Language = Literal["id", "en"]

# What a generic JSON-over-HTTPS gateway receives; `to`, `text`, `subject`, `key` and
# `channel` are available, and `tojson` quotes a value as a JSON string.
DEFAULT_GATEWAY_BODY = (
    '{"to": {{ to|tojson }}, "message": {{ text|tojson }}, '
    '"reference": {{ key|tojson }}, "channel": {{ channel|tojson }}}'
)
MIN_WEBHOOK_SECRET = 16


class ChannelLimits(BaseModel):
    """What every channel has: a timeout per send, a rate limit and parallel senders."""

    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    rate_per_second: float = Field(default=10.0, gt=0)
    burst: int = Field(default=10, ge=1)
    concurrency: int = Field(default=2, ge=1, le=32)


class EmailSettings(ChannelLimits):
    """Email over SMTP; `log` writes a masked line instead (development only)."""

    transport: Literal["smtp", "log", "off"] = "log"
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    # none: plain SMTP; starttls: upgrade on the same port (587); tls: implicit TLS (465)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "Layanan Pengaduan <pengaduan@serangkab.go.id>"
    reply_to: str | None = None
    message_id_domain: str = "pengaduan.serangkab.go.id"
    # A CA bundle to trust besides the system's (a relay with a private certificate).
    ca_file: str | None = None


class GatewaySettings(ChannelLimits):
    """A generic JSON-over-HTTPS provider (WhatsApp or SMS); `log` is development only."""

    transport: Literal["http", "log", "off"] = "log"
    url: str = ""
    auth_header: str = "Authorization"
    auth_value: SecretStr | None = None
    idempotency_header: str = "Idempotency-Key"
    body_template: str = DEFAULT_GATEWAY_BODY

    @field_validator("body_template")
    @classmethod
    def _renders_json(cls, value: str) -> str:
        """Refuse at start a template that does not give JSON for a sample message."""
        try:
            env = Environment(autoescape=False, undefined=StrictUndefined)  # noqa: S701 (JSON)
            sample = env.from_string(value).render(
                to="+628123456789", text='Teks "uji"\n<b>', subject="s", key="k", channel="sms"
            )
            json.loads(sample)
        except (TemplateError, ValueError) as exc:
            raise ValueError(f"body_template does not render JSON: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _url_when_http(self) -> Self:
        if self.transport == "http" and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL when transport is http")
        return self


class WebhookTarget(BaseModel):
    """Another government system that receives ticket events, signed with its own secret."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr
    events: list[str] = Field(default_factory=list)  # empty: every event type

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookSettings(ChannelLimits):
    targets: list[WebhookTarget] = Field(default_factory=list)
    signature_header: str = "X-Pengaduan-Signature"


class RetrySettings(BaseModel):
    """Failed sends: exponential backoff with jitter up to `max_attempts`, then dead."""

    max_attempts: int = Field(default=6, ge=1, le=50)
    base_seconds: float = Field(default=30.0, gt=0)
    max_seconds: float = Field(default=3600.0, gt=0)
    # A sender holds a record this long; longer than any send may take (timeouts + margin).
    lease_seconds: float = Field(default=120.0, gt=0)
    poll_seconds: float = Field(default=2.0, gt=0)


class DigestSettings(BaseModel):
    """Officers who chose a daily digest get one message a day at `hour` (local time)."""

    hour: int = Field(default=7, ge=0, le=23)
    poll_seconds: float = Field(default=60.0, gt=0)


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_")
    service_name: ClassVar[str] = "notify"

    port: int = 8003
    consumer_group: str = "notify"
    # Links in messages: the citizen's tracking page is under `public_base_url` (intake, a
    # shared setting); the officers' console under `console_base_url` (routing).
    console_base_url: str = "http://127.0.0.1:8002"
    default_language: Language = "id"
    timezone: str = "Asia/Jakarta"
    organisation: str = "Pemerintah Kabupaten Serang"

    email: EmailSettings = Field(default_factory=EmailSettings)
    whatsapp: GatewaySettings = Field(default_factory=GatewaySettings)
    sms: GatewaySettings = Field(default_factory=lambda: GatewaySettings(transport="off"))
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)

    @model_validator(mode="after")
    def _lease_outlasts_sends(self) -> Self:
        used: list[ChannelLimits] = [
            getattr(self, name)
            for name in ("email", "whatsapp", "sms")
            if getattr(self, name).transport != "off"
        ]
        if self.webhook.targets:
            used.append(self.webhook)
        if any(self.retry.lease_seconds <= c.timeout_seconds for c in used):
            raise ValueError("retry.lease_seconds must be longer than every channel's timeout")
        names = [t.name for t in self.webhook.targets]
        if len(names) != len(set(names)):
            raise ValueError("webhook target names must be unique")
        return self

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        for name in ("email", "whatsapp", "sms"):
            if getattr(self, name).transport == "log":
                problems.append(
                    f"NOTIFY_{name.upper()}__TRANSPORT is log: configure the channel or set off"
                )
        for target in self.webhook.targets:
            if len(target.secret.get_secret_value()) < MIN_WEBHOOK_SECRET:
                problems.append(
                    f"webhook {target.name}: secret needs at least {MIN_WEBHOOK_SECRET} characters"
                )
        return problems

    def enabled_channels(self) -> frozenset[str]:
        """Channels a person can be reached on (webhooks are for systems, not people)."""
        return frozenset(
            name for name in ("email", "whatsapp", "sms") if getattr(self, name).transport != "off"
        )
