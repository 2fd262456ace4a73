"""The Kafka security settings: what each service's clients are given, and what is refused
(the clients against a real SASL broker: tests/integration/test_kafka_sasl.py)."""

from __future__ import annotations

import ssl

import pytest
from pydantic import ValidationError

from services.intake.settings import IntakeSettings
from services.notify.settings import NotifySettings
from services.routing.settings import RoutingSettings
from shared.kafka_connection import (
    KafkaConnection,
    SecurityProtocol,
    connection,
    from_environment,
)
from shared.signing import generate


def test_plaintext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "b:9092")
    options = IntakeSettings().kafka().options()
    assert options == {"bootstrap_servers": "b:9092", "security_protocol": "PLAINTEXT"}
    assert connection("b:9092") == KafkaConnection("b:9092")


def test_each_service_takes_its_own_principal_and_shares_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "b:9092")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    for prefix in ("INTAKE", "ROUTING", "NOTIFY"):
        monkeypatch.setenv(f"{prefix}_KAFKA_SASL_USERNAME", prefix.lower())
        monkeypatch.setenv(f"{prefix}_KAFKA_SASL_PASSWORD", f"{prefix.lower()}-secret")
    for cls, user in ((IntakeSettings, "intake"), (RoutingSettings, "routing")):
        options = cls().kafka().options()
        assert options["security_protocol"] == "SASL_SSL"
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["sasl_plain_username"] == user
        assert options["sasl_plain_password"] == f"{user}-secret"
        context = options["ssl_context"]
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    kafka = NotifySettings().kafka()
    assert "notify-secret" not in str(kafka) and "notify-secret" not in repr(kafka)
    assert str(kafka) == "b:9092 over SASL_SSL as notify (SCRAM-SHA-512)"


def test_sasl_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        IntakeSettings()
    assert not KafkaConnection("b:1", security_protocol=SecurityProtocol.SSL).problems()


def test_production_refuses_plain_passwords_in_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    _, public = generate()
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("AUTH_SECRET", "x" * 40)
    monkeypatch.setenv("AUTH_PUBLIC_KEY", public)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "intake")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "intake-secret")
    monkeypatch.setenv("INTAKE_WHATSAPP__ENABLED", "false")
    monkeypatch.setenv("INTAKE_SMS__ENABLED", "false")
    with pytest.raises(ValidationError, match="PLAIN needs SASL_SSL"):
        IntakeSettings()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    assert IntakeSettings().kafka().uses_tls


def test_operators_tools_read_the_unprefixed_names() -> None:
    env = {
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_USERNAME": "operator",
        "KAFKA_SASL_PASSWORD": "operator-secret",
        "ENVIRONMENT": "production",  # no service settings are read, so nothing else is needed
    }
    kafka = from_environment("b:9092", env)
    assert kafka.options()["sasl_plain_username"] == "operator"
    assert kafka.options()["sasl_mechanism"] == "SCRAM-SHA-512"
    assert from_environment("b:9092", {}) == KafkaConnection("b:9092")
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        from_environment("b:9092", {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
