"""The console's pages for clusters and bulk actions, against the real database."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import put_proposed_cluster
from tests.integration.test_console import (  # noqa: F401 (fixtures)
    csrf,
    put_ticket,
    signed_in,
    web,
)

pytestmark = pytest.mark.integration


def test_bulk_verify_from_the_queue_reports_each_ticket(
    web: TestClient,  # noqa: F811
    stored: Any,
) -> None:
    a, b = put_ticket(stored), put_ticket(stored, status="verified")
    client = signed_in(web, "dpupr")
    queue = client.get("/konsol")
    assert f'value="{a}|1"' in queue.text and 'action="/konsol/massal"' in queue.text
    result = client.post(
        "/konsol/massal",
        data={"csrf": csrf(client), "aksi": "verify", "pilih": [f"{a}|1", f"{b}|1"]},
    )
    assert result.status_code == 200, result.text
    assert "1 dari 2 laporan berhasil" in result.text
    assert "Tidak bisa dari status ini" in result.text
    assert stored.tickets.find_one({"_id": a})["status"] == "verified"
    forged = client.post("/konsol/massal", data={"csrf": "x", "aksi": "verify", "pilih": [a]})
    assert forged.status_code == 403


def test_cluster_confirmed_and_split_from_the_ticket_page(
    web: TestClient,  # noqa: F811
    stored: Any,
) -> None:
    codes = [put_ticket(stored) for _ in range(3)]
    put_proposed_cluster(stored, "KL-PAGE", codes)
    client = signed_in(web, "dpupr")
    page = client.get(f"/konsol/tiket/{codes[0]}")
    assert 'id="kelompok"' in page.text and "usulan sistem" in page.text
    assert "Terapkan ke seluruh kelompok" not in page.text  # not confirmed yet
    confirmed = client.post(
        "/konsol/kelompok/KL-PAGE/konfirmasi", data={"csrf": csrf(client), "kembali": codes[0]}
    )
    assert confirmed.status_code == 200, confirmed.text  # followed the redirect
    assert "Kelompok sudah dikonfirmasi" in confirmed.text
    assert "Terapkan ke seluruh kelompok (3 laporan)" in confirmed.text
    split = client.post(
        "/konsol/kelompok/KL-PAGE/pisah",
        data={"csrf": csrf(client), "kembali": codes[0], "kode": codes[2]},
    )
    assert "Laporan sudah dipisahkan dari kelompok" in split.text
    assert stored.clusters.find_one({"_id": "KL-PAGE"})["members"] == codes[:2]
    other = signed_in(web, "dlh").post(
        "/konsol/kelompok/KL-PAGE/konfirmasi", data={"csrf": csrf(web), "kembali": codes[0]}
    )
    assert other.status_code == 404
