"""The cluster use cases (services/routing/cluster_service.py) on the in-memory stores of
tests/fakes.py: staff's build, confirm and split, and a cluster following its primary, each
written through the one version-checked `apply`, retried after a lost race."""

from __future__ import annotations

import pytest

from services.routing import clustering
from services.routing.cluster_service import RETRIES, Clusters
from services.routing.clustering import Cluster, ClusterStatus
from shared.errors import Conflict, NotFound
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from tests.fakes import NOW, OFFICER, InMemoryClusters, InMemoryTickets, a_ticket

CODES = ["LP-AAAA-AAAA", "LP-BBBB-BBBB", "LP-CCCC-CCCC"]
OTHER_OPD = Principal(username="dlh", role=Role.OFFICER, opd="DLH")


def _proposed(*members: str) -> Cluster:
    return clustering.new_cluster(
        cluster_id="KL-1",
        opd="DPUPR",
        primary=members[0],
        members=members,
        status=ClusterStatus.PROPOSED,
        actor="sistem:router",
        now=NOW,
    )


def _clusters(cluster: Cluster | None = None) -> tuple[Clusters, InMemoryTickets, InMemoryClusters]:
    tickets = InMemoryTickets(*(a_ticket(TicketStatus.VERIFIED, code) for code in CODES))
    store = InMemoryClusters(*([cluster] if cluster else []))
    return Clusters(tickets=tickets, store=store), tickets, store


async def test_staff_build_a_confirmed_cluster_and_its_tickets_point_to_it() -> None:
    clusters, tickets, store = _clusters()
    built = await clusters.create(OFFICER, primary=CODES[0], members=CODES[1:], now=NOW)
    assert built.status is ClusterStatus.CONFIRMED and built.members == tuple(CODES)
    assert store.clusters[built.id] == built
    for code in CODES:
        stored = tickets.stored(code)
        assert stored["cluster_id"] == built.id and stored["weight"] > 1


async def test_a_confirm_lost_to_a_race_is_made_again_on_the_fresh_cluster() -> None:
    clusters, _tickets, store = _clusters(_proposed(*CODES[:2]))
    store.interfere("KL-1", 2)
    confirmed = await clusters.confirm(OFFICER, "KL-1", now=NOW)
    assert confirmed.status is ClusterStatus.CONFIRMED
    assert confirmed.version == 1 + 2 + 1  # made from the version the other writers left
    assert store.saves == 1 and store.clusters["KL-1"] == confirmed


async def test_a_confirm_that_keeps_losing_its_race_is_a_conflict() -> None:
    clusters, _tickets, store = _clusters(_proposed(*CODES[:2]))
    store.interfere("KL-1", RETRIES)
    with pytest.raises(Conflict):
        await clusters.confirm(OFFICER, "KL-1", now=NOW)
    assert store.saves == 0


async def test_another_opd_neither_sees_nor_confirms_the_cluster() -> None:
    clusters, _tickets, store = _clusters(_proposed(*CODES[:2]))
    with pytest.raises(NotFound):
        await clusters.confirm(OTHER_OPD, "KL-1", now=NOW)
    assert store.clusters["KL-1"].status is ClusterStatus.PROPOSED


async def test_splitting_one_off_keeps_the_rest_and_clears_its_pointer() -> None:
    clusters, tickets, store = _clusters()
    built = await clusters.create(OFFICER, primary=CODES[0], members=CODES[1:], now=NOW)
    store.interfere(built.id, 1)
    after = await clusters.remove_member(OFFICER, built.id, CODES[0], now=NOW)
    assert after is not None and after.members == tuple(CODES[1:])
    assert after.primary == CODES[1]  # the oldest remaining member
    assert tickets.stored(CODES[0])["cluster_id"] is None
    assert tickets.stored(CODES[1])["cluster_id"] == built.id


async def test_a_cluster_of_two_is_dissolved_by_a_split() -> None:
    clusters, tickets, store = _clusters()
    built = await clusters.create(OFFICER, primary=CODES[0], members=[CODES[1]], now=NOW)
    assert await clusters.remove_member(OFFICER, built.id, CODES[1], now=NOW) is None
    assert store.clusters == {}
    assert all(tickets.stored(code)["cluster_id"] is None for code in CODES[:2])


async def test_a_split_of_a_ticket_that_left_meanwhile_answers_the_cluster_as_it_is() -> None:
    clusters, _tickets, store = _clusters()
    built = await clusters.create(OFFICER, primary=CODES[0], members=CODES[1:], now=NOW)

    def split_off_by_someone_else(cluster: Cluster) -> Cluster:
        left = clustering.remove(cluster, CODES[2], actor="dpupr-kepala", now=NOW)
        assert left is not None
        return left

    store.interfere(built.id, 1, split_off_by_someone_else)
    saves = store.saves
    after = await clusters.remove_member(OFFICER, built.id, CODES[2], now=NOW)
    assert after is not None and after.members == tuple(CODES[:2])
    assert store.saves == saves  # nothing left to write


async def test_the_cluster_follows_its_primary_to_another_opd_after_a_lost_race() -> None:
    clusters, _tickets, store = _clusters(_proposed(*CODES[:2]))
    store.interfere("KL-1", 1)
    await clusters.moved(store.clusters["KL-1"], "DLH", actor="admin", now=NOW)
    assert store.clusters["KL-1"].opd == "DLH" and store.saves == 1
    store.interfere("KL-1", RETRIES)
    await clusters.moved(store.clusters["KL-1"], "DPUPR", actor="admin", now=NOW)  # gives up
    assert store.clusters["KL-1"].opd == "DLH"
