"""Public statistics on intake: the page `/statistik` and the open data (JSON and CSV).

The figures come from the month summaries routing's projection keeps (shared.statistics); a
request reads a few small summaries by `_id`, never the tickets. Every report counts,
confidential, rejected and unverified ones too; no ticket's content is ever shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from services.intake.deps import IntakeDep
from services.intake.service import IntakeContext
from services.intake.web.page import PageDep
from shared.catalogue import TRIASE, Catalogue
from shared.errors import InvalidField
from shared.events import utcnow
from shared.pages.i18n import Translator
from shared.statistics import charts, figures
from shared.statistics.figures import FIGURE_FIELDS, Selection, Statistics
from shared.statistics.projection import month_of
from shared.web import app_error_details

router = APIRouter()
SCHEMA_PATH = "/api/v1/statistics/schema"
TREND_MONTHS = 12


# -- the published schema (its descriptions are the documentation) -----------------------------


class FiguresOut(BaseModel):
    """The figures of a selection of reports (all reports count: none is left out)."""

    received: int = Field(description="Reports submitted in the month(s), every one of them.")
    routed_auto: int = Field(description="Of those, assigned to an OPD by the router.")
    routed_triage: int = Field(
        description="Of those, assigned to an OPD by the admin koordinator from triage."
    )
    resolved: int = Field(description="Answered by the OPD and not reopened since (or closed).")
    rejected: int = Field(description="Rejected (invalid, spam, duplicate, out of authority).")
    open: int = Field(description="Not yet answered or rejected.")
    open_overdue: int = Field(description="Open, and the deadline in force has passed.")
    paused: int = Field(
        description="Of the open, waiting for the reporter's information or on another party "
        "(menunggu pelapor, menunggu pihak ketiga): the deadline is paused."
    )
    first_response_days_median: int | None = Field(
        description="Median working days from submission to the first response (verification, "
        "answer, rejection or public reply); null without any."
    )
    first_response_days_p90: int | None = Field(description="The same, 90th percentile.")
    resolution_days_median: int | None = Field(
        description="Median working days from submission to the first answer (resolution)."
    )
    resolution_days_p90: int | None = Field(description="The same, 90th percentile.")
    answered: int = Field(description="Reports that got an answer (resolution) at least once.")
    within_deadline: float | None = Field(
        description="Share (0 to 1) of the answered reports whose first answer came by the "
        "deadline in force (SP4N-LAPOR! working days)."
    )
    reopen_rate: float | None = Field(
        description="Share (0 to 1) of the answered reports reopened afterwards (a dispute by "
        "the reporter, or the admin)."
    )
    satisfaction_mean: float | None = Field(description="Mean rating by reporters, 1 to 5.")
    ratings: int = Field(description="How many reporters rated.")


class MonthOut(FiguresOut):
    month: str = Field(description="Month of submission, `YYYY-MM` (Asia/Jakarta).")


class OpdOut(FiguresOut):
    month: str
    opd: str = Field(description="OPD code (`TRIASE`: not assigned to an OPD).")
    opd_name: str


class AreaOut(FiguresOut):
    month: str
    category: str | None = Field(description="Category code; null when the reporter gave none.")
    category_name: str | None
    kecamatan: str | None = Field(description="Kecamatan code; null when the reporter gave none.")
    kecamatan_name: str | None


class LicenceOut(BaseModel):
    id: str = Field(description="SPDX identifier")
    name: str
    url: str


class FiltersOut(BaseModel):
    month: str | None
    opd: str | None
    kecamatan: str | None


class StatisticsOut(BaseModel):
    """Open data: complaint statistics per month, per OPD and month, and per category and
    kecamatan and month."""

    title: str
    publisher: str
    licence: LicenceOut
    schema_url: str = Field(description="This schema, with the CSV columns.")
    generated_at: datetime
    filters: FiltersOut
    months: list[str] = Field(description="The months covered, oldest first.")
    totals: FiguresOut
    by_month: list[MonthOut]
    by_opd: list[OpdOut] = Field(description="Per OPD and month.")
    by_category_kecamatan: list[AreaOut] = Field(description="Per category, kecamatan and month.")


CSV_COLUMNS = (
    ("level", "`total`, `month`, `opd` or `category_kecamatan`: which table the row is from."),
    ("month", "Month of submission `YYYY-MM`; empty on the `total` row."),
    ("opd", "OPD code (`opd` rows)."),
    ("opd_name", "OPD name."),
    ("category", "Category code (`category_kecamatan` rows)."),
    ("category_name", "Category name."),
    ("kecamatan", "Kecamatan code (`category_kecamatan` rows)."),
    ("kecamatan_name", "Kecamatan name."),
    *((name, str(FiguresOut.model_fields[name].description)) for name in FIGURE_FIELDS),
)


# -- the use case ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """One selection's statistics, with the names the page and the data show."""

    statistics: Statistics
    trend: Statistics  # the 12 months up to the selection's last, for the page's chart
    month: str | None
    catalogue: Catalogue


