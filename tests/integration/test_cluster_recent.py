"""The recent list the router compares new tickets with, against the real database: remembered
without a lock by several routing processes at once, each ticket once, read back by a process
that starts later and by intake's nearby reports."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.support import NearbyReports, SupportRepository
from services.routing import clustering
from services.routing.cluster_service import Clusters
from services.routing.cluster_store import RECENT, RECENT_LOG, SNAPSHOT_EVERY, ClusterRepository
from services.routing.clustering import Matcher, Profile
from services.routing.repository import TicketRepository
from shared.events import utcnow
from shared.mongo import Document
from shared.tickets import Location
from tests.integration.conftest import SITI, new_complaint

pytestmark = pytest.mark.integration
MATCHER = Matcher()


def _profile(code: str, *, opd: str = "DPUPR", desa: str = "citerep") -> Profile:
    return Profile(
        tracking_code=code,
        opd=opd,
        submitted_at=utcnow(),
        stems=frozenset({"jembatan", "ambrol"}),
        category="jalan-rusak",
        kecamatan="KEC-CIRUAS",
        desa=desa,
    )


async def _log_codes(db: AsyncDatabase[Document], opd: str) -> list[tuple[int, str]]:
    """(position, code) of every log entry of the OPD, in order."""
    docs = await db[RECENT_LOG].find({"opd": opd}).to_list()
    return sorted((int(d["n"]), str(d["entry"]["code"])) for d in docs)


async def test_two_processes_remembering_at_once_lose_nothing_within_the_cap(
    db: AsyncDatabase[Document],
) -> None:
    one, two = ClusterRepository(db), ClusterRepository(db)
    codes = [f"LP-A{n:03d}" for n in range(18)] + [f"LP-B{n:03d}" for n in range(18)]
    cap = 25
    now = utcnow()

    async def remember(repo: ClusterRepository, code: str) -> tuple[str, list[str]]:
        pool = await repo.remember(_profile(code), matcher=MATCHER, cap=cap, now=now)
        return code, [p.tracking_code for p in pool]

    pools = dict(
        await asyncio.gather(
            *(remember(one if code.startswith("LP-A") else two, code) for code in codes)
        )
    )

    logged = await _log_codes(db, "DPUPR")
    assert [n for n, _ in logged] == list(range(1, len(codes) + 1))  # dense: no position lost
    assert sorted(code for _, code in logged) == sorted(codes)  # each ticket once
    order = [code for _, code in logged]
    for position, code in enumerate(order):
        # Each saw exactly every ticket remembered before it (the newest `cap` of them).
        assert pools[code] == order[:position][-cap:], code
    snapshot = await db[RECENT].find_one({"_id": "DPUPR"})
    assert snapshot is not None
    later = [p.tracking_code for p in await ClusterRepository(db).recent("DPUPR", now)]
    assert later == order[: snapshot["n"]][-cap:] + order[snapshot["n"] :]  # snapshot, then log
    # Written by the writer of every tenth position; two racing writers may leave an earlier
    # one (FerretDB does not isolate the conditional replace), never a wrong one.
    assert snapshot["n"] % SNAPSHOT_EVERY == 0 and snapshot["n"] >= SNAPSHOT_EVERY
    assert [e["code"] for e in snapshot["entries"]] == order[: snapshot["n"]][-cap:]


async def test_a_ticket_remembered_again_is_not_listed_twice(db: AsyncDatabase[Document]) -> None:
    one, two = ClusterRepository(db), ClusterRepository(db)
    now = utcnow()
    first, again = _profile("LP-FIRST"), _profile("LP-AGAIN")
    assert await one.remember(first, matcher=MATCHER, cap=300, now=now) == []
    assert [p.tracking_code for p in await one.remember(again, matcher=MATCHER, cap=300, now=now)]
    # A redelivered event, in the same process and in another one that never saw the first.
    redelivered = await one.remember(again, matcher=MATCHER, cap=300, now=now)
    elsewhere = await two.remember(again, matcher=MATCHER, cap=300, now=now)
    assert [p.tracking_code for p in redelivered] == ["LP-FIRST"]
    assert [p.tracking_code for p in elsewhere] == ["LP-FIRST"]
    assert [code for _, code in await _log_codes(db, "DPUPR")] == ["LP-FIRST", "LP-AGAIN"]
    fresh = ClusterRepository(db)
    assert [p.tracking_code for p in await fresh.recent("DPUPR", now)] == ["LP-FIRST", "LP-AGAIN"]


async def test_a_new_day_and_an_old_snapshot_carry_the_list_over(
    db: AsyncDatabase[Document],
) -> None:
    """A list stored before the log existed (no position) and yesterday's entries stay
    candidates; the old days' log entries are removed once the window has left them."""
    now = utcnow()
    old = _profile("LP-OLD").to_document()
    await db[RECENT].insert_one({"_id": "DPUPR", "entries": [old]})
    yesterday = now - timedelta(days=1)
    repo = ClusterRepository(db)
    pool = await repo.remember(_profile("LP-YDAY"), matcher=MATCHER, cap=300, now=yesterday)
    assert [p.tracking_code for p in pool] == ["LP-OLD"]
    stale = now - MATCHER.window - timedelta(days=3)
    await db[RECENT_LOG].insert_one(
        {"_id": f"DPUPR:{stale.date()}:1", "opd": "DPUPR", "day": stale.date().isoformat()}
    )
    pool = await repo.remember(_profile("LP-TODAY"), matcher=MATCHER, cap=300, now=now)
    assert [p.tracking_code for p in pool] == ["LP-OLD", "LP-YDAY"]
    assert await db[RECENT_LOG].find_one({"_id": f"DPUPR:{stale.date()}:1"}) is None
    snapshot = await db[RECENT].find_one({"_id": "DPUPR"})
    assert snapshot is not None and (snapshot["day"], snapshot["n"]) == (now.date().isoformat(), 1)
    assert [e["code"] for e in snapshot["entries"]] == ["LP-OLD", "LP-YDAY", "LP-TODAY"]


