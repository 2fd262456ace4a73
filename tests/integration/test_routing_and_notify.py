"""Routing's and notify's use cases and APIs against the real database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings
from shared.mongo import Document
from tests.conftest import Infra
from tests.integration.conftest import route_stored, settings_for, store_complaint

pytestmark = pytest.mark.integration


async def test_submitted_ticket_is_routed_once_with_its_event(db: AsyncDatabase[Document]) -> None:
    code = await store_complaint(db, "sampah numpuk di pinggir jalan, bau banget")
    assert await route_stored(db, code) is True
    assert await route_stored(db, code) is False  # a replayed event changes nothing
    doc = await db.tickets.find_one({"_id": code})
    assert doc is not None
    assert (doc["status"], doc["opd"], doc["version"]) == ("routed", "DLH", 2)
    assert doc["routing"]["reasons"] and doc["due_at"] is not None
    assert [h["to"] for h in doc["history"]] == ["submitted", "routed"]
    assert [e["event_type"] for e in doc["outbox"]] == ["ticket.submitted", "ticket.routed"]


async def test_concurrent_routing_of_one_ticket_changes_it_once(
    db: AsyncDatabase[Document],
) -> None:
    code = await store_complaint(db, "lampu jalan mati sudah seminggu")
    results = await asyncio.gather(*(route_stored(db, code) for _ in range(4)))
    assert results.count(True) == 1
    doc = await db.tickets.find_one({"_id": code})
    assert doc is not None and len(doc["history"]) == 2 and doc["version"] == 2


@pytest.fixture
def routing_client(infra: Infra, db_name: str) -> Iterator[TestClient]:
    settings = settings_for(RoutingSettings, infra, db_name)
    with TestClient(create_routing(settings), raise_server_exceptions=False) as client:
        yield client


def _token(client: TestClient, username: str, password: str) -> str:
    for _ in range(100):  # dev accounts are seeded in the background at start
        response = client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        if response.status_code == 200:
            token: str = response.json()["access_token"]
            return token
        time.sleep(0.1)
    raise AssertionError(f"no token for {username}: {response.text}")


def test_dev_accounts_sign_in_and_wrong_passwords_do_not(routing_client: TestClient) -> None:
    assert _token(routing_client, "admin", "admin")
    assert _token(routing_client, "kec-ciruas-kepala", "supervisor")
    response = routing_client.post(
        "/api/v1/auth/token", data={"username": "dpupr", "password": "officer"}
    )
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    wrong = routing_client.post("/api/v1/auth/token", data={"username": "dpupr", "password": "x"})
    unknown = routing_client.post(
        "/api/v1/auth/token", data={"username": "nobody", "password": "x"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_delivery_log_is_for_admins_with_contacts_masked(
    infra: Infra, db_name: str, routing_client: TestClient
) -> None:
    admin = _token(routing_client, "admin", "admin")
    officer = _token(routing_client, "dlh", "officer")
    settings = settings_for(NotifySettings, infra, db_name)
    with TestClient(create_notify(settings), raise_server_exceptions=False) as client:
        url = "/api/v1/notifications?tracking_code=LP-2222-2222"
        assert client.get(url).status_code == 401
        assert client.get(url, headers={"Authorization": f"Bearer {officer}"}).status_code == 403
        ok = client.get(url, headers={"Authorization": f"Bearer {admin}"})
        assert ok.status_code == 200 and ok.json() == {"items": []}


@pytest.mark.parametrize(("requested", "confidential"), [(None, True), (False, False)])
async def test_routing_to_inspektorat_makes_a_ticket_confidential_unless_the_citizen_chose(
    db: AsyncDatabase[Document], requested: bool | None, confidential: bool
) -> None:
    code = await store_complaint(
        db, "Kepala desa meminta pungli Rp 2 juta untuk surat tanah, mohon diperiksa Inspektorat"
    )
    await db.tickets.update_one(
        {"_id": code},
        {"$set": {"category": "pungli-penyimpangan", "confidential_requested": requested}},
    )
    assert await route_stored(db, code)
    doc = await db.tickets.find_one({"_id": code})
    assert doc is not None and doc["opd"] == "INSPEKTORAT"
    assert doc["confidential"] is confidential
