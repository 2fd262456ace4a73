"""Officers' throughput against the real database: assignment and "my tickets", bulk actions
reported item by item, canned answers, and the paused deadline through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.events import utcnow
from tests.integration.conftest import auth, put_ticket

pytestmark = pytest.mark.integration


def _colleague(api: TestClient, username: str = "dpupr.budi", opd: str = "DPUPR") -> None:
    created = api.post(
        "/api/v1/accounts",
        json={"username": username, "password": "rahasia-budi", "role": "officer", "opd": opd},
        headers=auth(api, "admin"),
    )
    assert created.status_code == 201, created.text


def test_officers_take_tickets_and_the_supervisor_reassigns(api: TestClient, stored: Any) -> None:
    _colleague(api)
    mine, free = put_ticket(stored), put_ticket(stored)
    officer, head = auth(api, "dpupr"), auth(api, "dpupr-kepala")
    taken = api.put(
        f"/api/v1/tickets/{mine}/assignment", json={"officer": "dpupr"}, headers=officer
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["assigned_to"] == "dpupr"
    step = taken.json()["history"][-1]
    assert step["action"] == "assign" and not step["public"] and "dpupr" in step["internal_note"]

    listed = api.get("/api/v1/tickets", params={"assigned": "me"}, headers=officer).json()
    assert [t["tracking_code"] for t in listed["items"]] == [mine]
    nobody = api.get("/api/v1/tickets", params={"assigned": "none"}, headers=officer).json()
    assert [t["tracking_code"] for t in nobody["items"]] == [free]

    handed = api.put(
        f"/api/v1/tickets/{free}/assignment", json={"officer": "dpupr.budi"}, headers=officer
    )
    assert handed.status_code == 403  # officers do not hand out tickets
    moved = api.put(
        f"/api/v1/tickets/{mine}/assignment", json={"officer": "dpupr.budi"}, headers=head
    )
    assert moved.status_code == 200 and moved.json()["assigned_to"] == "dpupr.budi"
    assert "Sebelumnya: dpupr" in moved.json()["history"][-1]["internal_note"]
    back = api.put(f"/api/v1/tickets/{mine}/assignment", json={"officer": "dpupr"}, headers=officer)
    assert back.status_code == 403  # a colleague's ticket
    other_opd = api.put(f"/api/v1/tickets/{free}/assignment", json={"officer": "dlh"}, headers=head)
    assert other_opd.status_code == 422
    stale = api.put(
        f"/api/v1/tickets/{free}/assignment", json={"officer": "dpupr", "version": 1}, headers=head
    )
    assert stale.status_code == 200  # put_ticket stores version 1
    again = api.put(
        f"/api/v1/tickets/{free}/assignment", json={"officer": None, "version": 1}, headers=head
    )
    assert again.status_code == 409 and again.json()["ticket"]["assigned_to"] == "dpupr"


def test_bulk_actions_check_and_report_each_item(api: TestClient, stored: Any) -> None:
    a, b, c = (put_ticket(stored) for _ in range(3))
    done = put_ticket(stored, status="verified")
    stored.tickets.update_one({"_id": c}, {"$inc": {"version": 1}})  # someone changed it
    officer = auth(api, "dpupr")
    items = [{"tracking_code": code, "version": 1} for code in (a, b, c, done)]
    result = api.post(
        "/api/v1/tickets/bulk", json={"action": "verify", "items": items}, headers=officer
    )
    assert result.status_code == 200, result.text
    by_code = {r["tracking_code"]: r for r in result.json()["results"]}
    assert by_code[a]["result"] == by_code[b]["result"] == "done"
    assert by_code[a]["status"] == "verified" and by_code[a]["version"] == 2
    assert by_code[c]["result"] == "conflict" and by_code[c]["version"] == 2
    assert by_code[done]["result"] == "not_allowed"
    assert result.json()["counts"] == {"done": 2, "conflict": 1, "not_allowed": 1}
    assert stored.tickets.find_one({"_id": c})["status"] == "routed"

    by_filter = api.post(
        "/api/v1/tickets/bulk",
        json={
            "action": "transfer",
            "filter": {"status": ["routed"]},
            "to_opd": "BPBD",
            "note": "Kerusakan akibat banjir",
        },
        headers=officer,
    )
    assert [r["tracking_code"] for r in by_filter.json()["results"]] == [c]
    assert stored.tickets.find_one({"_id": c})["opd"] == "BPBD"
    assigned = api.post(
        "/api/v1/tickets/bulk",
        json={"action": "assign", "items": [{"tracking_code": a}], "officer": "dpupr"},
        headers=officer,
    )
    assert assigned.json()["results"][0]["result"] == "done"
    auditor = api.post(
        "/api/v1/tickets/bulk",
        json={"action": "verify", "items": [{"tracking_code": a}]},
        headers=auth(api, "auditor"),
    )
    assert auditor.json()["results"][0]["result"] == "forbidden"


def test_canned_answers_are_the_supervisors_and_filled_per_ticket(
    api: TestClient, stored: Any
) -> None:
    code = put_ticket(stored, status="verified")
    head, officer = auth(api, "dpupr-kepala"), auth(api, "dpupr")
    body = {"title": "Sudah dijadwalkan", "body": "Laporan {kode} dijadwalkan {opd}."}
    assert (
        api.put("/api/v1/canned-answers/DPUPR/jadwal", json=body, headers=officer).status_code
        == 403
    )
    saved = api.put("/api/v1/canned-answers/DPUPR/jadwal", json=body, headers=head)
    assert saved.status_code == 200, saved.text
    assert api.put("/api/v1/canned-answers/DLH/x", json=body, headers=head).status_code == 404
    assert api.get("/api/v1/canned-answers", headers=officer).json()["items"][0]["id"] == "jadwal"
    filled = api.get(f"/api/v1/tickets/{code}/canned-answers", headers=officer).json()["items"]
    assert filled[0]["text"] == (
        f"Laporan {code} dijadwalkan Dinas Pekerjaan Umum dan Penataan Ruang."
    )
    assert api.get("/api/v1/canned-answers", headers=auth(api, "dlh")).json()["items"] == []
    assert api.delete("/api/v1/canned-answers/DPUPR/jadwal", headers=head).status_code == 204
    assert api.delete("/api/v1/canned-answers/DPUPR/jadwal", headers=head).status_code == 404


def test_waiting_pauses_the_deadline_and_resuming_gives_it_back(
    api: TestClient, stored: Any
) -> None:
    code = put_ticket(stored)
    officer = auth(api, "dpupr")

    def act(body: dict[str, Any]) -> dict[str, Any]:
        response = api.post(f"/api/v1/tickets/{code}/transitions", json=body, headers=officer)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    due = act({"action": "verify"})["due_at"]
    waiting = act({"action": "wait_citizen", "note": "Mohon kirim foto lokasi."})
    assert waiting["status"] == "waiting_citizen" and waiting["due_at"] is None
    assert not waiting["overdue"] and waiting["history"][-1]["public"]
    assert "resume" in waiting["allowed_actions"]
    resumed = act({"action": "resume"})
    assert resumed["status"] == "in_progress"
    assert resumed["due_at"] == due  # paused and resumed within one working day
    assert [h["action"] for h in resumed["history"]][-2:] == ["wait_citizen", "resume"]


def test_the_forecast_lists_what_the_opds_pace_will_not_reach_in_time(
    api: TestClient, stored: Any
) -> None:
    soon = put_ticket(stored, status="verified", due_in=timedelta(days=8))
    far = put_ticket(stored, status="in_progress", due_in=timedelta(days=60))
    put_ticket(stored, status="verified", opd="DLH", due_in=timedelta(hours=1))
    officer = auth(api, "dpupr")
    stalled = api.get("/api/v1/tickets/forecast", headers=officer)
    assert stalled.status_code == 200, stalled.text
    assert stalled.json()["pace_per_working_day"] == 0
    assert [r["tracking_code"] for r in stalled.json()["at_risk"]] == [soon, far]

    for _ in range(10):  # ten resolved in the window: one a working day
        done = put_ticket(stored, status="resolved")
        stored.tickets.update_one({"_id": done}, {"$set": {"resolved_at": utcnow()}})
    paced = api.get("/api/v1/tickets/forecast", headers=officer).json()
    assert paced["pace_per_working_day"] == 1.0
    assert paced["at_risk"] == []
    admin = api.get("/api/v1/tickets/forecast", headers=auth(api, "admin"))
    assert admin.status_code == 422  # which OPD?