def selection_for(
    *, month: str | None, opd: str | None, kecamatan: str | None, now: datetime, recent: int
) -> Selection:
    """The months asked for (one, or the `recent` last ones) and the filters, checked."""
    if month:
        try:
            figures.parse_month(month)
        except ValueError as exc:
            raise InvalidField(
                ("query", "month"), "Bulan ditulis YYYY-MM, mis. 2026-05. (month is YYYY-MM.)"
            ) from exc
        months: tuple[str, ...] = (month,)
    else:
        months = figures.months_back(month_of(now), recent)
    return Selection(months=months, opd=opd or None, kecamatan=kecamatan or None)


async def published(
    ctx: IntakeContext, *, month: str | None, opd: str | None, kecamatan: str | None
) -> Published:
    catalogue = await ctx.catalogue.get()
    if opd and opd != TRIASE and catalogue.opd(opd) is None:
        raise InvalidField(("query", "opd"), "OPD tidak dikenal. (Unknown OPD.)")
    region = catalogue.region(kecamatan) if kecamatan else None
    if kecamatan and region is None:
        raise InvalidField(("query", "kecamatan"), "Kecamatan tidak dikenal. (Unknown kecamatan.)")
    selection = selection_for(
        month=month,
        opd=opd,
        kecamatan=region.code if region else None,
        now=utcnow(),
        recent=ctx.settings.statistics.recent_months,
    )
    trend = Selection(
        months=figures.months_back(selection.months[-1], TREND_MONTHS),
        opd=selection.opd,
        kecamatan=selection.kecamatan,
    )
    summaries = await ctx.statistics.summaries(tuple(sorted({*selection.months, *trend.months})))
    return Published(
        figures.statistics(summaries, selection),
        figures.statistics(summaries, trend),
        month,
        catalogue,
    )


# -- open data ------------------------------------------------------------------------------------


def open_data(found: Published, ctx: IntakeContext) -> StatisticsOut:
    stats, settings = found.statistics, ctx.settings.statistics
    return StatisticsOut(
        title="Statistik Layanan Pengaduan (complaint statistics)",
        publisher=settings.publisher,
        licence=LicenceOut(
            id=settings.licence_id, name=settings.licence_name, url=settings.licence_url
        ),
        schema_url=ctx.settings.public_base_url.rstrip("/") + SCHEMA_PATH,
        generated_at=utcnow(),
        filters=FiltersOut(
            month=found.month, opd=stats.selection.opd, kecamatan=stats.selection.kecamatan
        ),
        months=list(stats.selection.months),
        totals=FiguresOut(**stats.totals.as_dict()),
        by_month=[MonthOut(month=m, **f.as_dict()) for m, f in stats.by_month.items()],
        by_opd=[
            OpdOut(month=m, opd=o, opd_name=found.catalogue.opd_name(o), **f.as_dict())
            for (m, o), f in stats.by_opd_month.items()
        ],
        by_category_kecamatan=[
            AreaOut(
                month=m,
                category=c,
                category_name=found.catalogue.category_name(c),
                kecamatan=k,
                kecamatan_name=found.catalogue.kecamatan_name(k),
                **f.as_dict(),
            )
            for (m, c, k), f in stats.by_category_kecamatan_month.items()
        ],
    )


def csv_text(data: StatisticsOut) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[name for name, _ in CSV_COLUMNS], lineterminator="\n")
    writer.writeheader()
    writer.writerow({"level": "total", **data.totals.model_dump()})
    for level, rows in (
        ("month", data.by_month),
        ("opd", data.by_opd),
        ("category_kecamatan", data.by_category_kecamatan),
    ):
        for row in rows:
            writer.writerow({"level": level, **row.model_dump()})
    return out.getvalue()


Month = Annotated[
    str | None, Query(max_length=7, description="`YYYY-MM`; without it the last 12 months.")
]
Opd = Annotated[str | None, Query(max_length=64, description="An OPD code, or `TRIASE`.")]
Kecamatan = Annotated[str | None, Query(max_length=64, description="A kecamatan code.")]


