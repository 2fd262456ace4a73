"""Intake beyond the first POST: idempotency, duplicates, throttling, follow-ups and photos."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pymongo import MongoClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.events import utcnow
from shared.photos import PhotoStore
from tests.conftest import Infra, start_of_a_rate_window
from tests.integration.conftest import settings_for

pytestmark = pytest.mark.integration

BODY: dict[str, Any] = {
    "description": "Saluran air mampet, kalau hujan air meluap ke jalan desa.",
    "location": {"kecamatan": "KEC-CIKANDE"},
    "reporter": {"name": "Budi", "phone": "0812-3456-7890"},
}


def _client(infra: Infra, db_name: str, **settings: Any) -> TestClient:
    return TestClient(
        create_app(settings_for(IntakeSettings, infra, db_name, **settings)),
        raise_server_exceptions=False,
    )


@pytest.fixture
def client(infra: Infra, db_name: str) -> Iterator[TestClient]:
    with _client(infra, db_name) as test_client:
        yield test_client


def test_phone_is_normalised_to_plus_62(client: TestClient, stored: Any) -> None:
    code = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    assert stored.tickets.find_one({"_id": code})["reporter"]["phone"] == "+6281234567890"


def test_replay_with_same_key_returns_the_same_201_and_stores_one_ticket(
    client: TestClient, stored: Any
) -> None:
    headers = {"Idempotency-Key": "form-42-attempt"}
    first = client.post("/api/v1/complaints", json=BODY, headers=headers)
    again = client.post(
        "/api/v1/complaints", json=dict(reversed(list(BODY.items()))), headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert stored.tickets.count_documents({}) == 1
    assert len(stored.tickets.find_one({})["outbox"]) == 1  # one submitted event, not two


def test_the_idempotency_record_keeps_the_reply_token_sealed(
    client: TestClient, stored: Any
) -> None:
    """A replay still returns the reply token, but the database alone cannot reveal it: the
    record holds it sealed with the key, of which it keeps only a hash."""
    headers = {"Idempotency-Key": "form-43-attempt"}
    first = client.post("/api/v1/complaints", json=BODY, headers=headers).json()
    token = first["reply_token"]
    record = stored.idempotency_keys.find_one({})
    assert token not in str(record) and "form-43-attempt" not in str(record)
    assert client.post("/api/v1/complaints", json=BODY, headers=headers).json() == first


def test_same_key_with_another_body_is_409(client: TestClient, stored: Any) -> None:
    headers = {"Idempotency-Key": "k-1"}
    assert client.post("/api/v1/complaints", json=BODY, headers=headers).status_code == 201
    other = {**BODY, "description": "Sesuatu yang lain sama sekali berbeda."}
    response = client.post("/api/v1/complaints", json=other, headers=headers)
    assert response.status_code == 409
    assert stored.tickets.count_documents({}) == 1


def test_expired_key_starts_a_new_ticket(client: TestClient, stored: Any) -> None:
    headers = {"Idempotency-Key": "old-key"}
    first = client.post("/api/v1/complaints", json=BODY, headers=headers).json()
    stored.idempotency_keys.update_many({}, {"$set": {"created_at": utcnow() - timedelta(days=2)}})
    second = client.post("/api/v1/complaints", json=BODY, headers=headers).json()
    assert first["tracking_code"] != second["tracking_code"]


def test_huge_idempotency_key_is_422_naming_the_header(client: TestClient, stored: Any) -> None:
    response = client.post("/api/v1/complaints", json=BODY, headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 422
    assert "idempotency-key" in [str(p).lower() for p in response.json()["detail"][0]["loc"]]
    assert stored.tickets.count_documents({}) == 0


def test_same_text_from_same_reporter_is_flagged_as_likely_duplicate(
    client: TestClient, stored: Any
) -> None:
    first = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    second = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    assert first != second
    assert stored.tickets.find_one({"_id": second})["possible_duplicate_of"] == first
    assert stored.tickets.find_one({"_id": first})["possible_duplicate_of"] is None


def test_an_anonymous_resend_is_not_linked_to_the_named_ticket(
    client: TestClient, stored: Any
) -> None:
    """Officers see a duplicate's link; pointing an anonymous ticket at the named one would
    show them who sent it. Two anonymous twins may still be linked to each other."""
    named = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    anonymous = {**BODY, "anonymous": True}
    first = client.post("/api/v1/complaints", json=anonymous).json()["tracking_code"]
    assert stored.tickets.find_one({"_id": first})["possible_duplicate_of"] is None
    second = client.post("/api/v1/complaints", json=anonymous).json()["tracking_code"]
    assert stored.tickets.find_one({"_id": second})["possible_duplicate_of"] == first
    again = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    assert stored.tickets.find_one({"_id": again})["possible_duplicate_of"] == named


def test_rate_limit_answers_429_with_retry_after(infra: Infra, db_name: str) -> None:
    start_of_a_rate_window()
    with _client(infra, db_name, rate_limit_per_minute=3) as client:
        codes = [client.post("/api/v1/complaints", json=BODY).status_code for _ in range(4)]
        assert codes[:3] == [201, 201, 201]
        assert codes[3] == 429
        limited = client.post("/api/v1/complaints", json=BODY)
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert client.get("/api/v1/categories").status_code == 200  # reads are not limited


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(infra: Infra, db_name: str) -> None:
    start_of_a_rate_window()
    with _client(infra, db_name, rate_limit_per_minute=1) as client:
        spoofed = [
            client.post("/api/v1/complaints", json=BODY, headers={"X-Forwarded-For": f"10.0.0.{i}"})
            for i in range(2)
        ]
        assert [r.status_code for r in spoofed] == [201, 429]  # the header is not believed
    with _client(
        infra, f"{db_name}_p", rate_limit_per_minute=1, forwarded_allow_ips="testclient"
    ) as client:
        proxied = [
            client.post("/api/v1/complaints", json=BODY, headers={"X-Forwarded-For": f"10.0.0.{i}"})
            for i in (1, 2, 2)
        ]
        assert [r.status_code for r in proxied] == [201, 201, 429]
    cleanup: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url)
    cleanup.drop_database(f"{db_name}_p")
    cleanup.close()


def test_a_twin_after_the_window_is_not_flagged(client: TestClient, stored: Any) -> None:
    first = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    stored.duplicate_keys.update_many({}, {"$set": {"at": utcnow() - timedelta(hours=1)}})
    second = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    assert stored.tickets.find_one({"_id": second})["possible_duplicate_of"] is None
    third = client.post("/api/v1/complaints", json=BODY).json()["tracking_code"]
    assert stored.tickets.find_one({"_id": third})["possible_duplicate_of"] == second
    assert first not in (second, third)


def test_a_ticket_locked_too_long_answers_503_with_retry_after(
    client: TestClient, stored: Any
) -> None:
    code, token = _submitted(client)
    _set_status(stored, code, "in_progress")
    stored.ticket_locks.insert_one(
        {"_id": code, "token": "someone-else", "expires_at": utcnow() + timedelta(minutes=5)}
    )
    response = _reply(client, code, reply_token=token, action="info", message="Tambahan info.")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "Traceback" not in response.text


def test_location_outside_the_kabupaten_is_422(client: TestClient) -> None:
    body = {**BODY, "location": {"lat": -7.25, "lon": 112.75}}  # Surabaya
    response = client.post("/api/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "location", "lat"]


def test_unknown_desa_of_a_known_kecamatan_is_422(client: TestClient) -> None:
    body = {**BODY, "location": {"kecamatan": "Ciruas", "desa": "Desa Antah Berantah"}}
    response = client.post("/api/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "location", "desa"]


def test_reference_endpoints_list_the_catalogue(client: TestClient) -> None:
    categories = client.get("/api/v1/categories").json()
    assert {"code", "name", "opd"} == set(categories[0])
    regions = client.get("/api/v1/regions").json()
    assert len(regions) == 29
    ciruas = next(r for r in regions if r["code"] == "KEC-CIRUAS")
    assert ciruas["name"] == "Ciruas" and ciruas["desa"]
    opds = client.get("/api/v1/opds").json()
    assert any(o["code"] == "DPUPR" and o["description"] for o in opds)


def _submitted(client: TestClient) -> tuple[str, str]:
    body = client.post("/api/v1/complaints", json=BODY).json()
    return body["tracking_code"], body["reply_token"]


def _set_status(stored: Any, code: str, status: str, **extra: Any) -> None:
    stored.tickets.update_one(
        {"_id": code}, {"$set": {"status": status, **extra}, "$inc": {"version": 1}}
    )


def _reply(client: TestClient, code: str, **body: Any) -> Any:
    return client.post(f"/api/v1/complaints/{code}/replies", json=body)


def test_reply_needs_the_right_token(client: TestClient) -> None:
    code, _ = _submitted(client)
    assert _reply(client, code, message="tambahan").status_code == 401
    assert _reply(client, code, reply_token="wrong", message="tambahan").status_code == 403
    assert _reply(client, "LP-2222-2222", reply_token="x", message="m").status_code == 404


def test_reporter_adds_information_which_stays_private(client: TestClient, stored: Any) -> None:
    code, token = _submitted(client)
    response = _reply(
        client,
        code,
        reply_token=token,
        action="info",
        message="Lokasinya di RT 02, nomor HP saya 0812xxxx",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "submitted"
    doc = stored.tickets.find_one({"_id": code})
    assert doc["comments"][0]["body"].startswith("Lokasinya") and not doc["comments"][0]["public"]
    assert doc["outbox"][-1]["event_type"] == "ticket.citizen_replied"
    stored.tickets.update_one({"_id": code}, {"$set": {"status": "verified"}})
    public = client.get(f"/api/v1/complaints/{code}").text
    assert "0812xxxx" not in public and "Pelapor menambahkan informasi." in public


def test_confirm_closes_a_resolved_ticket_and_only_that(client: TestClient, stored: Any) -> None:
    code, token = _submitted(client)
    assert _reply(client, code, reply_token=token, action="confirm").status_code == 409
    _set_status(stored, code, "resolved", resolved_at=utcnow())
    response = _reply(client, code, reply_token=token, action="confirm")
    assert response.status_code == 201 and response.json()["status"] == "closed"
    assert _reply(client, code, reply_token=token, action="info", message="x").status_code == 409


def test_dispute_reopens_within_ten_working_days(client: TestClient, stored: Any) -> None:
    code, token = _submitted(client)
    _set_status(stored, code, "resolved", resolved_at=utcnow())
    assert _reply(client, code, reply_token=token, action="dispute").status_code == 422
    response = _reply(
        client,
        code,
        reply_token=token,
        action="dispute",
        message="Jalannya belum diperbaiki sama sekali.",
    )
    assert response.status_code == 201 and response.json()["status"] == "in_progress"
    assert stored.tickets.find_one({"_id": code})["due_at"] > utcnow()  # a new deadline


def test_dispute_after_the_window_is_409(client: TestClient, stored: Any) -> None:
    code, token = _submitted(client)
    _set_status(stored, code, "closed", resolved_at=utcnow() - timedelta(days=30))
    response = _reply(client, code, reply_token=token, action="dispute", message="belum beres")
    assert response.status_code == 409


def test_rating_after_resolution_once(client: TestClient, stored: Any) -> None:
    code, token = _submitted(client)
    rating = {"reply_token": token, "score": 4, "comment": "Cepat ditangani"}
    assert client.post(f"/api/v1/complaints/{code}/rating", json=rating).status_code == 409
    _set_status(stored, code, "resolved", resolved_at=utcnow())
    assert client.post(f"/api/v1/complaints/{code}/rating", json=rating).status_code == 201
    assert client.post(f"/api/v1/complaints/{code}/rating", json=rating).status_code == 409
    bad = client.post(f"/api/v1/complaints/{code}/rating", json={**rating, "score": 6})
    assert bad.status_code == 422
    own = client.get(f"/api/v1/complaints/{code}", headers={"X-Reply-Token": token}).json()
    assert own["rating"]["score"] == 4


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x0110] = "CameraModelSecret"
    exif[0x8825] = {1: "S", 2: (6.0, 7.0, 8.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_photos_are_stored_without_metadata_and_limited_to_three(
    client: TestClient, stored: Any
) -> None:
    code, token = _submitted(client)
    headers = {"X-Reply-Token": token}
    url = f"/api/v1/complaints/{code}/photos"
    raw = _jpeg_with_gps()
    for _ in range(3):
        response = client.post(url, headers=headers, files={"file": ("a.jpg", raw, "image/jpeg")})
        assert response.status_code == 201, response.text
    fourth = client.post(url, headers=headers, files={"file": ("a.jpg", raw, "image/jpeg")})
    assert fourth.status_code == 409
    photo = client.get(f"/api/v1/complaints/{code}", headers=headers).json()["photos"][0]
    served = client.get(photo["url"], headers=headers)
    assert served.headers["content-type"] == "image/jpeg"
    assert b"CameraModelSecret" not in served.content
    assert dict(Image.open(io.BytesIO(served.content)).getexif()) == {}


def test_a_refused_photo_leaves_no_file_behind(
    client: TestClient, stored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two uploads race for the last place: the one refused (409) removes its stored file."""
    code, token = _submitted(client)
    store_photo = PhotoStore.put

    async def meanwhile_the_limit_is_reached(self: PhotoStore, data: bytes, **kw: Any) -> str:
        photo_id = await store_photo(self, data, **kw)
        others = [{"id": f"x{i}", "content_type": "image/jpeg", "size": 1} for i in range(3)]
        stored.tickets.update_one(
            {"_id": code},
            {
                "$push": {"photos": {"$each": [{**p, "uploaded_at": utcnow()} for p in others]}},
                "$inc": {"version": 1},
            },
        )
        return photo_id

    monkeypatch.setattr(PhotoStore, "put", meanwhile_the_limit_is_reached)
    response = client.post(
        f"/api/v1/complaints/{code}/photos",
        headers={"X-Reply-Token": token},
        files={"file": ("a.jpg", _jpeg_with_gps(), "image/jpeg")},
    )
    assert response.status_code == 409, response.text
    assert stored["photos.files"].count_documents({}) == 0
    assert stored["photos.chunks"].count_documents({}) == 0


