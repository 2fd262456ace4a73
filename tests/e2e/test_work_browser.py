"""The console's work on many tickets in a real browser (Debian's Chromium via Playwright):
a cluster of related reports confirmed and answered once with a canned answer, and a bulk
action over the queue's selection. Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.services import staff_headers
from tests.e2e.test_console_browser import (  # noqa: F401 (fixtures)
    Routing,
    _shot,
    _sign_in,
    desktop,
    routing,
)
from tests.integration.conftest import put_proposed_cluster
from tests.integration.test_console import put_ticket

pytestmark = pytest.mark.e2e

BRIDGE = "Jembatan di Desa Ciruas ambrol, motor tidak bisa lewat."


def test_cluster_confirmed_and_answered_once_with_a_canned_answer(
    routing: Routing,  # noqa: F811 (the fixture)
    desktop: BrowserContext,  # noqa: F811
) -> None:
    codes = [put_ticket(routing.db, description=BRIDGE) for _ in range(3)]
    put_proposed_cluster(routing.db, "KL-BROWSER1", codes, weight=3)
    saved = httpx.put(
        f"{routing.url}/api/v1/canned-answers/DPUPR/jembatan",
        json={
            "title": "Jembatan sudah diperbaiki",
            "body": "Laporan {kode}: jembatan sudah diperbaiki oleh {opd}.",
        },
        headers=staff_headers(routing.url, "dpupr-kepala"),
    )
    assert saved.status_code == 200, saved.text

    page = desktop.new_page()
    _sign_in(page, routing.url, "dpupr", "officer")
    page.goto(f"{routing.url}/konsol/tiket/{codes[0]}")
    cluster = page.locator("section#kelompok")
    expect(cluster.get_by_role("heading", name="Kelompok laporan terkait")).to_be_visible()
    expect(cluster).to_contain_text("usulan sistem")
    for code in codes[1:]:
        expect(cluster.get_by_role("link", name=code)).to_be_visible()
    _shot(page, "console-cluster-proposed")
    cluster.get_by_role("button", name="Konfirmasi kelompok").click()
    expect(page.locator("#selesai")).to_contain_text("Kelompok sudah dikonfirmasi")
    expect(page.locator("section#kelompok")).to_contain_text("dikonfirmasi")

    verify = page.locator("section.action-verify")
    expect(verify.get_by_label("Terapkan ke seluruh kelompok (3 laporan)")).to_be_checked()
    verify.get_by_role("button", name="Verifikasi laporan").click()
    expect(page.locator("#selesai")).to_contain_text("diverifikasi")
    assert {t["status"] for t in routing.db.tickets.find({"_id": {"$in": codes}})} == {"verified"}

    resolve = page.locator("section.action-resolve")
    resolve.get_by_label("Jawaban siap pakai").select_option(label="Jembatan sudah diperbaiki")
    answer = resolve.get_by_label("Jawaban untuk pelapor")
    expect(answer).to_have_value(
        f"Laporan {codes[0]}: jembatan sudah diperbaiki oleh "
        "Dinas Pekerjaan Umum dan Penataan Ruang."
    )
    _shot(page, "console-canned-answer")
    resolve.get_by_role("button", name="Tandai selesai").click()
    expect(page.locator("#selesai")).to_contain_text("selesai")
    _shot(page, "console-cluster-resolved")
    for ticket in routing.db.tickets.find({"_id": {"$in": codes}}):
        assert ticket["status"] == "resolved", ticket["_id"]
        assert [h["action"] for h in ticket["history"]].count("resolve") == 1


def test_bulk_verify_reports_each_ticket(
    routing: Routing,  # noqa: F811 (the fixture)
    desktop: BrowserContext,  # noqa: F811
) -> None:
    picked = [
        put_ticket(routing.db, description=f"Saluran air tersumbat di gang {n}") for n in "ABC"
    ]
    page = desktop.new_page()
    _sign_in(page, routing.url, "dpupr", "officer")
    page.goto(f"{routing.url}/konsol")
    routing.db.tickets.update_one({"_id": picked[2]}, {"$inc": {"version": 1}})  # meanwhile
    for code in picked:
        page.get_by_label(f"Pilih {code}").first.check()
    page.get_by_label("Untuk laporan yang dicentang").select_option(label="Verifikasi")
    _shot(page, "console-bulk-selection")
    page.get_by_role("button", name="Jalankan").click()
    expect(page.get_by_role("heading", name="Hasil tindakan massal")).to_be_visible()
    expect(page.locator("#selesai")).to_contain_text("2 dari 3 laporan berhasil")
    rows = page.locator("table.bulk-results tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("tr.bulk-conflict")).to_contain_text(picked[2])
    expect(page.locator("tr.bulk-conflict")).to_contain_text("Sudah diubah orang lain")
    _shot(page, "console-bulk-results")
    statuses = {t["_id"]: t["status"] for t in routing.db.tickets.find({"_id": {"$in": picked}})}
    assert statuses == {picked[0]: "verified", picked[1]: "verified", picked[2]: "routed"}
