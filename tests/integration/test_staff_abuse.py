"""Abuse of routing's staff API and console against the real database and broker: other OPDs'
tickets on every endpoint and page, role escalation, forged tokens, operator injection,
oversized and deeply nested bodies, hardening headers and CORS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from shared.auth import Principal, Role, TokenCodec
from shared.events import utcnow
from shared.settings import DEV_AUTH_SECRET
from shared.signing import DEV_AUTH_PRIVATE_KEY, DEV_AUTH_PUBLIC_KEY, generate, private_key
from tests.conftest import Infra
from tests.integration.conftest import auth, put_ticket, routing_client
from tests.integration.test_console import csrf, signed_in

pytestmark = pytest.mark.integration

# A body that passes validation for each ticket endpoint that takes one, so that only the
# caller's scope decides. A new endpoint must be added here (the test fails without it).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/tickets/{tracking_code}/transitions"): {"action": "verify"},
    ("post", "/api/v1/tickets/{tracking_code}/comments"): {"body": "cek", "public": False},
    ("put", "/api/v1/tickets/{tracking_code}/publication"): {"hidden": True, "reason": "uji"},
    ("put", "/api/v1/tickets/{tracking_code}/assignment"): {"officer": None},
}
HARDENING = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def web(infra: Infra, module_stored: Any) -> Iterator[TestClient]:
    with routing_client(infra, module_stored) as client:
        yield client


@pytest.fixture(autouse=True)
def no_session(web: TestClient) -> None:
    web.cookies.clear()


def _ticket_endpoints(app: Any) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, operations in app.openapi()["paths"].items()
        # the ticket's code as the only parameter (the cluster routes' scope: test_clusters.py)
        if "{tracking_code}" in path and path.count("{") == 1
        for method in operations
    ]


def _call(client: TestClient, method: str, path: str, code: str, headers: dict[str, str]) -> Any:
    body = BODIES.get((method, path))
    url = path.replace("{tracking_code}", code)
    return client.request(method.upper(), url, headers=headers, json=body)


def test_every_ticket_endpoint_hides_other_opds_tickets(
    web: TestClient, module_stored: Any
) -> None:
    code = put_ticket(module_stored, opd="DPUPR")
    endpoints = _ticket_endpoints(web.app)
    assert len(endpoints) >= 5, endpoints
    tokens = {user: auth(web, user) for user in ("dlh", "dlh-kepala", "dpupr-kepala")}
    for method, path in endpoints:
        for outsider in ("dlh", "dlh-kepala"):
            answer = _call(web, method, path, code, tokens[outsider])
            assert answer.status_code == 404, (outsider, method, path, answer.text)
        own = _call(web, method, path, code, tokens["dpupr-kepala"])
        assert own.status_code != 404, (method, path, own.text)
    ticket = module_stored.tickets.find_one({"_id": code})
    assert ticket["status"] == "verified", "only the OPD's own verify went through"
    assert all(c["author"] == "dpupr-kepala" for c in ticket.get("comments", []))


def test_lists_and_counts_never_show_other_opds_tickets(
    web: TestClient, module_stored: Any
) -> None:
    theirs = put_ticket(
        module_stored, opd="DPUPR", description="Jalan berlubang di Desa Rahasia Sekali"
    )
    officer = auth(web, "dlh")
    for params in (
        {},
        {"opd": "DPUPR"},
        {"q": "Rahasia"},
        {"status": "routed"},
        {"opd[$ne]": "DLH"},
        {"opd": '{"$ne": "DLH"}'},
    ):
        listed = web.get("/api/v1/tickets", params=params, headers=officer)
        assert listed.status_code in (200, 422), (params, listed.text)
        if listed.status_code == 200:
            assert theirs not in listed.text, params
    counts = web.get("/api/v1/tickets/counts", headers=officer)
    assert counts.status_code == 200 and "DPUPR" not in counts.text


def test_console_pages_hide_other_opds_tickets(web: TestClient, module_stored: Any) -> None:
    code = put_ticket(
        module_stored, opd="DPUPR", description="Jembatan retak di Desa Rahasia Sekali"
    )
    signed_in(web, "dlh")
    token = csrf(web)
    base = f"/konsol/tiket/{code}"
    assert web.get(base).status_code == 404
    assert web.get(f"{base}/foto/abc").status_code == 404
    for page, form in (
        ("tindakan", {"action": "verify"}),
        ("komentar", {"body": "cek", "public": "on"}),
        ("publikasi", {"reason": "uji", "hidden": "on"}),
    ):
        answer = web.post(f"{base}/{page}", data={"csrf": token, **form}, follow_redirects=False)
        assert answer.status_code == 404, (page, answer.status_code)
    queue = web.get("/konsol", params={"opd": "DPUPR", "q": "Rahasia"})
    assert queue.status_code == 200 and code not in queue.text
    assert web.get("/konsol/triase").status_code in (403, 404)
    month = utcnow().strftime("%Y-%m")
    assert web.get(f"/konsol/laporan/{month}/DPUPR").status_code in (403, 404)
    ticket = module_stored.tickets.find_one({"_id": code})
    assert ticket["status"] == "routed" and not ticket.get("comments")
    assert not ticket.get("publication")


def test_roles_cannot_be_raised(web: TestClient, module_stored: Any) -> None:
    officer, supervisor, auditor = (auth(web, u) for u in ("dlh", "dlh-kepala", "auditor"))
    account = {"username": "x-admin", "password": "x" * 12, "role": "admin", "opd": None}
    for who in (officer, supervisor, auditor):
        assert web.post("/api/v1/accounts", headers=who, json=account).status_code == 403
        assert web.get("/api/v1/accounts", headers=who).status_code == 403
        raised = web.patch("/api/v1/accounts/dlh", headers=who, json={"role": "admin"})
        assert raised.status_code == 403
        classify = web.post("/api/v1/routing/classify", headers=who, json={"text": "jalan rusak"})
        assert classify.status_code == 403
        assert web.post("/api/v1/routing/retrain", headers=who).status_code == 403
    for field in ({"role": "admin"}, {"opd": "DPUPR"}, {"active": True}):
        assert web.patch("/api/v1/auth/me", headers=officer, json=field).status_code == 422
    assert module_stored.accounts.find_one({"_id": "dlh"})["role"] == "officer"
    code = put_ticket(module_stored, opd="DLH")
    url = f"/api/v1/tickets/{code}/transitions"
    rejected = web.post(
        url, headers=officer, json={"action": "reject", "reason": "spam", "note": "x"}
    )
    assert rejected.status_code == 403, "officers may not reject"
    assert web.post(url, headers=auditor, json={"action": "verify"}).status_code == 403


def test_a_token_claiming_more_than_its_account_gets_the_account_s_role(
    web: TestClient, module_stored: Any
) -> None:
    """Even a validly signed token's role and OPD are not believed: the account decides."""
    codec = TokenCodec(DEV_AUTH_PUBLIC_KEY, private=DEV_AUTH_PRIVATE_KEY, ttl_seconds=600)
    inflated = codec.issue(Principal(username="dlh", role=Role.ADMIN, opd=None))
    headers = {"Authorization": f"Bearer {inflated}"}
    me = web.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == "officer"
    assert web.get("/api/v1/accounts", headers=headers).status_code == 403
    code = put_ticket(module_stored, opd="DPUPR")
    assert web.get(f"/api/v1/tickets/{code}", headers=headers).status_code == 404


