"""Intake settings (env prefix INTAKE_, shared names also unprefixed)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_")
    service_name: ClassVar[str] = "intake"

    port: int = 8001
    tracking_prefix: str = Field(default="LP", pattern=r"^[A-Z]{1,4}$")
    outbox_poll_interval_s: float = Field(default=2.0, gt=0)