@router.get(
    "/api/v1/statistics",
    tags=["statistics"],
    response_model=StatisticsOut,
    summary="Open data: complaint statistics per month, OPD, category and kecamatan",
    responses={422: {"description": "Unknown month, OPD or kecamatan"}},
)
async def statistics_json(
    ctx: IntakeDep, month: Month = None, opd: Opd = None, kecamatan: Kecamatan = None
) -> StatisticsOut:
    found = await published(ctx, month=month, opd=opd, kecamatan=kecamatan)
    return open_data(found, ctx)


@router.get(
    "/api/v1/statistics.csv",
    tags=["statistics"],
    response_class=Response,
    summary="The same statistics as CSV, one row per table row (column `level`)",
    responses={200: {"content": {"text/csv": {}}}, 422: {"description": "Unknown filter"}},
)
async def statistics_csv(
    ctx: IntakeDep, month: Month = None, opd: Opd = None, kecamatan: Kecamatan = None
) -> Response:
    found = await published(ctx, month=month, opd=opd, kecamatan=kecamatan)
    licence = ctx.settings.statistics.licence_url
    return Response(
        csv_text(open_data(found, ctx)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="statistik-pengaduan.csv"',
            "Link": f'<{licence}>; rel="license"',
        },
    )


@router.get(
    SCHEMA_PATH,
    tags=["statistics"],
    summary="The open data's schema: JSON Schema of the JSON, and the CSV's columns",
)
async def statistics_schema() -> dict[str, Any]:
    return {
        "json": StatisticsOut.model_json_schema(),
        "csv": [{"name": name, "description": about} for name, about in CSV_COLUMNS],
    }


# -- the page -------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{round(value * 100)}%"


def charts_for(found: Published, t: Translator) -> dict[str, Markup]:
    stats, by_month = found.statistics, found.trend.by_month
    trend = charts.grouped_columns(
        [t.month_short(m) for m in by_month],
        [
            charts.Series(t("stats.received"), [f.received for f in by_month.values()]),
            charts.Series(t("stats.resolved"), [f.resolved for f in by_month.values()]),
        ],
        title=t("stats.trend"),
        chart_id="tren",
    )
    league = charts.horizontal_bars(
        [
            charts.Bar(opd, (f.within_deadline or 0) * 100, _percent(f.within_deadline))
            for opd, f in figures.league(stats.by_opd)
        ],
        title=t("stats.league"),
        chart_id="liga",
        maximum=100,
    )
    areas = charts.horizontal_bars(
        [
            charts.Bar(
                found.catalogue.kecamatan_name(k) or t("stats.no_kecamatan"),
                f.received,
                str(f.received),
            )
            for k, f in sorted(stats.by_kecamatan.items(), key=lambda kv: -kv[1].received)
        ],
        title=t("stats.by_kecamatan"),
        chart_id="kecamatan",
    )
    return {"trend": trend, "league": league, "areas": areas}


@router.get("/statistik", response_class=HTMLResponse, include_in_schema=False)
async def statistics_page(
    page: PageDep,
    ctx: IntakeDep,
    bulan: str | None = None,
    opd: str | None = None,
    kecamatan: str | None = None,
) -> HTMLResponse:
    """The public page: filters as a GET form, figures, charts drawn here, the tables."""
    values = {"bulan": (bulan or "")[:7], "opd": (opd or "")[:64], "kecamatan": (kecamatan or "")}
    values["kecamatan"] = values["kecamatan"][:64]
    errors: dict[str, str] = {}
    try:
        found = await published(
            ctx, month=values["bulan"], opd=values["opd"], kecamatan=values["kecamatan"]
        )
    except InvalidField as exc:
        for error in app_error_details(exc):
            name = str(error["loc"][-1])
            errors[{"month": "bulan"}.get(name, name)] = page.t.pick(str(error["msg"]))
        found = await published(ctx, month=None, opd=None, kecamatan=None)
    chosen = {"bulan": "month", "opd": "opd", "kecamatan": "kecamatan"}
    return page.render(
        "statistics.html",
        status=422 if errors else 200,
        switch=page.switch_link("/statistik", **{k: v for k, v in values.items() if v}),
        found=found,
        stats=found.statistics,
        league=figures.league(found.statistics.by_opd),
        charts=charts_for(found, page.t),
        values=values,
        errors=errors,
        month_choices=list(reversed(figures.months_back(month_of(utcnow()), 24))),
        opds=found.catalogue.opds,
        regions=found.catalogue.regions,
        percent=_percent,
        data_query=urlencode({chosen[k]: v for k, v in values.items() if v and not errors}),
        licence=ctx.settings.statistics,
    )
