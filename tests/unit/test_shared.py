from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import jwt
import pytest
from pydantic import ValidationError

from services.intake.settings import IntakeSettings
from services.routing.settings import RoutingSettings
from shared.auth import Principal, Role, TokenCodec, hash_password, verify_password
from shared.catalogue import TRIASE, packaged_catalogue
from shared.errors import Unauthorized
from shared.events import Envelope, EventType, TicketRouted, utcnow
from shared.signing import DEV_AUTH_PRIVATE_KEY, DEV_AUTH_PUBLIC_KEY, generate, private_key
from shared.supervise import stop


def test_envelope_round_trips_through_bytes() -> None:
    envelope = TicketRouted(opd="DLH", status="routed", confidence=0.8, model="m").envelope(
        ticket_id="LP-ABCD-EFGH", producer="routing", correlation_id="c"
    )
    again = Envelope.from_bytes(envelope.to_bytes())
    assert again == envelope
    assert again.event_type == EventType.TICKET_ROUTED
    assert again.occurred_at.utcoffset() == timedelta(0)


def test_settings_fall_back_to_unprefixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://elsewhere:27017/")
    monkeypatch.setenv("INTAKE_KAFKA_BOOTSTRAP_SERVERS", "kafka-a:9092")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-b:9092")
    settings = IntakeSettings()
    assert settings.mongodb_url == "mongodb://elsewhere:27017/"
    assert settings.kafka_bootstrap_servers == "kafka-a:9092"


def test_unprefixed_list_settings_are_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLIDAYS_EXTRA", '["2026-12-24", "2026-12-31"]')
    assert [d.isoformat() for d in IntakeSettings().holidays_extra] == ["2026-12-24", "2026-12-31"]
    monkeypatch.setenv("HOLIDAYS_EXTRA", "[]")
    assert RoutingSettings().holidays_extra == []


def test_production_refuses_dev_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="AUTH_SECRET"):
        IntakeSettings()
    monkeypatch.setenv("AUTH_SECRET", "x" * 40)
    with pytest.raises(ValidationError, match="AUTH_PUBLIC_KEY"):
        IntakeSettings()
    private, public = generate()
    monkeypatch.setenv("AUTH_PUBLIC_KEY", public)
    with pytest.raises(ValidationError, match="ROUTING_AUTH_PRIVATE_KEY must be set"):
        RoutingSettings()
    monkeypatch.setenv("ROUTING_AUTH_PRIVATE_KEY", private)
    monkeypatch.setenv("ROUTING_SEED_DEV_ACCOUNTS", "true")
    with pytest.raises(ValidationError, match="SEED_DEV_ACCOUNTS"):
        RoutingSettings()
    monkeypatch.delenv("ROUTING_SEED_DEV_ACCOUNTS")
    assert RoutingSettings().is_production


def test_tokens_carry_role_and_opd_and_refuse_another_key() -> None:
    codec = TokenCodec(DEV_AUTH_PUBLIC_KEY, private=DEV_AUTH_PRIVATE_KEY, ttl_seconds=60)
    principal = Principal(username="dlh", role=Role.OFFICER, opd="DLH", token_version=3)
    verified = codec.verify(codec.issue(principal))
    assert (verified.username, verified.role, verified.opd) == ("dlh", Role.OFFICER, "DLH")
    assert verified.token_version == 3 and verified.signed_in_at is not None
    private, public = generate()
    with pytest.raises(Unauthorized):
        TokenCodec(public, ttl_seconds=60).verify(codec.issue(principal))
    assert TokenCodec(public, private=private, ttl_seconds=60).can_issue


def test_expired_token_is_refused() -> None:
    expired = jwt.encode(
        {
            "iss": "layanan-pengaduan",
            "sub": "admin",
            "role": "admin",
            "iat": utcnow() - timedelta(seconds=65),
            "exp": utcnow() - timedelta(seconds=5),
        },
        private_key(DEV_AUTH_PRIVATE_KEY),
        algorithm="EdDSA",
    )
    with pytest.raises(Unauthorized):
        TokenCodec(DEV_AUTH_PUBLIC_KEY, ttl_seconds=60).verify(expired)


def test_passwords_are_argon2_hashed() -> None:
    hashed = hash_password("officer")
    assert hashed.startswith("$argon2")
    assert verify_password(hashed, "officer")
    assert not verify_password(hashed, "Officer")
    assert not verify_password("not a hash", "officer")


def test_catalogue_has_the_binding_codes() -> None:
    catalogue = packaged_catalogue()
    codes = {o.code for o in catalogue.opds}
    assert {
        "DPUPR",
        "DLH",
        "DISHUB",
        "PDAM",
        "RSUD",
        "KEC-CIRUAS",
        "KEC-LEBAKWANGI",
        "KEC-PULOAMPEL",
    } <= codes
    assert len(catalogue.regions) == 29
    assert all(f"{r.code}" in codes for r in catalogue.regions)
    assert all(c.opd in codes or c.opd == TRIASE for c in catalogue.categories)
    assert catalogue.region("lebak wangi") == catalogue.region("KEC-LEBAKWANGI")


async def test_stop_ends_a_loop_that_swallows_its_first_cancellation() -> None:
    """As a loop does whose driver turns CancelledError into an error the loop retries."""
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(stop([task], retry_s=0.05), timeout=5)
    assert task.cancelled() and swallowed == 1


async def test_stopping_background_tasks_does_not_wait_for_ever() -> None:
    """A task that ignores every cancellation (a library hanging in its own stop) is left
    behind after the timeout; the others are stopped."""

    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await released.wait()

    async def polite() -> None:
        await asyncio.sleep(10)

    hanging, stopping = asyncio.create_task(stubborn()), asyncio.create_task(polite())
    await asyncio.sleep(0)  # both running
    loop = asyncio.get_running_loop()
    started = loop.time()
    await stop([hanging, stopping], retry_s=0.05, timeout_s=0.3)
    assert loop.time() - started < 2
    assert stopping.cancelled() and not hanging.done()
    released.set()
    await hanging
