"""Console pages for officers' work on many tickets at once: confirming and splitting clusters
of related tickets, and bulk actions over the queue's selection (results item by item)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.routing import throughput
from services.routing.throughput import BulkItem
from services.routing.web.page import PREFIX, StaffDep, not_found
from shared.errors import AppError, NotFound
from shared.events import utcnow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
MAX_SELECTION = 120


@router.post("/kelompok/{cluster_id}/konfirmasi", response_class=HTMLResponse)
async def confirm_cluster(cluster_id: str, console: StaffDep) -> Response:
    async with console.request.form(max_files=0, max_fields=5) as form:
        back = str(form.get("kembali") or "")[:40]
        csrf_ok = console.csrf_ok(form)
    clusters = console.ctx.clusters
    if not csrf_ok or clusters is None:
        return console.render("bulk.html", status=403, banner=console.t("err.csrf"), results=[])
    try:
        await clusters.confirm(console.staff, cluster_id[:40], now=utcnow())
    except NotFound:
        return not_found(console)
    except AppError as exc:
        return console.render("bulk.html", status=409, banner=str(exc.detail), results=[])
    return console.redirect(f"{PREFIX}/tiket/{back}?selesai=cluster_confirm#kelompok")


@router.post("/kelompok/{cluster_id}/pisah", response_class=HTMLResponse)
async def split_cluster(cluster_id: str, console: StaffDep) -> Response:
    async with console.request.form(max_files=0, max_fields=5) as form:
        back = str(form.get("kembali") or "")[:40]
        code = str(form.get("kode") or "")[:40]
        csrf_ok = console.csrf_ok(form)
    clusters = console.ctx.clusters
    if not csrf_ok or clusters is None:
        return console.render("bulk.html", status=403, banner=console.t("err.csrf"), results=[])
    try:
        await clusters.remove_member(console.staff, cluster_id[:40], code, now=utcnow())
    except NotFound:
        return not_found(console)
    except AppError as exc:
        return console.render("bulk.html", status=409, banner=str(exc.detail), results=[])
    return console.redirect(f"{PREFIX}/tiket/{back}?selesai=cluster_split#kelompok")


@router.post("/massal", response_class=HTMLResponse)
async def bulk(console: StaffDep) -> Response:
    """A bulk action over the tickets ticked in the queue, each at the version it showed."""
    async with console.request.form(max_files=0, max_fields=MAX_SELECTION + 6) as form:
        action = str(form.get("aksi") or "")
        picked = [str(v)[:60] for v in form.getlist("pilih")][:MAX_SELECTION]
        csrf_ok = console.csrf_ok(form)
    t = console.t
    if not csrf_ok:
        return console.render("bulk.html", status=403, banner=t("err.csrf"), results=[])
    items = []
    for value in picked:
        code, _, version = value.partition("|")
        items.append(BulkItem(code, int(version) if version.isdigit() else None))
    if not items or action not in ("verify", "assign_me"):
        return console.render("bulk.html", status=422, banner=t("bulk.none"), results=[])
    result = await throughput.bulk(
        console.ctx,
        console.staff,
        action="assign" if action == "assign_me" else action,
        items=items,
        selection=None,
        officer=console.staff.username if action == "assign_me" else None,
    )
    return console.render(
        "bulk.html",
        title=t("bulk.result_title"),
        action=action,
        results=result.results,
        counts=result.counts,
    )