def test_photo_type_is_checked_from_the_content(client: TestClient) -> None:
    code, token = _submitted(client)
    url = f"/api/v1/complaints/{code}/photos"
    fake = client.post(
        url,
        headers={"X-Reply-Token": token},
        files={"file": ("photo.jpg", b"%PDF-1.4 not an image", "image/jpeg")},
    )
    assert fake.status_code == 415
    assert (
        client.post(url, files={"file": ("a.jpg", _jpeg_with_gps(), "image/jpeg")}).status_code
        == 401
    )


def test_photo_over_the_limit_is_413(infra: Infra, db_name: str) -> None:
    with _client(infra, db_name, photo_max_bytes=2048) as client:
        code, token = _submitted(client)
        big = io.BytesIO()
        Image.effect_noise((256, 256), 100).convert("RGB").save(big, "PNG")
        response = client.post(
            f"/api/v1/complaints/{code}/photos",
            headers={"X-Reply-Token": token},
            files={"file": ("big.png", big.getvalue(), "image/png")},
        )
        assert response.status_code == 413


def test_confidential_photos_need_the_token(client: TestClient) -> None:
    body = client.post("/api/v1/complaints", json={**BODY, "confidential": True}).json()
    code, token = body["tracking_code"], body["reply_token"]
    uploaded = client.post(
        f"/api/v1/complaints/{code}/photos",
        headers={"X-Reply-Token": token},
        files={"file": ("a.jpg", _jpeg_with_gps(), "image/jpeg")},
    ).json()
    assert "photos" not in client.get(f"/api/v1/complaints/{code}").json()
    assert client.get(uploaded["url"]).status_code == 404
    assert client.get(uploaded["url"], headers={"X-Reply-Token": token}).status_code == 200
    assert json.dumps(client.get(f"/api/v1/complaints/{code}").json()).count("Saluran") == 0
