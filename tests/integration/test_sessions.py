"""Staff sessions against the real database: sign-out and password changes revoke tokens, and
a console session ends a fixed time after its sign-in however active it is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.routing.web.page import SESSION_COOKIE
from shared.auth import Principal, Role, TokenCodec
from shared.events import utcnow
from shared.signing import DEV_AUTH_PRIVATE_KEY, DEV_AUTH_PUBLIC_KEY
from tests.integration.conftest import auth
from tests.integration.test_console import csrf, signed_in, web

pytestmark = pytest.mark.integration
__all__ = ["web"]  # a fixture

ME = "/api/v1/auth/me"


def test_api_sign_out_revokes_every_token_of_the_account(api: TestClient) -> None:
    first, second = auth(api, "dlh"), auth(api, "dlh")
    other = auth(api, "dpupr")
    assert api.get(ME, headers=first).status_code == 200
    assert api.post("/api/v1/auth/sign-out", headers=second).status_code == 204
    for revoked in (first, second):
        assert api.get(ME, headers=revoked).status_code == 401
    assert api.get(ME, headers=other).status_code == 200, "only that account's tokens"
    assert api.get(ME, headers=auth(api, "dlh")).status_code == 200, "a new sign-in works"


def test_api_password_change_revokes_earlier_tokens(api: TestClient) -> None:
    before = auth(api, "dishub")
    changed = api.post(
        "/api/v1/auth/password",
        headers=before,
        json={"current_password": "officer", "new_password": "kata-sandi-baru-1"},
    )
    assert changed.status_code == 204, changed.text
    assert api.get(ME, headers=before).status_code == 401
    token = api.post(
        "/api/v1/auth/token", data={"username": "dishub", "password": "kata-sandi-baru-1"}
    ).json()["access_token"]
    assert api.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_admin_setting_a_password_ends_the_account_s_sessions(api: TestClient) -> None:
    officer = auth(api, "dlh")
    reset = api.patch(
        "/api/v1/accounts/dlh", headers=auth(api, "admin"), json={"password": "diatur-admin-1"}
    )
    assert reset.status_code == 200, reset.text
    assert api.get(ME, headers=officer).status_code == 401


def test_console_sign_out_revokes_a_copied_session_cookie(web: TestClient) -> None:
    signed_in(web, "dlh")
    copied = web.cookies.get(SESSION_COOKIE, path="/konsol")
    assert copied
    assert web.post("/konsol/keluar", data={"csrf": csrf(web)}, follow_redirects=False)
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, copied, path="/konsol")
    page = web.get("/konsol", follow_redirects=False)
    assert page.status_code == 303 and "sesi=habis" in page.headers["location"]


def test_console_password_change_keeps_this_session_and_ends_the_others(
    web: TestClient,
) -> None:
    signed_in(web, "dishub")
    elsewhere = web.cookies.get(SESSION_COOKIE, path="/konsol")
    data = {
        "csrf": csrf(web),
        "current_password": "officer",
        "new_password": "kata-sandi-baru-1",
        "confirm_password": "kata-sandi-baru-1",
    }
    assert web.post("/konsol/akun/sandi", data=data, follow_redirects=False).status_code == 303
    assert web.get("/konsol", follow_redirects=False).status_code == 200, "this session goes on"
    assert elsewhere
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, elsewhere, path="/konsol")
    assert web.get("/konsol", follow_redirects=False).status_code == 303


def _session(signed_in_ago: timedelta, stored: Any) -> str:
    account = stored.accounts.find_one({"_id": "dlh"})
    codec = TokenCodec(DEV_AUTH_PUBLIC_KEY, private=DEV_AUTH_PRIVATE_KEY, ttl_seconds=1800)
    return codec.issue(
        Principal(
            username="dlh",
            role=Role.OFFICER,
            opd="DLH",
            token_version=int(account.get("token_version", 0)),
            signed_in_at=utcnow() - signed_in_ago,
        )
    )


def test_console_session_has_an_absolute_lifetime(web: TestClient, stored: Any) -> None:
    """A session renewed on every page still ends 12 hours (the default) after sign-in: the
    renewed cookie keeps the sign-in time."""
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, _session(timedelta(hours=11), stored), path="/konsol")
    page = web.get("/konsol", follow_redirects=False)
    assert page.status_code == 200
    renewed = page.cookies.get(SESSION_COOKIE)
    assert renewed
    verified = TokenCodec(DEV_AUTH_PUBLIC_KEY, ttl_seconds=1800).verify(renewed)
    assert verified.signed_in_at is not None
    assert utcnow() - verified.signed_in_at > timedelta(hours=10, minutes=59)

    stale = _session(timedelta(hours=12, minutes=1), stored)
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, stale, path="/konsol")
    ended = web.get("/konsol", follow_redirects=False)
    assert ended.status_code == 303 and "sesi=habis" in ended.headers["location"]
