"""Staff routes of clusters of related tickets: build, confirm, split. Parse, call, map."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from services.routing.api import JSON_BODY, SCOPE_404, RoutingDep, StaffPrincipal
from services.routing.cluster_service import Clusters, cluster_view, dissolved_view
from services.routing.schemas import ClusterIn, ClusterOut, cluster_body
from shared.errors import ServiceUnavailable
from shared.events import utcnow

router = APIRouter(prefix="/api/v1", tags=["clusters"])
CHANGES: dict[int | str, dict[str, Any]] = {
    **SCOPE_404,
    403: {"description": "Auditors change nothing"},
    409: {"description": "A ticket is not open, of another OPD, or in a confirmed cluster"},
}


def _clusters(ctx: RoutingDep) -> Clusters:
    if ctx.clusters is None:
        raise ServiceUnavailable("Kelompok laporan tidak aktif. (Clusters are switched off.)")
    return ctx.clusters


@router.post(
    "/clusters",
    response_model=ClusterOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=JSON_BODY,
    responses=CHANGES,
    summary="Build a cluster by hand (confirmed at once): one primary and its related tickets",
)
async def create_cluster(
    body: ClusterIn, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    cluster = await _clusters(ctx).create(
        principal, primary=body.primary, members=body.members, now=utcnow()
    )
    return cluster_body(cluster_view(cluster))


@router.get(
    "/clusters/{cluster_id}", response_model=ClusterOut, responses=SCOPE_404, summary="A cluster"
)
async def get_cluster(
    cluster_id: str, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    return cluster_body(cluster_view(await _clusters(ctx).visible(principal, cluster_id)))


@router.post(
    "/clusters/{cluster_id}/confirm",
    response_model=ClusterOut,
    responses=CHANGES,
    summary="Confirm a proposed cluster (and tickets proposed to it): then it is acted on as one",
)
async def confirm_cluster(
    cluster_id: str, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    cluster = await _clusters(ctx).confirm(principal, cluster_id, now=utcnow())
    return cluster_body(cluster_view(cluster))


@router.delete(
    "/clusters/{cluster_id}/members/{tracking_code}",
    response_model=ClusterOut,
    responses=CHANGES,
    summary="Split a ticket off its cluster; with fewer than two left the cluster is dissolved",
)
async def remove_member(
    cluster_id: str, tracking_code: str, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    after = await _clusters(ctx).remove_member(principal, cluster_id, tracking_code, now=utcnow())
    return cluster_body(cluster_view(after) if after is not None else dissolved_view(cluster_id))
