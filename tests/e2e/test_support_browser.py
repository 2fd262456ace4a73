"""'Dukung laporan ini' on the form in a real browser (Debian's headless Chromium, Playwright).

The three services run as real processes over the real broker and database. A citizen's report
of a broken bridge is routed and verified by the officer; a second citizen, typing the same
problem on the form, is offered that report (nearby.js), supports it, and the public view counts
the support. Without JavaScript nothing is offered and the form still files. Screenshots go to
var/screenshots/ (ignored by git).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.stack import Ports
from tests.conftest import Infra, all_services
from tests.e2e.browser import PHONE, SCREENSHOTS
from tests.e2e.services import eventually, staff_headers
from tests.e2e.test_intake_browser import CODE

pytestmark = pytest.mark.e2e

FIRST = "Jembatan di desa Citerep ambrol, papannya patah. Motor tidak bisa lewat sama sekali"
TYPED = "jembatan citerep jebol, papan patah, motor gk bisa lewat"
SUPPORTER = "wulan@example.com"


@pytest.fixture(scope="module")
def system(infra: Infra) -> Iterator[Ports]:
    with all_services(infra, "support_browser") as ports:
        yield ports


@pytest.fixture(scope="module")
def published(system: Ports) -> str:
    """A public, verified, open report of a broken bridge in Citerep."""
    intake = f"http://127.0.0.1:{system.intake}"
    routing = f"http://127.0.0.1:{system.routing}"
    created = httpx.post(
        f"{intake}/api/v1/complaints",
        json={
            "description": FIRST,
            "category": "jembatan-rusak",
            "location": {"kecamatan": "KEC-CIRUAS", "desa": "Citerep"},
            "reporter": {"email": "alfa@example.com"},
        },
    )
    assert created.status_code == 201, created.text
    code: str = created.json()["tracking_code"]
    assert eventually(functools.partial(_status_is, intake, code, "routed")), code
    verified = httpx.post(
        f"{routing}/api/v1/tickets/{code}/transitions",
        json={"action": "verify"},
        headers=staff_headers(routing, "dpupr"),
    )
    assert verified.status_code == 200, verified.text
    assert _status_is(intake, code, "verified")
    return code


def _status_is(intake: str, code: str, status: str) -> bool:
    found: str = httpx.get(f"{intake}/api/v1/complaints/{code}").json()["status"]
    return found == status


def _fill_the_bridge(page: Page) -> None:
    page.get_by_label("Uraian").fill(TYPED)
    page.get_by_label("Kategori").select_option("jembatan-rusak")
    page.get_by_label("Kecamatan").select_option("KEC-CIRUAS")
    page.get_by_label("Desa/kelurahan").select_option("KEC-CIRUAS|Citerep")


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_typing_the_same_problem_offers_the_report_and_supports_it(
    system: Ports, browser: Browser, published: str
) -> None:
    intake = f"http://127.0.0.1:{system.intake}"
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{intake}/")
        nearby = page.locator("#nearby")
        expect(nearby).to_be_hidden()
        page.get_by_label("Email").fill(SUPPORTER)
        _fill_the_bridge(page)
        expect(nearby).to_be_visible()
        expect(page.get_by_role("heading", name="Laporan serupa di sekitar Anda")).to_be_visible()
        offered = page.locator("#nearby-list li").filter(has_text=published)
        expect(offered).to_have_count(1)
        expect(offered).to_contain_text("Jembatan di desa Citerep ambrol")
        expect(offered).to_contain_text("0 warga mendukung")
        assert "alfa@example.com" not in nearby.inner_text()
        _shot(page, "form-nearby")

        offered.get_by_role("button", name="Dukung laporan ini").click()
        expect(offered.get_by_role("button")).to_have_text("Terima kasih, dukungan Anda tercatat")
        expect(offered).to_contain_text("1 warga mendukung")
        expect(offered.get_by_role("button")).to_be_disabled()
        _shot(page, "form-nearby-supported")

        public: dict[str, Any] = httpx.get(f"{intake}/api/v1/complaints/{published}").json()
        assert public["supporters"] == 1 and SUPPORTER not in str(public)
        page.goto(f"{intake}/lacak?kode={published}")
        expect(page.locator(".supporters")).to_have_text("1 warga mendukung")
        assert SUPPORTER not in page.content()
        _shot(page, "tracking-supporters")

        # The same contact again, from a fresh form: still one support.
        page.goto(f"{intake}/")
        page.get_by_label("Email").fill(SUPPORTER.upper())
        _fill_the_bridge(page)
        again = page.locator("#nearby-list li").filter(has_text=published)
        expect(again).to_contain_text("1 warga mendukung")
        again.get_by_role("button", name="Dukung laporan ini").click()
        expect(again.get_by_role("button")).to_have_text("Terima kasih, dukungan Anda tercatat")
        expect(again).to_contain_text("1 warga mendukung")
        assert httpx.get(f"{intake}/api/v1/complaints/{published}").json()["supporters"] == 1
    finally:
        context.close()


def test_without_javascript_nothing_is_offered_and_the_form_still_files(
    system: Ports, browser: Browser, published: str
) -> None:
    intake = f"http://127.0.0.1:{system.intake}"
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{intake}/")
        _fill_the_bridge(page)
        expect(page.locator("#nearby")).to_be_hidden()
        page.get_by_role("button", name="Kirim laporan").click()
        code = page.locator(".code")
        expect(code).to_have_text(CODE)
        assert code.inner_text() != published
        _shot(page, "receipt-without-javascript")
        filed = httpx.get(f"{intake}/api/v1/complaints/{code.inner_text()}")
        assert filed.status_code == 200
    finally:
        context.close()
