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

from shared.chat import DEV_WHATSAPP_ACCESS_TOKEN
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


class GatewayBase(ChannelLimits):
    """A generic JSON-over-HTTPS provider (WhatsApp or SMS); `log` is development only."""

    transport: str = "log"
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


class GatewaySettings(GatewayBase):
    transport: Literal["http", "log", "off"] = "log"


class WhatsAppSettings(GatewayBase):
    """WhatsApp: the Business Cloud API (`cloud`), or a generic JSON gateway (`http`).

    `cloud` posts the platform's send format to `<api_url>/<phone_number_id>/messages` with the
    access token. Inside the 24-hour customer service window (from the citizen's last message)
    a reply is free text, with reply buttons where the message has them; outside it the message
    goes as the approved template `template_name` with the text as its one body parameter.
    """

    transport: Literal["cloud", "http", "log", "off"] = "log"
    api_url: str = Field(default="https://graph.facebook.com/v21.0", pattern=r"^https?://")
    phone_number_id: str = ""
    access_token: SecretStr | None = None
    template_name: str = Field(default="pengaduan_pembaruan", pattern=r"^[a-z0-9_]{1,512}$")
    template_language: str = "id"

    @model_validator(mode="after")
    def _cloud_needs_a_number(self) -> Self:
        if self.transport == "cloud" and not (self.phone_number_id and self.access_token):
            raise ValueError("transport cloud needs phone_number_id and access_token")
        return self


class SmsSettings(GatewaySettings):
    """SMS through a generic JSON gateway; a long text goes as several 160-character parts."""

    transport: Literal["http", "log", "off"] = "off"
    # Characters per message: a longer text is split at words into parts "(1/2) ...", each
    # posted with the delivery key plus "/<part>"; 0 posts the text whole.
    segment_chars: int = Field(default=160, ge=0, le=1600)


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


DEV_ONCALL_TOKEN = "dev-oncall-token-0123456789abcdef"
MIN_ONCALL_TOKEN = 24


class OncallSettings(BaseModel):
    """Alertmanager's webhook (`POST /api/v1/alerts/alertmanager`, bearer `token`) sent on to
    the on-call group at `address` over `channel` (docs/operations.md). No token: the endpoint
    answers 503 (switched off)."""

    token: SecretStr | None = None
    channel: Literal["whatsapp", "sms", "email", "log"] = "whatsapp"
    address: str = ""  # the on-call WhatsApp group (what the WhatsApp transport sends `to`)
    max_alerts_listed: int = Field(default=5, ge=1, le=50)

    @field_validator("token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


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
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    oncall: OncallSettings = Field(default_factory=OncallSettings)

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
        token = self.whatsapp.access_token
        if token is not None and token.get_secret_value() == DEV_WHATSAPP_ACCESS_TOKEN:
            problems.append("NOTIFY_WHATSAPP__ACCESS_TOKEN is the development token")
        for name in ("email", "whatsapp", "sms"):
            if getattr(self, name).transport == "log":
                problems.append(
                    f"NOTIFY_{name.upper()}__TRANSPORT is log: configure the channel or set off"
                )
        oncall = self.oncall.token
        if oncall is not None and (
            oncall.get_secret_value() == DEV_ONCALL_TOKEN
            or len(oncall.get_secret_value()) < MIN_ONCALL_TOKEN
        ):
            problems.append(
                f"NOTIFY_ONCALL__TOKEN must be a secret of at least {MIN_ONCALL_TOKEN} characters"
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
