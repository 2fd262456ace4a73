"""Intake settings (env prefix INTAKE_, shared names also unprefixed)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

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
    rate_limit_per_minute: int = Field(default=60, ge=1)
    # Take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    trust_forwarded_for: bool = False
    idempotency_window_hours: int = Field(default=24, ge=1)
    duplicate_window_minutes: int = Field(default=30, ge=0)
    photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    photo_max_count: int = Field(default=3, ge=0)
    # A box around the kabupaten (Kabupaten Serang by default, with a margin): lat/lon outside it
    # is refused as a likely mistake.
    bounds_lat: tuple[float, float] = (-6.50, -5.80)
    bounds_lon: tuple[float, float] = (105.80, 106.60)
    # Open311 GeoReport v2: jurisdiction, search window and limit, discovery texts.
    open311: Open311Settings = Field(default_factory=Open311Settings)
    statistics: StatisticsSettings = Field(default_factory=StatisticsSettings)
