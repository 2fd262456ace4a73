"""The staff's console in a real browser: Debian's headless Chromium driven by Playwright.

Routing runs as a real process over the real broker and database; tickets are put straight into
its database. Screenshots go to var/screenshots/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import Infra, dev_accounts_seeded
from tests.e2e.browser import DESKTOP, PHONE, SCREENSHOTS, browser_context
from tests.e2e.services import OneService, one_service
from tests.integration.test_console import TRIAGE_ROUTING, put_ticket

pytestmark = pytest.mark.e2e


Routing = OneService


@pytest.fixture(scope="module")
def routing(infra: Infra) -> Iterator[Routing]:
    """Only the routing service, its dev accounts seeded."""
    with one_service(infra, "console", "routing") as routing:
        dev_accounts_seeded(routing.db)
        yield routing


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    with browser_context(browser, DESKTOP, locale="id-ID") as context:
        yield context


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/konsol")
    expect(page.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()


def test_officer_signs_in_verifies_comments_and_resolves(
    routing: Routing, desktop: BrowserContext
) -> None:
    code = put_ticket(
        routing.db,
        description="Jalan berlubang besar di depan SDN 1 Ciruas, sudah sebulan tidak diperbaiki.",
        title="Jalan berlubang depan SDN 1",
    )
    late = put_ticket(
        routing.db,
        description="Jembatan bambu di Desa Ciruas roboh, warga harus memutar jauh.",
        due_in=timedelta(days=-2),
        submitted_ago=timedelta(days=9),
    )
    put_ticket(routing.db, opd="DLH", description="Sampah menumpuk di pasar, bau sekali.")
    page = desktop.new_page()
    _sign_in(page, routing.url, "dpupr", "officer")

    expect(
        page.get_by_role("heading", name="Antrian Dinas Pekerjaan Umum dan Penataan Ruang")
    ).to_be_visible()
    overdue = page.locator("section.section-lewat")
    expect(overdue.get_by_role("link", name=late)).to_be_visible()
    expect(page.locator("section.section-lainnya").get_by_role("link", name=code)).to_be_visible()
    expect(page.get_by_text("Sampah menumpuk di pasar")).to_have_count(0)
    _shot(page, "console-queue")

    page.get_by_role("link", name=code).click()
    expect(page.get_by_role("heading", name=f"Laporan {code}")).to_be_visible()
    page.get_by_role("button", name="Verifikasi laporan").click()
    expect(page.get_by_role("status")).to_have_text("Laporan sudah diverifikasi.")
    expect(page.locator("#selesai")).to_be_focused()

    page.get_by_label("Isi komentar").fill("Tim survei ke lokasi besok pagi.")
    page.get_by_label("Publik: pelapor dan halaman lacak").check()
    page.get_by_role("button", name="Kirim komentar").click()
    expect(page.get_by_role("status")).to_have_text("Komentar sudah disimpan.")
    expect(page.locator(".comments")).to_contain_text("Tim survei ke lokasi besok pagi.")
    _shot(page, "console-ticket")

    page.get_by_label("Jawaban untuk pelapor").fill("Lubang sudah ditambal dengan aspal.")
    page.get_by_role("button", name="Tandai selesai").click()
    expect(page.get_by_role("status")).to_contain_text("Laporan ditandai selesai.")
    expect(page.locator(".status-line")).to_contain_text("Selesai ditangani")
    stored = routing.db.tickets.find_one({"_id": code})
    assert stored is not None and stored["status"] == "resolved"
    assert [h["action"] for h in stored["history"]] == ["submit", "verify", "resolve"]


def test_admin_triages_and_transfers(routing: Routing, desktop: BrowserContext) -> None:
    triaged = put_ticket(
        routing.db,
        status="triage",
        opd=None,
        routing=TRIAGE_ROUTING,
        description="Sampah dibuang ke saluran air sampai tersumbat, jalan jadi banjir.",
    )
    routed = put_ticket(
        routing.db, description="Lampu lalu lintas di perempatan Ciruas mati sejak kemarin."
    )
    page = desktop.new_page()
    _sign_in(page, routing.url, "admin", "admin")
    page.get_by_role("link", name="Triase", exact=True).click()
    expect(page.get_by_role("heading", name="Triase", exact=True)).to_be_visible()
    card = page.locator("article", has=page.get_by_role("link", name=triaged))
    expect(card).to_contain_text("Dua kandidat terlalu dekat")
    expect(card.get_by_label("OPD tujuan")).to_have_value("DLH")
    _shot(page, "console-triage")
    card.get_by_role("button", name="Alihkan").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Laporan {triaged} sudah dialihkan ke Dinas Lingkungan Hidup."
    )
    assert routing.db.tickets.find_one({"_id": triaged})["opd"] == "DLH"  # type: ignore[index]

    page.goto(f"{routing.url}/konsol/tiket/{routed}")
    transfer = page.locator("section.action-transfer")
    transfer.get_by_label("OPD tujuan").select_option("DISHUB")
    transfer.get_by_label("Alasan pengalihan").fill("Lampu lalu lintas urusan Dinas Perhubungan.")
    transfer.get_by_role("button", name="Alihkan").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Laporan {routed} sudah dialihkan ke Dinas Perhubungan."
    )
    expect(page.locator(".facts").first).to_contain_text("Dinas Perhubungan (DISHUB)")
    stored = routing.db.tickets.find_one({"_id": routed})
    assert stored is not None and (stored["status"], stored["opd"]) == ("routed", "DISHUB")


def test_console_works_by_keyboard_and_without_javascript(
    routing: Routing, browser: Browser
) -> None:
    code = put_ticket(routing.db, description="Iklan obat kuat, bukan pengaduan sama sekali.")
    with browser_context(browser, PHONE, java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{routing.url}/konsol/masuk")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Langsung ke isi utama")).to_be_focused()
        page.get_by_label("Nama pengguna").focus()
        page.keyboard.type("dpupr-kepala")
        page.keyboard.press("Tab")
        page.keyboard.type("supervisor")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=re.compile("^Antrian"))).to_be_visible()
        _shot(page, "console-queue-phone")

        page.goto(f"{routing.url}/konsol/tiket/{code}")
        reject = page.locator("section.action-reject")
        reject.get_by_role("button", name="Tolak laporan").focus()
        outline = reject.get_by_role("button", name="Tolak laporan").evaluate(
            "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
        )
        assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("Ada yang perlu diperbaiki")
        expect(page.locator("#f-reject-reason-error")).to_contain_text("Pilih alasan penolakan.")
        reject = page.locator("section.action-reject")
        reject.get_by_label("Alasan penolakan").select_option("spam")
        reject.get_by_label("Penjelasan untuk pelapor").fill("Isinya iklan, bukan pengaduan.")
        reject.get_by_role("button", name="Tolak laporan").click()
        expect(page.get_by_role("status")).to_have_text("Laporan sudah ditolak.")
