"""Routing with MongoDB up and Kafka down: the console and staff API stay in service, the
deadline scheduler runs, and the events it records wait in the outbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from shared.events import utcnow
from tests.conftest import Infra
from tests.integration.conftest import CLOSED_PORT_KAFKA, auth, put_ticket, settings_for

pytestmark = pytest.mark.integration


@pytest.fixture
def no_kafka(infra: Infra, db_name: str) -> Iterator[TestClient]:
    settings = settings_for(
        RoutingSettings,
        infra,
        db_name,
        kafka_bootstrap_servers=CLOSED_PORT_KAFKA,
        deadline_interval_s=0.5,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _wait_for(check: Any, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("not in time")


def test_console_and_deadlines_work_while_only_kafka_is_down(
    no_kafka: TestClient, stored: Any
) -> None:
    ready = _wait_for(lambda: (r := no_kafka.get("/readyz")).status_code == 200 and r)
    assert ready.json()["checks"] == {"mongodb": "ok", "startup": "ok", "kafka": "degraded"}
    assert no_kafka.get("/healthz").status_code == 200
    overdue = put_ticket(stored, status="verified", due_in=-timedelta(hours=1))
    officer = auth(no_kafka, "dpupr")
    assert no_kafka.get(f"/api/v1/tickets/{overdue}", headers=officer).status_code == 200
    assert no_kafka.get("/konsol/masuk").status_code == 200

    def escalated() -> Any:
        doc = stored.tickets.find_one({"_id": overdue})
        return doc if doc.get("escalated_for") else None

    doc = _wait_for(escalated)
    assert [e["event_type"] for e in doc["outbox"]] == ["ticket.escalated"], "waits for Kafka"
    assert doc["escalated_for"] <= utcnow()


def test_a_failing_start_up_step_is_retried_and_then_fails_liveness(
    infra: Infra, db_name: str
) -> None:
    """A step that fails (here: the database is unreachable) is retried; past the start-up
    timeout /healthz fails too, so the orchestrator restarts the process."""
    settings = RoutingSettings(
        mongodb_url="mongodb://127.0.0.1:1/",
        mongodb_timeout_ms=200,
        mongodb_database=db_name,
        kafka_bootstrap_servers=CLOSED_PORT_KAFKA,
        startup_timeout_s=2,
        statistics_consumer=False,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        _wait_for(lambda: client.get("/healthz").status_code == 503, timeout_s=20)
        startup = client.app.state.startup  # type: ignore[attr-defined]
        assert "database" in startup.failing
