"""Routing's staff API against the real database: scope, workflow, conflicts, lists, accounts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.routing.queries import encode_cursor
from tests.integration.conftest import auth, put_ticket

pytestmark = pytest.mark.integration


def test_officer_sees_own_opd_only_and_others_get_404(api: TestClient, stored: Any) -> None:
    mine = put_ticket(stored, opd="DPUPR")
    theirs = put_ticket(stored, opd="DLH")
    triage = put_ticket(stored, status="triage", opd=None)
    officer = auth(api, "dpupr")
    assert api.get(f"/api/v1/tickets/{mine}", headers=officer).status_code == 200
    for other in (theirs, triage):
        response = api.get(f"/api/v1/tickets/{other}", headers=officer)
        assert response.status_code == 404
        again = api.post(
            f"/api/v1/tickets/{other}/transitions", headers=officer, json={"action": "verify"}
        )
        assert again.status_code == 404
    listed = {
        t["tracking_code"] for t in api.get("/api/v1/tickets", headers=officer).json()["items"]
    }
    assert listed == {mine}
    admin = {
        t["tracking_code"]
        for t in api.get("/api/v1/tickets", headers=auth(api, "admin")).json()["items"]
    }
    assert admin == {mine, theirs, triage}
    assert api.get("/api/v1/tickets").status_code == 401


def test_anonymous_reporter_is_hidden_from_everyone(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored, anonymous=True)
    named = put_ticket(stored)
    for user in ("admin", "dpupr"):
        assert "reporter" not in api.get(f"/api/v1/tickets/{code}", headers=auth(api, user)).json()
    shown = api.get(f"/api/v1/tickets/{named}", headers=auth(api, "dpupr")).json()
    assert shown["reporter"]["name"] == "Siti"


def test_auditor_reads_everything_and_changes_nothing(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored, opd="DLH")
    auditor = auth(api, "auditor")
    assert api.get(f"/api/v1/tickets/{code}", headers=auditor).json()["allowed_actions"] == []
    assert (
        api.post(
            f"/api/v1/tickets/{code}/transitions", headers=auditor, json={"action": "verify"}
        ).status_code
        == 403
    )
    assert (
        api.post(
            f"/api/v1/tickets/{code}/comments", headers=auditor, json={"body": "x"}
        ).status_code
        == 403
    )


def test_officer_works_a_ticket_to_resolution(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    officer = auth(api, "dpupr")
    url = f"/api/v1/tickets/{code}/transitions"
    verified = api.post(url, headers=officer, json={"action": "verify", "version": 1})
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified" and verified.json()["due_at"]
    started = api.post(url, headers=officer, json={"action": "start"}).json()
    assert started["status"] == "in_progress"
    assert api.post(url, headers=officer, json={"action": "resolve"}).status_code == 422
    resolved = api.post(
        url, headers=officer, json={"action": "resolve", "note": "Lubang sudah ditambal."}
    ).json()
    assert resolved["status"] == "resolved"
    assert [h["action"] for h in resolved["history"]] == ["submit", "verify", "start", "resolve"]
    assert resolved["history"][-1]["actor"] == "dpupr"
    assert api.post(url, headers=officer, json={"action": "close"}).status_code == 403
    assert api.post(url, headers=auth(api, "admin"), json={"action": "verify"}).status_code == 409


def test_stale_version_is_409_with_the_current_ticket(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    officer = auth(api, "dpupr")
    url = f"/api/v1/tickets/{code}/transitions"
    assert (
        api.post(url, headers=officer, json={"action": "verify", "version": 1}).status_code == 200
    )
    stale = api.post(url, headers=officer, json={"action": "start", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["ticket"]["version"] == 2 and stale.json()["ticket"]["status"] == "verified"


def test_two_officers_at_once_one_wins(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    officer, supervisor = auth(api, "dpupr"), auth(api, "dpupr-kepala")
    url = f"/api/v1/tickets/{code}/transitions"

    def act(headers: dict[str, str]) -> int:
        return api.post(url, headers=headers, json={"action": "verify", "version": 1}).status_code

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(act, [officer, supervisor, officer, supervisor]))
    assert results.count(200) == 1 and results.count(409) == 3
    assert stored.tickets.find_one({"_id": code})["version"] == 2


def test_transfer_hands_the_ticket_to_another_opd(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    officer = auth(api, "dpupr")
    moved = api.post(
        f"/api/v1/tickets/{code}/transitions",
        headers=officer,
        json={"action": "transfer", "to_opd": "DLH", "note": "Soal sampah"},
    )
    assert moved.status_code == 200 and moved.json()["opd"] == "DLH"
    assert api.get(f"/api/v1/tickets/{code}", headers=officer).status_code == 404
    assert api.get(f"/api/v1/tickets/{code}", headers=auth(api, "dlh")).json()["status"] == "routed"


def test_only_a_supervisor_or_admin_rejects(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    url = f"/api/v1/tickets/{code}/transitions"
    body = {"action": "reject", "reason": "spam", "note": "Iklan"}
    assert api.post(url, headers=auth(api, "dpupr"), json=body).status_code == 403
    assert (
        api.post(url, headers=auth(api, "dpupr-kepala"), json=body).json()["status"] == "rejected"
    )


def test_comments_public_and_internal(api: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    officer = auth(api, "dpupr")
    url = f"/api/v1/tickets/{code}/comments"
    assert api.post(url, headers=officer, json={"body": "Tim survei besok."}).status_code == 201
    public = api.post(url, headers=officer, json={"body": "Akan diperbaiki.", "public": True})
    assert public.status_code == 201 and public.json()["public"] is True
    comments = api.get(f"/api/v1/tickets/{code}", headers=officer).json()["comments"]
    assert [(c["body"], c["public"]) for c in comments] == [
        ("Tim survei besok.", False),
        ("Akan diperbaiki.", True),
    ]


def test_filters_search_paging_and_counts(api: TestClient, stored: Any) -> None:
    overdue = put_ticket(stored, due_in=timedelta(days=-1), description="Jembatan bambu roboh")
    put_ticket(stored, status="verified", due_in=timedelta(days=3), kecamatan="KEC-KRAGILAN")
    codes = [put_ticket(stored, submitted_ago=timedelta(minutes=i)) for i in range(5)]
    put_ticket(stored, opd="DLH")
    officer = auth(api, "dpupr")

    def items(**params: Any) -> list[str]:
        response = api.get("/api/v1/tickets", headers=officer, params=params)
        assert response.status_code == 200, response.text
        return [t["tracking_code"] for t in response.json()["items"]]

    assert items(overdue="true") == [overdue]
    assert items(q="JEMBATAN roboh") == [overdue]
    assert len(items(kecamatan="KEC-KRAGILAN")) == 1
    assert len(items(status="verified")) == 1 and len(items(status="routed,verified")) == 7
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/tickets", headers=officer, params=params).json()
        seen += [t["tracking_code"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7 and set(codes) <= set(seen)
    assert seen.index(codes[0]) < seen.index(codes[4])  # newest first
    by_due = items(sort="due_at", status="routed,verified")
    assert by_due.index(overdue) < len(by_due) - 1
    counts = api.get("/api/v1/tickets/counts", headers=officer).json()
    assert counts == {"routed": 6, "verified": 1, "overdue": 1}
    assert (
        api.get("/api/v1/tickets", headers=officer, params={"cursor": "bogus"}).status_code == 422
    )
    injected = encode_cursor({"$ne": None}, "x")
    assert (
        api.get("/api/v1/tickets", headers=officer, params={"cursor": injected}).status_code == 422
    )


def test_sign_in_is_throttled_per_username_and_address(api: TestClient) -> None:
    auth(api, "dlh")  # wait for the seed
    for _ in range(3):
        wrong = api.post("/api/v1/auth/token", data={"username": "dlh", "password": "nope"})
        assert wrong.status_code == 401
    blocked = api.post("/api/v1/auth/token", data={"username": "dlh", "password": "officer"})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert (
        api.post(
            "/api/v1/auth/token", data={"username": "dinkes", "password": "officer"}
        ).status_code
        == 200
    )


def test_accounts_are_managed_by_admins(api: TestClient) -> None:
    admin, officer = auth(api, "admin"), auth(api, "dinkes")
    body = {
        "username": "budi.dinkes",
        "password": "rahasia-sekali",
        "role": "officer",
        "opd": "DINKES",
        "email": "budi@example.go.id",
        "notify_mode": "digest",
    }
    assert api.post("/api/v1/accounts", headers=officer, json=body).status_code == 403
    created = api.post("/api/v1/accounts", headers=admin, json=body)
    assert created.status_code == 201 and created.json()["notify_mode"] == "digest"
    assert api.post("/api/v1/accounts", headers=admin, json=body).status_code == 409
    bad = api.post(
        "/api/v1/accounts", headers=admin, json={**body, "username": "x2", "opd": "NOPE"}
    )
    assert bad.status_code == 422
    token = api.post(
        "/api/v1/auth/token", data={"username": "budi.dinkes", "password": "rahasia-sekali"}
    )
    mine = {"Authorization": f"Bearer {token.json()['access_token']}"}
    changed = api.post(
        "/api/v1/auth/password",
        headers=mine,
        json={"current_password": "rahasia-sekali", "new_password": "lebih-rahasia"},
    )
    assert changed.status_code == 204
    assert api.get("/api/v1/auth/me", headers=mine).status_code == 401, "the change revokes it"
    token = api.post(
        "/api/v1/auth/token", data={"username": "budi.dinkes", "password": "lebih-rahasia"}
    )
    mine = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (
        api.patch("/api/v1/auth/me", headers=mine, json={"whatsapp": "+6281234567890"}).json()[
            "whatsapp"
        ]
        == "+6281234567890"
    )
    off = api.patch("/api/v1/accounts/budi.dinkes", headers=admin, json={"active": False})
    assert off.json()["active"] is False
    assert (
        api.post(
            "/api/v1/auth/token", data={"username": "budi.dinkes", "password": "lebih-rahasia"}
        ).status_code
        == 401
    )


def test_admins_edit_the_catalogue_and_every_change_is_audited(api: TestClient) -> None:
    admin, officer = auth(api, "admin"), auth(api, "dlh")
    body = {
        "name": "Pohon rawan tumbang",
        "name_en": "Tree at risk of falling",
        "group": "Lingkungan",
        "opd": "DLH",
        "keywords": ["pohon miring", "dahan patah"],
    }
    assert (
        api.put("/api/v1/catalogue/categories/pohon-rawan", headers=officer, json=body).status_code
        == 403
    )
    created = api.put("/api/v1/catalogue/categories/pohon-rawan", headers=admin, json=body)
    assert created.status_code == 200 and created.json()["code"] == "pohon-rawan"
    bad = api.put("/api/v1/catalogue/categories/x", headers=admin, json={**body, "opd": "NOPE"})
    assert bad.status_code == 422
    changed = api.put(
        "/api/v1/catalogue/categories/pohon-rawan", headers=admin, json={**body, "opd": "BPBD"}
    )
    assert changed.json()["opd"] == "BPBD"
    categories = api.get("/api/v1/catalogue", headers=officer).json()["categories"]
    assert any(c["code"] == "pohon-rawan" and c["opd"] == "BPBD" for c in categories)
    trail = api.get("/api/v1/catalogue/audit", headers=auth(api, "auditor")).json()
    assert [
        (t["actor"], t["code"], (t["before"] or {}).get("opd"), t["after"]["opd"])
        for t in trail[:2]
    ] == [("admin", "pohon-rawan", "DLH", "BPBD"), ("admin", "pohon-rawan", None, "DLH")]


def test_a_deactivated_account_loses_api_access_at_once(api: TestClient) -> None:
    officer = auth(api, "dishub")
    assert api.get("/api/v1/tickets", headers=officer).status_code == 200
    api.patch("/api/v1/accounts/dishub", headers=auth(api, "admin"), json={"active": False})
    assert api.get("/api/v1/tickets", headers=officer).status_code == 401


def test_publication_is_edited_through_the_api_and_shown_redacted(
    api: TestClient, stored: Any
) -> None:
    code = put_ticket(
        stored, status="verified", description="Saya Siti, wa 081234567890, jalan rusak"
    )
    own = auth(api, "dpupr")
    ticket = api.get(f"/api/v1/tickets/{code}", headers=own).json()
    assert ticket["publication"]["text"] == "Saya [nama], wa [nomor telepon], jalan rusak"
    assert ticket["publication"]["exposure"] == "public" and not ticket["publication"]["edited"]
    url = f"/api/v1/tickets/{code}/publication"
    body = {"text": "Jalan rusak, hubungi 0812 0000 1111", "reason": "Ringkas", "version": 1}
    changed = api.put(url, json=body, headers=own)
    assert changed.status_code == 200, changed.text
    assert changed.json()["publication"]["text"] == "Jalan rusak, hubungi [nomor telepon]"
    assert changed.json()["publication"]["edited"] is True
    assert api.put(url, json=body, headers=own).status_code == 409, "stale version"
    assert api.put(url, json={"reason": "x" * 3}, headers=auth(api, "auditor")).status_code == 403
    assert api.put(url, json={"reason": "lain"}, headers=auth(api, "dlh")).status_code == 404
    assert api.put(url, json={"hidden": True}, headers=own).status_code == 422, "reason needed"
