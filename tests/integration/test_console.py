"""The staff's web console (/konsol) against the real database and broker, through its forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gridfs import GridFSBucket
from httpx2 import Response

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.views import Classified
from services.routing.web.page import CSRF_COOKIE, SESSION_COOKIE
from services.routing.web.views import triage_candidates
from shared.auth import Role, hash_password
from shared.catalogue import packaged_catalogue
from shared.events import utcnow
from shared.tickets import Reporter, RoutingAlternative, RoutingDecision
from tests.conftest import Infra, dev_password
from tests.integration.conftest import put_ticket as stored_ticket
from tests.integration.conftest import routing_client, settings_for
from tests.signing_keys import TEST_PRIVATE_KEY, TEST_PUBLIC_KEY

pytestmark = pytest.mark.integration

SITI_AMINAH = Reporter(name="Siti Aminah", email="siti@example.com")


@pytest.fixture
def web(infra: Infra, stored: Any) -> Iterator[TestClient]:
    """Routing's console on the test's database."""
    with routing_client(infra, stored) as client:
        yield client


def put_ticket(stored: Any, *, due_in: timedelta | None = timedelta(days=3), **fields: Any) -> str:
    """`conftest.put_ticket` as the console tests see it: due in 3 days, from Siti Aminah of
    desa Ciruas."""
    return stored_ticket(stored, due_in=due_in, desa="Ciruas", by=SITI_AMINAH, **fields)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def sign_in(web: TestClient, username: str, password: str | None = None) -> Response:
    page = web.get("/konsol/masuk")
    return web.post(
        "/konsol/masuk",
        data={
            "csrf": hidden(page.text, "csrf"),
            "username": username,
            "password": password or dev_password(username),
            "next": "/konsol",
        },
        follow_redirects=False,
    )


def signed_in(web: TestClient, username: str) -> TestClient:
    web.cookies.clear()
    response = sign_in(web, username)
    assert response.status_code == 303, response.text
    return web


def csrf(web: TestClient) -> str:
    token = web.cookies.get(CSRF_COOKIE)
    assert token
    return str(token)


def act(web: TestClient, code: str, action: str, **fields: Any) -> Response:
    data = {"csrf": csrf(web), "action": action, **{k: str(v) for k, v in fields.items()}}
    return web.post(f"/konsol/tiket/{code}/tindakan", data=data, follow_redirects=False)


def actions_on(html: str) -> set[str]:
    return set(re.findall(r'name="action" value="([a-z_]+)"', html))


def error_of(html: str, key: str) -> str | None:
    found = re.search(rf'<p class="error-message" id="f-{key}-error">(.*?)</p>', html, re.S)
    if found is None:
        return None
    return re.sub(r'<span class="vh">.*?</span>|<[^>]+>', "", found.group(1)).strip()


def set_cookie_headers(response: Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


# -- sign-in, session, CSRF ---------------------------------------------------------------------
def test_sign_in_sets_a_hardened_session_cookie_and_opens_the_queue(web: TestClient) -> None:
    response = sign_in(web, "dpupr")
    assert response.status_code == 303
    assert response.headers["location"] == "/konsol"
    (cookie,) = set_cookie_headers(response, SESSION_COOKIE)
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/konsol" in flags
    assert "secure" not in flags  # development over plain http
    queue = web.get("/konsol")
    assert queue.status_code == 200
    assert "Antrian Dinas Pekerjaan Umum dan Penataan Ruang" in queue.text
    headers = queue.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    css = web.get(re.search(r'href="(/konsol/static/console\.css\?v=\w+)"', queue.text)[1])  # type: ignore[index]
    assert css.status_code == 200 and css.headers["x-content-type-options"] == "nosniff"


def test_session_cookie_is_secure_in_production(infra: Infra, db_name: str, stored: Any) -> None:
    stored.accounts.insert_one(
        {
            "_id": "kepala",
            "password_hash": hash_password("rahasia-panjang-sekali"),
            "role": Role.ADMIN.value,
            "opd": None,
            "active": True,
        }
    )
    settings = settings_for(
        RoutingSettings,
        infra,
        db_name,
        environment="production",
        auth_secret="s" * 40,
        auth_public_key=TEST_PUBLIC_KEY,
        auth_private_key=TEST_PRIVATE_KEY,
        seed_dev_accounts=False,
    )
    app = create_app(settings)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        response = sign_in(client, "kepala", "rahasia-panjang-sekali")
    assert response.status_code == 303
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        (cookie,) = set_cookie_headers(response, name)
        assert "secure" in [part.strip().lower() for part in cookie.split(";")], cookie


def test_wrong_credentials_get_one_message_then_a_friendly_wait(web: TestClient) -> None:
    wrong = sign_in(web, "dpupr", "salah")
    unknown = sign_in(web, "tidak-ada", "salah")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Nama pengguna atau kata sandi salah." in response.text
        assert not set_cookie_headers(response, SESSION_COOKIE)
    assert 'value="dpupr"' in wrong.text, "the username is kept"
    sign_in(web, "dpupr", "salah")
    sign_in(web, "dpupr", "salah")
    throttled = sign_in(web, "dpupr", "officer")
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert re.search(
        r"Terlalu banyak percobaan masuk yang gagal\. Tunggu 1[56] menit", throttled.text
    )
    assert sign_in(web, "dlh").status_code == 303, "other usernames are not locked out"


def test_signed_out_pages_lead_to_sign_in_and_back(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    for path in ("/konsol", f"/konsol/tiket/{code}", "/konsol/triase", "/konsol/akun"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/konsol/masuk?next=")
    web.cookies.set(SESSION_COOKIE, "not-a-token", path="/konsol")
    expired = web.get(f"/konsol/tiket/{code}", follow_redirects=False)
    assert "sesi=habis" in expired.headers["location"]
    page = web.get(expired.headers["location"])
    assert "Sesi Anda sudah berakhir" in page.text
    assert hidden(page.text, "next") == f"/konsol/tiket/{code}"
    response = web.post(
        "/konsol/masuk",
        data={
            "csrf": hidden(page.text, "csrf"),
            "username": "dpupr",
            "password": "officer",
            "next": hidden(page.text, "next"),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == f"/konsol/tiket/{code}"
    outside = sign_in(web, "dpupr")
    assert outside.headers["location"] == "/konsol"
    evil = web.get("/konsol/masuk?next=//evil.example/", follow_redirects=False)
    assert evil.headers["location"] == "/konsol", "signed in: only ever a console page"


def test_posts_without_the_csrf_token_are_refused(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    page = web.get("/konsol/masuk")
    no_token = web.post(
        "/konsol/masuk",
        data={"username": "dpupr", "password": "officer"},
        follow_redirects=False,
    )
    assert no_token.status_code == 403 and "kedaluwarsa" in no_token.text
    assert not set_cookie_headers(no_token, SESSION_COOKIE)
    forged = web.post(
        "/konsol/masuk",
        data={"csrf": hidden(page.text, "csrf") + "x", "username": "dpupr", "password": "officer"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    signed_in(web, "dpupr")
    for path, data in (
        (f"/konsol/tiket/{code}/tindakan", {"action": "verify", "version": "1"}),
        (f"/konsol/tiket/{code}/komentar", {"body": "Catatan"}),
        ("/konsol/akun", {"email": "x@example.com"}),
        ("/konsol/keluar", {}),
    ):
        response = web.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, path
    ticket = stored.tickets.find_one({"_id": code})
    assert ticket["status"] == "routed" and ticket["comments"] == []
    assert web.get("/konsol", follow_redirects=False).status_code == 200, "still signed in"


def test_sign_out_ends_the_session(web: TestClient) -> None:
    signed_in(web, "dlh")
    assert "Keluar dari konsol" in web.get("/konsol/keluar").text
    response = web.post("/konsol/keluar", data={"csrf": csrf(web)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/konsol/masuk?keluar=1"
    (cookie,) = set_cookie_headers(response, SESSION_COOKIE)
    assert "max-age=0" in cookie.lower()
    assert web.get("/konsol", follow_redirects=False).status_code == 303


def test_a_deactivated_account_loses_its_session(web: TestClient, stored: Any) -> None:
    signed_in(web, "dlh")
    stored.accounts.update_one({"_id": "dlh"}, {"$set": {"active": False}})
    assert web.get("/konsol", follow_redirects=False).status_code == 303


# -- the queue ----------------------------------------------------------------------------------
def test_queue_shows_the_opd_s_tickets_with_overdue_first(web: TestClient, stored: Any) -> None:
    newest = put_ticket(stored, description="Saluran air tersumbat di gang mawar")
    late = put_ticket(
        stored,
        due_in=timedelta(days=-2),
        submitted_ago=timedelta(days=9),
        description="Jembatan bambu roboh dekat sawah",
    )
    other = put_ticket(stored, opd="DLH", description="Sampah menumpuk di pasar")
    page = signed_in(web, "dpupr").get("/konsol")
    assert page.status_code == 200
    html = page.text
    assert other not in html
    overdue_section = html.index('id="h-lewat"')
    assert overdue_section < html.index(late) < html.index('id="h-lainnya"') < html.index(newest)
    assert html.count(f'href="/konsol/tiket/{late}"') == 1, "an overdue ticket is listed once"
    counts = re.search(r'<ul class="counts">(.*?)</ul>', html, re.S)
    assert counts is not None
    assert re.search(r'<span class="n">2</span> Diteruskan ke OPD', counts.group(1))
    assert re.search(r'<span class="n">1</span> Lewat tenggat', counts.group(1))
    assert 'name="opd"' not in html, "officers get no OPD filter"

    admin = signed_in(web, "admin").get("/konsol")
    assert all(code in admin.text for code in (newest, late, other))
    assert 'name="opd"' in admin.text
    only_dlh = web.get("/konsol", params={"opd": "DLH"}).text
    assert other in only_dlh and newest not in only_dlh and late not in only_dlh


def test_queue_filters_search_and_pages(web: TestClient, stored: Any) -> None:
    found = put_ticket(stored, description="Jembatan gantung putus di Ciruas")
    verified = put_ticket(stored, status="verified")
    for i in range(51):
        put_ticket(stored, submitted_ago=timedelta(minutes=i + 1))
    signed_in(web, "dpupr")
    searched = web.get("/konsol", params={"q": "jembatan PUTUS"}).text
    assert found in searched and verified not in searched
    by_status = web.get("/konsol", params={"status": "verified"}).text
    assert verified in by_status and found not in by_status
    bad_date = web.get("/konsol", params={"dari": "kemarin"})
    assert bad_date.status_code == 422
    assert error_of(bad_date.text, "dari") == "Tanggal tidak benar. Contoh: 2025-03-07."

    first = web.get("/konsol").text
    codes_first = set(re.findall(r'class="code-link" href="/konsol/tiket/([^"]+)"', first))
    assert len(codes_first) == 50
    next_link = re.search(r'href="([^"]+)" rel="next">Berikutnya', first)
    assert next_link is not None
    second = web.get(next_link.group(1).replace("&amp;", "&")).text
    codes_second = set(re.findall(r'class="code-link" href="/konsol/tiket/([^"]+)"', second))
    assert len(codes_second) == 3 and not codes_first & codes_second
    assert "Kembali ke halaman pertama" in second


# -- a ticket -----------------------------------------------------------------------------------
def test_ticket_page_shows_the_buttons_the_workflow_allows(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    officer = signed_in(web, "dpupr").get(f"/konsol/tiket/{code}").text
    assert actions_on(officer) == {"verify", "transfer"}
    assert "Siti Aminah" in officer and "siti@example.com" in officer
    assert 'name="body"' in officer, "officers comment"
    supervisor = signed_in(web, "dpupr-kepala").get(f"/konsol/tiket/{code}").text
    assert actions_on(supervisor) == {"verify", "transfer", "reject"}
    admin = signed_in(web, "admin").get(f"/konsol/tiket/{code}").text
    assert actions_on(admin) == {"verify", "transfer", "reject"}
    auditor = signed_in(web, "auditor").get(f"/konsol/tiket/{code}").text
    assert actions_on(auditor) == set() and 'name="body"' not in auditor
    assert signed_in(web, "dlh").get(f"/konsol/tiket/{code}").status_code == 404


def test_anonymous_reporter_is_not_shown(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored, anonymous=True)
    page = signed_in(web, "admin").get(f"/konsol/tiket/{code}").text
    assert "Siti" not in page and "siti@example.com" not in page
    assert "Anonim: identitas pelapor tidak ditampilkan" in page


def test_officer_works_a_ticket_through_the_forms(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    signed_in(web, "dpupr")
    verified = act(web, code, "verify", version=1)
    assert verified.status_code == 303
    assert verified.headers["location"] == f"/konsol/tiket/{code}?selesai=verify#selesai"
    page = web.get(verified.headers["location"]).text
    assert "Laporan sudah diverifikasi." in page
    assert actions_on(page) == {
        "start",
        "resolve",
        "transfer",
        "wait_citizen",
        "wait_third_party",
    }
    assert hidden(page, "version") == "2"
    missing = act(web, code, "resolve", version=2)
    assert missing.status_code == 422
    assert error_of(missing.text, "resolve-note") == "Tulis catatannya."
    assert 'aria-invalid="true"' in missing.text
    resolved = act(web, code, "resolve", version=2, note="Lubang sudah ditambal.")
    assert resolved.status_code == 303
    ticket = stored.tickets.find_one({"_id": code})
    assert ticket["status"] == "resolved" and ticket["version"] == 3
    assert [h["actor"] for h in ticket["history"][1:]] == ["dpupr", "dpupr"]
    page = web.get(f"/konsol/tiket/{code}").text
    assert "Lubang sudah ditambal." in page and "Selesai ditangani" in page


def test_a_stale_version_shows_who_was_faster_and_the_current_state(
    web: TestClient, stored: Any
) -> None:
    code = put_ticket(stored)
    signed_in(web, "dpupr-kepala")
    assert act(web, code, "verify", version=1).status_code == 303
    stale = act(web, code, "reject", version=1, reason="spam", note="Iklan")
    assert stale.status_code == 409
    assert "sudah diubah orang lain" in stale.text
    assert hidden(stale.text, "version") == "2", "the page shows the current ticket"
    assert '<span class="badge badge-verified">Diverifikasi</span>' in stale.text
    assert 'name="note" rows="3" maxlength="4000" required aria-required="true">Iklan<' in (
        stale.text
    ), "what was typed is kept"
    ticket = stored.tickets.find_one({"_id": code})
    assert ticket["status"] == "verified" and ticket["version"] == 2


def test_transfer_and_reject_need_their_fields(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    signed_in(web, "dpupr-kepala")
    no_target = act(web, code, "transfer", version=1, note="Bukan urusan kami")
    assert no_target.status_code == 422
    assert error_of(no_target.text, "transfer-to_opd") == "Pilih OPD tujuan."
    no_reason = act(web, code, "reject", version=1, note="Tidak jelas")
    assert no_reason.status_code == 422
    assert error_of(no_reason.text, "reject-reason") == "Pilih alasan penolakan."
    moved = act(web, code, "transfer", version=1, to_opd="DLH", note="Soal sampah")
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/konsol?selesai=transfer&kode={code}&ke=DLH"
    queue = web.get(moved.headers["location"]).text
    assert f"Laporan {code} sudah dialihkan ke Dinas Lingkungan Hidup." in queue
    assert stored.tickets.find_one({"_id": code})["opd"] == "DLH"


def test_officer_may_not_reject(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    refused = act(signed_in(web, "dpupr"), code, "reject", version=1, reason="spam", note="x")
    assert refused.status_code == 403
    assert "Peran Anda tidak boleh melakukan tindakan ini." in refused.text


def test_comments_public_and_internal(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    signed_in(web, "dpupr")
    url = f"/konsol/tiket/{code}/komentar"
    internal = web.post(
        url,
        data={"csrf": csrf(web), "body": "Tim survei besok.", "public": "0"},
        follow_redirects=False,
    )
    assert internal.status_code == 303
    public = web.post(
        url,
        data={"csrf": csrf(web), "body": "Akan diperbaiki.", "public": "1"},
        follow_redirects=False,
    )
    assert public.headers["location"] == f"/konsol/tiket/{code}?selesai=comment#selesai"
    page = web.get(public.headers["location"]).text
    assert "Komentar sudah disimpan." in page
    assert re.search(r"Internal</span></p>\s*<p class=\"text\">Tim survei besok\.", page)
    assert re.search(r"Publik</span></p>\s*<p class=\"text\">Akan diperbaiki\.", page)
    comments = stored.tickets.find_one({"_id": code})["comments"]
    assert [(c["body"], c["public"]) for c in comments] == [
        ("Tim survei besok.", False),
        ("Akan diperbaiki.", True),
    ]
    empty = web.post(url, data={"csrf": csrf(web), "body": "  "}, follow_redirects=False)
    assert empty.status_code == 422
    assert error_of(empty.text, "comment-body") == "Tulis komentarnya."


def test_photos_are_served_to_those_who_see_the_ticket(web: TestClient, stored: Any) -> None:
    photo_id = "a" * 32
    GridFSBucket(stored, bucket_name="photos").upload_from_stream_with_id(
        photo_id, f"x/{photo_id}", b"\x89PNG fake", metadata={"content_type": "image/png"}
    )
    photo = {"id": photo_id, "content_type": "image/png", "size": 9, "uploaded_at": utcnow()}
    code = put_ticket(stored, photos=[photo])
    signed_in(web, "dpupr")
    page = web.get(f"/konsol/tiket/{code}").text
    assert f"/konsol/tiket/{code}/foto/{photo_id}" in page
    response = web.get(f"/konsol/tiket/{code}/foto/{photo_id}")
    assert response.status_code == 200 and response.content == b"\x89PNG fake"
    assert response.headers["content-type"] == "image/png"
    assert signed_in(web, "dlh").get(f"/konsol/tiket/{code}/foto/{photo_id}").status_code == 404


# -- triage -------------------------------------------------------------------------------------
TRIAGE_ROUTING = {
    "opd": "TRIASE",
    "confidence": 0.41,
    "reasons": [
        "Kata kunci: 'sampah' → DLH",
        "Dua kandidat terlalu dekat: DLH 41% dan DPUPR 38%; perlu triase admin",
    ],
    "model": "nb-test",
}


def test_admin_triages_from_the_triage_page(web: TestClient, stored: Any) -> None:
    code = put_ticket(
        stored,
        status="triage",
        opd=None,
        routing=TRIAGE_ROUTING,
        description="Sampah dan saluran tersumbat di jalan",
    )
    routed = put_ticket(stored)
    page = signed_in(web, "admin").get("/konsol/triase")
    assert page.status_code == 200
    html = page.text
    assert code in html and routed not in html
    assert "Dua kandidat terlalu dekat: DLH 41% dan DPUPR 38%" in html
    assert '<option value="DLH" selected>' in html, "the router's best guess is chosen"
    assert "Dinas Lingkungan Hidup (DLH) \u2013 41%" in html
    form = re.search(rf'action="/konsol/tiket/{code}/tindakan".*?</form>', html, re.S)
    assert form is not None
    response = web.post(
        f"/konsol/tiket/{code}/tindakan",
        data={
            "csrf": hidden(form.group(0), "csrf"),
            "action": "transfer",
            "version": hidden(form.group(0), "version"),
            "kembali": "triase",
            "to_opd": "DLH",
            "note": "Ditentukan oleh admin koordinator dari triase.",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/konsol/triase?selesai=transfer")
    after = web.get(response.headers["location"]).text
    assert f"Laporan {code} sudah dialihkan ke Dinas Lingkungan Hidup." in after
    assert "Tidak ada laporan yang menunggu triase." in after
    ticket = stored.tickets.find_one({"_id": code})
    assert (ticket["status"], ticket["opd"]) == ("routed", "DLH")


def test_only_admins_open_triage(web: TestClient) -> None:
    for username in ("dpupr", "dpupr-kepala", "auditor"):
        response = signed_in(web, username).get("/konsol/triase")
        assert response.status_code == 404, username
        assert 'href="/konsol/triase"' not in response.text


def test_triage_candidates_come_from_the_stored_decision() -> None:
    decision = RoutingDecision.model_validate(TRIAGE_ROUTING)
    candidates = triage_candidates(decision, "jalan-rusak", packaged_catalogue())
    assert [(c["code"], c["confidence"], c["via"]) for c in candidates] == [
        ("DLH", 0.41, "reason"),
        ("DPUPR", 0.38, "reason"),
    ]
    bare = decision.model_copy(update={"reasons": []})
    assert [c["code"] for c in triage_candidates(bare, "jalan-rusak", packaged_catalogue())] == [
        "DPUPR"
    ]
    asked_again = Classified(
        opd="TRIASE",
        confidence=0.4,
        reasons=(),
        alternatives=(
            RoutingAlternative(opd="DPUPR", confidence=0.4),
            RoutingAlternative(opd="DISPERKIM", confidence=0.2),
        ),
        referral=None,
        model="test",
    )
    merged = triage_candidates(decision, "jalan-rusak", packaged_catalogue(), asked_again)
    assert [(c["code"], c["confidence"]) for c in merged] == [
        ("DLH", 0.41),
        ("DPUPR", 0.38),
        ("DISPERKIM", 0.2),
    ]
    only_now = triage_candidates(bare, "jalan-rusak", packaged_catalogue(), asked_again)
    assert [(c["code"], c["via"]) for c in only_now] == [
        ("DPUPR", "router"),
        ("DISPERKIM", "router"),
    ]


# -- my account ---------------------------------------------------------------------------------
def test_account_contact_details_and_notification_preference(web: TestClient, stored: Any) -> None:
    signed_in(web, "dishub")
    page = web.get("/konsol/akun").text
    assert 'value="dishub@pengaduan.dev.serangkab.go.id"' in page
    saved = web.post(
        "/konsol/akun",
        data={
            "csrf": csrf(web),
            "full_name": "Budi Santoso",
            "email": "Budi@Serangkab.go.id",
            "whatsapp": "0812-3456-7890",
            "notify_mode": "digest",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "Data akun sudah disimpan." in web.get(saved.headers["location"]).text
    account = stored.accounts.find_one({"_id": "dishub"})
    assert (account["email"], account["whatsapp"], account["notify_mode"]) == (
        "budi@serangkab.go.id",
        "+6281234567890",
        "digest",
    )
    bad = web.post(
        "/konsol/akun",
        data={"csrf": csrf(web), "email": "bukan-email", "notify_mode": "immediate"},
    )
    assert bad.status_code == 422
    assert error_of(bad.text, "email") == "Tulis alamat email yang benar, misalnya nama@contoh.id."
    assert 'value="bukan-email"' in bad.text


def test_password_change(web: TestClient) -> None:
    signed_in(web, "dishub")
    url = "/konsol/akun/sandi"

    def change(current: str, new: str, again: str) -> Response:
        data = {
            "csrf": csrf(web),
            "current_password": current,
            "new_password": new,
            "confirm_password": again,
        }
        return web.post(url, data=data, follow_redirects=False)

    wrong = change("salah", "kata-sandi-baru-1", "kata-sandi-baru-1")
    assert error_of(wrong.text, "current_password") == "Kata sandi sekarang salah."
    mismatch = change("officer", "kata-sandi-baru-1", "kata-sandi-baru-2")
    assert error_of(mismatch.text, "confirm_password") == "Tidak sama dengan kata sandi baru."
    short = change("officer", "pendek", "pendek")
    assert error_of(short.text, "new_password") == "Kata sandi minimal 10 karakter."
    done = change("officer", "kata-sandi-baru-1", "kata-sandi-baru-1")
    assert done.status_code == 303
    web.cookies.clear()
    assert sign_in(web, "dishub", "officer").status_code == 401
    assert sign_in(web, "dishub", "kata-sandi-baru-1").status_code == 303


def test_english_on_request(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored)
    signed_in(web, "dpupr")
    page = web.get(f"/konsol/tiket/{code}?lang=en").text
    assert '<html lang="en">' in page and "Verify report" in page
    assert '<html lang="en">' in web.get("/konsol").text, "the choice is remembered"


def test_officer_previews_edits_and_hides_the_public_text_with_a_logged_reason(
    web: TestClient, stored: Any
) -> None:
    code = put_ticket(
        stored,
        status="verified",
        description="Saya Budi Santoso, hp 0812-3456-7890: jalan berlubang di depan SD.",
    )
    signed_in(web, "dpupr")
    page = web.get(f"/konsol/tiket/{code}").text
    assert "Tampilan untuk umum" in page
    assert "Isi laporan tampil untuk umum" in page
    assert "Saya [nama], hp [nomor telepon]: jalan berlubang di depan SD." in page

    def post(**fields: str) -> Response:
        version = str(stored.tickets.find_one({"_id": code})["version"])
        data = {"csrf": csrf(web), "version": version, **fields}
        return web.post(f"/konsol/tiket/{code}/publikasi", data=data, follow_redirects=False)

    refused = post(text="Jalan berlubang di depan SD.", reason="")
    assert refused.status_code == 422
    assert 'id="f-publication-reason-error"' in refused.text
    assert stored.tickets.find_one({"_id": code}).get("publication") is None

    edited = post(text="Jalan berlubang di depan SD, kata Pak Budi.", reason="Sebut lokasi saja")
    assert edited.status_code == 303
    doc = stored.tickets.find_one({"_id": code})
    assert doc["publication"]["text"] == "Jalan berlubang di depan SD, kata Pak Budi."
    assert doc["publication"]["by"] == "dpupr" and not doc["publication"]["hidden"]
    page = web.get(f"/konsol/tiket/{code}?selesai=publication").text
    assert "Jalan berlubang di depan SD, kata Pak [nama]." in page
    assert "Tampilan untuk umum sudah disimpan." in page

    assert post(text="", hidden="1", reason="Menyebut anak di bawah umur").status_code == 303
    doc = stored.tickets.find_one({"_id": code})
    assert doc["publication"]["hidden"] is True and doc["publication"]["text"] is None
    last = doc["history"][-1]
    assert last["action"] == "publication" and last["public"] is False
    assert (
        "disembunyikan" in last["internal_note"] and "anak di bawah umur" in last["internal_note"]
    )
    assert "Tidak tampil: isi disembunyikan petugas." in web.get(f"/konsol/tiket/{code}").text


def test_auditors_see_the_public_preview_but_change_nothing(web: TestClient, stored: Any) -> None:
    code = put_ticket(stored, status="routed", description="Nama saya Ani, jalan rusak parah.")
    signed_in(web, "auditor")
    page = web.get(f"/konsol/tiket/{code}").text
    assert "Nama saya [nama], jalan rusak parah." in page
    assert "Belum tampil: isi laporan tampil untuk umum setelah diverifikasi." in page
    assert f'action="/konsol/tiket/{code}/publikasi"' not in page
    data = {"csrf": csrf(web), "text": "", "hidden": "1", "reason": "coba"}
    assert web.post(f"/konsol/tiket/{code}/publikasi", data=data).status_code == 403
    assert stored.tickets.find_one({"_id": code}).get("publication") is None


@pytest.fixture
def with_statistics(infra: Infra, db_name: str, web: TestClient) -> Any:
    """The statistics of a generated history, projected into the console's database."""
    import asyncio

    from shared.mongo import connect
    from shared.statistics.service import Projector
    from shared.statistics.store import StatisticsStore
    from tests.statistics_history import CALENDAR, generate

    history = generate(150, seed=51)

    async def project() -> None:
        client = connect(infra.mongodb_url)
        try:
            await Projector(StatisticsStore(client[db_name]), CALENDAR).apply(history.events)
        finally:
            await client.close()

    asyncio.run(project())
    return history


def test_monthly_reports_for_the_bupati_and_each_opd_head_as_html_and_pdf(
    web: TestClient, with_statistics: Any
) -> None:
    from tests.statistics_history import expected

    month = "2026-03"
    in_month = [t for t in with_statistics.truths if t.month == month]
    signed_in(web, "admin")
    index = web.get("/konsol/laporan")
    assert index.status_code == 200 and f'href="/konsol/laporan/{month}.pdf"' in index.text
    page = web.get(f"/konsol/laporan/{month}")
    assert page.status_code == 200
    assert "Laporan Bulanan Pengelolaan Pengaduan" in page.text and "Maret 2026" in page.text
    assert f"<td>{len(in_month)}</td>" in page.text and page.text.count("<svg") == 2
    assert "Dinas Pekerjaan Umum dan Penataan Ruang (DPUPR)" in page.text
    paused = expected(in_month).paused
    assert f"Menunggu pelapor atau pihak ketiga (tenggat dijeda)</th><td>{paused}</td>" in page.text
    assert not re.search(r"LP-[A-Z0-9]{4}-[A-Z0-9]{4}", page.text), "no report is named"
    pdf = web.get(f"/konsol/laporan/{month}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 5000
    chosen = web.get(f"/konsol/laporan/{month}", params={"opd": "dlh"}, follow_redirects=False)
    assert (
        chosen.status_code == 303 and chosen.headers["location"] == f"/konsol/laporan/{month}/DLH"
    )

    signed_in(web, "dlh-kepala")
    own = web.get(f"/konsol/laporan/{month}/DLH")
    dlh = expected(t for t in in_month if t.opd == "DLH")
    assert own.status_code == 200 and "Untuk Kepala Dinas Lingkungan Hidup" in own.text
    assert f"<td>{dlh.received}</td>" in own.text and "Per kategori" in own.text
    assert web.get(f"/konsol/laporan/{month}/DLH.pdf").content.startswith(b"%PDF-")
    assert web.get(f"/konsol/laporan/{month}/DPUPR").status_code == 404, "another OPD's"
    assert web.get(f"/konsol/laporan/{month}").status_code == 404, "the bupati's"

    signed_in(web, "dlh")
    assert web.get("/konsol/laporan").status_code == 404, "officers read no reports"
    assert web.get(f"/konsol/laporan/{month}/DLH").status_code == 404
    assert "Laporan bulanan" not in web.get("/konsol").text
