"""Abuse of intake's public front door against the real database: operator and dotted-key
injection in every body field and parameter, oversized and deeply nested bodies, hardening
headers on every HTML page, CORS closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.schemas import ComplaintIn
from services.intake.settings import IntakeSettings
from shared.settings import DEV_OPEN311_API_KEY
from tests.conftest import Infra
from tests.integration.conftest import settings_for

pytestmark = pytest.mark.integration

BODY: dict[str, Any] = {
    "description": "Lampu jalan mati sudah seminggu di depan balai desa.",
    "location": {"kecamatan": "KEC-CIRUAS", "desa": "Ciruas", "address": "Jl. Raya 1"},
    "reporter": {"name": "Siti", "email": "siti@example.com", "phone": "081234567890"},
}
OPERATORS: list[Any] = [
    {"$ne": None},
    {"$gt": ""},
    {"$where": "sleep(1000)"},
    {"a.b": "x"},
    ["$ne", None],
]
HARDENING = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def client(infra: Infra, module_stored: Any) -> Iterator[TestClient]:
    settings = settings_for(IntakeSettings, infra, module_stored.name, rate_limit_per_minute=10_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def _fields() -> list[tuple[str, ...]]:
    """Every field of the complaint body, nested ones by their path."""
    found: list[tuple[str, ...]] = []
    for name, info in ComplaintIn.model_fields.items():
        found.append((name,))
        nested = getattr(info.annotation, "__args__", (info.annotation,))
        for kind in nested:
            fields = getattr(kind, "model_fields", None)
            if fields:
                found.extend((name, inner) for inner in fields)
    return found


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = {k: dict(v) if isinstance(v, dict) else v for k, v in BODY.items()}
    if len(path) == 1:
        body[path[0]] = value
    else:
        body.setdefault(path[0], {})[path[1]] = value
    return body


def test_operators_in_every_body_field_are_422_naming_it(
    client: TestClient, module_stored: Any
) -> None:
    fields = _fields()
    assert ("reporter", "phone") in fields and ("location", "lat") in fields
    before = module_stored.tickets.count_documents({})
    for path in fields:
        for value in OPERATORS:
            answer = client.post("/api/v1/complaints", json=_with(path, value))
            assert answer.status_code == 422, (path, value, answer.text)
            locs = [tuple(d["loc"][1:]) for d in answer.json()["detail"]]
            assert any(loc[: len(path)] == path for loc in locs), (path, value, locs)
    for extra in ({"$where": "1"}, {"reporter.name": "x"}, {"$set": {"status": "closed"}}):
        assert client.post("/api/v1/complaints", json={**BODY, **extra}).status_code == 422
    assert module_stored.tickets.count_documents({}) == before, "nothing stored"


def test_operators_in_follow_ups_and_paths_find_nothing(client: TestClient) -> None:
    created = client.post("/api/v1/complaints", json=BODY).json()
    code = created["tracking_code"]
    for value in OPERATORS:
        reply = {"reply_token": value, "message": "tambahan", "action": "info"}
        assert client.post(f"/api/v1/complaints/{code}/replies", json=reply).status_code == 422
        rating = {"reply_token": value, "score": 5}
        assert client.post(f"/api/v1/complaints/{code}/rating", json=rating).status_code == 422
    view = client.get(f"/api/v1/complaints/{code}", headers={"X-Reply-Token": '{"$ne": ""}'})
    assert view.status_code == 200 and "siti@example.com" not in view.text
    for probe in ('{"$ne": null}', "LP-$ne", "$where", "LP.x.y"):
        assert client.get(f"/api/v1/complaints/{probe}").status_code == 404, probe


@pytest.mark.parametrize(
    "params",
    [
        {"service_code[$ne]": "x"},
        {"service_code": '{"$ne": null}'},
        {"service_request_id": '{"$ne": null}'},
        {"status": "$ne"},
        {"start_date": '{"$gt": ""}'},
    ],
)
def test_operators_in_open311_lists_are_refused_or_find_nothing(
    client: TestClient, params: dict[str, str]
) -> None:
    answer = client.get("/open311/v2/requests.json", params=params)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 200:
        assert answer.json() == []


def test_open311_post_needs_the_real_key(client: TestClient) -> None:
    form = {"service_code": "jalan-rusak", "description": "Jalan rusak parah di depan pasar."}
    for key in ('{"$ne": ""}', "$gt", DEV_OPEN311_API_KEY + ".x"):
        answer = client.post("/open311/v2/requests.json", data={**form, "api_key": key})
        assert answer.status_code == 403, key


def test_oversized_deep_and_mistyped_bodies_are_refused_cleanly(client: TestClient) -> None:
    big = client.post("/api/v1/complaints", json={**BODY, "description": "x" * 70_000})
    assert big.status_code == 413
    for depth in (1_000, 30_000):
        nested = '{"description": ' + "[" * depth + "]" * depth + "}"
        answer = client.post(
            "/api/v1/complaints", content=nested, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code in (400, 422), (depth, answer.status_code)
        assert "Traceback" not in answer.text
    mistyped = client.post(
        "/api/v1/complaints", content="description=x", headers={"Content-Type": "text/plain"}
    )
    assert mistyped.status_code == 415


def test_every_html_page_carries_the_hardening_headers(client: TestClient) -> None:
    code = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    pages = ["/", "/?lang=en", "/lacak", f"/lacak?kode={code}", "/statistik"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers["content-type"].startswith("text/html"), page
        _assert_hardened(response, page)
    refused = client.post("/kirim", data={"description": "tanpa token csrf sama sekali"})
    assert refused.headers["content-type"].startswith("text/html")
    _assert_hardened(refused, "/kirim without CSRF")


def _assert_hardened(response: Any, page: str) -> None:
    headers = {k.lower(): v for k, v in response.headers.items()}
    for name, value in HARDENING.items():
        assert headers.get(name) == value, (page, name)
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, page
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[-1].split(";")[0], page


def test_cors_is_closed(client: TestClient) -> None:
    origin = {"Origin": "https://jahat.example"}
    for path in ("/api/v1/complaints", "/open311/v2/requests.json"):
        preflight = client.options(
            path, headers={**origin, "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in preflight.headers, path
    answer = client.get("/api/v1/categories", headers=origin)
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


def test_text_no_store_can_keep_is_422_not_500(client: TestClient, module_stored: Any) -> None:
    """NUL (which PostgreSQL's JSONB refuses) and lone surrogates (not UTF-8) were 500s."""
    before = module_stored.tickets.count_documents({})
    json_headers = {"Content-Type": "application/json"}
    for escaped in (rb"\u0000", rb"\ud800", rb"\udfff"):
        body = b'{"description": "Jalan rusak parah sekali di desa ' + escaped + b'"}'
        answer = client.post("/api/v1/complaints", content=body, headers=json_headers)
        assert answer.status_code == 422, (escaped, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body"]
    emoji = client.post("/api/v1/complaints", json={**BODY, "title": "Jalan rusak 😀"})
    assert emoji.status_code == 201
    assert client.get("/api/v1/complaints/LP-%00").status_code == 422
    assert client.get("/open311/v2/requests.json?service_code=a%00").status_code == 422
    assert module_stored.tickets.count_documents({}) == before + 1
