"""How the services reach Kafka: the bootstrap servers and, in production, SASL and TLS.

Every aiokafka client the services create (producers, consumers, admin clients) takes its
options from one `KafkaConnection`, built from the settings (`ServiceSettings.kafka()`):
plaintext by default, `SASL_SSL` with SCRAM-SHA-512 in production (docs/security.md).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import (
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.helpers import create_ssl_context


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    username: str = ""
    password: str = field(default="", repr=False)
    # PEM file of the CA that signed the brokers' certificates; empty: the system's CAs.
    ca_file: str = ""

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol in (
            SecurityProtocol.SASL_PLAINTEXT,
            SecurityProtocol.SASL_SSL,
        )

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)

    def problems(self) -> list[str]:
        """What makes these settings unusable (checked when the settings are read)."""
        if self.uses_sasl and not (self.username and self.password):
            return [f"KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are needed for {self}"]
        return []

    def options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        found: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol.value,
        }
        if self.uses_tls:
            found["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            found["sasl_mechanism"] = self.sasl_mechanism.value
            found["sasl_plain_username"] = self.username
            found["sasl_plain_password"] = self.password
        return found

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the brokers' certificates and host names (against `ca_file` when set)."""
        context: ssl.SSLContext = (
            create_ssl_context(cafile=self.ca_file) if self.ca_file else create_ssl_context()
        )
        return context

    def __str__(self) -> str:
        """For logs and errors: never the password."""
        who = f" as {self.username} ({self.sasl_mechanism.value})" if self.uses_sasl else ""
        return f"{self.bootstrap_servers} over {self.security_protocol.value}{who}"


def from_environment(bootstrap_servers: str, env: Mapping[str, str]) -> KafkaConnection:
    """A connection from the unprefixed settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CAFILE), for operators' tools that
    have no service settings of their own."""
    found = KafkaConnection(
        bootstrap_servers,
        security_protocol=SecurityProtocol(env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")),
        sasl_mechanism=SaslMechanism(env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")),
        username=env.get("KAFKA_SASL_USERNAME", ""),
        password=env.get("KAFKA_SASL_PASSWORD", ""),
        ca_file=env.get("KAFKA_SSL_CAFILE", ""),
    )
    problems = found.problems()
    if problems:
        raise ValueError("; ".join(problems))
    return found


def connection(kafka: str | KafkaConnection) -> KafkaConnection:
    """A plain bootstrap address (tests, devstack, tools) is a plaintext connection."""
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(kafka)


class KafkaRefused(KafkaConnectionError):  # type: ignore[misc]  # aiokafka is untyped
    """The brokers refused this client's SASL credentials (or mechanism)."""


async def refusal(kafka: KafkaConnection, *, timeout_s: float = 10.0) -> str | None:
    """Why the first bootstrap server refuses these credentials; None when it accepts them, or
    cannot be reached at all. (aiokafka reports a refused sign-in only as a bootstrap failure,
    which reads like an unreachable broker.)"""
    if not kafka.uses_sasl:
        return None
    host, _, port = kafka.bootstrap_servers.split(",")[0].strip().rpartition(":")
    options = kafka.options()
    del options["bootstrap_servers"]
    try:
        async with asyncio.timeout(timeout_s):
            conn = await create_conn(host, int(port), request_timeout_ms=5000, **options)
    except (SaslAuthenticationFailed, UnsupportedSaslMechanismError, IllegalSaslStateError) as exc:
        return (
            f"Kafka refused the SASL sign-in of {kafka}: {exc}. Check KAFKA_SASL_USERNAME, "
            "KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM (docs/security.md)."
        )
    except (OSError, KafkaError, TimeoutError, ValueError):
        return None
    conn.close()
    return None


async def raise_if_refused(kafka: KafkaConnection, exc: BaseException) -> None:
    """After a client failed to start: KafkaRefused, naming the cause, when it was the
    credentials."""
    if isinstance(exc, KafkaConnectionError) and not isinstance(exc, KafkaRefused):
        reason = await refusal(kafka)
        if reason is not None:
            raise KafkaRefused(reason) from exc
