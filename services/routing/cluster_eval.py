"""Precision of related-complaint proposals on a generated set.

`python -m services.routing.cluster_eval` prints it per threshold.

The set is generated, never copied from real complaints: incidents (one problem at one place)
each reported one to five times in different words, informal spelling and with or without a
desa, coordinates or category; beside them near-misses: the same street with another problem of
the same OPD, and the same problem in another desa of the same kecamatan. Reports arrive in
time order and each is matched, as routing does, against the recent tickets of its OPD.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.routing.clustering import Matcher, Profile, profile

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Problem:
    key: str
    opd: str
    category: str
    phrasings: tuple[str, ...]


# `{place}` is where the citizen says it is.
PROBLEMS: tuple[Problem, ...] = (
    Problem(
        "jembatan",
        "DPUPR",
        "jembatan-rusak",
        (
            "Jembatan {place} rusak parah, papannya patah dan tiangnya miring. Bahaya buat anak",
            "jembatan di {place} ambrol sebagian sdh 3 hari, motor gk bisa lewat tolong diperbaiki",
            "Mohon perbaikan jembatan {place} yang jebol, warga harus memutar jauh",
            "jembatan penghubung {place} retak dan hampir putus, takut roboh kalau hujan",
            "Pak, jembatan kayu {place} ambruk kemarin sore. Anak2 nyebrang sungai pakai rakit",
        ),
    ),
    Problem(
        "lubang",
        "DPUPR",
        "jalan-rusak",
        (
            "Jalan {place} berlubang besar, sudah banyak pengendara motor jatuh",
            "jln {place} rusak bolong2 dalam, kalau hujan kayak kolam. tolong diaspal",
            "Aspal {place} hancur dan berlubang sepanjang 200 meter, mohon ditambal",
            "lubang besar di tengah jalan {place}, semalam ada yg jatuh dari motor",
        ),
    ),
    Problem(
        "saluran",
        "DPUPR",
        "drainase",
        (
            "Saluran air {place} tersumbat, air meluap ke rumah warga tiap hujan",
            "got di {place} mampet penuh lumpur, airnya nggenang dan bau",
            "Drainase {place} buntu sehingga genangan setinggi lutut setiap hujan deras",
            "selokan {place} tdk mengalir, air meluap ke jalan. mohon dikeruk",
        ),
    ),
    Problem(
        "pju",
        "DISHUB",
        "penerangan-jalan-umum",
        (
            "Lampu PJU {place} mati sudah seminggu, gelap gulita rawan begal",
            "lampu jalan di {place} padam semua, malam2 gelap bgt",
            "PJU {place} tidak menyala sejak bulan lalu, mohon diganti lampunya",
            "Penerangan jalan umum {place} mati total, warga takut keluar malam",
        ),
    ),
    Problem(
        "lampu_merah",
        "DISHUB",
        "lalu-lintas-parkir",
        (
            "Lampu lalu lintas {place} mati, kendaraan saling serobot hampir tabrakan",
            "traffic light {place} rusak kedip kuning terus, macet parah tiap pagi",
            "Lampu merah di {place} tidak berfungsi sudah 2 hari, mohon petugas mengatur",
        ),
    ),
    Problem(
        "sampah",
        "DLH",
        "sampah",
        (
            "Sampah menumpuk di {place} sudah dua minggu tidak diangkut, baunya menyengat",
            "tumpukan sampah {place} numpuk bgt, lalat banyak, truk sampah gk pernah datang",
            "Mohon sampah di TPS {place} segera diangkut, sudah meluber ke jalan",
            "runtah di {place} numpuk teu diangkut2, bau pisan",
        ),
    ),
    Problem(
        "pohon",
        "DLH",
        "pohon-taman",
        (
            "Pohon besar tumbang di {place} menutup jalan dan menimpa kabel",
            "ada pohon tumbang di {place} sejak angin kencang semalam, belum dipotong",
            "Pohon di {place} miring hampir tumbang, dahan besar sudah patah, bahaya",
        ),
    ),
    Problem(
        "pdam",
        "PDAM",
        "air-pdam",
        (
            "Pipa PDAM bocor di {place}, air muncrat terbuang percuma",
            "air pdam di {place} mati sudah 4 hari, warga beli air galon",
            "Pipa air bersih {place} pecah, jalan jadi becek dan air ke rumah kecil sekali",
        ),
    ),
)

STREETS = (
    "Raya Serang",
    "Kihajar Dewantara",
    "Cikande Rangkasbitung",
    "Sultan Ageng Tirtayasa",
    "Pasar Ciruas",
    "Kampung Baru",
    "Masjid Agung",
    "Syekh Nawawi",
    "Bhayangkara",
    "Pramuka",
    "Lingkar Selatan",
    "Ki Mas Jong",
)
PLACES = (
    "jl. {street} desa {desa}",
    "jalan {street} {desa}",
    "dekat SDN 2 {desa}",
    "kp. Cibodas desa {desa}",
    "depan masjid {desa}",
    "{desa} RT 03 RW 02",
    "jln {street}",
)
REGIONS = (
    ("KEC-CIRUAS", ("Ciruas", "Citerep", "Kaserangan", "Kepandean", "Pelawad", "Ranjeng")),
    ("KEC-KRAGILAN", ("Kragilan", "Dukuh", "Silebu", "Tegalmaya", "Kendayakan", "Jeruk Tipis")),
    ("KEC-CIKANDE", ("Cikande", "Koper", "Kamurang", "Leuwilimus", "Julang", "Bakung")),
    ("KEC-PONTANG", ("Pontang", "Kalapian", "Domas", "Singarajan", "Linduk", "Keserangan")),
)


@dataclass(frozen=True)
class Report:
    incident: int
    profile: Profile


def _informal(text: str, rng: random.Random) -> str:
    """Chat spelling: some abbreviations, a dropped letter, random case."""
    swaps = {"sudah": "sdh", "tidak": "tdk", "yang": "yg", "dengan": "dgn", "jalan": "jln"}
    words = []
    for word in text.split():
        low = word.lower()
        if low in swaps and rng.random() < 0.5:
            word = swaps[low]
        elif len(word) > 6 and rng.random() < 0.06:
            cut = rng.randrange(1, len(word) - 1)
            word = word[:cut] + word[cut + 1 :]
        words.append(word)
    out = " ".join(words)
    return out.lower() if rng.random() < 0.4 else out


@dataclass
class _Incident:
    id: int
    problem: Problem
    kecamatan: str
    desa: str
    street: str
    lat: float
    lon: float
    start: datetime


def generate(seed: int = 14, incidents: int = 160) -> list[Report]:
    """Reports of generated incidents and their near-misses, in arrival order."""
    rng = random.Random(seed)
    found: list[_Incident] = []
    centres: dict[tuple[str, str], tuple[float, float]] = {}
    for k, (kec, desas) in enumerate(REGIONS):
        for d, desa in enumerate(desas):
            # Desas about 2.5 km apart on a grid per kecamatan.
            centres[(kec, desa)] = (-6.05 - 0.12 * k - 0.022 * (d // 3), 106.10 + 0.025 * (d % 3))

    def add(problem: Problem, kec: str, desa: str, street: str, near: _Incident | None) -> None:
        lat, lon = centres[(kec, desa)]
        if near is not None and near.desa == desa:
            lat, lon = near.lat + rng.uniform(-0.0004, 0.0004), near.lon + rng.uniform(-4e-4, 4e-4)
        else:
            lat, lon = lat + rng.uniform(-0.006, 0.006), lon + rng.uniform(-0.006, 0.006)
        start = START + timedelta(hours=rng.uniform(0, 24 * 40))
        if near is not None:
            start = near.start + timedelta(hours=rng.uniform(-48, 48))
        found.append(_Incident(len(found), problem, kec, desa, street, lat, lon, start))

    used: set[tuple[str, str]] = set()  # (problem, desa): one incident each
    while len(used) < min(incidents, len(PROBLEMS) * len(centres)):
        problem = rng.choice(PROBLEMS)
        kec, desas = rng.choice(REGIONS)
        desa = rng.choice(desas)
        if (problem.key, desa) in used:
            continue
        used.add((problem.key, desa))
        add(problem, kec, desa, rng.choice(STREETS), None)
        base = found[-1]
        roll = rng.random()
        same_opd = [p for p in PROBLEMS if p.opd == problem.opd and p.key != problem.key]
        if roll < 0.35 and same_opd:  # same street, another problem of the same OPD
            sibling = rng.choice(same_opd)
            if (sibling.key, desa) not in used:
                used.add((sibling.key, desa))
                add(sibling, kec, desa, base.street, base)
        elif roll < 0.65:  # the same problem in another desa of the kecamatan
            other = rng.choice([d for d in desas if d != desa])
            if (problem.key, other) not in used:
                used.add((problem.key, other))
                add(problem, kec, other, base.street, base)
    reports: list[Report] = []
    for incident in found:
        for n in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 5))):
            reports.append(_report(incident, n, rng))
    reports.sort(key=lambda r: r.profile.submitted_at)
    return reports


def _report(incident: _Incident, n: int, rng: random.Random) -> Report:
    place = rng.choice(PLACES).format(street=incident.street, desa=incident.desa)
    text = _informal(rng.choice(incident.problem.phrasings).format(place=place), rng)
    has_coordinates = rng.random() < 0.4
    jitter = 0.0009  # about 100 m
    at = incident.start + timedelta(hours=rng.uniform(0, 24 * 6) if n else 0)
    return Report(
        incident.id,
        profile(
            tracking_code=f"LP-{incident.id:04d}-{n}",
            opd=incident.problem.opd,
            submitted_at=at,
            title=None,
            description=text,
            category=incident.problem.category if rng.random() < 0.5 else None,
            kecamatan=incident.kecamatan,
            desa=incident.desa if rng.random() < 0.8 else None,
            address=place if rng.random() < 0.5 else None,
            lat=incident.lat + rng.uniform(-jitter, jitter) if has_coordinates else None,
            lon=incident.lon + rng.uniform(-jitter, jitter) if has_coordinates else None,
        ),
    )


@dataclass(frozen=True)
class Score:
    proposals: int
    correct: int
    possible: int  # reports with an earlier report of the same incident in the window
    pair_precision: float

    @property
    def precision(self) -> float:
        return self.correct / self.proposals if self.proposals else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.possible if self.possible else 1.0


def evaluate(reports: list[Report], matcher: Matcher, *, cap: int = 300) -> Score:
    """Each report is matched to the best earlier one of its OPD, as routing proposes."""
    recent: dict[str, list[Profile]] = {}
    incident_of = {r.profile.tracking_code: r.incident for r in reports}
    group: dict[str, str] = {}
    proposals = correct = possible = 0
    for report in reports:
        new = report.profile
        pool = matcher.recent(recent.get(new.opd, []), new.submitted_at, cap)
        if any(incident_of[p.tracking_code] == report.incident for p in pool):
            possible += 1
        found = matcher.matches(new, pool)
        if found:
            proposals += 1
            best = found[0].tracking_code
            correct += incident_of[best] == report.incident
            group[new.tracking_code] = group.get(best, best)
            group.setdefault(best, group[new.tracking_code])
        recent[new.opd] = [*pool, new]
    return Score(proposals, correct, possible, _pair_precision(group, incident_of))


def _pair_precision(group: dict[str, str], incident_of: dict[str, int]) -> float:
    members: dict[str, list[str]] = {}
    for code, root in group.items():
        members.setdefault(root, []).append(code)
    pairs = right = 0
    for codes in members.values():
        for i, a in enumerate(codes):
            for b in codes[i + 1 :]:
                pairs += 1
                right += incident_of[a] == incident_of[b]
    return right / pairs if pairs else 1.0


def _thresholds() -> Iterator[float]:
    yield from (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--incidents", type=int, default=160)
    args = parser.parse_args()
    reports = generate(args.seed, args.incidents)
    rows = []
    for threshold in _thresholds():
        score = evaluate(reports, Matcher(threshold=threshold))
        rows.append(
            {
                "threshold": threshold,
                "reports": len(reports),
                "proposals": score.proposals,
                "precision": round(score.precision, 3),
                "recall": round(score.recall, 3),
                "pair_precision": round(score.pair_precision, 3),
            }
        )
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
