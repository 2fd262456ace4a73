"""Related complaints: which open tickets describe the same problem at the same place.

Pure: a ticket's profile (its OPD, place and the stems of what it says is wrong), the match
of two profiles, and the membership rules of a cluster (its primary, who joins, who leaves).
Precision matters more than recall: two tickets match only when they share an OPD, a place
(the same desa, or coordinates close together), a recent window and most of their words about
the problem itself (place words are left out, so "same street, other problem" does not match).
The word lists are data (`data/clustering.json`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from services.routing.classification import text
from shared.lifecycle.repository import MAX_ATTEMPTS, apply_versioned

DATA_FILE = Path(__file__).parent / "data" / "clustering.json"
DEFAULT_THRESHOLD = 0.45
DEFAULT_WINDOW = timedelta(days=14)
DEFAULT_DISTANCE_M = 400.0
EARTH_RADIUS_M = 6_371_000.0


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


@cache
def _place_stems() -> frozenset[str]:
    words = _data()["place_words"]
    return frozenset({*words, *(text.stem(w) for w in words)})


def _same_meaning(stem: str) -> str:
    mapped: str = _data()["same_meaning"].get(stem, stem)
    return mapped


def problem_stems(description: str, *, place: Iterable[str | None] = ()) -> frozenset[str]:
    """The stems of what a text says is wrong: without place words (generic ones and the
    ticket's own desa, kecamatan and address), each stem as the one it means the same as."""
    own_place = {s for p in place if p for s in text.content_stems(p)}
    own_place |= {w for p in place if p for w in text.words(p)}
    stems = text.content_stems(description)
    return frozenset(
        _same_meaning(s)
        for s in stems
        if s not in _place_stems() and s not in own_place and not any(ch.isdigit() for ch in s)
    )


def _norm(value: str | None) -> str | None:
    if not value:
        return None
    folded = " ".join(value.lower().replace("desa", " ").replace("kelurahan", " ").split())
    return folded or None


@dataclass(frozen=True)
class Profile:
    """What the matcher reads of a ticket (no personal data)."""

    tracking_code: str
    opd: str
    submitted_at: datetime
    stems: frozenset[str]
    category: str | None = None
    kecamatan: str | None = None
    desa: str | None = None
    lat: float | None = None
    lon: float | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "code": self.tracking_code,
            "opd": self.opd,
            "at": self.submitted_at,
            "stems": sorted(self.stems),
            "category": self.category,
            "kecamatan": self.kecamatan,
            "desa": self.desa,
            "lat": self.lat,
            "lon": self.lon,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Profile:
        return cls(
            tracking_code=doc["code"],
            opd=doc["opd"],
            submitted_at=doc["at"],
            stems=frozenset(doc.get("stems") or ()),
            category=doc.get("category"),
            kecamatan=doc.get("kecamatan"),
            desa=doc.get("desa"),
            lat=doc.get("lat"),
            lon=doc.get("lon"),
        )


def profile(
    *,
    tracking_code: str,
    opd: str,
    submitted_at: datetime,
    title: str | None,
    description: str,
    category: str | None,
    kecamatan: str | None,
    desa: str | None,
    address: str | None,
    lat: float | None,
    lon: float | None,
) -> Profile:
    said = f"{title}. {description}" if title else description
    return Profile(
        tracking_code=tracking_code,
        opd=opd,
        submitted_at=submitted_at,
        stems=problem_stems(said, place=(kecamatan, desa, address)),
        category=category,
        kecamatan=kecamatan,
        desa=_norm(desa),
        lat=lat,
        lon=lon,
    )


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def same_place(a: Profile, b: Profile, *, max_distance_m: float = DEFAULT_DISTANCE_M) -> bool:
    """Coordinates on both decide (within `max_distance_m`); else the same named desa (of the
    same kecamatan when both name one). A kecamatan alone is too wide to say "same place"."""
    if a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None:
        return distance_m(a.lat, a.lon, b.lat, b.lon) <= max_distance_m
    if a.desa is None or b.desa is None or a.desa != b.desa:
        return False
    return a.kecamatan is None or b.kecamatan is None or a.kecamatan == b.kecamatan


def text_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine of the two stem sets (0 when either says nothing about the problem)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


@dataclass(frozen=True)
class Match:
    tracking_code: str
    score: float


@dataclass(frozen=True)
class Matcher:
    threshold: float = DEFAULT_THRESHOLD
    window: timedelta = DEFAULT_WINDOW
    max_distance_m: float = DEFAULT_DISTANCE_M

    def score(self, new: Profile, old: Profile) -> float:
        """How alike two tickets are; 0 unless OPD, window, category and place agree."""
        if new.tracking_code == old.tracking_code or new.opd != old.opd:
            return 0.0
        if abs(new.submitted_at - old.submitted_at) > self.window:
            return 0.0
        if new.category and old.category and new.category != old.category:
            return 0.0
        if not same_place(new, old, max_distance_m=self.max_distance_m):
            return 0.0
        return text_similarity(new.stems, old.stems)

    def matches(self, new: Profile, candidates: Iterable[Profile]) -> list[Match]:
        """Candidates at or above the threshold, best first (older first on a tie)."""
        scored = [(self.score(new, c), c) for c in candidates]
        found = [(s, c) for s, c in scored if s >= self.threshold]
        found.sort(key=lambda sc: (-sc[0], sc[1].submitted_at, sc[1].tracking_code))
        return [Match(c.tracking_code, round(s, 3)) for s, c in found]

    def recent(self, entries: Sequence[Profile], now: datetime, cap: int) -> list[Profile]:
        """The per-OPD candidate list kept: within the window, at most `cap`, newest last."""
        kept = [e for e in entries if now - e.submitted_at <= self.window]
        return kept[-cap:]


# -- clusters ----------------------------------------------------------------------------------


class ClusterStatus(StrEnum):
    PROPOSED = "proposed"  # by the router; nothing is done as one until an officer confirms
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Cluster:
    """Related tickets of one OPD with one primary; `proposed` holds tickets the router
    matched to a confirmed cluster, waiting for an officer to confirm them too."""

    id: str
    opd: str
    primary: str
    members: tuple[str, ...]
    status: ClusterStatus
    created_at: datetime
    updated_at: datetime
    proposed: tuple[str, ...] = ()
    version: int = 1
    history: tuple[dict[str, Any], ...] = field(default=())

    @property
    def everyone(self) -> tuple[str, ...]:
        return (*self.members, *self.proposed)

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "opd": self.opd,
            "primary": self.primary,
            "members": list(self.members),
            "proposed": list(self.proposed),
            "status": self.status.value,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
            "history": list(self.history),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Cluster:
        return cls(
            id=doc["_id"],
            opd=doc["opd"],
            primary=doc["primary"],
            members=tuple(doc.get("members") or ()),
            proposed=tuple(doc.get("proposed") or ()),
            status=ClusterStatus(doc["status"]),
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
            version=int(doc.get("version", 1)),
            history=tuple(doc.get("history") or ()),
        )


@dataclass(frozen=True)
class Rewrite:
    """A change of a cluster: its new state (None: dissolved) over the version it was made
    from, written only if the stored cluster is still at that version."""

    before: Cluster
    after: Cluster | None


class ClusterWrites(Protocol):
    async def get(self, cluster_id: str) -> Cluster | None: ...

    async def save(self, before: Cluster, after: Cluster | None) -> bool: ...


class ClusterStore(ClusterWrites, Protocol):
    """What the cluster use cases need of their store (cluster_store.ClusterRepository; the
    fake in tests)."""

    async def supporters(self, tracking_code: str) -> int: ...

    async def add(self, cluster: Cluster) -> None: ...

    async def apply(
        self,
        cluster_id: str,
        make: Callable[[Cluster], Rewrite | None],
        *,
        current: Cluster | None = None,
        attempts: int = MAX_ATTEMPTS,
    ) -> Rewrite | None: ...

    def proposing(self, opd: str) -> AbstractAsyncContextManager[None]: ...

    async def remember(
        self, profile: Profile, *, matcher: Matcher, cap: int, now: datetime
    ) -> list[Profile]: ...


class AppliesRewrites:
    """Gives a cluster store (with `get` and a version-checked `save`) the method `apply`."""

    async def apply(
        self: ClusterWrites,
        cluster_id: str,
        make: Callable[[Cluster], Rewrite | None],
        *,
        current: Cluster | None = None,
        attempts: int = MAX_ATTEMPTS,
    ) -> Rewrite | None:
        """Make the change from the cluster as read (or `current`) and save it
        version-checked, read again and made anew after a lost race (the one loop of
        shared.lifecycle.repository). The change as written; None when the cluster is gone or
        `make` found nothing to do; ChangedMeanwhile after `attempts` lost races."""
        store = self

        async def write(before: Cluster, change: Rewrite) -> Rewrite | None:
            return change if await store.save(before, change.after) else None

        return await apply_versioned(
            self.get, write, cluster_id, make, current=current, attempts=attempts
        )


def _step(actor: str, action: str, at: datetime, **details: Any) -> dict[str, Any]:
    return {"at": at, "actor": actor, "action": action, **details}


def new_cluster(
    *,
    cluster_id: str,
    opd: str,
    primary: str,
    members: Sequence[str],
    status: ClusterStatus,
    actor: str,
    now: datetime,
) -> Cluster:
    """A cluster; the primary is always one of its members."""
    everyone = tuple(dict.fromkeys([primary, *members]))
    return Cluster(
        id=cluster_id,
        opd=opd,
        primary=primary,
        members=everyone,
        status=status,
        created_at=now,
        updated_at=now,
        history=(_step(actor, "create", now, members=list(everyone), status=status.value),),
    )


def join(cluster: Cluster, code: str, *, actor: str, now: datetime) -> Cluster:
    """The router adds a matching ticket: as a member of a proposed cluster, as a proposal to a
    confirmed one (an officer confirms it)."""
    if code in cluster.everyone:
        return cluster
    step = _step(actor, "propose", now, code=code)
    if cluster.status is ClusterStatus.CONFIRMED:
        return _bump(cluster, now, step, proposed=(*cluster.proposed, code))
    return _bump(cluster, now, step, members=(*cluster.members, code))


def confirm(cluster: Cluster, *, actor: str, now: datetime) -> Cluster:
    """Confirm a proposed cluster, and every ticket proposed to it."""
    step = _step(actor, "confirm", now, members=list(cluster.everyone))
    return _bump(
        cluster,
        now,
        step,
        members=cluster.everyone,
        proposed=(),
        status=ClusterStatus.CONFIRMED,
    )


def remove(cluster: Cluster, code: str, *, actor: str, now: datetime) -> Cluster | None:
    """Split one ticket off; the oldest remaining member becomes primary when the primary
    leaves. None: fewer than two tickets are left, so the cluster is dissolved."""
    members = tuple(c for c in cluster.members if c != code)
    proposed = tuple(c for c in cluster.proposed if c != code)
    if len(members) + len(proposed) < 2 or not members:
        return None
    primary = cluster.primary if cluster.primary != code else members[0]
    step = _step(actor, "split", now, code=code)
    return _bump(cluster, now, step, members=members, proposed=proposed, primary=primary)


def move_to(cluster: Cluster, opd: str, *, actor: str, now: datetime) -> Cluster:
    """The whole cluster was transferred to another OPD."""
    return _bump(cluster, now, _step(actor, "transfer", now, opd=opd), opd=opd)


def _bump(cluster: Cluster, now: datetime, step: dict[str, Any], **changes: Any) -> Cluster:
    return replace(
        cluster,
        updated_at=now,
        version=cluster.version + 1,
        history=(*cluster.history, step),
        **changes,
    )
