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
    idempotency_window_hours: int = Field(default=24, ge=1)
    duplicate_window_minutes: int = Field(default=30, ge=0)
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
