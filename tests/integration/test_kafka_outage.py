"""A complaint accepted while Kafka is down reaches routing once the broker is back."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from devstack.stack import Ports, Stack, ensure_topics
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings
from tests.conftest import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
def own_kafka(infra: Infra, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """A broker of this test's own, not started yet, so the test can bring it up later."""
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)  # never the shared broker
    stack = Stack(f"outage-{os.getpid()}", Ports.free(), mongodb=infra.mongodb_url)
    assert stack.external_kafka is None
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(stack.var, ignore_errors=True)


def test_ticket_taken_while_kafka_is_down_is_routed_after_it_returns(
    infra: Infra, db_name: str, own_kafka: Stack
) -> None:
    bootstrap = own_kafka.kafka_bootstrap
    intake_settings = IntakeSettings(
        mongodb_url=infra.mongodb_url,
        mongodb_database=db_name,
        kafka_bootstrap_servers=bootstrap,
        outbox_poll_interval_s=0.5,
    )
    client: Any = MongoClient(infra.mongodb_url)
    db = client[db_name]
    with contextlib.closing(client), TestClient(create_intake(intake_settings)) as intake:
        ready = intake.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["kafka"] == "degraded"
        created = intake.post(
            "/api/v1/complaints",
            json={
                "description": "Sampah menumpuk di TPS dekat pasar, tiga hari tidak diangkut.",
            },
        )
        assert created.status_code == 201
        code = created.json()["tracking_code"]
        time.sleep(1.5)  # the relay tries and fails meanwhile; the event must stay
        assert len(db.tickets.find_one({"_id": code})["outbox"]) == 1

        [kafka] = own_kafka.brokers()
        own_kafka.start(kafka)
        ensure_topics(bootstrap)
        routing_settings = RoutingSettings(
            mongodb_url=infra.mongodb_url,
            mongodb_database=db_name,
            kafka_bootstrap_servers=bootstrap,
            consumer_group=f"routing-{db_name}",
        )
        with TestClient(create_routing(routing_settings)):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                doc = db.tickets.find_one({"_id": code})
                relayed = all(e["producer"] != "intake" for e in doc["outbox"])
                if doc["status"] != "submitted" and relayed:
                    break
                time.sleep(0.3)
            assert doc["status"] == "routed", doc["status"]
            assert doc["opd"] == "DLH"
            assert all(e["producer"] != "intake" for e in doc["outbox"])