async def test_a_clock_behind_the_list_adds_to_its_day_not_to_the_one_before(
    db: AsyncDatabase[Document],
) -> None:
    now = utcnow()
    ahead, behind = ClusterRepository(db), ClusterRepository(db)
    await ahead.remember(_profile("LP-AHEAD"), matcher=MATCHER, cap=300, now=now)
    yesterday = now - timedelta(days=1)
    pool = await behind.remember(_profile("LP-BEHIND"), matcher=MATCHER, cap=300, now=yesterday)
    assert [p.tracking_code for p in pool] == ["LP-AHEAD"]
    docs = await db[RECENT_LOG].find({"opd": "DPUPR"}).to_list()
    today = now.date().isoformat()
    assert sorted((d["day"], d["n"]) for d in docs) == [(today, 1), (today, 2)]
    listed = await ClusterRepository(db).recent("DPUPR", now)
    assert [p.tracking_code for p in listed] == ["LP-AHEAD", "LP-BEHIND"]


async def test_nearby_reports_read_what_routing_remembered_after_its_snapshot(
    db: AsyncDatabase[Document],
) -> None:
    codes = []
    for n in range(SNAPSHOT_EVERY + 3):
        codes.append(await _routed_ticket(db, n, status="verified"))
    repo = ClusterRepository(db)
    for code in codes:
        await repo.remember(_profile(code), matcher=MATCHER, cap=300, now=utcnow())
    snapshot = await db[RECENT].find_one({"_id": "DPUPR"})
    assert snapshot is not None and snapshot["n"] == SNAPSHOT_EVERY  # the last 3 only in the log

    nearby = NearbyReports(db, SupportRepository(db))
    assert [e["code"] for e in await nearby.recent("DPUPR", utcnow())] == codes
    found = await nearby.find(
        opd="DPUPR",
        category="jalan-rusak",
        kecamatan="KEC-CIRUAS",
        desa="Citerep",
        lat=None,
        lon=None,
        text="jembatan ambrol",
        limit=20,
    )
    assert sorted(item.tracking_code for item in found) == sorted(codes)
    elsewhere = await nearby.find(
        opd="DPUPR",
        category="jalan-rusak",
        kecamatan="KEC-CIRUAS",
        desa="Ranjeng",
        lat=None,
        lon=None,
        text="jembatan ambrol",
    )
    assert elsewhere == []


async def test_a_match_read_before_the_lock_joins_the_cluster_a_later_ticket_started_meanwhile(
    db: AsyncDatabase[Document],
) -> None:
    """X matched Y without a lock; before X took the OPD's lock, a later Z matched X and
    started a cluster with it. Y joins that cluster: one cluster, as if X had gone first."""
    y, x, z = [await _routed_ticket(db, n) for n in range(3)]
    tickets = TicketRepository(db)
    clusters = Clusters(tickets=tickets, store=ClusterRepository(db))
    started = clustering.new_cluster(
        cluster_id="KL-TEST",
        opd="DPUPR",
        primary=x,
        members=[x, z],
        status=clustering.ClusterStatus.PROPOSED,
        actor="sistem:router",
        now=utcnow(),
    )
    await clusters.store.add(started)
    await clusters._sync(started, started.everyone)
    mine = await tickets.get(x)
    assert mine is not None
    joined = await clusters._join_or_start(mine, [clustering.Match(y, 0.9)], utcnow())
    assert joined is not None and joined.id == "KL-TEST"
    assert sorted(joined.members) == sorted([x, y, z])
    assert [d["_id"] for d in await db.clusters.find({}).to_list()] == ["KL-TEST"]
    other = await tickets.get(y)
    assert other is not None and other.cluster_id == "KL-TEST"


async def _routed_ticket(db: AsyncDatabase[Document], n: int, *, status: str = "routed") -> str:
    ticket, _ = new_complaint(
        f"Jembatan ambrol di Citerep, motor tidak bisa lewat ({n})",
        category="jalan-rusak",
        location=Location(kecamatan="KEC-CIRUAS", desa="Citerep"),
        reporter=SITI,
    )
    doc = ticket.to_document()
    doc.update(status=status, opd="DPUPR", outbox=[])
    await db.tickets.insert_one(doc)
    return ticket.tracking_code
