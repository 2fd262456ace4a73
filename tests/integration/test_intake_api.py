"""Intake's HTTP contract against the real MongoDB-compatible server (Kafka left unreachable)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.conftest import Infra
from tests.integration.conftest import CLOSED_PORT_KAFKA, settings_for

pytestmark = pytest.mark.integration

VALID: dict[str, Any] = {
    "description": "Jalan berlubang di depan SDN 1 Ciruas, sudah sebulan tidak diperbaiki.",
    "title": "Jalan berlubang",
    "kind": "complaint",
    "category": "jalan-rusak",
    "location": {"kecamatan": "KEC-CIRUAS", "desa": "Ciruas", "lat": -6.12, "lon": 106.25},
    "reporter": {"name": "Siti", "email": "siti@example.com", "phone": "081234567890"},
}


@pytest.fixture
def client(infra: Infra, db_name: str) -> Iterator[TestClient]:
    settings = settings_for(IntakeSettings, infra, db_name)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_complaint_is_stored_with_its_pending_event(client: TestClient, stored: Any) -> None:
    response = client.post("/api/v1/complaints", json=VALID)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"tracking_code", "status", "submitted_at", "reply_token"}
    assert body["status"] == "submitted"
    doc = stored.tickets.find_one({"_id": body["tracking_code"]})
    assert doc["description"] == VALID["description"]
    assert body["reply_token"] not in json.dumps(doc, default=str)
    assert [e["event_type"] for e in doc["outbox"]] == ["ticket.submitted"]


def test_public_view_hides_the_reporter_and_token_shows_all(client: TestClient) -> None:
    created = client.post("/api/v1/complaints", json=VALID).json()
    code = created["tracking_code"]
    public = client.get(f"/api/v1/complaints/{code}")
    assert public.status_code == 200
    text = public.text
    assert "Siti" not in text and "siti@example.com" not in text and "0812" not in text
    assert public.json()["opd"] is None and public.json()["due_at"] is None
    own = client.get(
        f"/api/v1/complaints/{code.lower()}", headers={"X-Reply-Token": created["reply_token"]}
    )
    assert own.json()["reporter"]["email"] == "siti@example.com"


def test_unknown_tracking_code_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/complaints/LP-2222-2222")
    assert response.status_code == 404
    assert "detail" in response.json()


def _with(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(VALID))
    for path, value in changes.items():
        target = body
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        if value is _DROP:
            target.pop(leaf)
        else:
            target[leaf] = value
    return body


_DROP = object()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with(description=_DROP), "description"),
        (_with(description=""), "description"),
        (_with(description="          \n   "), "description"),
        (_with(description="pendek"), "description"),
        (_with(description="x" * 4001), "description"),
        (_with(description=123456789012), "description"),
        (_with(title="t" * 201), "title"),
        (_with(kind="gossip"), "kind"),
        (_with(anonymous="yes"), "anonymous"),
        (_with(nickname="budi"), "nickname"),
        (_with(reporter__email="not-an-email"), "email"),
        (_with(reporter__phone="call me"), "phone"),
        (_with(location__lat=91), "lat"),
        (_with(location__lon=-181), "lon"),
        (_with(category="no-such-category"), "category"),
        (_with(location__kecamatan="KEC-ATLANTIS"), "kecamatan"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_stored(
    client: TestClient, stored: Any, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/complaints", json=body)
    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"]), response.text
    assert stored.tickets.count_documents({}) == 0


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/complaints",
        content=b'{"description": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_wrong_content_type_is_415(client: TestClient, stored: Any) -> None:
    response = client.post(
        "/api/v1/complaints", content=json.dumps(VALID), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert stored.tickets.count_documents({}) == 0


def test_body_over_64_kib_is_413(client: TestClient, stored: Any) -> None:
    response = client.post("/api/v1/complaints", json=_with(description="x" * 70_000))
    assert response.status_code == 413
    assert stored.tickets.count_documents({}) == 0


def test_chunked_body_over_64_kib_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"description": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/api/v1/complaints", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_html_is_stored_as_text(client: TestClient, stored: Any) -> None:
    script = "<script>alert('x')</script> jalan rusak parah sekali"
    created = client.post("/api/v1/complaints", json=_with(description=script)).json()
    assert stored.tickets.find_one({"_id": created["tracking_code"]})["description"] == script


def test_intake_stays_ready_while_kafka_is_down(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"mongodb": "ok", "kafka": "degraded"}


def test_ops_endpoints_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert "pengaduan_http_requests_total" in client.get("/metrics").text
    assert client.get("/openapi.json").json()["info"]["title"].startswith("Layanan Pengaduan")


def test_database_down_is_503_without_a_traceback() -> None:
    settings = IntakeSettings(
        mongodb_url="mongodb://127.0.0.1:1/",
        mongodb_timeout_ms=300,
        kafka_bootstrap_servers=CLOSED_PORT_KAFKA,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post("/api/v1/complaints", json=VALID)
        assert response.status_code == 503
        assert "Traceback" not in response.text and "detail" in response.json()
        assert client.get("/readyz").status_code == 503


@pytest.mark.parametrize(
    ("changes", "confidential", "requested"),
    [
        ({"category": "pungli-penyimpangan"}, True, None),
        ({"category": "pungli-penyimpangan", "confidential": False}, False, False),
        ({"category": "jalan-rusak"}, False, None),
        ({"category": "jalan-rusak", "confidential": True}, True, True),
    ],
)
def test_misconduct_reports_are_confidential_unless_the_citizen_says_otherwise(
    client: TestClient,
    stored: Any,
    changes: dict[str, Any],
    confidential: bool,
    requested: bool | None,
) -> None:
    response = client.post("/api/v1/complaints", json={**VALID, **changes})
    assert response.status_code == 201, response.text
    doc = stored.tickets.find_one({"_id": response.json()["tracking_code"]})
    assert (doc["confidential"], doc["confidential_requested"]) == (confidential, requested)
    assert doc["outbox"][0]["payload"]["confidential"] is confidential
