"""Notify's HTTP API against the real database: the delivery log and template previews."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.collection import Collection

from services.notify.app import create_app
from services.notify.recipients import mask
from services.notify.repository import anonymise_deliveries, anonymise_digest_items
from services.notify.settings import NotifySettings
from shared.auth import Principal, Role, TokenCodec
from shared.events import utcnow
from shared.mongo import Document
from shared.signing import DEV_AUTH_PRIVATE_KEY
from tests.conftest import Infra
from tests.integration.conftest import settings_for

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(infra: Infra, db_name: str) -> NotifySettings:
    return settings_for(  # the API needs no broker
        NotifySettings, infra, db_name, email={"transport": "off"}, whatsapp={"transport": "off"}
    )


@pytest.fixture
def client(settings: NotifySettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _auth(settings: NotifySettings, role: Role, opd: str | None = None) -> dict[str, str]:
    """A token signed as routing signs, for an account stored as routing stores it."""
    username = f"u-{role}"
    client: MongoClient[Document]
    with MongoClient(settings.mongodb_url) as client:
        client[settings.mongodb_database].accounts.replace_one(
            {"_id": username},
            {"_id": username, "role": role.value, "opd": opd, "active": True},
            upsert=True,
        )
    codec = TokenCodec(settings.auth_public_key, private=DEV_AUTH_PRIVATE_KEY, ttl_seconds=600)
    token = codec.issue(Principal(username=username, role=role, opd=opd))
    return {"Authorization": f"Bearer {token}"}


async def test_delivery_log_masks_contacts_and_shows_digests_and_failures(
    db: AsyncDatabase[Document], settings: NotifySettings, client: TestClient
) -> None:
    now = utcnow()
    base = {"event_type": "ticket.routed", "tracking_code": "LP-LOG1-0001", "created_at": now}
    await db.deliveries.insert_many(
        [
            base
            | {
                "_id": "e1:email:citizen",
                "event_id": "e1",
                "channel": "email",
                "recipient": "warga@example.com",
                "recipient_kind": "citizen",
                "status": "sent",
                "attempts": 1,
                "sent_at": now,
                "message": {"subject": "s", "text": "rahasia"},
            },
            base
            | {
                "_id": "e1:whatsapp:citizen",
                "event_id": "e1",
                "channel": "whatsapp",
                "recipient": "+628123456789",
                "recipient_kind": "citizen",
                "status": "dead",
                "attempts": 6,
                "last_error": "HTTP 503: down",
            },
        ]
    )
    await db.digest_items.insert_one(
        {
            "_id": "e1:digest:user:dlh",
            "username": "dlh",
            "event_id": "e1",
            "event_type": "ticket.routed",
            "tracking_code": "LP-LOG1-0001",
            "created_at": now,
            "digest_id": None,
        }
    )
    url = "/api/v1/notifications?tracking_code=lp-log1-0001"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=_auth(settings, Role.OFFICER, "DLH")).status_code == 403
    response = client.get(url, headers=_auth(settings, Role.AUDITOR))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["channel"], i["recipient"], i["status"]) for i in items] == [
        ("email", "w***@example.com", "sent"),
        ("whatsapp", "+6281******89", "dead"),
        ("digest", "user:dlh", "pending"),
    ]
    assert items[1]["last_error"] == "HTTP 503: down" and items[1]["attempts"] == 6
    assert "warga@example.com" not in response.text and "rahasia" not in response.text


def test_admins_preview_every_template_in_both_languages(
    settings: NotifySettings, client: TestClient
) -> None:
    admin = _auth(settings, Role.ADMIN)
    rules = client.get("/api/v1/templates", headers=admin).json()["items"]
    event_types = {r["event_type"] for r in rules} | {"digest"}
    for event_type in event_types:
        for lang in ("id", "en"):
            response = client.get(
                f"/api/v1/templates/{event_type}/preview",
                params={"lang": lang, "channel": "email"},
                headers=admin,
            )
            assert response.status_code == 200, response.text
            assert all(i["html"] and "LP-" in i["text"] for i in response.json()["items"])
    sms = client.get(
        "/api/v1/templates/ticket.routed/preview",
        params={"lang": "en", "channel": "sms", "audience": "citizen"},
        headers=admin,
    ).json()["items"]
    assert [i["template"] for i in sms] == ["citizen_routed"]
    assert sms[0]["html"] is None and sms[0]["text"].startswith("Pemerintah Kabupaten Serang:")


def test_previews_are_for_admins_and_known_event_types_only(
    settings: NotifySettings, client: TestClient
) -> None:
    url = "/api/v1/templates/ticket.routed/preview"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=_auth(settings, Role.AUDITOR)).status_code == 403
    admin = _auth(settings, Role.ADMIN)
    assert client.get("/api/v1/templates/ticket.nope/preview", headers=admin).status_code == 404
    bad = client.get(url, params={"lang": "fr"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "lang"]


def test_notify_reads_the_account_behind_every_token(
    settings: NotifySettings, client: TestClient
) -> None:
    """A valid signature is not enough: a deactivated account, a revoked token (its account's
    token version moved on: sign-out, password change) or a lost role is refused at once."""
    url = "/api/v1/notifications?tracking_code=LP-NONE-0001"
    admin = _auth(settings, Role.ADMIN)
    assert client.get(url, headers=admin).status_code == 200
    mongo: MongoClient[Document]
    with MongoClient(settings.mongodb_url) as mongo:
        accounts: Collection[Document] = mongo[settings.mongodb_database]["accounts"]
        accounts.update_one({"_id": "u-admin"}, {"$set": {"role": "officer", "opd": "DLH"}})
        assert client.get(url, headers=admin).status_code == 403
        accounts.update_one({"_id": "u-admin"}, {"$set": {"role": "admin", "opd": None}})
        accounts.update_one({"_id": "u-admin"}, {"$inc": {"token_version": 1}})
        assert client.get(url, headers=admin).status_code == 401
        fresh = _auth(settings, Role.AUDITOR)
        accounts.update_one({"_id": "u-auditor"}, {"$set": {"active": False}})
        assert client.get(url, headers=fresh).status_code == 401
        accounts.delete_one({"_id": "u-auditor"})
        assert client.get(url, headers=fresh).status_code == 401


def test_notify_cannot_issue_tokens(settings: NotifySettings) -> None:
    """Only routing holds the signing key; notify's codec verifies only."""
    assert not create_app(settings).state.token_codec.can_issue


