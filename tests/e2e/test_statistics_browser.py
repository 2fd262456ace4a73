"""The public statistics and the monthly report in a real browser: Debian's headless Chromium
driven by Playwright, against intake and routing as real processes.

The statistics of a generated history of tickets are projected into the services' database
first, so the page has months, OPDs and kecamatan to show. Screenshots go to var/screenshots/
(ignored by git): statistik-phone.png, statistik-desktop.png, report-bupati.png.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from shared.events import utcnow
from shared.mongo import connect
from shared.statistics.service import Projector
from shared.statistics.store import StatisticsStore
from tests.conftest import Infra
from tests.e2e.browser import DESKTOP, PHONE, SCREENSHOTS, browser
from tests.e2e.services import intake_and_routing
from tests.e2e.test_console_browser import _sign_in
from tests.statistics_history import CALENDAR, History, expected, generate

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the module's browser fixture, shared with the citizen pages' tests


@dataclass(frozen=True)
class Services:
    intake: str
    routing: str
    history: History


@pytest.fixture(scope="module")
def services(infra: Infra) -> Iterator[Services]:
    history = generate(400, seed=61, start=utcnow() - timedelta(days=175))
    with intake_and_routing(infra, "stats") as running:

        async def project() -> None:
            client = connect(infra.mongodb_url)
            try:
                store = StatisticsStore(client[running.database])
                await Projector(store, CALENDAR).apply(history.events)
            finally:
                await client.close()

        asyncio.run(project())
        yield Services(running.intake, running.routing, history)


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def _fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_statistics_on_a_phone_without_javascript(services: Services, browser: Browser) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="id-ID")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{services.intake}/statistik")
        expect(page.get_by_role("heading", name="Statistik pengaduan", exact=True)).to_be_visible()
        expect(page.get_by_text("Semua laporan dihitung, termasuk yang rahasia")).to_be_visible()
        expect(page.get_by_role("img", name="Laporan masuk dan selesai per bulan")).to_be_visible()
        expect(
            page.get_by_role("img", name="Jawaban tepat waktu per perangkat daerah")
        ).to_be_visible()
        expect(page.get_by_role("img", name="Laporan per kecamatan")).to_be_visible()
        total = len(services.history.truths)  # all within the last 12 months
        received = page.locator(".tiles div", has_text="Laporan masuk").locator("dd")
        assert int(received.inner_text()) >= total
        assert _fits_the_width(page), "no sideways scrolling on a phone"
        _shot(page, "statistik-phone")

        page.get_by_label("Perangkat daerah", exact=True).select_option("DLH")
        page.get_by_role("button", name="Tampilkan").click()
        expect(page.locator(".period")).to_contain_text("Dinas Lingkungan Hidup")
        assert "opd=DLH" in page.url
        league = page.locator(
            "section",
            has=page.get_by_role("heading", name="Jawaban tepat waktu per perangkat daerah"),
        )
        expect(league.locator("tbody tr")).to_have_count(1)
    finally:
        context.close()


def test_statistics_on_a_wide_screen_in_english(services: Services, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{services.intake}/statistik")
        month = services.history.truths[0].month
        page.get_by_label("Bulan laporan").select_option(month)
        page.get_by_role("button", name="Tampilkan").click()
        in_month = expected(t for t in services.history.truths if t.month == month)
        received = page.locator(".tiles div", has_text="Laporan masuk").locator("dd")
        assert int(received.inner_text()) >= in_month.received
        rows = page.locator(
            "section",
            has=page.get_by_role("heading", name="Jawaban tepat waktu per perangkat daerah"),
        ).locator("tbody tr")
        assert rows.count() >= 5
        _shot(page, "statistik-desktop")
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", name="Complaint statistics")).to_be_visible()
        csv = page.request.get(f"{services.intake}/api/v1/statistics.csv?month={month}")
        assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    finally:
        context.close()


def test_the_bupatis_monthly_report_as_a_page_and_a_pdf(
    services: Services, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 794, "height": 1123}, locale="id-ID")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        _sign_in(page, services.routing, "admin", "admin")
        page.get_by_role("link", name="Laporan bulanan").click()
        expect(page.get_by_role("heading", name="Laporan bulanan")).to_be_visible()
        month = max(t.month for t in services.history.truths if t.resolved_at)
        row = page.locator("tr", has=page.locator(f'a[href="/konsol/laporan/{month}"]'))
        row.get_by_role("link", name="Buka").click()
        expect(
            page.get_by_role("heading", name="Laporan Bulanan Pengelolaan Pengaduan")
        ).to_be_visible()
        expect(page.get_by_text("Untuk Kantor Bupati")).to_be_visible()
        expect(page.get_by_role("img", name="Jawaban tepat waktu per OPD")).to_be_visible()
        page.emulate_media(media="print")
        _shot(page, "report-bupati", full_page=False)  # its first printed page
        page.emulate_media(media="screen")
        href = page.get_by_role("link", name="Unduh PDF").get_attribute("href")
        pdf = page.request.get(f"{services.routing}{href}")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF-")
        started = time.monotonic()
        page.goto(f"{services.routing}/konsol/laporan/{month}/DLH")
        expect(page.get_by_text("Untuk Kepala Dinas Lingkungan Hidup")).to_be_visible()
        assert time.monotonic() - started < 10
    finally:
        context.close()
