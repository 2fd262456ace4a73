"""End to end: the three services as real processes, over real Kafka and the real database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import Ports
from tests.conftest import Infra, all_services
from tests.e2e.services import eventually, staff_headers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(infra: Infra) -> Iterator[Ports]:
    with all_services(infra, "skeleton") as ports:
        yield ports


def test_complaint_is_routed_and_notified_through_all_three_services(system: Ports) -> None:
    intake = f"http://127.0.0.1:{system.intake}"
    routing = f"http://127.0.0.1:{system.routing}"
    notify = f"http://127.0.0.1:{system.notify}"
    created = httpx.post(
        f"{intake}/api/v1/complaints",
        json={
            "description": "sampah numpuk di pinggir jalan dekat pasar, bau bgt sdh seminggu",
            "location": {"kecamatan": "Kragilan"},
            "reporter": {"email": "warga@example.com"},
        },
    )
    assert created.status_code == 201, created.text
    code = created.json()["tracking_code"]

    def routed() -> dict[str, Any] | None:
        view: dict[str, Any] = httpx.get(f"{intake}/api/v1/complaints/{code}").json()
        return view if view["status"] == "routed" else None

    view = eventually(routed)
    assert view, f"ticket {code} was not routed in time"
    assert view["opd"] == {"code": "DLH", "name": "Dinas Lingkungan Hidup"}
    assert view["due_at"] is not None
    assert "timeline" not in view, "the content is public only once an officer verified it"

    admin = staff_headers(routing, "admin")
    verified = httpx.post(
        f"{routing}/api/v1/tickets/{code}/transitions",
        json={"action": "verify"},
        headers=admin,
    )
    assert verified.status_code == 200, verified.text
    view = httpx.get(f"{intake}/api/v1/complaints/{code}").json()
    assert [entry["status"] for entry in view["timeline"]] == ["submitted", "routed", "verified"]

    def delivered() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(
            f"{notify}/api/v1/notifications",
            params={"tracking_code": code},
            headers=admin,
        ).json()["items"]
        # A delivery is listed from its claim on ("pending" while the mail is being sent).
        settled = all(i["status"] in ("sent", "dead") for i in items)
        return items if len(items) >= 3 and settled else []

    items = eventually(delivered)
    assert items, f"the deliveries of {code} did not settle in time"
    seen = {(i["event_type"], i["recipient_kind"], i["recipient"]) for i in items}
    assert ("ticket.submitted", "citizen", "w***@example.com") in seen
    assert ("ticket.routed", "citizen", "w***@example.com") in seen
    assert any(event == "ticket.routed" and kind in ("officer", "opd") for event, kind, _ in seen)
    assert all(i["status"] == "sent" for i in items), [i["status"] for i in items]
    assert "warga@example.com" not in str(items)


def test_every_service_is_ready_and_exposes_metrics(system: Ports) -> None:
    for port in (system.intake, system.routing, system.notify):
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        assert "pengaduan_" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
