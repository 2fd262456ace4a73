"""Routing settings (env prefix ROUTING_, shared names also unprefixed)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_")
    service_name: ClassVar[str] = "routing"

    port: int = 8002
    seed_dev_accounts: bool = False
    confidence_threshold: float = Field(default=0.35, ge=0, le=1)
    outbox_poll_interval_s: float = Field(default=2.0, gt=0)
    # The relay learns of new events from the writes; this sweep finds events left behind by
    # a process that stopped before publishing them (it reads the whole tickets collection).
    outbox_sweep_interval_s: float = Field(default=3600.0, gt=0)
    consumer_group: str = "routing"
    retrain_interval_s: float = Field(default=300.0, gt=0)
    # Where the trained packaged model is kept (services/routing/model_cache.py); None: the
    # default cache, ~/.cache/layanan-pengaduan/models.
    model_cache_dir: Path | None = None

    @field_validator("model_cache_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if value == "" else value

    deadline_interval_s: float = Field(default=60.0, gt=0)
    # A chat ticket the router is unsure of waits this long for its citizen's choice, then
    # goes to triage (at least as long as the deadline scheduler's 5 minutes for stale ones).
    chat_choice_timeout_minutes: int = Field(default=60, ge=5, le=24 * 60)
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    # Sign-in attempts from one address (all usernames) within login_lock_minutes: against
    # password spraying over the predictable usernames; an office's officers share one address.
    login_max_failures_per_address: int = Field(default=30, ge=1)
    # argon2 hashes at once (64 MiB each) and how many may wait; beyond that 503.
    password_hashing_concurrency: int = Field(default=1, ge=1, le=8)
    password_hashing_max_waiting: int = Field(default=32, ge=1)
    # Run the statistics projection's consumer (docs/statistics.md); off only where another
    # process keeps the statistics, or in tests of other parts.
    statistics_consumer: bool = True
    # How often pengaduan_tickets, pengaduan_tickets_overdue and pengaduan_opd_unreachable are
    # counted (one aggregate over the tickets each time, never one per scrape).
    ops_count_interval_s: float = Field(default=60.0, gt=0)
    # Who the monthly reports are from (their heading).
    report_organisation: str = "Pemerintah Kabupaten Serang"

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.seed_dev_accounts:
            problems.append(
                "ROUTING_SEED_DEV_ACCOUNTS must be off: dev accounts have known passwords"
            )
        return problems