async def test_finished_deliveries_are_anonymised_after_the_retention_period(
    db: AsyncDatabase[Document],
) -> None:
    old, recent = utcnow() - timedelta(days=400), utcnow()
    await db.deliveries.insert_many(
        [
            {
                "_id": "a",
                "recipient": "warga@example.com",
                "status": "sent",
                "created_at": old,
                "message": {"text": "Halo Siti"},
            },
            {"_id": "b", "recipient": "+6281234567890", "status": "retrying", "created_at": old},
            {"_id": "c", "recipient": "warga@example.com", "status": "sent", "created_at": recent},
        ]
    )
    assert await anonymise_deliveries(db, before=utcnow() - timedelta(days=365), mask=mask) == 1
    a = await db.deliveries.find_one({"_id": "a"})
    assert a is not None and a["recipient"] == "w***@example.com" and a["message"] is None
    b = await db.deliveries.find_one({"_id": "b"})
    assert b is not None and b["recipient"] == "+6281234567890"  # still being delivered


async def test_a_backlog_larger_than_a_batch_is_anonymised_in_one_run(
    db: AsyncDatabase[Document],
) -> None:
    """Anonymisation went 1,000 an hour at most, so a larger backlog never caught up."""
    old = utcnow() - timedelta(days=400)
    await db.deliveries.insert_many(
        [
            {"_id": f"d{i}", "recipient": f"w{i}@example.com", "status": "sent", "created_at": old}
            for i in range(60)
        ]
    )
    before = utcnow() - timedelta(days=365)
    assert await anonymise_deliveries(db, before=before, mask=mask, batch=25) == 60
    assert await db.deliveries.count_documents({"anonymised_at": None}) == 0


async def test_digest_items_are_anonymised_after_the_retention_period(
    db: AsyncDatabase[Document],
) -> None:
    old, recent = utcnow() - timedelta(days=400), utcnow()
    line = {"username": "dlh", "line": "Laporan LP-X: Budi di Jl. Mawar 3", "url": "https://k/t"}
    await db.digest_items.insert_many(
        [
            {"_id": "old", **line, "created_at": old, "digest_id": "digest-1"},
            {"_id": "waiting", **line, "created_at": old, "digest_id": None},
            {"_id": "recent", **line, "created_at": recent, "digest_id": "digest-2"},
        ]
    )
    before = utcnow() - timedelta(days=365)
    assert await anonymise_digest_items(db, before=before) == 1
    items = {d["_id"]: d async for d in db.digest_items.find({})}
    assert items["old"]["line"] is None and items["old"]["url"] is None
    assert items["waiting"]["line"] == line["line"], "not sent yet: kept for its digest"
    assert items["recent"]["line"] == line["line"]
    assert await anonymise_digest_items(db, before=before) == 0
