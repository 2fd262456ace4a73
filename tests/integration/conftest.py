"""Fixtures of the integration tests of routing's staff API: the app, the database, tickets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from services.intake import complaints
from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from shared.events import utcnow
from shared.tickets import Kind, Location, Reporter
from tests.conftest import Infra


@pytest.fixture
def stored(infra: Infra, db_name: str) -> Iterator[Any]:
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url, tz_aware=True)
    try:
        yield client[db_name]
    finally:
        client.drop_database(db_name)
        client.close()


@pytest.fixture
def api(infra: Infra, db_name: str) -> Iterator[TestClient]:
    settings = RoutingSettings(
        mongodb_url=infra.mongodb_url,
        mongodb_database=db_name,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        seed_dev_accounts=True,
        consumer_group=f"routing-{db_name}",
        login_max_failures=3,
        statistics_consumer=False,  # stopping it mid-join can take 40 s; tested on its own
    )
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
