"""Fixtures of the integration tests: the one settings factory (`settings_for`), the stored
database (`stored`, or `module_stored` for a module whose tests share one app), routing's
staff API and tickets put straight into the store."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from services.intake import complaints
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from shared.events import utcnow
from shared.settings import ServiceSettings
from shared.tickets import Kind, Location, Reporter
from tests.conftest import Infra

CLOSED_PORT_KAFKA = "127.0.0.1:1"  # nothing listens there: Kafka is "down" (or not needed)
AnySettings = TypeVar("AnySettings", bound=ServiceSettings)


def settings_for(
    kind: type[AnySettings], infra: Infra, database: str, **changes: Any
) -> AnySettings:
    """A service's settings on the test's MongoDB database; `changes` override.

    Intake and notify get no broker (CLOSED_PORT_KAFKA; pass `kafka_bootstrap_servers` for the
    real one); routing gets the real broker, a consumer group of its own, the dev accounts,
    three failed logins before a lock-out, and no statistics consumer (stopping it mid-join
    can take 40 s; tested on its own).
    """
    values: dict[str, Any] = {
        "mongodb_url": infra.mongodb_url,
        "mongodb_database": database,
        "kafka_bootstrap_servers": CLOSED_PORT_KAFKA,
    }
    if issubclass(kind, RoutingSettings):
        values.update(
            kafka_bootstrap_servers=infra.kafka_bootstrap,
            seed_dev_accounts=True,
            consumer_group=f"routing-{database}",
            login_max_failures=3,
            statistics_consumer=False,
        )
    return kind(**(values | changes))


@contextlib.contextmanager
def stored_database(infra: Infra, name: str) -> Iterator[Any]:
    """Database `name` through a synchronous client (tests seed and read the store with it),
    dropped afterwards."""
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url, tz_aware=True)
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture
def stored(infra: Infra, db_name: str) -> Iterator[Any]:
    """The test's database (`db_name`)."""
    with stored_database(infra, db_name) as database:
        yield database


@pytest.fixture(scope="module")
def module_stored(infra: Infra, request: pytest.FixtureRequest) -> Iterator[Any]:
    """One database for a module whose tests share one app (and one seeding of the dev
    accounts): each test creates what it needs and changes nothing the others rely on."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    with stored_database(infra, f"{module}_{uuid.uuid4().hex[:8]}") as database:
        yield database


@pytest.fixture
def api(infra: Infra, db_name: str) -> Iterator[TestClient]:
    settings = settings_for(RoutingSettings, infra, db_name)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        accounts: Any = MongoClient(infra.mongodb_url)[db_name].accounts
        deadline = time.monotonic() + 30  # dev accounts are seeded in the background at start
        while accounts.count_documents({}) < 120 and time.monotonic() < deadline:
            time.sleep(0.1)
        accounts.database.client.close()
        yield client


def auth(api: TestClient, username: str) -> dict[str, str]:
    password = {"admin": "admin", "auditor": "auditor"}.get(
        username, "supervisor" if username.endswith("-kepala") else "officer"
    )
    response = api.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def put_ticket(
    stored: Any,
    *,
    status: str = "routed",
    opd: str | None = "DPUPR",
    description: str = "Jalan berlubang besar di depan sekolah dasar",
    anonymous: bool = False,
    due_in: timedelta | None = None,
    kecamatan: str = "KEC-CIRUAS",
    submitted_ago: timedelta = timedelta(0),
) -> str:
    ticket, _ = complaints.new_ticket(
        tracking_code=complaints.new_tracking_code("LP"),
        reply_token="t",
        now=utcnow() - submitted_ago,
        correlation_id="c",
        kind=Kind.COMPLAINT,
        description=description,
        title=None,
        category="jalan-rusak",
        location=Location(kecamatan=kecamatan),
        reporter=Reporter(name="Siti", email="siti@example.com"),
        anonymous=anonymous,
        confidential=False,
    )
    doc = ticket.to_document()
    doc.update(
        status=status, opd=opd, outbox=[], due_at=utcnow() + due_in if due_in is not None else None
    )
    stored.tickets.insert_one(doc)
    return ticket.tracking_code
