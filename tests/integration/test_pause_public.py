"""A pause of the deadline on the public side: the tracking view's timeline shows the ticket
entering "menunggu pelapor" (with the officer's public note) and leaving it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.conftest import Infra
from tests.integration.conftest import auth, put_ticket

pytestmark = pytest.mark.integration


@pytest.fixture
def public(infra: Infra, db_name: str) -> Iterator[TestClient]:
    settings = IntakeSettings(
        mongodb_url=infra.mongodb_url,
        mongodb_database=db_name,
        kafka_bootstrap_servers="127.0.0.1:1",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_the_public_timeline_shows_entering_and_leaving_a_pause(
    api: TestClient, public: TestClient, stored: Any
) -> None:
    code = put_ticket(stored)
    officer = auth(api, "dpupr")
    asked = "Mohon kirim foto lokasi jalan yang berlubang."
    for body in (
        {"action": "verify"},
        {"action": "wait_citizen", "note": asked},
        {"action": "resume"},
        {"action": "wait_third_party", "note": "Menunggu jadwal alat berat dari provinsi."},
    ):
        done = api.post(f"/api/v1/tickets/{code}/transitions", json=body, headers=officer)
        assert done.status_code == 200, done.text
    view = public.get(f"/api/v1/complaints/{code}").json()
    assert view["status"] == "waiting_third_party"
    steps = [(e["status"], e["note"]) for e in view["timeline"]][-4:]
    assert steps == [
        ("verified", None),
        ("waiting_citizen", asked),
        ("in_progress", None),
        ("waiting_third_party", "Menunggu jadwal alat berat dari provinsi."),
    ]
    page = public.get("/lacak", params={"kode": code}).text
    assert "Menunggu pelapor" in page and asked in page
    assert "Menunggu pihak ketiga" in page
