"""Related complaints: the matcher over a generated set, its near-misses, and cluster rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.routing import clustering
from services.routing.cluster_eval import PROBLEMS, evaluate, generate
from services.routing.clustering import ClusterStatus, Matcher, Profile
from shared.tickets import queue_weight

NOW = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)


def _profile(
    code: str,
    description: str,
    *,
    desa: str | None = "Citerep",
    kecamatan: str | None = "KEC-CIRUAS",
    opd: str = "DPUPR",
    category: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    ago: timedelta = timedelta(0),
    address: str | None = None,
) -> Profile:
    return clustering.profile(
        tracking_code=code,
        opd=opd,
        submitted_at=NOW - ago,
        title=None,
        description=description,
        category=category,
        kecamatan=kecamatan,
        desa=desa,
        address=address,
        lat=lat,
        lon=lon,
    )


@pytest.mark.parametrize("seed", [14, 1, 2, 3, 4])
def test_proposals_on_the_generated_set_are_at_least_90_percent_precise(seed: int) -> None:
    reports = generate(seed, 200)
    score = evaluate(reports, Matcher())
    assert len(reports) > 300
    assert score.proposals > 50, "a matcher that proposes nothing is trivially precise"
    assert score.precision >= 0.9, score
    assert score.pair_precision >= 0.9, score
    assert score.recall >= 0.25, score


def test_generated_set_has_the_near_misses_it_claims() -> None:
    reports = generate(14, 200)
    by_incident: dict[int, list[Profile]] = {}
    for r in reports:
        by_incident.setdefault(r.incident, []).append(r.profile)
    desas = {(p.opd, p.desa) for r in reports for p in [r.profile] if p.desa}
    assert len(by_incident) > 150 and len(desas) > 30
    problems_per_opd = {p.opd for p in PROBLEMS}
    assert len(problems_per_opd) >= 4


def test_same_bridge_in_other_words_is_related() -> None:
    a = _profile("A", "Jembatan di kampung kami ambrol, motor tidak bisa lewat")
    b = _profile(
        "B", "jembatan desa citerep jebol sdh 3 hari, motor gk bisa lewat", ago=timedelta(1)
    )
    found = Matcher().matches(a, [b])
    assert [m.tracking_code for m in found] == ["B"] and found[0].score >= Matcher().threshold


def test_same_street_with_another_problem_is_not_related() -> None:
    bridge = _profile("A", "Jembatan jl. Pramuka ambrol, motor tidak bisa lewat")
    hole = _profile("B", "Jalan Pramuka berlubang besar, motor jatuh", ago=timedelta(hours=5))
    drain = _profile("C", "Selokan jl. Pramuka mampet, air meluap", ago=timedelta(hours=9))
    assert Matcher().matches(bridge, [hole, drain]) == []


def test_same_problem_in_another_desa_is_not_related() -> None:
    a = _profile("A", "lampu pju mati sudah seminggu, gelap", opd="DISHUB")
    b = _profile("B", "lampu pju mati sudah seminggu, gelap", opd="DISHUB", desa="Ranjeng")
    assert Matcher().matches(a, [b]) == []


def test_a_kecamatan_alone_is_not_a_place() -> None:
    a = _profile("A", "sampah menumpuk tidak diangkut", desa=None, opd="DLH")
    b = _profile("B", "sampah menumpuk tidak diangkut", desa=None, opd="DLH")
    assert Matcher().matches(a, [b]) == []


def test_coordinates_decide_when_both_have_them() -> None:
    a = _profile("A", "pohon tumbang menutup jalan", opd="DLH", desa=None, lat=-6.1, lon=106.2)
    b = _profile("B", "pohon tumbang menutup jalan", opd="DLH", desa=None, lat=-6.1015, lon=106.2)
    far = _profile("C", "pohon tumbang menutup jalan", opd="DLH", lat=-6.12, lon=106.2)
    assert [m.tracking_code for m in Matcher().matches(a, [b, far])] == ["B"]
    assert clustering.distance_m(-6.1, 106.2, -6.1015, 106.2) == pytest.approx(167, abs=2)


def test_other_opd_other_category_or_outside_the_window_is_not_related() -> None:
    text = "Jembatan ambrol, motor tidak bisa lewat"
    a = _profile("A", text, category="jembatan-rusak")
    others = [
        _profile("B", text, opd="BPBD"),
        _profile("C", text, category="jalan-rusak"),
        _profile("D", text, ago=timedelta(days=15)),
    ]
    assert Matcher().matches(a, others) == []
    assert Matcher().matches(a, [_profile("E", text, category=None)])


def test_place_words_and_the_tickets_own_address_are_not_problem_words() -> None:
    stems = clustering.problem_stems(
        "Mohon segera, jalan di depan masjid Kp. Cibodas RT 03 rusak", place=["Kp. Cibodas"]
    )
    assert "cibodas" not in stems and "masjid" in stems and "rusak" in stems
    assert "jalan" not in stems and "mohon" not in stems


def test_recent_list_keeps_the_window_and_the_cap() -> None:
    entries = [_profile(f"T{i}", "x", ago=timedelta(days=20 - i)) for i in range(20)]
    kept = Matcher().recent(entries, NOW, cap=3)
    assert [p.tracking_code for p in kept] == ["T17", "T18", "T19"]
    assert all(
        NOW - p.submitted_at <= timedelta(days=14) for p in Matcher().recent(entries, NOW, 99)
    )


def test_profile_round_trips_through_its_document() -> None:
    p = _profile("A", "Jembatan ambrol", lat=-6.1, lon=106.2, category="jembatan-rusak")
    assert Profile.from_document(p.to_document()) == p


def _cluster(status: ClusterStatus = ClusterStatus.PROPOSED) -> clustering.Cluster:
    return clustering.new_cluster(
        cluster_id="KL-1",
        opd="DPUPR",
        primary="A",
        members=["A", "B", "C"],
        status=status,
        actor="sistem:router",
        now=NOW,
    )


def test_new_cluster_counts_its_primary_among_members_once() -> None:
    c = clustering.new_cluster(
        cluster_id="K",
        opd="X",
        primary="A",
        members=["B", "A"],
        status=ClusterStatus.PROPOSED,
        actor="a",
        now=NOW,
    )
    assert c.members == ("A", "B")


def test_router_joins_a_proposed_cluster_as_member_and_a_confirmed_one_as_proposal() -> None:
    proposed = clustering.join(_cluster(), "D", actor="r", now=NOW)
    assert proposed.members == ("A", "B", "C", "D") and proposed.proposed == ()
    confirmed = clustering.join(_cluster(ClusterStatus.CONFIRMED), "D", actor="r", now=NOW)
    assert confirmed.members == ("A", "B", "C") and confirmed.proposed == ("D",)
    assert clustering.join(confirmed, "D", actor="r", now=NOW) is confirmed
    done = clustering.confirm(confirmed, actor="dpupr", now=NOW)
    assert done.members == ("A", "B", "C", "D") and done.proposed == ()
    assert done.status is ClusterStatus.CONFIRMED and done.version == confirmed.version + 1


def test_splitting_the_primary_promotes_the_oldest_member_and_two_are_the_minimum() -> None:
    c = clustering.remove(_cluster(), "A", actor="dpupr", now=NOW)
    assert c is not None and c.primary == "B" and c.members == ("B", "C")
    assert c.history[-1]["action"] == "split"
    assert clustering.remove(c, "C", actor="dpupr", now=NOW) is None


def test_queue_weight_counts_reporters_and_supporters() -> None:
    assert queue_weight(cluster_size=0, supporters=0) == 1
    assert queue_weight(cluster_size=3, supporters=2) == 5