def test_forged_expired_and_confused_tokens_are_401(web: TestClient) -> None:
    now = utcnow()
    claims = {"iss": "layanan-pengaduan", "sub": "admin", "role": "admin", "iat": now}
    later = now + timedelta(minutes=5)
    other_private, other_public = generate()
    genuine = auth(web, "dlh")["Authorization"].removeprefix("Bearer ")
    forged = {
        "HS256 with the old shared secret": jwt.encode(
            {**claims, "exp": later}, DEV_AUTH_SECRET, "HS256"
        ),
        "another key pair": TokenCodec(other_public, private=other_private, ttl_seconds=600).issue(
            Principal(username="admin", role=Role.ADMIN)
        ),
        "expired": jwt.encode(
            {**claims, "iat": now - timedelta(hours=1), "exp": now - timedelta(seconds=1)},
            private_key(DEV_AUTH_PRIVATE_KEY),
            "EdDSA",
        ),
        "alg none": "eyJhbGciOiJub25lIn0." + genuine.split(".")[1] + ".",
        "signature cut": genuine[:-4] + "AAAA",
    }
    for name, token in forged.items():
        answer = web.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name


INJECTED_BODIES: list[dict[str, Any]] = [
    {"action": {"$ne": None}},
    {"action": "verify", "note": {"$gt": ""}},
    {"action": "transfer", "to_opd": {"$in": ["DLH"]}, "note": "x"},
    {"action": "verify", "version": {"$gte": 0}},
    {"action": "verify", "$set": {"opd": "DLH"}},
    {"action": "verify", "opd.code": "DLH"},
]


