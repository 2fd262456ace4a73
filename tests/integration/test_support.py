""" "Dukung laporan ini" against the real database: who may be supported, once per contact,
limited per address, and only a count on the public view."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.conftest import Infra, start_of_a_rate_window
from tests.integration.conftest import put_ticket, settings_for

pytestmark = pytest.mark.integration


@pytest.fixture
def client(infra: Infra, db_name: str) -> Iterator[TestClient]:
    settings = settings_for(IntakeSettings, infra, db_name, support_per_minute=6)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def _support(client: TestClient, code: str, **body: Any) -> Any:
    return client.post(f"/api/v1/complaints/{code}/support", json=body)


def test_a_contact_supports_once_and_the_public_sees_only_the_count(
    client: TestClient, stored: Any
) -> None:
    start_of_a_rate_window()
    code = put_ticket(stored, status="verified")
    first = _support(client, code, email="Warga.Satu@example.com")
    assert first.status_code == 201, first.text
    assert first.json() == {"tracking_code": code, "supporters": 1, "new": True}
    again = _support(client, code, email="warga.satu@example.com")
    assert again.status_code == 201 and again.json()["new"] is False
    assert again.json()["supporters"] == 1
    assert _support(client, code, phone="0812-1111-2222").json()["supporters"] == 2
    assert _support(client, code, phone="+62 812 1111 2222").json()["new"] is False
    assert _support(client, code).json()["supporters"] == 3  # no contact: counted, not kept

    view = client.get(f"/api/v1/complaints/{code}").json()
    assert view["supporters"] == 3
    assert "example.com" not in str(view) and "1111" not in str(view)
    doc = stored.supporters.find_one({"_id": code})
    assert doc["count"] == 3 and len(doc["contacts"]) == 2
    assert stored.tickets.find_one({"_id": code})["weight"] == 1 + 3  # its place in the queue


def test_only_public_open_reports_can_be_supported(client: TestClient, stored: Any) -> None:
    start_of_a_rate_window()
    for status in ("routed", "resolved", "rejected"):
        code = put_ticket(stored, status=status)
        assert _support(client, code, email="a@example.com").status_code == 409, status
    confidential = put_ticket(stored, status="verified")
    stored.tickets.update_one({"_id": confidential}, {"$set": {"confidential": True}})
    assert _support(client, confidential).status_code == 409
    assert _support(client, "LP-2222-3333").status_code == 404
    bad = _support(client, put_ticket(stored, status="verified"), email="not-an-email")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "email"
    assert "supporters" not in client.get(f"/api/v1/complaints/{confidential}").json()


def test_supports_are_limited_per_address(client: TestClient, stored: Any) -> None:
    start_of_a_rate_window()
    code = put_ticket(stored, status="in_progress")
    answers = [_support(client, code).status_code for _ in range(7)]
    assert answers == [201] * 6 + [429]
    assert stored.supporters.find_one({"_id": code})["count"] == 6


def test_concurrent_supports_of_one_contact_count_once(client: TestClient, stored: Any) -> None:
    start_of_a_rate_window()
    code = put_ticket(stored, status="verified")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _support(client, code, email="s@example.com"), range(4)))
    assert all(r.status_code == 201 for r in results)
    assert sum(r.json()["new"] for r in results) == 1
    assert stored.supporters.find_one({"_id": code})["count"] == 1


def test_the_form_finds_public_open_reports_of_the_category_nearby(
    client: TestClient, stored: Any
) -> None:
    near, done, unverified, far = (
        put_ticket(stored, status=s) for s in ("verified", "resolved", "routed", "in_progress")
    )
    stored.tickets.update_one(
        {"_id": near}, {"$set": {"description": "Jalan berlubang, hubungi 081234567890"}}
    )
    entry = {"opd": "DPUPR", "category": "jalan-rusak", "kecamatan": "KEC-CIRUAS", "lat": None}
    stored.cluster_recent.insert_one(
        {
            "_id": "DPUPR",
            "entries": [
                {**entry, "code": near, "desa": "citerep", "stems": ["lubang", "jalan"]},
                {**entry, "code": done, "desa": "citerep", "stems": ["lubang"]},
                {**entry, "code": unverified, "desa": "citerep", "stems": ["lubang"]},
                {**entry, "code": far, "desa": "ranjeng", "stems": ["lubang"]},
            ],
        }
    )
    params = {"category": "jalan-rusak", "kecamatan": "KEC-CIRUAS", "desa": "Citerep"}
    found = client.get("/api/v1/complaints/nearby", params={**params, "text": "lubang"})
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [i["tracking_code"] for i in items] == [near]
    assert "081234567890" not in items[0]["public_text"] and "Siti" not in str(items)
    other = client.get("/api/v1/complaints/nearby", params={**params, "category": "sampah"})
    assert other.json()["items"] == []
    wide = client.get("/api/v1/complaints/nearby", params={"category": "jalan-rusak"})
    assert wide.json()["items"] == []  # no place: nothing is "nearby"
