"""Routing settings (env prefix ROUTING_, shared names also unprefixed)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared import signing
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
    # goes to triage (at least as long as housekeeping's 5 minutes for stale ones).
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
    # Signs staff tokens (Ed25519, base64url; ROUTING_AUTH_PRIVATE_KEY, routing only): its
    # public half is AUTH_PUBLIC_KEY, which every service verifies with.
    auth_private_key: str = signing.DEV_AUTH_PRIVATE_KEY
    # A console session ends this long after its sign-in, however active (the cookie itself
    # is renewed on every page and lapses after AUTH_TOKEN_TTL_SECONDS idle).
    console_session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    # A start-up step that keeps failing this long makes /healthz fail too, so that the
    # orchestrator restarts the process instead of keeping one that is live but never ready.
    startup_timeout_s: float = Field(default=300.0, gt=0)

    # Related complaints (docs/clusters.md): the router proposes a cluster for a routed ticket
    # whose problem words are this alike (0-1) to an open one of the same OPD and place,
    # submitted within the window; places match by desa, or by coordinates this close.
    cluster_proposals: bool = True
    cluster_threshold: float = Field(default=0.45, gt=0, le=1)
    cluster_window_days: int = Field(default=14, ge=1, le=90)
    cluster_distance_m: float = Field(default=400.0, gt=0, le=5000)

    def signing_private_key(self) -> str | None:
        return self.auth_private_key

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.auth_private_key == signing.DEV_AUTH_PRIVATE_KEY:
            problems.append(
                "ROUTING_AUTH_PRIVATE_KEY must be set (python -m shared.signing keygen)"
            )
        else:
            try:
                matches = signing.public_of(self.auth_private_key) == self.auth_public_key
            except signing.InvalidKey as exc:
                problems.append(str(exc))
            else:
                if not matches:
                    problems.append("ROUTING_AUTH_PRIVATE_KEY does not match AUTH_PUBLIC_KEY")
        if self.seed_dev_accounts:
            problems.append(
                "ROUTING_SEED_DEV_ACCOUNTS must be off: dev accounts have known passwords"
            )
        return problems