def test_operators_and_dotted_keys_in_bodies_are_422(web: TestClient, module_stored: Any) -> None:
    code = put_ticket(module_stored, opd="DPUPR")
    officer = auth(web, "dpupr")
    for body in INJECTED_BODIES:
        answer = web.post(f"/api/v1/tickets/{code}/transitions", headers=officer, json=body)
        assert answer.status_code == 422, (body, answer.text)
    comment = {"body": {"$gt": ""}, "public": False}
    assert (
        web.post(f"/api/v1/tickets/{code}/comments", headers=officer, json=comment).status_code
        == 422
    )
    assert module_stored.tickets.find_one({"_id": code})["status"] == "routed"


def test_operators_in_the_path_and_sign_in_find_nothing(
    web: TestClient, module_stored: Any
) -> None:
    put_ticket(module_stored, opd="DPUPR")
    admin = auth(web, "admin")
    for code in ('{"$ne": null}', "LP-$ne", "LP.x", "$where"):
        assert web.get(f"/api/v1/tickets/{code}", headers=admin).status_code == 404, code
    for username in ('{"$ne": ""}', "admin.x", "$gt"):
        form = {"username": username, "password": "admin"}
        assert web.post("/api/v1/auth/token", data=form).status_code == 401


def test_oversized_and_deeply_nested_bodies_are_refused_cleanly(web: TestClient) -> None:
    officer = auth(web, "dlh")
    url = "/api/v1/tickets/LP-NONE-0000/comments"
    big = web.post(url, headers=officer, json={"body": "x" * 70_000, "public": False})
    assert big.status_code == 413
    for depth in (1_000, 20_000):
        nested = "[" * depth + "]" * depth
        answer = web.post(
            url, headers={**officer, "Content-Type": "application/json"}, content=nested
        )
        assert answer.status_code in (400, 404, 422), (depth, answer.status_code)
        assert "Traceback" not in answer.text


def test_console_pages_carry_the_hardening_headers(web: TestClient, module_stored: Any) -> None:
    code = put_ticket(module_stored, opd="DLH")
    assert _hardened(web.get("/konsol/masuk"))
    signed_in(web, "dlh")
    month = utcnow().strftime("%Y-%m")
    pages = [
        "/konsol",
        f"/konsol/tiket/{code}",
        "/konsol/akun",
        "/konsol/keluar",
        "/konsol/laporan",
        f"/konsol/laporan/{month}/DLH",
        "/konsol/tiket/LP-NONE-0000",  # the 404 page
    ]
    for page in pages:
        response = web.get(page)
        assert response.headers["content-type"].startswith("text/html"), page
        assert _hardened(response), page
    signed_in(web, "admin")
    assert _hardened(web.get("/konsol/triase"))


def _hardened(response: Any) -> bool:
    headers = {k.lower(): v for k, v in response.headers.items()}
    policy = headers.get("content-security-policy", "")
    return (
        all(headers.get(k) == v for k, v in HARDENING.items())
        and "frame-ancestors 'none'" in policy
        and re.search(r"default-src 'self'", policy) is not None
    )


def test_cors_is_closed(web: TestClient) -> None:
    origin = {"Origin": "https://jahat.example"}
    preflight = web.options(
        "/api/v1/auth/token",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    answer = web.get("/api/v1/auth/me", headers={**origin, **auth(web, "dlh")})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-credentials" not in answer.headers


def test_explicit_nulls_cannot_break_an_account(web: TestClient, module_stored: Any) -> None:
    """Found by fuzzing: `{"notify_mode": null}` was module_stored, and every later read of the
    account (the admin's account list too) answered 500."""
    officer, admin = auth(web, "dlh-kepala"), auth(web, "admin")
    assert (
        web.patch("/api/v1/auth/me", headers=officer, json={"notify_mode": None}).status_code == 422
    )
    for field in ("role", "active", "password", "notify_mode"):
        answer = web.patch("/api/v1/accounts/dlh-kepala", headers=admin, json={field: None})
        assert answer.status_code == 422, field
    assert web.get("/api/v1/auth/me", headers=officer).status_code == 200
    assert web.get("/api/v1/accounts", headers=admin).status_code == 200
    assert (
        web.patch("/api/v1/accounts/dlh-kepala", headers=admin, json={"opd": "DLH"}).status_code
        == 200
    )
