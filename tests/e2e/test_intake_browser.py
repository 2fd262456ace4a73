"""The citizen's pages in a real browser: Debian's headless Chromium driven by Playwright.

Intake runs as a real process over the real broker and database. Screenshots of the pages on a
phone-sized screen go to var/screenshots/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    expect,
)
from pymongo.database import Database

from shared.tickets import history_entry
from tests.conftest import Infra
from tests.e2e.browser import DESKTOP, PHONE, SCREENSHOTS, browser_context
from tests.e2e.services import OneService, one_service

pytestmark = pytest.mark.e2e

CODE = re.compile(r"^LP-[2-9A-Z]{4}-[2-9A-Z]{4}$")
DESCRIPTION = "Lampu jalan di depan pasar Ciruas mati sudah dua minggu, malam gelap sekali."


Intake = OneService


@pytest.fixture(scope="module")
def intake(infra: Infra) -> Iterator[Intake]:
    with one_service(infra, "web", "intake") as intake:
        yield intake


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    with browser_context(browser, PHONE, locale="id-ID") as context:
        yield context


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


def _resolve(db: Database[dict[str, Any]], code: str) -> None:
    """What routing stores when the OPD resolves the ticket."""
    now = datetime.now(UTC)
    entry = history_entry(
        at=now,
        actor="dishub",
        action="resolve",
        from_status="submitted",
        to_status="resolved",
        note="Lampu sudah diganti.",
    )
    db.tickets.update_one(
        {"_id": code},
        {
            "$set": {"status": "resolved", "resolved_at": now, "opd": "DISHUB", "updated_at": now},
            "$push": {"history": entry},
            "$inc": {"version": 1},
        },
    )


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_citizen_reports_sees_the_receipt_and_adds_information(
    intake: Intake, phone: BrowserContext
) -> None:
    page = phone.new_page()
    page.goto(f"{intake.url}/")
    expect(page.get_by_role("heading", name="Buat laporan")).to_be_visible()
    _shot(page, "form")

    page.get_by_label("Judul singkat").fill("Lampu jalan mati")
    page.get_by_label("Uraian").fill(DESCRIPTION)
    page.get_by_label("Kategori").select_option("penerangan-jalan-umum")
    page.get_by_label("Kecamatan").select_option("KEC-CIRUAS")
    desa = page.get_by_label("Desa/kelurahan")
    expect(desa.locator("optgroup")).to_have_count(1)  # the script kept only Ciruas's desa
    desa.select_option("KEC-CIRUAS|Ciruas")
    page.get_by_label("Email").fill("warga@example.com")
    page.get_by_label("Foto 1").set_input_files(
        {"name": "lampu.png", "mimeType": "image/png", "buffer": _png()}
    )
    page.get_by_role("button", name="Kirim laporan").click()

    code = page.locator(".code")
    expect(code).to_have_text(CODE)
    expect(page.get_by_text("Foto terlampir: 1.")).to_be_visible()
    expect(page.get_by_text("Jangan bagikan tautan")).to_be_visible()
    _shot(page, "receipt")
    tracking_code = code.inner_text()
    token = page.locator("#reply-token").inner_text()

    page.get_by_role("link", name="Buka halaman laporan saya").click()
    expect(page.get_by_role("heading", name="Laporan lengkap Anda")).to_be_visible()
    assert token not in page.url, "the script removed the token from the address"
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    page.get_by_label("Informasi tambahan").fill("Tiangnya juga miring ke jalan.")
    page.get_by_role("button", name="Kirim informasi").click()
    expect(page.get_by_role("status")).to_have_text("Informasi tambahan sudah kami terima.")
    expect(page.get_by_role("heading", name=f"Laporan {tracking_code}")).to_be_visible()
    _shot(page, "tracking")

    _resolve(intake.db, tracking_code)
    page.goto(f"{intake.url}/lacak?kode={tracking_code}#t={token}")
    expect(page.get_by_role("heading", name="Terima penyelesaian")).to_be_visible()
    expect(page.get_by_text("Lampu sudah diganti.", exact=True)).to_be_visible()
    _shot(page, "tracking-resolved")
    page.get_by_label("5 (sangat puas)").check()
    page.get_by_role("button", name="Kirim penilaian").click()
    expect(page.get_by_role("status")).to_have_text("Terima kasih atas penilaian Anda.")
    page.get_by_role("button", name="Ya, masalahnya sudah selesai").click()
    expect(page.get_by_role("status")).to_have_text("Terima kasih. Laporan Anda sudah ditutup.")
    expect(page.get_by_text("Ditutup", exact=True)).to_be_visible()


def test_keyboard_alone_sends_a_report(intake: Intake, phone: BrowserContext) -> None:
    page = phone.new_page()
    page.goto(f"{intake.url}/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Langsung ke isi utama")).to_be_focused()

    def tab_to(selector: str) -> None:
        target = page.locator(selector)
        for _ in range(60):
            page.keyboard.press("Tab")
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#f-description")
    page.keyboard.type("Sampah menumpuk di pinggir jalan dekat pasar Kragilan, bau sekali.")
    tab_to("#f-kecamatan")
    page.keyboard.type("Kragilan")
    tab_to("button[type=submit]")
    outline = page.locator("button[type=submit]").evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
    page.keyboard.press("Enter")
    expect(page.locator(".code")).to_have_text(CODE)


def test_pages_work_without_javascript(intake: Intake, browser: Browser) -> None:
    with browser_context(browser, PHONE, java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{intake.url}/?lang=en")
        page.get_by_label("Description").fill("too short")
        page.get_by_label("Email").fill("not-an-email")
        page.get_by_role("button", name="Send report").click()
        expect(page.get_by_role("alert")).to_contain_text("Please fix the following")
        expect(page.locator("#f-description-error")).to_contain_text("at least 10 characters")
        expect(page.get_by_label("Email")).to_have_value("not-an-email")
        _shot(page, "form-errors")

        page.get_by_label("Description").fill(DESCRIPTION)
        page.get_by_label("Email").fill("")
        page.get_by_label("Village (desa/kelurahan)").select_option("KEC-CIRUAS|Ciruas")
        page.get_by_role("button", name="Send report").click()
        tracking_code = page.locator(".code").inner_text()
        token = page.locator("#reply-token").inner_text()

        page.get_by_role("link", name="Track a report").click()
        page.get_by_label("Tracking code").fill(tracking_code.lower())
        page.get_by_role("button", name="Track", exact=True).click()
        expect(page.locator(".status-word")).to_contain_text("Received")
        expect(page.get_by_text("once an officer has verified it")).to_be_visible()
        page.get_by_label("Secret token").fill(token)
        page.get_by_role("button", name="Open my report").click()
        expect(page.get_by_text(DESCRIPTION)).to_be_visible()
        expect(page.get_by_text("Ciruas, Ciruas")).to_be_visible()


def test_form_reads_well_on_a_wide_screen(intake: Intake, browser: Browser) -> None:
    with browser_context(browser, DESKTOP) as context:
        page = context.new_page()
        page.goto(f"{intake.url}/?lang=en")
        width = page.locator("main").evaluate("el => el.getBoundingClientRect().width")
        assert width <= 42 * 16 + 1, "lines stay short enough to read"
        _shot(page, "form-wide-en")
