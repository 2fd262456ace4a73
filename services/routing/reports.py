"""Monthly reports (the laporan bulanan SP4N-LAPOR! asks for), in the console.

One for the bupati's office (the whole kabupaten, every OPD) and one per OPD for its head, each
a printable HTML page and a PDF made from the same page by WeasyPrint. Admins read every
report; a supervisor reads their own OPD's; for anyone else a report does not exist (404).
The figures are the public statistics' (shared.statistics), for the month of submission.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from services.routing.staff import RoutingContext
from services.routing.web.page import PREFIX, Console, StaffDep, not_found
from shared.auth import Principal, Role
from shared.catalogue import TRIASE, Catalogue
from shared.errors import NotFound
from shared.events import utcnow
from shared.pages.i18n import Translator
from shared.statistics import charts, figures
from shared.statistics.figures import Figures, Selection, Statistics
from shared.statistics.projection import month_of

STYLESHEET = Path(__file__).parent / "static" / "report.css"
TREND_MONTHS = 6
INDEX_MONTHS = 12

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    opd: str | None  # None: the kabupaten's report, for the bupati's office
    this: Statistics
    previous: Figures
    trend: Statistics
    catalogue: Catalogue
    organisation: str


def may_read(principal: Principal, opd: str | None) -> bool:
    """Admins every report; an OPD's head (supervisor) their own OPD's."""
    if principal.role is Role.ADMIN:
        return True
    return principal.role is Role.SUPERVISOR and opd is not None and opd == principal.opd


async def monthly_report(
    ctx: RoutingContext, principal: Principal, *, month: str, opd: str | None
) -> MonthlyReport:
    """The report of `month` (YYYY-MM), of one OPD or (None) of the kabupaten."""
    if not may_read(principal, opd):
        raise NotFound("Laporan tidak ditemukan. (Report not found.)")
    try:
        months = figures.months_back(month, TREND_MONTHS)
    except ValueError as exc:
        raise NotFound("Bulan tidak dikenal. (Unknown month.)") from exc
    catalogue = await ctx.catalogue.get()
    if opd is not None and opd != TRIASE and catalogue.opd(opd) is None:
        raise NotFound("OPD tidak dikenal. (Unknown OPD.)")
    summaries = await ctx.statistics.summaries(months)
    previous = figures.statistics(summaries, Selection(months=(months[-2],), opd=opd)).totals
    return MonthlyReport(
        month=month,
        opd=opd,
        this=figures.statistics(summaries, Selection(months=(month,), opd=opd)),
        previous=previous,
        trend=figures.statistics(summaries, Selection(months=months, opd=opd)),
        catalogue=catalogue,
        organisation=ctx.settings.report_organisation,
    )


def percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{round(value * 100)}%"


def report_charts(report: MonthlyReport, t: Translator) -> dict[str, Markup]:
    by_month = report.trend.by_month
    found = {
        "trend": charts.grouped_columns(
            [t.month_short(m) for m in by_month],
            [
                charts.Series(t("report.received"), [f.received for f in by_month.values()]),
                charts.Series(t("report.resolved"), [f.resolved for f in by_month.values()]),
            ],
            title=t("report.trend"),
            chart_id="tren",
        )
    }
    if report.opd is None:
        found["league"] = charts.horizontal_bars(
            [
                charts.Bar(opd, (f.within_deadline or 0) * 100, percent(f.within_deadline))
                for opd, f in figures.league(report.this.by_opd)
            ],
            title=t("report.league"),
            chart_id="liga",
            maximum=100,
        )
    return found


def render_pdf(html: str) -> bytes:
    """The report's page as a PDF; nothing is fetched (the stylesheet is given, no URL)."""
    from weasyprint import CSS, HTML  # heavy: loaded on first use
    from weasyprint.urls import URLFetcher

    nothing = URLFetcher(allowed_protocols=("data",))
    stylesheet = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=nothing)
    pdf: bytes = HTML(string=html, url_fetcher=nothing).write_pdf(stylesheets=[stylesheet])
    return pdf


async def _report_response(console: Console, month: str, opd: str | None, *, pdf: bool) -> Response:
    try:
        report = await monthly_report(console.ctx, console.staff, month=month[:7], opd=opd)
    except NotFound:
        return not_found(console)
    here = f"{PREFIX}/laporan/{report.month}" + (f"/{report.opd}" if report.opd else "")
    values: dict[str, Any] = {
        "report": report,
        "charts": report_charts(report, console.t),
        "league": figures.league(report.this.by_opd),
        "percent": percent,
        "pdf": pdf,
        "pdf_href": f"{here}.pdf",
        "generated_at": utcnow(),
    }
    if not pdf:
        return console.render("report.html", here=here, **values)
    document = await asyncio.to_thread(render_pdf, console.html("report.html", here=here, **values))
    name = f"laporan-{report.month}-{(report.opd or 'kabupaten').lower()}.pdf"
    response = Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
    return console.finish(response)


@router.get("/laporan", response_class=HTMLResponse)
async def reports(console: StaffDep) -> Response:
    """The months, with the reports the caller may read."""
    me = console.staff
    if me.role not in (Role.ADMIN, Role.SUPERVISOR):
        return not_found(console)
    catalogue = await console.ctx.catalogue.get()
    months = list(reversed(figures.months_back(month_of(utcnow()), INDEX_MONTHS)))
    admin = me.role is Role.ADMIN
    opds = [o for o in catalogue.opds if admin or o.code == me.opd]
    return console.render("reports.html", months=months, opds=opds, admin=admin)


@router.get("/laporan/{month}.pdf")
async def kabupaten_pdf(month: str, console: StaffDep) -> Response:
    return await _report_response(console, month, None, pdf=True)


@router.get("/laporan/{month}/{opd}.pdf")
async def opd_pdf(month: str, opd: str, console: StaffDep) -> Response:
    return await _report_response(console, month, opd.upper()[:64], pdf=True)


@router.get("/laporan/{month}", response_class=HTMLResponse)
async def kabupaten_report(month: str, console: StaffDep, opd: str | None = None) -> Response:
    """The kabupaten's report; with `?opd=` (the index's form) on to that OPD's report."""
    if opd:
        code = quote(opd.upper()[:64], safe="")
        return console.redirect(f"{PREFIX}/laporan/{quote(month[:7], safe='')}/{code}")
    return await _report_response(console, month, None, pdf=False)


@router.get("/laporan/{month}/{opd}", response_class=HTMLResponse)
async def opd_report(month: str, opd: str, console: StaffDep) -> Response:
    return await _report_response(console, month, opd.upper()[:64], pdf=False)
