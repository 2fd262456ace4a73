"""Intake's public statistics against the real database: the page /statistik, the open data in
JSON and CSV with their filters, schema and licence, filled by the real projection."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.mongo import Document
from shared.statistics.service import Projector
from shared.statistics.store import StatisticsStore
from tests.conftest import Infra
from tests.integration.conftest import settings_for
from tests.statistics_history import CALENDAR, History, expected, generate

pytestmark = pytest.mark.integration

MONTH = "2026-03"


@pytest.fixture(scope="module")
def history() -> History:
    return generate(300, seed=41)


@pytest.fixture
async def projected(db: AsyncDatabase[Document], history: History) -> AsyncDatabase[Document]:
    await Projector(StatisticsStore(db), CALENDAR).apply(history.events)
    return db


@pytest.fixture
def client(infra: Infra, projected: AsyncDatabase[Document]) -> Iterator[TestClient]:
    settings = settings_for(
        IntakeSettings,
        infra,
        projected.name,
        public_base_url="https://pengaduan.example",
        statistics={"cache_seconds": 0},
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in expected([]).as_dict()}


def test_open_data_has_the_figures_a_licence_and_a_schema(
    client: TestClient, history: History
) -> None:
    response = client.get("/api/v1/statistics", params={"month": MONTH})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["licence"] == {
        "id": "CC-BY-4.0",
        "name": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert data["schema_url"] == "https://pengaduan.example/api/v1/statistics/schema"
    assert data["months"] == [MONTH] and data["filters"]["month"] == MONTH
    in_month = [t for t in history.truths if t.month == MONTH]
    assert _figures(data["totals"]) == expected(in_month).as_dict()
    dlh = next(r for r in data["by_opd"] if r["opd"] == "DLH")
    assert dlh["opd_name"] == "Dinas Lingkungan Hidup"
    assert _figures(dlh) == expected(t for t in in_month if t.opd == "DLH").as_dict()
    area = next(r for r in data["by_category_kecamatan"] if r["kecamatan"] == "KEC-CIRUAS")
    assert area["kecamatan_name"] == "Ciruas"
    schema = client.get("/api/v1/statistics/schema").json()
    assert "within_deadline" in schema["json"]["$defs"]["FiguresOut"]["properties"]
    assert [c["name"] for c in schema["csv"]][:3] == ["level", "month", "opd"]
    assert all(c["description"] for c in schema["csv"])


def test_filters_select_an_opd_and_a_kecamatan(client: TestClient, history: History) -> None:
    params = {"month": MONTH, "opd": "DPUPR", "kecamatan": "KEC-CIRUAS"}
    data = client.get("/api/v1/statistics", params=params).json()
    chosen = [
        t
        for t in history.truths
        if t.month == MONTH and t.opd == "DPUPR" and t.kecamatan == "KEC-CIRUAS"
    ]
    assert _figures(data["totals"]) == expected(chosen).as_dict()
    assert {r["opd"] for r in data["by_opd"]} <= {"DPUPR"}
    for bad, field in (({"month": "2026-3"}, "month"), ({"opd": "NOPE"}, "opd")):
        refused = client.get("/api/v1/statistics", params=bad)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == field


def test_csv_has_the_same_rows_as_the_json(client: TestClient) -> None:
    params = {"month": MONTH}
    data = client.get("/api/v1/statistics", params=params).json()
    response = client.get("/api/v1/statistics.csv", params=params)
    assert response.headers["content-type"].startswith("text/csv")
    assert 'rel="license"' in response.headers["link"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["level"] for r in rows].count("opd") == len(data["by_opd"])
    total = next(r for r in rows if r["level"] == "total")
    assert int(total["received"]) == data["totals"]["received"]
    assert total["within_deadline"] == str(data["totals"]["within_deadline"])


def test_the_page_shows_figures_charts_and_tables_without_any_report(
    client: TestClient, history: History
) -> None:
    page = client.get("/statistik", params={"bulan": MONTH})
    assert page.status_code == 200
    html = page.text
    in_month = [t for t in history.truths if t.month == MONTH]
    assert f'<dd class="big">{len(in_month)}</dd>' in html
    month = expected(in_month)
    assert f"{month.paused} dari {month.open} yang masih diproses" in html
    assert "Menunggu pelapor atau pihak ketiga (tenggat dijeda)" in html
    assert html.count("<svg") == 3 and "Jawaban tepat waktu per perangkat daerah" in html
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in html
    assert "termasuk yang rahasia" in html
    assert "<script" not in html.split("</head>")[1]
    assert not re.search(r"LP-[A-Z0-9]{4}-[A-Z0-9]{4}", html), "no report is named"
    assert 'href="/api/v1/statistics.csv?month=2026-03"' in html
    english = client.get("/statistik", params={"bulan": MONTH, "lang": "en"}).text
    assert "Answers on time per agency" in english
    wrong = client.get("/statistik", params={"bulan": "maret"})
    assert wrong.status_code == 422 and 'id="f-bulan-error"' in wrong.text
