"""Clusters of related tickets against the real database: the router's proposal, the staff
API (build, confirm, split, scope) and one transition for the whole cluster."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.cluster_service import Clusters
from services.routing.cluster_store import ClusterRepository
from services.routing.repository import TicketRepository
from shared.mongo import Document
from shared.tickets import Location
from tests.integration.conftest import (
    auth,
    put_proposed_cluster,
    put_ticket,
    route_stored,
    store_complaint,
)

pytestmark = pytest.mark.integration


async def _submit(db: AsyncDatabase[Document], description: str, desa: str) -> str:
    return await store_complaint(
        db, description, location=Location(kecamatan="KEC-CIRUAS", desa=desa)
    )


async def test_router_proposes_one_cluster_for_the_same_bridge_and_leaves_near_misses_out(
    db: AsyncDatabase[Document],
) -> None:
    tickets = TicketRepository(db)
    clusters = Clusters(tickets=tickets, store=ClusterRepository(db))
    bridge = [
        "Jembatan di desa Citerep ambrol, motor tidak bisa lewat, tolong diperbaiki",
        "jembatan citerep jebol sdh 2 hari motor gk bisa lewat",
        "Mohon perbaikan jembatan Citerep yang ambruk, motor tidak bisa lewat",
    ]
    codes = [await _submit(db, text, "Citerep") for text in bridge]
    other_problem = await _submit(db, "Jalan di desa Citerep berlubang besar dan dalam", "Citerep")
    other_desa = await _submit(db, "Jembatan ambrol, motor tidak bisa lewat", "Ranjeng")
    for code in [*codes, other_problem, other_desa]:
        assert await route_stored(db, code, threshold=0.3, clusters=clusters)
    assert not await route_stored(
        db, codes[2], threshold=0.3, clusters=clusters
    )  # a replay proposes nothing again

    first = await tickets.get(codes[0])
    assert first is not None and first.opd == "DPUPR" and first.cluster_id
    cluster = await clusters.store.get(first.cluster_id)
    assert cluster is not None
    assert cluster.status.value == "proposed" and cluster.primary == codes[0]
    assert sorted(cluster.members) == sorted(codes)
    for code in (other_problem, other_desa):
        ticket = await tickets.get(code)
        assert ticket is not None and ticket.cluster_id is None
    assert await db.clusters.count_documents({}) == 1


async def test_concurrent_proposals_keep_every_member(db: AsyncDatabase[Document]) -> None:
    tickets = TicketRepository(db)
    clusters = Clusters(tickets=tickets, store=ClusterRepository(db))
    first = await _submit(db, "Lampu PJU di desa Kepandean mati total, gelap", "Kepandean")
    assert await route_stored(db, first, threshold=0.3, clusters=clusters)
    others = [
        await _submit(db, f"lampu pju kepandean mati total gelap ({n})", "Kepandean")
        for n in range(3)
    ]
    await asyncio.gather(
        *(route_stored(db, code, threshold=0.3, clusters=clusters) for code in others)
    )
    stored = await db.clusters.find({}).to_list()
    assert len(stored) == 1
    assert sorted(stored[0]["members"]) == sorted([first, *others])


def test_staff_build_confirm_and_split_clusters_within_their_opd(
    api: TestClient, stored: Any
) -> None:
    a, b, c = (put_ticket(stored) for _ in range(3))
    elsewhere = put_ticket(stored, opd="DLH")
    dpupr = auth(api, "dpupr")
    assert api.get(f"/api/v1/tickets/{a}", headers=dpupr).json()["cluster"] is None

    mixed = api.post("/api/v1/clusters", json={"primary": a, "members": [elsewhere]}, headers=dpupr)
    assert mixed.status_code == 404  # another OPD's ticket does not exist for this officer
    created = api.post("/api/v1/clusters", json={"primary": a, "members": [b, c]}, headers=dpupr)
    assert created.status_code == 201, created.text
    cluster = created.json()
    assert cluster["primary"] == a and cluster["members"] == [a, b, c]
    assert cluster["status"] == "confirmed"
    view = api.get(f"/api/v1/tickets/{b}", headers=dpupr).json()["cluster"]
    assert {k: view[k] for k in ("id", "primary", "members")} == {
        "id": cluster["id"],
        "primary": a,
        "members": [a, b, c],
    }

    lone = put_ticket(stored)
    stored.supporters.insert_one({"_id": c, "count": 2, "contacts": []})
    assert [stored.tickets.find_one({"_id": x})["weight"] for x in (a, b, lone)] == [3, 3, 1]
    queue = api.get("/api/v1/tickets", params={"sort": "-weight", "limit": 2}, headers=dpupr)
    assert queue.status_code == 200, queue.text
    assert {t["tracking_code"] for t in queue.json()["items"]} <= {a, b, c}
    rest = api.get(
        "/api/v1/tickets",
        params={"sort": "-weight", "limit": 2, "cursor": queue.json()["next_cursor"]},
        headers=dpupr,
    )
    assert [t["tracking_code"] for t in rest.json()["items"]][-1] == lone

    again = api.post("/api/v1/clusters", json={"primary": b, "members": [c]}, headers=dpupr)
    assert again.status_code == 409  # already in a confirmed cluster: split first
    dlh = auth(api, "dlh")
    assert api.get(f"/api/v1/clusters/{cluster['id']}", headers=dlh).status_code == 404
    assert (
        api.delete(f"/api/v1/clusters/{cluster['id']}/members/{b}", headers=dlh).status_code == 404
    )
    assert (
        api.post(
            "/api/v1/clusters", json={"primary": a, "members": [b]}, headers=auth(api, "auditor")
        ).status_code
        == 403
    )

    split = api.delete(f"/api/v1/clusters/{cluster['id']}/members/{a}", headers=dpupr)
    assert split.status_code == 200, split.text
    assert split.json()["primary"] == b and split.json()["members"] == [b, c]
    assert api.get(f"/api/v1/tickets/{a}", headers=dpupr).json()["cluster"] is None
    assert stored.tickets.find_one({"_id": a})["weight"] == 1
    assert stored.tickets.find_one({"_id": c})["weight"] == 2 + 2  # two left, two supporters
    dissolved = api.delete(f"/api/v1/clusters/{cluster['id']}/members/{c}", headers=dpupr)
    assert dissolved.json()["status"] == "dissolved"
    assert api.get(f"/api/v1/tickets/{b}", headers=dpupr).json()["cluster"] is None
    assert stored.clusters.count_documents({}) == 0


def test_a_proposed_cluster_is_acted_on_as_one_only_once_confirmed(
    api: TestClient, stored: Any
) -> None:
    a, b = put_ticket(stored), put_ticket(stored)
    put_proposed_cluster(stored, "KL-TEST", [a, b])
    dpupr = auth(api, "dpupr")
    early = api.post(
        f"/api/v1/tickets/{a}/transitions",
        json={"action": "verify", "cluster": True},
        headers=dpupr,
    )
    assert early.status_code == 409
    assert api.get(f"/api/v1/tickets/{b}", headers=dpupr).json()["status"] == "routed"

    confirmed = api.post("/api/v1/clusters/KL-TEST/confirm", headers=dpupr)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    verified = api.post(
        f"/api/v1/tickets/{a}/transitions",
        json={"action": "verify", "cluster": True},
        headers=dpupr,
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["cluster_results"] == [
        {"tracking_code": b, "result": "done", "status": "verified"}
    ]
    member = api.get(f"/api/v1/tickets/{b}", headers=dpupr).json()
    assert member["status"] == "verified"
    step = member["history"][-1]
    assert step["action"] == "verify" and a in step["internal_note"]

    # One member already moved on: the others still follow, and the report says so.
    api.post(f"/api/v1/tickets/{b}/transitions", json={"action": "start"}, headers=dpupr)
    resolved = api.post(
        f"/api/v1/tickets/{a}/transitions",
        json={"action": "resolve", "note": "Jembatan sudah diperbaiki.", "cluster": True},
        headers=dpupr,
    )
    assert resolved.status_code == 200, resolved.text
    assert [r["result"] for r in resolved.json()["cluster_results"]] == ["done"]
    for code in (a, b):
        ticket = stored.tickets.find_one({"_id": code})
        assert ticket["status"] == "resolved"
        # Its own step (the relay may have published its event already: no outbox check).
        assert sum(1 for h in ticket["history"] if h["action"] == "resolve") == 1


def test_transferring_the_primary_moves_the_whole_cluster(api: TestClient, stored: Any) -> None:
    a, b = put_ticket(stored), put_ticket(stored)
    dpupr = auth(api, "dpupr")
    cluster = api.post("/api/v1/clusters", json={"primary": a, "members": [b]}, headers=dpupr)
    moved = api.post(
        f"/api/v1/tickets/{a}/transitions",
        json={"action": "transfer", "to_opd": "BPBD", "note": "Jembatan putus karena banjir"},
        headers=dpupr,
    )
    assert moved.status_code == 200, moved.text
    assert stored.tickets.find_one({"_id": b})["opd"] == "BPBD"
    bpbd = auth(api, "bpbd")
    assert api.get(f"/api/v1/clusters/{cluster.json()['id']}", headers=bpbd).json()["opd"] == "BPBD"
