"""The services' Kafka clients against a real broker that authenticates (SASL_PLAINTEXT with
SCRAM-SHA-512) and authorises (StandardAuthorizer, no access without an ACL) them, with the
per-service ACLs of docs/security.md (`devstack.kafka_sasl.service_acls`).

Each service's own settings class reads its credentials from the environment, as in
production, and its clients (producer, consume loop, admin checks) do their work; wrong
credentials are refused with an error that says so; the ACLs keep each principal to its
topics."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from devstack.kafka_sasl import SecuredKafka, service_acls
from services.intake.settings import IntakeSettings
from services.notify.settings import NotifySettings
from services.routing.settings import RoutingSettings
from shared import topics
from shared.events import Envelope, EventType
from shared.kafka import ConsumeLoop, KafkaPublisher, ensure_topics, kafka_answers
from shared.kafka_connection import KafkaRefused
from shared.topics import TopicSpec

pytestmark = pytest.mark.integration

USERS = {name: f"{name}-{secrets.token_urlsafe(12)}" for name in ("intake", "routing", "notify")}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKafka]:
    secured = SecuredKafka(Path(tmp_path_factory.mktemp("sasl")) / "kafka", USERS)
    secured.start()
    try:
        secured.prepare(service_acls())
        yield secured
    finally:
        secured.stop()


@pytest.fixture
def services(
    broker: SecuredKafka, monkeypatch: pytest.MonkeyPatch
) -> tuple[IntakeSettings, RoutingSettings, NotifySettings]:
    """Each service's settings, from the environment a deployment would give it."""
    for prefix in ("INTAKE", "ROUTING", "NOTIFY"):
        for name, value in broker.client_env(prefix, prefix.lower()).items():
            monkeypatch.setenv(name, value)
    return IntakeSettings(), RoutingSettings(), NotifySettings()


def _event(ticket_id: str) -> Envelope:
    return Envelope(
        event_type=EventType.TICKET_SUBMITTED,
        ticket_id=ticket_id,
        correlation_id="sasl",
        producer="intake",
        payload={"kind": "complaint"},
    )


async def _consume_until(loop: ConsumeLoop, done: asyncio.Event, timeout_s: float = 60) -> None:
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(timeout_s):
            await done.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_each_service_signs_in_and_does_its_work_under_its_own_acls(
    broker: SecuredKafka, services: tuple[IntakeSettings, RoutingSettings, NotifySettings]
) -> None:
    intake, routing, notify = services
    assert intake.kafka().username == "intake" and routing.kafka().username == "routing"
    ticket = f"LP-SASL-{uuid.uuid4().hex[:4].upper()}"

    # routing publishes (here: an unreadable message, which its consumers will dead-letter).
    routing_publisher = KafkaPublisher(routing.kafka(), client_id="routing")
    poison = f"not json {ticket}".encode()
    await routing_publisher.send(topics.TICKETS, poison, key=ticket.encode(), headers=[])

    # intake: readiness check and its outbox's producer (same key: after the poison).
    assert await kafka_answers(intake.kafka(), timeout_s=10)
    publisher = KafkaPublisher(intake.kafka(), client_id="intake")
    try:
        await publisher.publish(topics.TICKETS, _event(ticket))
    finally:
        await publisher.close()

    # routing: start-up's topic check (the topics exist: it creates none), then its consume
    # loop in its group, then notify's in its group; each dead-letters the poison first.
    await ensure_topics(routing.kafka())
    seen: dict[str, asyncio.Event] = {"routing": asyncio.Event(), "notify": asyncio.Event()}

    def handler(service: str) -> ConsumeLoop:
        async def handle(envelope: Envelope) -> None:
            if envelope.ticket_id == ticket:
                seen[service].set()

        settings = routing if service == "routing" else notify
        return ConsumeLoop(
            bootstrap_servers=settings.kafka(),
            group_id=settings.consumer_group,
            topics=[topics.TICKETS],
            handlers={EventType.TICKET_SUBMITTED: handle},
            dead_letter_topic=topics.DLQ_ROUTING if service == "routing" else topics.DLQ_NOTIFY,
            publisher=routing_publisher if service == "routing" else notify_publisher,
        )

    notify_publisher = KafkaPublisher(notify.kafka(), client_id="notify")
    try:
        await _consume_until(handler("routing"), seen["routing"])
        await _consume_until(handler("notify"), seen["notify"])
    finally:
        await routing_publisher.close()
        await notify_publisher.close()

    # The poison is in both dead-letter topics (read as the admin, who may).
    for dlq in (topics.DLQ_ROUTING, topics.DLQ_NOTIFY):
        reader = AIOKafkaConsumer(
            dlq, **broker.connection("admin").options(), auto_offset_reset="earliest"
        )
        await reader.start()
        try:
            found = await reader.getmany(timeout_ms=5000)
        finally:
            await reader.stop()
        values = [r.value for records in found.values() for r in records]
        assert poison in values, dlq


async def test_wrong_credentials_are_refused_with_an_error_that_says_so(
    broker: SecuredKafka,
) -> None:
    for user, password in (("intake", "wrong-password"), ("stranger", "whatever-it-is")):
        kafka = broker.connection(user, password)
        publisher = KafkaPublisher(kafka, client_id="intake", timeout_s=10)
        with pytest.raises(KafkaRefused) as refused:
            await publisher.publish(topics.TICKETS, _event("LP-REFU-SED1"))
        await publisher.close()
        message = str(refused.value)
        assert "refused the SASL sign-in" in message
        assert f"as {user} (SCRAM-SHA-512)" in message
        assert password not in message
        assert not await kafka_answers(kafka, timeout_s=5)
    # A client without SASL gets nowhere either.
    assert not await kafka_answers(broker.bootstrap, timeout_s=5)


async def test_the_acls_keep_each_service_to_its_topics(
    broker: SecuredKafka, services: tuple[IntakeSettings, RoutingSettings, NotifySettings]
) -> None:
    intake, routing, notify = services
    # A notify credential cannot forge ticket events; intake writes no dead letters.
    for settings, topic in ((notify, topics.TICKETS), (intake, topics.DLQ_NOTIFY)):
        publisher = KafkaPublisher(settings.kafka(), client_id="acl-check", timeout_s=10)
        with pytest.raises(TopicAuthorizationFailedError):
            await publisher.publish(topic, _event("LP-ACLS-NOPE"))
        await publisher.close()

    # intake reads nothing: not the ticket topic, in no group.
    reader = AIOKafkaConsumer(
        topics.TICKETS, **intake.kafka().options(), group_id="intake", auto_offset_reset="earliest"
    )
    with pytest.raises(KafkaError):
        await reader.start()
        await reader.getmany(timeout_ms=5000)
    await reader.stop()

    # Nobody but the admin creates topics: routing's start-up check leaves a new one uncreated.
    name = f"pengaduan.sasl.{uuid.uuid4().hex[:6]}"
    await ensure_topics(routing.kafka(), [TopicSpec(name, 1)])
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**broker.connection("admin").options())
    await admin.start()
    try:
        assert name not in await admin.list_topics()
    finally:
        await admin.close()
