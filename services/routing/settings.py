"""Routing settings (env prefix ROUTING_, shared names also unprefixed)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_")
    service_name: ClassVar[str] = "routing"

    port: int = 8002
    seed_dev_accounts: bool = False
    confidence_threshold: float = Field(default=0.5, ge=0, le=1)
    outbox_poll_interval_s: float = Field(default=2.0, gt=0)
    consumer_group: str = "routing"
    retrain_interval_s: float = Field(default=300.0, gt=0)
    deadline_interval_s: float = Field(default=60.0, gt=0)
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    # Run the statistics projection's consumer (docs/statistics.md); off only where another
    # process keeps the statistics, or in tests of other parts.
    statistics_consumer: bool = True
    # Who the monthly reports are from (their heading).
    report_organisation: str = "Pemerintah Kabupaten Serang"

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.seed_dev_accounts:
            problems.append(
                "ROUTING_SEED_DEV_ACCOUNTS must be off: dev accounts have known passwords"
            )
        return problems
