"""One settings base for every service: shared infrastructure names plus a per-service prefix."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import signing
from shared.kafka_connection import KafkaConnection, SaslMechanism, SecurityProtocol
from shared.slow_clients import HttpServerSettings
from shared.workdays import WorkCalendar

DEV_AUTH_SECRET = "dev-only-secret-change-me-0123456789abcdef"
DEV_OPEN311_API_KEY = "dev-open311-key"

# Settings every service reads under its own prefix first, then without a prefix, so that
# one KAFKA_BOOTSTRAP_SERVERS or MONGODB_URL points the whole system elsewhere.
SHARED_FIELDS = (
    "environment",
    "mongodb_url",
    "mongodb_database",
    "kafka_bootstrap_servers",
    "auth_secret",
    "auth_public_key",
    "log_level",
    "auth_token_ttl_seconds",
    "holidays_extra",
    "public_base_url",
    "contact_retention_days",
    "forwarded_allow_ips",
    "tracing_otlp_endpoint",
    "tracing_sample_ratio",
    "kafka_security_protocol",
    "kafka_sasl_mechanism",
    "kafka_sasl_username",
    "kafka_sasl_password",
    "kafka_ssl_cafile",
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """Base of each service's settings; subclasses set `env_prefix` and their port."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")
    service_name: ClassVar[str] = "service"

    environment: Environment = Environment.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str = "pengaduan"
    mongodb_timeout_ms: int = Field(default=3000, ge=100)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Signs the CSRF cookies of the web forms (each service its own; staff tokens are signed
    # with the key pair below, not with this).
    auth_secret: str = DEV_AUTH_SECRET
    # Verifies staff tokens (Ed25519, base64url); routing signs with the matching private key.
    auth_public_key: str = signing.DEV_AUTH_PUBLIC_KEY
    auth_token_ttl_seconds: int = Field(default=1800, ge=60, le=86400)
    max_body_bytes: int = 64 * 1024
    # Cuti bersama and local days off (ISO dates, JSON list); national holidays are built in.
    holidays_extra: list[date] = Field(default_factory=list)
    # Where citizens reach the intake web pages (links in messages and Open311 media_url).
    public_base_url: str = "http://127.0.0.1:8001"
    # Reporter contact is removed this many days after a ticket is closed or rejected (UU 27/2022).
    contact_retention_days: int = Field(default=365, ge=1)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or
    # networks, comma-separated (e.g. the ingress controller's pod CIDR). Empty: nobody's, and
    # the client address is the socket peer. Production refuses "*" (anyone could pick an
    # address and slip past the per-address limits).
    forwarded_allow_ips: str = ""
    # OpenTelemetry traces, exported over OTLP/HTTP to this collector URL (for example
    # http://otel-collector:4318/v1/traces); empty: tracing is off (docs/operations.md).
    tracing_otlp_endpoint: str = ""
    # The share of complaints traced (a trace is kept or dropped whole, from its start).
    tracing_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    # Deadlines and caps for slow HTTP clients (docs/reliability.md, "Slow clients").
    http: HttpServerSettings = Field(default_factory=HttpServerSettings)
    # How the Kafka clients connect (docs/security.md): PLAINTEXT, SSL, SASL_PLAINTEXT or
    # SASL_SSL (production: SASL_SSL).
    kafka_security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    # With SASL_*: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    kafka_sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    # With SASL_*: this service's Kafka principal and its password (one principal per service,
    # for its ACLs: set them with the service's prefix, e.g. INTAKE_KAFKA_SASL_USERNAME).
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    # With SSL/SASL_SSL: a PEM file of the CA that signed the brokers' certificates (empty: the
    # system's CAs). Host names are verified.
    kafka_ssl_cafile: str = ""

    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.holidays_extra)

    @model_validator(mode="before")
    @classmethod
    def _fall_back_to_unprefixed(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name in SHARED_FIELDS:
            if name not in data and name.upper() in os.environ:
                value = os.environ[name.upper()]
                if value.lstrip().startswith(("[", "{")):
                    # Complex values come as JSON, as pydantic-settings reads prefixed ones.
                    with contextlib.suppress(json.JSONDecodeError):
                        value = json.loads(value)
                data[name] = value
        return data

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            problems = self.production_problems()
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        """What in these settings is only fit for development."""
        problems = []
        if self.auth_secret == DEV_AUTH_SECRET or len(self.auth_secret) < 32:
            problems.append("AUTH_SECRET must be set to a secret of at least 32 characters")
        if self.auth_public_key == signing.DEV_AUTH_PUBLIC_KEY:
            problems.append("AUTH_PUBLIC_KEY must be set (python -m shared.signing keygen)")
        if "*" in self.trusted_proxies():
            problems.append("FORWARDED_ALLOW_IPS must name the proxies' addresses, not *")
        kafka = self.kafka()
        if kafka.uses_sasl and not kafka.uses_tls and kafka.sasl_mechanism is SaslMechanism.PLAIN:
            problems.append("KAFKA_SASL_MECHANISM=PLAIN needs SASL_SSL: it sends the password")
        return problems

    @model_validator(mode="after")
    def _kafka_usable(self) -> Self:
        problems = self.kafka().problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def kafka(self) -> KafkaConnection:
        """How this service's Kafka clients connect (shared/kafka_connection.py)."""
        return KafkaConnection(
            self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password.get_secret_value(),
            ca_file=self.kafka_ssl_cafile,
        )

    def signing_private_key(self) -> str | None:
        """The token signing key; only routing's settings hold one."""
        return None

    def trusted_proxies(self) -> list[str]:
        """The addresses and networks of FORWARDED_ALLOW_IPS, as a list."""
        return [p.strip() for p in self.forwarded_allow_ips.split(",") if p.strip()]

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION
