"""Intake's web pages against the real MongoDB-compatible server (Kafka left unreachable)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.web.page import KIT
from shared.tickets import history_entry
from tests.conftest import Infra, start_of_a_rate_window
from tests.integration.conftest import settings_for

pytestmark = pytest.mark.integration

ID, EN = KIT.catalogues.messages("id"), KIT.catalogues.messages("en")
DESCRIPTION = "Jalan berlubang di depan SDN 1 Ciruas, sudah sebulan tidak diperbaiki."
FORM: dict[str, str] = {
    "kind": "complaint",
    "title": "Jalan berlubang",
    "description": DESCRIPTION,
    "category": "jalan-rusak",
    "kecamatan": "KEC-CIRUAS",
    "desa": "KEC-CIRUAS|Ciruas",
    "address": "Jl. Raya Ciruas km 3",
    "lat": "-6,12",
    "lon": "106.25",
    "name": "Siti Aminah",
    "email": "siti@example.com",
    "phone": "0812-3456-7890",
}


@pytest.fixture
def client(infra: Infra, db_name: str) -> Iterator[TestClient]:
    app = create_app(settings_for(IntakeSettings, infra, db_name))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def _form_fields(client: TestClient) -> dict[str, str]:
    page = client.get("/").text
    return {"csrf": _hidden(page, "csrf"), "form_key": _hidden(page, "form_key")}


def _error(html: str, field: str) -> str | None:
    found = re.search(rf'<p class="error-message" id="f-{field}-error">(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else None


def _submit(client: TestClient, **changes: str) -> Any:
    data = {**_form_fields(client), **FORM, **changes}
    return client.post("/kirim", data={k: v for k, v in data.items() if v is not None})


def _receipt(response: Any) -> tuple[str, str]:
    assert response.status_code == 201, response.text
    link = re.search(r'id="reply-link" href="([^"]+)"', response.text)
    assert link, "no reply link on the receipt"
    code = re.search(r"kode=([A-Z0-9-]+)#t=", link.group(1))
    assert code
    return code.group(1), link.group(1).split("#t=", 1)[1]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def _as_reporter(client: TestClient, code: str, token: str) -> Any:
    return client.post("/lacak", data={"csrf": _csrf(client), "kode": code, "token": token})


def _csrf(client: TestClient) -> str:
    return _hidden(client.get("/").text, "csrf")


def _resolve(stored: Any, code: str, note: str = "Lubang sudah ditambal.") -> None:
    """What routing does when the OPD resolves a ticket, written straight to the database."""
    now = datetime.now(UTC)
    entry = history_entry(
        at=now, actor="dpupr", action="resolve", from_status="in_progress", to_status="resolved"
    )
    entry["note"] = note
    stored.tickets.update_one(
        {"_id": code},
        {
            "$set": {"status": "resolved", "resolved_at": now, "opd": "DPUPR", "updated_at": now},
            "$push": {"history": entry},
            "$inc": {"version": 1},
        },
    )


# -- the form -------------------------------------------------------------------------------------
def test_form_is_indonesian_first_and_english_on_request(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="id">' in page.text
    assert "Kirim laporan" in page.text and "Pengaduan" in page.text
    assert "Undang-Undang Nomor 27 Tahun 2022" in page.text
    assert 'data-kec="KEC-CIRUAS"' in page.text and 'value="KEC-CIRUAS|Ciruas"' in page.text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Send report" in english.text
    assert 'href="/?lang=id" lang="id"' in english.text
    assert "Damaged or potholed road" in english.text
    assert "lp_lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/lacak").text, "the choice is remembered"
    assert '<html lang="id">' in client.get("/?lang=id").text


def test_every_field_has_a_label(client: TestClient) -> None:
    page = client.get("/").text
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="(f-[^"]+)"', page)
    assert len(ids) >= 15
    for field_id in ids:
        assert f'for="{field_id}"' in page, f"{field_id} has no <label>"


def test_pages_carry_security_headers(client: TestClient) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert "lp_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    for path in ("/", "/lacak", "/static/app.css", "/static/app.js"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path


def test_the_form_page_is_small(client: TestClient) -> None:
    page = client.get("/", headers={"accept-encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert int(page.headers["content-length"]) < 12_000
    weight = sum(len(client.get(f"/static/{name}").content) for name in ("app.css", "app.js"))
    assert weight < 12_000
    assert "https://" not in page.text, "no external fonts, scripts or styles"


@pytest.mark.parametrize("csrf", [None, "", "forged.value", "forgéd.välue"])
def test_post_without_the_right_csrf_token_is_refused(
    client: TestClient, stored: Any, csrf: str | None
) -> None:
    data = {**_form_fields(client), **FORM}
    if csrf is None:
        data.pop("csrf")
    else:
        data["csrf"] = csrf
    response = client.post("/kirim", data=data)
    assert response.status_code == 403
    assert "kedaluwarsa" in response.text
    assert DESCRIPTION in response.text, "what the citizen typed is kept"
    assert stored.tickets.count_documents({}) == 0


def test_csrf_cookie_must_be_ours(client: TestClient, stored: Any) -> None:
    fields = _form_fields(client)
    client.cookies.set("lp_csrf", "attacker.chosen")
    response = client.post("/kirim", data={**FORM, **fields, "csrf": "attacker.chosen"})
    assert response.status_code == 403
    assert stored.tickets.count_documents({}) == 0


def test_invalid_fields_come_back_with_messages_next_to_them(
    client: TestClient, stored: Any
) -> None:
    response = _submit(
        client, description="pendek", email="bukan-email", phone="call me", lat="utara", lon="x"
    )
    assert response.status_code == 422
    html = response.text
    assert _error(html, "description") == "Kesalahan: Tulis uraian paling sedikit 10 karakter."
    assert _error(html, "email") and "email" in str(_error(html, "email"))
    assert _error(html, "phone") and "0812" in str(_error(html, "phone"))
    assert _error(html, "lat")
    assert 'aria-describedby="f-description-hint f-description-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'class="error-summary"' in html and 'href="#f-description"' in html
    assert html.count("<title>Kesalahan:") == 1
    assert ">pendek</textarea>" in html
    assert 'href="/?lang=en"' in html, "the language switch leads back to the form"
    assert 'value="bukan-email"' in html and 'value="Siti Aminah"' in html
    assert 'value="KEC-CIRUAS|Ciruas" selected' in html
    assert stored.tickets.count_documents({}) == 0


def test_rules_of_the_use_case_show_next_to_their_field(client: TestClient, stored: Any) -> None:
    wrong_desa = _submit(client, kecamatan="KEC-ANYAR", desa="KEC-CIRUAS|Ciruas")
    assert wrong_desa.status_code == 422
    assert "Desa tidak ada di Kecamatan Anyar." in str(_error(wrong_desa.text, "desa"))
    far_away = _submit(client, lat="-7.5")
    assert "Lokasi di luar wilayah kabupaten." in str(_error(far_away.text, "lat"))
    english = client.get("/?lang=en")
    assert english.status_code == 200
    unknown = _submit(client, category="no-such-category")
    assert _error(unknown.text, "category") == "Error: Unknown category."
    assert stored.tickets.count_documents({}) == 0


def test_submission_stores_the_ticket_and_shows_the_receipt(
    client: TestClient, stored: Any
) -> None:
    response = _submit(client)
    code, token = _receipt(response)
    html = response.text
    assert f'<p class="code" aria-labelledby="kode-label">{code}</p>' in html
    assert f'<code id="reply-token">{token}</code>' in html
    assert f"/lacak?kode={code}#t={token}" in html
    assert "?t=" not in html and f"t={token}&" not in html, "the token only in the fragment"
    assert "Jangan bagikan tautan" in html
    assert "3 hari kerja" in html and "5 hari kerja" in html
    assert re.search(r"Paling lambat \d{1,2} \w+ 20\d\d", html)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    doc = stored.tickets.find_one({"_id": code})
    assert doc["source"] == "web"
    assert doc["description"] == DESCRIPTION
    assert doc["location"] == {
        "kecamatan": "KEC-CIRUAS",
        "desa": "Ciruas",
        "address": "Jl. Raya Ciruas km 3",
        "lat": -6.12,
        "lon": 106.25,
    }
    assert doc["reporter"]["phone"] == "+6281234567890"
    assert doc["anonymous"] is False and doc["confidential"] is False
    assert token not in str(doc)


def test_sending_the_same_form_twice_gives_one_ticket(client: TestClient, stored: Any) -> None:
    fields = {**_form_fields(client), **FORM}
    first = _receipt(client.post("/kirim", data=fields))
    again = _receipt(client.post("/kirim", data=fields))
    assert again == first
    assert stored.tickets.count_documents({}) == 1
    edited = _receipt(
        client.post("/kirim", data={**fields, "description": DESCRIPTION + " Tolong."})
    )
    assert edited[0] != first[0], "the same form sent back with other words is a new report"


def test_photos_are_attached_with_the_form(client: TestClient, stored: Any) -> None:
    data = {**_form_fields(client), **FORM}
    files = [("foto", ("a.png", _png(), "image/png")), ("foto", ("", b"", "image/png"))]
    response = client.post("/kirim", data=data, files=files)
    code, _ = _receipt(response)
    assert "Foto terlampir: 1." in response.text
    assert len(stored.tickets.find_one({"_id": code})["photos"]) == 1
    assert f"/api/v1/complaints/{code}/photos/" not in client.get(f"/lacak?kode={code}").text
    stored.tickets.update_one({"_id": code}, {"$set": {"status": "verified"}})
    public = client.get(f"/lacak?kode={code}").text
    assert f"/api/v1/complaints/{code}/photos/" in public, "public once verified"


def test_a_file_that_is_not_an_image_sends_the_form_back(client: TestClient, stored: Any) -> None:
    data = {**_form_fields(client), **FORM}
    files = [
        ("foto", ("a.png", _png(), "image/png")),
        ("foto", ("b.jpg", b"MZ\x90\x00", "image/jpeg")),
    ]
    response = client.post("/kirim", data=data, files=files)
    assert response.status_code == 422
    assert "Foto 2 bukan gambar JPEG, PNG atau WebP." in str(_error(response.text, "photos"))
    assert DESCRIPTION in response.text
    assert stored.tickets.count_documents({}) == 0


def test_too_many_posts_from_one_address_are_slowed_down(infra: Infra, db_name: str) -> None:
    start_of_a_rate_window()
    app = create_app(settings_for(IntakeSettings, infra, db_name, rate_limit_per_minute=1))
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [_submit(client, description=f"{DESCRIPTION} ({n})") for n in range(3)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused, [a.status_code for a in answers]
    assert "Tunggu" in refused[0].text and refused[0].headers["retry-after"].isdigit()
    assert DESCRIPTION in refused[0].text


# -- the tracking page ----------------------------------------------------------------------------
def test_tracking_page_shows_the_status_in_plain_words(client: TestClient, stored: Any) -> None:
    code, _ = _receipt(_submit(client))
    page = client.get(f"/lacak?kode={code.lower()}")
    assert page.status_code == 200
    assert f'Laporan <span class="nowrap">{code}</span>' in page.text
    assert "Diterima" in page.text and "Belum ditentukan" in page.text
    assert "setelah diverifikasi petugas" in page.text
    assert "Jalan rusak atau berlubang" not in page.text, "content public only once verified"
    for private in ("Siti", "siti@example.com", "6281234567890", DESCRIPTION):
        assert private not in page.text
    english = client.get(f"/lacak?kode={code}&lang=en").text
    assert "Received" in english and "Not assigned yet" in english
    assert 'id="token-form"' in page.text
    stored.tickets.update_one({"_id": code}, {"$set": {"status": "verified", "opd": "DPUPR"}})
    verified = client.get(f"/lacak?kode={code}&lang=id").text
    assert "Jalan rusak atau berlubang" in verified and DESCRIPTION in verified
    for private in ("Siti", "siti@example.com", "6281234567890"):
        assert private not in verified


def test_unknown_tracking_code_says_so(client: TestClient) -> None:
    page = client.get("/lacak?kode=LP-2222-2222")
    assert page.status_code == 404
    assert "Kode pelacakan tidak ditemukan" in str(_error(page.text, "kode"))
    assert 'value="LP-2222-2222"' in page.text


def test_confidential_report_shows_only_its_status(client: TestClient, stored: Any) -> None:
    code, token = _receipt(_submit(client, confidential="1"))
    stored.tickets.update_one({"_id": code}, {"$set": {"status": "in_progress"}})
    public = client.get(f"/lacak?kode={code}").text
    assert "Isi laporan ini tidak ditampilkan untuk umum" in public and "Sedang" in public
    assert "Jalan rusak atau berlubang" not in public and "Riwayat" not in public
    assert DESCRIPTION not in public
    own = _as_reporter(client, code, token)
    assert DESCRIPTION in own.text and "Rahasia" in own.text


def test_reporter_token_opens_the_whole_report(client: TestClient) -> None:
    code, token = _receipt(_submit(client))
    page = _as_reporter(client, code, token)
    assert page.status_code == 200
    assert DESCRIPTION in page.text and "siti@example.com" in page.text
    assert "Tambah informasi" in page.text and "Tambah foto" in page.text
    assert "Terima penyelesaian" not in page.text and "Beri penilaian" not in page.text
    assert page.headers["cache-control"] == "no-store"
    wrong = _as_reporter(client, code, "not-the-token")
    assert wrong.status_code == 403
    assert "Token rahasia tidak cocok" in str(_error(wrong.text, "token"))
    assert DESCRIPTION not in wrong.text
    without_js = client.get(f"/lacak?kode={code}&t={token}")
    assert DESCRIPTION in without_js.text
    assert without_js.headers["referrer-policy"] == "no-referrer"


def test_reporter_view_of_an_anonymous_report_without_contact(client: TestClient) -> None:
    blank = dict.fromkeys(
        ("name", "email", "phone", "kecamatan", "desa", "address", "lat", "lon"), ""
    )
    code, token = _receipt(_submit(client, anonymous="1", **blank))
    page = _as_reporter(client, code, token)
    assert page.status_code == 200
    assert DESCRIPTION in page.text and "Anonim" in page.text


def test_reporter_adds_information(client: TestClient, stored: Any) -> None:
    code, token = _receipt(_submit(client))
    empty = client.post(
        f"/lacak/{code}/balas",
        data={"csrf": _csrf(client), "token": token, "action": "info", "message": " "},
    )
    assert empty.status_code == 422
    assert _error(empty.text, "info-message") == "Kesalahan: Wajib diisi."
    added = client.post(
        f"/lacak/{code}/balas",
        data={"csrf": _csrf(client), "token": token, "action": "info", "message": "Lubangnya 1m"},
    )
    assert added.status_code == 200
    assert "Informasi tambahan sudah kami terima." in added.text
    doc = stored.tickets.find_one({"_id": code})
    assert [c["body"] for c in doc["comments"]] == ["Lubangnya 1m"]
    assert doc["history"][-1]["action"] == "citizen_info"


def test_follow_ups_need_the_csrf_token_and_the_reply_token(client: TestClient) -> None:
    code, token = _receipt(_submit(client))
    no_csrf = client.post(
        f"/lacak/{code}/balas", data={"token": token, "action": "info", "message": "x"}
    )
    assert no_csrf.status_code == 403 and "kedaluwarsa" in no_csrf.text
    wrong_token = client.post(
        f"/lacak/{code}/balas",
        data={"csrf": _csrf(client), "token": "nope", "action": "info", "message": "x"},
    )
    assert wrong_token.status_code == 403
    assert "Token rahasia tidak cocok" in str(_error(wrong_token.text, "token"))


def test_resolved_report_can_be_confirmed_and_rated(client: TestClient, stored: Any) -> None:
    code, token = _receipt(_submit(client))
    _resolve(stored, code)
    page = _as_reporter(client, code, token).text
    assert "Selesai ditindaklanjuti" in page and "Lubang sudah ditambal." in page
    for offered in ("Terima penyelesaian", "Sanggah penyelesaian", "Beri penilaian"):
        assert offered in page
    confirmed = client.post(
        f"/lacak/{code}/balas", data={"csrf": _csrf(client), "token": token, "action": "confirm"}
    )
    assert confirmed.status_code == 200
    assert "Laporan Anda sudah ditutup." in confirmed.text
    assert stored.tickets.find_one({"_id": code})["status"] == "closed"
    assert "Tambah informasi" not in confirmed.text, "a closed report takes no more information"
    no_score = client.post(f"/lacak/{code}/nilai", data={"csrf": _csrf(client), "token": token})
    assert no_score.status_code == 422 and _error(no_score.text, "rate-score")
    rated = client.post(
        f"/lacak/{code}/nilai",
        data={"csrf": _csrf(client), "token": token, "score": "4", "comment": "Cepat"},
    )
    assert rated.status_code == 200 and "Terima kasih atas penilaian Anda." in rated.text
    assert stored.tickets.find_one({"_id": code})["rating"]["score"] == 4
    again = client.post(
        f"/lacak/{code}/nilai", data={"csrf": _csrf(client), "token": token, "score": "5"}
    )
    assert again.status_code == 409
    assert "Laporan ini sudah dinilai." in again.text


def test_resolved_report_can_be_disputed_with_a_reason(client: TestClient, stored: Any) -> None:
    code, token = _receipt(_submit(client))
    _resolve(stored, code)
    no_reason = client.post(
        f"/lacak/{code}/balas", data={"csrf": _csrf(client), "token": token, "action": "dispute"}
    )
    assert no_reason.status_code == 422
    assert _error(no_reason.text, "dispute-message") == "Kesalahan: Wajib diisi."
    disputed = client.post(
        f"/lacak/{code}/balas",
        data={
            "csrf": _csrf(client),
            "token": token,
            "action": "dispute",
            "message": "Belum ditambal",
        },
    )
    assert disputed.status_code == 200
    assert "laporan dibuka kembali" in disputed.text
    assert stored.tickets.find_one({"_id": code})["status"] == "in_progress"


def test_actions_not_allowed_now_are_friendly_conflicts(client: TestClient, stored: Any) -> None:
    code, token = _receipt(_submit(client))
    early = client.post(
        f"/lacak/{code}/balas", data={"csrf": _csrf(client), "token": token, "action": "confirm"}
    )
    assert early.status_code == 409
    assert "Hanya laporan yang sudah diselesaikan dapat dikonfirmasi." in early.text
    client.get("/?lang=en")
    english = client.post(
        f"/lacak/{code}/nilai", data={"csrf": _csrf(client), "token": token, "score": "3"}
    )
    assert english.status_code == 409 and "Rate after the ticket is resolved." in english.text


def test_reporter_adds_photos_later(client: TestClient, stored: Any) -> None:
    code, token = _receipt(_submit(client))
    files = [("foto", ("a.png", _png(), "image/png")), ("foto", ("b.png", _png(), "image/png"))]
    added = client.post(
        f"/lacak/{code}/foto", data={"csrf": _csrf(client), "token": token}, files=files
    )
    assert added.status_code == 200, added.text
    assert "Foto ditambahkan: 2." in added.text
    assert len(stored.tickets.find_one({"_id": code})["photos"]) == 2
    too_many = client.post(
        f"/lacak/{code}/foto", data={"csrf": _csrf(client), "token": token}, files=files
    )
    assert too_many.status_code == 422
    assert "Paling banyak 1 foto." in str(_error(too_many.text, "photo-files"))


def test_citizen_text_is_shown_escaped(client: TestClient, stored: Any) -> None:
    script = "<script>alert('x')</script>"
    code, token = _receipt(
        _submit(client, title=f"Judul {script}", description=f"Uraian panjang {script}")
    )
    _resolve(stored, code, note=f"Jawaban {script}")
    for page in (client.get(f"/lacak?kode={code}").text, _as_reporter(client, code, token).text):
        assert script not in page
    own = _as_reporter(client, code, token).text
    assert "Uraian panjang &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in own
    assert "Jawaban &lt;script&gt;" in own
    invalid = _submit(client, description=f"<b>{script}", title=script * 10)
    assert invalid.status_code == 422, "the title is too long"
    assert script not in invalid.text and "&lt;b&gt;&lt;script&gt;" in invalid.text


def test_both_languages_have_every_string() -> None:
    assert set(ID) == set(EN)
    for key in ID:
        assert set(re.findall(r"{(\w+)}", ID[key])) == set(re.findall(r"{(\w+)}", EN[key])), key


def test_form_explains_what_is_published_and_offers_three_choices(
    client: TestClient, stored: Any
) -> None:
    page = client.get("/").text
    assert "Apa yang tampil untuk umum" in page
    assert "setelah diperiksa dan diverifikasi petugas" in page
    assert "[nama]" in page and "dibulatkan" in page
    assert page.count('name="confidential"') == 3
    # no choice: a misconduct report is confidential; the citizen may choose either way
    for choice, expected in (("", True), ("1", True), ("0", False)):
        code, _ = _receipt(_submit(client, confidential=choice, category="pungli-penyimpangan"))
        assert stored.tickets.find_one({"_id": code})["confidential"] is expected, choice


def test_the_reporter_sees_what_the_public_will_see_of_the_report(
    client: TestClient, stored: Any
) -> None:
    described = "Saya Siti Aminah, hp 0812 3456 7890. Jalan di depan SDN 1 berlubang besar."
    code, token = _receipt(_submit(client, description=described))
    own = _as_reporter(client, code, token).text
    assert "Yang tampil untuk umum" in own and "Setelah petugas memverifikasi" in own
    assert "Saya [nama], hp [nomor telepon]. Jalan di depan SDN 1 berlubang besar." in own
    stored.tickets.update_one({"_id": code}, {"$set": {"status": "verified"}})
    public = client.get(f"/lacak?kode={code}").text
    assert "Saya [nama], hp [nomor telepon]." in public
    assert "Siti Aminah" not in public and "3456" not in public
