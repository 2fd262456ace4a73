"""A citizen's dispute reopens a ticket toward the category's resolution deadline, the same
rule as an admin's reopen (shared.lifecycle.sla), through intake's API and the real store."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.catalogue import COLLECTIONS, packaged_catalogue
from shared.events import utcnow
from tests.conftest import Infra
from tests.integration.conftest import settings_for

pytestmark = pytest.mark.integration
CATEGORY = "drainase"
DAYS = 3  # not the default 14


def _store_catalogue(stored: Any) -> None:
    """The packaged catalogue as routing seeds it, with CATEGORY resolved in DAYS."""
    seed = packaged_catalogue()
    for name in COLLECTIONS:
        docs = []
        for entry in getattr(seed, name):
            doc = {"_id": entry.code, **entry.model_dump(mode="json")}
            if name == "categories" and entry.code == CATEGORY:
                doc["resolution_working_days"] = DAYS
            docs.append(doc)
        stored[name].insert_many(docs)


def test_a_dispute_reopens_with_the_categorys_resolution_days(
    infra: Infra, db_name: str, stored: Any
) -> None:
    _store_catalogue(stored)
    settings = settings_for(IntakeSettings, infra, db_name)
    calendar = settings.calendar()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        body = {
            "description": "Saluran air mampet, kalau hujan air meluap ke jalan desa.",
            "category": CATEGORY,
            "location": {"kecamatan": "KEC-CIKANDE"},
        }
        created = client.post("/api/v1/complaints", json=body).json()
        code, token = created["tracking_code"], created["reply_token"]
        stored.tickets.update_one(
            {"_id": code},
            {"$set": {"status": "resolved", "resolved_at": utcnow()}, "$inc": {"version": 1}},
        )
        before = utcnow()
        response = client.post(
            f"/api/v1/complaints/{code}/replies",
            json={"reply_token": token, "action": "dispute", "message": "Masih mampet."},
        )
        after = utcnow()
    assert response.status_code == 201 and response.json()["status"] == "in_progress"
    due = stored.tickets.find_one({"_id": code})["due_at"]
    assert calendar.add_working_days(before, DAYS) <= due <= calendar.add_working_days(after, DAYS)
