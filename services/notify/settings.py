"""Notify settings (env prefix NOTIFY_, shared names also unprefixed)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_")
    service_name: ClassVar[str] = "notify"

    port: int = 8003
    consumer_group: str = "notify"
