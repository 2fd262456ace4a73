"""Intake settings (env prefix INTAKE_, shared names also unprefixed)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.chat import DEV_WHATSAPP_ACCESS_TOKEN
from shared.settings import ServiceSettings


class Open311Settings(BaseModel):
    """Open311 GeoReport v2 (docs/open311.md); env e.g. INTAKE_OPEN311__JURISDICTION_ID."""

    # The spec suggests the jurisdiction's web domain; a request naming another one is a 404.
    jurisdiction_id: str = "serangkab.go.id"
    # GET requests without dates cover the last this many days; no date range may span more.
    window_days: int = Field(default=90, ge=1, le=366)
    max_requests: int = Field(default=1000, ge=1, le=10000)
    contact: str = (
        "Admin koordinator Layanan Pengaduan, Diskominfosatik Kabupaten Serang "
        "(Complaint service coordinator)"
    )
    key_service: str = (
        "Kunci API diterbitkan per aplikasi oleh admin koordinator; hubungi kontak di atas. "
        "(API keys are issued per client application by the coordinator.)"
    )


# Development secrets of the chat webhooks (docs/whatsapp.md); production refuses them.
DEV_WHATSAPP_VERIFY_TOKEN = "dev-whatsapp-verify-token"
DEV_WHATSAPP_APP_SECRET = "dev-whatsapp-app-secret"
DEV_SMS_SECRET = "dev-sms-secret"
MIN_CHAT_SECRET = 16


class WhatsAppSettings(BaseModel):
    """The WhatsApp Business Cloud API webhook; env e.g. INTAKE_WHATSAPP__APP_SECRET."""

    enabled: bool = True
    # The token typed into the app dashboard's webhook form; echoed check of the handshake.
    verify_token: SecretStr = SecretStr(DEV_WHATSAPP_VERIFY_TOKEN)
    # The Meta app's secret: X-Hub-Signature-256 is HMAC-SHA256 of the raw body with it.
    app_secret: SecretStr = SecretStr(DEV_WHATSAPP_APP_SECRET)
    # Photos are fetched from the Graph API: GET <graph_url>/<media id>, then its URL.
    graph_url: str = Field(default="https://graph.facebook.com/v21.0", pattern=r"^https?://")
    access_token: SecretStr | None = None
    media_timeout_seconds: float = Field(default=10.0, gt=0, le=60)


class SmsSettings(BaseModel):
    """An SMS gateway's webhook; env e.g. INTAKE_SMS__SECRET."""

    enabled: bool = True
    # Sent by the gateway in the header X-Sms-Secret (or a `secret` field).
    secret: SecretStr = SecretStr(DEV_SMS_SECRET)


class ChatSettings(BaseModel):
    """The conversation on both channels; env e.g. INTAKE_CHAT__DRAFT_TIMEOUT_MINUTES."""

    # A draft left alone this long is dropped at the next message.
    draft_timeout_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    # How the welcome names the government.
    organisation: str = "Kabupaten Serang"


class StatisticsSettings(BaseModel):
    """The public statistics and open data (docs/statistics.md); env INTAKE_STATISTICS__<NAME>."""

    publisher: str = "Pemerintah Kabupaten Serang"
    licence_id: str = "CC-BY-4.0"
    licence_name: str = "Creative Commons Attribution 4.0 International"
    licence_url: str = "https://creativecommons.org/licenses/by/4.0/"
    # Without a month filter, the page and the data cover this many months up to this one.
    recent_months: int = Field(default=12, ge=1, le=60)
    # The month summaries are re-read at most this often (a page view costs no query).
    cache_seconds: float = Field(default=60.0, ge=0)


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_")
    service_name: ClassVar[str] = "intake"

    port: int = 8001
    tracking_prefix: str = Field(default="LP", pattern=r"^[A-Z]{1,4}$")
    outbox_poll_interval_s: float = Field(default=2.0, gt=0)
    # The relay learns of new events from the writes; this sweep finds events left behind by
    # a process that stopped before publishing them (it reads the whole tickets collection).
    outbox_sweep_interval_s: float = Field(default=3600.0, gt=0)
    rate_limit_per_minute: int = Field(default=60, ge=1)
    # "Dukung laporan ini" from one address per minute (within the limit above too).
    support_per_minute: int = Field(default=10, ge=1)
    idempotency_window_hours: int = Field(default=24, ge=1)
    duplicate_window_minutes: int = Field(default=30, ge=0)
    # The canary files a synthetic complaint this often (docs/operations.md); 0: off.
    canary_interval_s: float = Field(default=0.0, ge=0)
    photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    photo_max_count: int = Field(default=3, ge=0)
    # Untrusted images: more pixels than this are refused (413) before decoding; stored photos
    # are at most photo_max_side wide and high; at most photo_decoders decode at once (each
    # needs up to ~4 bytes per pixel) and photo_uploads_in_flight wait for it, beyond that 503.
    photo_max_pixels: int = Field(default=16_000_000, ge=10_000, le=16_000_000)
    photo_max_side: int = Field(default=2560, ge=320, le=8192)
    photo_decoders: int = Field(default=1, ge=1, le=8)
    photo_uploads_in_flight: int = Field(default=8, ge=1, le=64)
    # A box around the kabupaten (Kabupaten Serang by default, with a margin): lat/lon outside it
    # is refused as a likely mistake.
    bounds_lat: tuple[float, float] = (-6.50, -5.80)
    bounds_lon: tuple[float, float] = (105.80, 106.60)
    # Open311 GeoReport v2: jurisdiction, search window and limit, discovery texts.
    open311: Open311Settings = Field(default_factory=Open311Settings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    statistics: StatisticsSettings = Field(default_factory=StatisticsSettings)

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        wa = self.whatsapp
        if wa.enabled:
            for name, value, dev in (
                ("VERIFY_TOKEN", wa.verify_token, DEV_WHATSAPP_VERIFY_TOKEN),
                ("APP_SECRET", wa.app_secret, DEV_WHATSAPP_APP_SECRET),
            ):
                if (
                    value.get_secret_value() == dev
                    or len(value.get_secret_value()) < MIN_CHAT_SECRET
                ):
                    problems.append(
                        f"INTAKE_WHATSAPP__{name} must be set (at least {MIN_CHAT_SECRET} "
                        "characters), or INTAKE_WHATSAPP__ENABLED=false"
                    )
            token = wa.access_token.get_secret_value() if wa.access_token else None
            if token in (None, DEV_WHATSAPP_ACCESS_TOKEN):
                problems.append(
                    "INTAKE_WHATSAPP__ACCESS_TOKEN must be set to fetch photos, "
                    "or INTAKE_WHATSAPP__ENABLED=false"
                )
        secret = self.sms.secret.get_secret_value()
        if self.sms.enabled and (secret == DEV_SMS_SECRET or len(secret) < MIN_CHAT_SECRET):
            problems.append(
                f"INTAKE_SMS__SECRET must be set (at least {MIN_CHAT_SECRET} characters), "
                "or INTAKE_SMS__ENABLED=false"
            )
        return problems
