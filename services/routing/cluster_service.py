"""Use cases of related-ticket clusters: the router's proposal, the staff's build, confirm and
split, and a transition of a cluster's primary applied to every open member.

The cluster document (`clusters`) is the truth of who belongs; each member ticket points to it
with `cluster_id`. A cluster is written first and the tickets' pointers after it, so a crash
in between leaves a pointer the view ignores (the ticket is not among the cluster's members).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pymongo.errors import PyMongoError

from services.routing import clustering
from services.routing.clustering import Cluster, ClusterStatus, ClusterStore, Matcher, Rewrite
from services.routing.views import ClusterView
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidField, NotFound
from shared.events import utcnow
from shared.lifecycle.changes import Change
from shared.lifecycle.repository import ChangedMeanwhile, Tickets
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.locks import LockTimeout
from shared.tickets import Ticket, TicketStatus, queue_weight

log = logging.getLogger(__name__)
ROUTER_ACTOR = "sistem:router"
NOT_FOUND = "Kelompok laporan tidak ditemukan. (Cluster not found.)"
CHANGED = "Kelompok sedang diubah; coba lagi. (The cluster is changing; try again.)"
GROUPABLE = frozenset(s for s in OPEN_STATUSES if s not in (TicketStatus.SUBMITTED,))
RETRIES = 5


def cluster_view(cluster: Cluster) -> ClusterView:
    """`{"id", "primary", "members"}` as the contract says, with the status and proposals."""
    return ClusterView(
        id=cluster.id,
        primary=cluster.primary,
        members=tuple(cluster.members),
        status=cluster.status.value,
        proposed=tuple(cluster.proposed),
        opd=cluster.opd,
        created_at=cluster.created_at,
        updated_at=cluster.updated_at,
    )


def dissolved_view(cluster_id: str) -> ClusterView:
    """What is left of a cluster dissolved (fewer than two tickets left in it)."""
    return ClusterView(id=cluster_id, primary=None, members=(), status="dissolved")


@dataclass
class Clusters:
    tickets: Tickets
    store: ClusterStore
    matcher: Matcher = field(default_factory=Matcher)
    recent_cap: int = 300

    # -- the router's proposal -----------------------------------------------------------------

    async def propose(self, ticket: Ticket, now: datetime | None = None) -> Cluster | None:
        """Compare a ticket just routed to an OPD with that OPD's recent ones; join the best open
        match's cluster or propose a new one. Never fails routing: errors are logged."""
        if ticket.opd is None or ticket.status is not TicketStatus.ROUTED:
            return None
        now = now or utcnow()
        try:
            return await self._propose(ticket, now)
        except (PyMongoError, LockTimeout) as exc:
            log.warning(
                "cluster proposal for %s failed (%s)", ticket.tracking_code, type(exc).__name__
            )
            return None

    async def _propose(self, ticket: Ticket, now: datetime) -> Cluster | None:
        assert ticket.opd is not None
        loc = ticket.location
        new = clustering.profile(
            tracking_code=ticket.tracking_code,
            opd=ticket.opd,
            submitted_at=ticket.submitted_at,
            title=ticket.title,
            description=ticket.description,
            category=ticket.category,
            kecamatan=loc.kecamatan,
            desa=loc.desa,
            address=loc.address,
            lat=loc.lat,
            lon=loc.lon,
        )
        pool = await self.store.remember(new, matcher=self.matcher, cap=self.recent_cap, now=now)
        matches = self.matcher.matches(new, pool)[:3]
        if not matches:
            return None  # the usual case: no lock, one insert
        async with self.store.proposing(ticket.opd):
            return await self._join_or_start(ticket, matches, now)

    async def _join_or_start(
        self, ticket: Ticket, matches: list[clustering.Match], now: datetime
    ) -> Cluster | None:
        """Under the OPD's proposal lock: join the best open match's cluster, or start one.

        The list was read before the lock, so a later ticket may have matched this one and
        started a cluster with it meanwhile: then the match joins that cluster instead, as it
        would had this proposal gone first."""
        assert ticket.opd is not None
        me = await self.tickets.get(ticket.tracking_code)
        mine = await self._cluster_of(me) if me is not None else None
        for match in matches:
            other = await self.tickets.get(match.tracking_code)
            if other is None or other.opd != ticket.opd or other.status not in GROUPABLE:
                continue
            cluster = await self._cluster_of(other)
            if mine is not None:
                if cluster is not None:
                    continue
                joined = clustering.join(mine, other.tracking_code, actor=ROUTER_ACTOR, now=now)
                if not await self.store.save(mine, joined):
                    return None
                await self._sync(joined, joined.everyone)
                return joined
            if cluster is None:
                cluster = clustering.new_cluster(
                    cluster_id=_new_id(),
                    opd=ticket.opd,
                    primary=other.tracking_code,
                    members=[other.tracking_code, ticket.tracking_code],
                    status=ClusterStatus.PROPOSED,
                    actor=ROUTER_ACTOR,
                    now=now,
                )
                await self.store.add(cluster)
            else:
                joined = clustering.join(cluster, ticket.tracking_code, actor=ROUTER_ACTOR, now=now)
                if not await self.store.save(cluster, joined):
                    continue
                cluster = joined
            await self._sync(cluster, cluster.everyone)
            log.info(
                "ticket %s proposed to cluster %s (score %.2f)",
                ticket.tracking_code,
                cluster.id,
                match.score,
            )
            return cluster
        return None

    # -- reading -------------------------------------------------------------------------------

    async def _cluster_of(self, ticket: Ticket) -> Cluster | None:
        """The ticket's cluster, if the cluster still counts it in."""
        if ticket.cluster_id is None:
            return None
        cluster = await self.store.get(ticket.cluster_id)
        if cluster is None or ticket.tracking_code not in cluster.everyone:
            return None
        return cluster

    async def view_of(self, ticket: Ticket) -> ClusterView | None:
        cluster = await self._cluster_of(ticket)
        return cluster_view(cluster) if cluster else None

    async def visible(self, principal: Principal, cluster_id: str) -> Cluster:
        cluster = await self.store.get(cluster_id)
        if cluster is None or not _sees(principal, cluster):
            raise NotFound(NOT_FOUND)
        return cluster

    # -- staff ---------------------------------------------------------------------------------

    async def create(
        self, principal: Principal, *, primary: str, members: list[str], now: datetime
    ) -> Cluster:
        """Staff build a cluster by hand (confirmed at once). Every ticket must be open, of one
        OPD and in the caller's scope; a ticket of a router's proposal is taken out of it."""
        _may_change(principal)
        codes = list(dict.fromkeys(c.strip().upper() for c in [primary, *members]))
        if len(codes) < 2:
            raise InvalidField(
                ("body", "members"),
                "Kelompok butuh minimal dua laporan. (A cluster needs two tickets.)",
            )
        tickets = [await self._visible_ticket(principal, code) for code in codes]
        opds = {t.opd for t in tickets}
        if len(opds) != 1 or None in opds:
            raise Conflict("Semua laporan harus dari satu OPD. (All tickets must share one OPD.)")
        for t in tickets:
            if t.status not in GROUPABLE:
                raise Conflict(
                    f"Laporan {t.tracking_code} tidak terbuka. ({t.tracking_code} is not open.)"
                )
            current = await self._cluster_of(t)
            if current is not None and current.status is ClusterStatus.CONFIRMED:
                raise Conflict(
                    f"Laporan {t.tracking_code} sudah di kelompok {current.id}; pisahkan dulu. "
                    f"({t.tracking_code} is in cluster {current.id}; split it first.)"
                )
        for t in tickets:
            current = await self._cluster_of(t)
            if current is not None:
                await self._split(current, t.tracking_code, actor=principal.username, now=now)
        opd = tickets[0].opd
        assert opd is not None
        cluster = clustering.new_cluster(
            cluster_id=_new_id(),
            opd=opd,
            primary=codes[0],
            members=codes,
            status=ClusterStatus.CONFIRMED,
            actor=principal.username,
            now=now,
        )
        await self.store.add(cluster)
        await self._sync(cluster, codes)
        return cluster

    async def confirm(self, principal: Principal, cluster_id: str, *, now: datetime) -> Cluster:
        _may_change(principal)
        cluster = await self.visible(principal, cluster_id)

        def confirming(current: Cluster) -> Rewrite:
            if not _sees(principal, current):  # moved to another OPD meanwhile
                raise NotFound(NOT_FOUND)
            return Rewrite(current, clustering.confirm(current, actor=principal.username, now=now))

        written = await self._apply(cluster, confirming)
        if written is None or written.after is None:
            raise NotFound(NOT_FOUND)
        return written.after

    async def remove_member(
        self, principal: Principal, cluster_id: str, code: str, *, now: datetime
    ) -> Cluster | None:
        """Split a ticket off; None when the cluster was dissolved (fewer than two left)."""
        _may_change(principal)
        code = code.strip().upper()
        cluster = await self.visible(principal, cluster_id)
        if code not in cluster.everyone:
            raise NotFound("Laporan bukan anggota kelompok ini. (Not a member of this cluster.)")
        return await self._split(cluster, code, actor=principal.username, now=now)

    async def _split(
        self, cluster: Cluster, code: str, *, actor: str, now: datetime
    ) -> Cluster | None:

        def splitting(current: Cluster) -> Rewrite | None:
            if code not in current.everyone:
                return None  # split off meanwhile
            return Rewrite(current, clustering.remove(current, code, actor=actor, now=now))

        written = await self._apply(cluster, splitting)
        if written is None:  # gone, or the ticket left it meanwhile: the cluster as it is
            return await self.store.get(cluster.id)
        after = written.after
        await self._sync(None, [code])
        if after is None:
            await self._sync(None, [c for c in written.before.everyone if c != code])
        else:
            await self._sync(after, after.everyone)
        return after

    # -- one answer for all --------------------------------------------------------------------

    async def fan_out_targets(self, ticket: Ticket) -> tuple[Cluster, list[str]] | None:
        """For the primary of a confirmed cluster: the cluster and its other members."""
        cluster = await self._cluster_of(ticket)
        if (
            cluster is None
            or cluster.status is not ClusterStatus.CONFIRMED
            or cluster.primary != ticket.tracking_code
        ):
            return None
        return cluster, [c for c in cluster.members if c != ticket.tracking_code]

    async def moved(self, cluster: Cluster, opd: str, *, actor: str, now: datetime) -> None:
        """The cluster followed its primary to another OPD (given up, logged, when it kept
        changing: the transfer itself is written already)."""
        try:
            await self.store.apply(
                cluster.id,
                lambda current: Rewrite(
                    current, clustering.move_to(current, opd, actor=actor, now=now)
                ),
                current=cluster,
                attempts=RETRIES,
            )
        except ChangedMeanwhile:
            log.warning("cluster %s kept changing while following its primary", cluster.id)

    async def split_if_member(self, ticket: Ticket, *, actor: str, now: datetime) -> None:
        """A member transferred on its own leaves its cluster (clusters are of one OPD)."""
        cluster = await self._cluster_of(ticket)
        if cluster is not None:
            await self._split(cluster, ticket.tracking_code, actor=actor, now=now)

    # -- helpers -------------------------------------------------------------------------------

    async def _apply(
        self, cluster: Cluster, make: Callable[[Cluster], Rewrite | None]
    ) -> Rewrite | None:
        """A staff change of a cluster, retried on lost races; 409 when it kept changing."""
        try:
            return await self.store.apply(cluster.id, make, current=cluster, attempts=RETRIES)
        except ChangedMeanwhile as exc:
            raise Conflict(CHANGED) from exc

    async def _visible_ticket(self, principal: Principal, code: str) -> Ticket:
        ticket = await self.tickets.get(code)
        if ticket is None or not (
            principal.role in (Role.ADMIN, Role.AUDITOR) or ticket.opd == principal.opd
        ):
            raise NotFound(f"Laporan {code} tidak ditemukan. (Ticket {code} not found.)")
        return ticket

    async def _sync(self, cluster: Cluster | None, codes: Iterable[str]) -> None:
        """Point tickets to their cluster (or none) and set their place in the queue."""
        size = len(cluster.everyone) if cluster else 1
        for code in codes:
            await self._point(code, cluster.id if cluster else None, size)

    async def _point(self, code: str, cluster_id: str | None, size: int) -> None:
        """Set a ticket's pointer to its cluster and its weight (version-checked, retried)."""
        supporters = await self.store.supporters(code)
        weight = queue_weight(cluster_size=size, supporters=supporters)

        def point(ticket: Ticket) -> Change | None:
            if (ticket.cluster_id, ticket.weight) == (cluster_id, weight):
                return None
            return Change(set_fields={"cluster_id": cluster_id, "weight": weight})

        try:
            await self.tickets.apply(code, point, attempts=RETRIES)
        except ChangedMeanwhile as exc:
            raise Conflict(CHANGED) from exc


def _sees(principal: Principal, cluster: Cluster) -> bool:
    return principal.role in (Role.ADMIN, Role.AUDITOR) or principal.opd == cluster.opd


def _may_change(principal: Principal) -> None:
    if principal.role not in (Role.ADMIN, Role.OFFICER, Role.SUPERVISOR):
        raise Forbidden("Auditor tidak mengubah laporan. (Auditors change nothing.)")


def _new_id() -> str:
    return f"KL-{uuid.uuid4().hex[:10].upper()}"
