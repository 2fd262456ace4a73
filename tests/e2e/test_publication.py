"""End to end: nothing unverified, rejected, confidential, hidden or unredacted appears in any
public output. Intake and routing run as real processes over the real broker and database;
complaints full of personal data go through routing and the officers' actions, then every
public surface is read (Open311 lists and requests in JSON and XML, the tracking JSON and page,
photos, /statistik and the open data) and scanned."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import Infra
from tests.e2e.kafka_lag import tickets_lag
from tests.e2e.services import eventually, intake_and_routing, staff_headers

pytestmark = pytest.mark.e2e

# What no public output may ever carry: every personal datum in the complaints below.
PERSONAL = [
    "Budi Santoso",
    "3604012345670001",
    "0812-3456-7890",
    "Joko Widodo",
    "081311112222",
    "Siti Aminah",
    "A 1234 XY",
    "Rina Marlina",
    "rina.m@example.com",
    "085711223344",
    "Dodi",
    "Agus Salim",
    "Hendra",
    "Yusuf",
    "warga.pelapor@example.com",
    "+6281234567890",
]


@dataclass
class Case:
    key: str
    body: dict[str, Any]
    opd: str | None  # where an officer puts it (None: it stays where the router put it)
    steps: tuple[str, ...]  # what the staff do: verify, resolve, hide, reject
    listed: bool  # in public lists afterwards
    secret: str  # words of its content that only a published ticket may show (redacted)
    code: str = ""
    token: str = ""


def _cases() -> list[Case]:
    reporter = {
        "name": "Budi Santoso",
        "email": "warga.pelapor@example.com",
        "phone": "081234567890",
    }
    return [
        Case(
            "published",
            {
                "description": "Saya Budi Santoso, NIK 3604012345670001, hp 0812-3456-7890: "
                "jalan berlubang besar di depan SDN 1 Ciruas, sudah sebulan.",
                "category": "jalan-rusak",
                "location": {"kecamatan": "KEC-CIRUAS", "lat": -6.123456, "lon": 106.234567},
                "reporter": reporter,
            },
            "DPUPR",
            ("verify", "resolve"),
            listed=True,
            secret="jalan berlubang besar di depan SDN 1 Ciruas",
        ),
        Case(
            "hidden",
            {
                "description": "Nama saya Siti Aminah. Mobil A 1234 XY buang sampah ke kali "
                "belakang rumah setiap malam.",
                "category": "sampah",
                "location": {"kecamatan": "KEC-KRAGILAN"},
            },
            "DLH",
            ("verify", "hide"),
            listed=False,
            secret="buang sampah ke kali belakang rumah",
        ),
        Case(
            "unverified",
            {
                "description": "Saya Rina Marlina, email rina.m@example.com: sampah menumpuk di "
                "belakang pasar Kragilan, bau sekali.",
                "category": "sampah",
                "location": {"kecamatan": "KEC-KRAGILAN"},
            },
            None,
            (),
            listed=False,
            secret="sampah menumpuk di belakang pasar Kragilan",
        ),
        Case(
            "rejected",
            {
                "description": "Promo pulsa murah hubungi 085711223344 Bapak Dodi, dijamin "
                "termurah se-Banten.",
                "category": "jalan-rusak",
            },
            "DPUPR",
            ("reject",),
            listed=False,
            secret="Promo pulsa murah",
        ),
        Case(
            "confidential",
            {
                "description": "Saya Agus Salim. Lampu PJU di depan masjid Baros mati sudah "
                "tiga minggu.",
                "category": "penerangan-jalan-umum",
                "location": {"kecamatan": "KEC-BAROS"},
                "confidential": True,
            },
            "DISHUB",
            ("verify",),
            listed=False,
            secret="Lampu PJU di depan masjid Baros",
        ),
        Case(
            "misconduct",
            {
                "description": "Pak Camat Hendra minta uang Rp 500.000 untuk mempercepat KTP-el "
                "anak saya. Saya Yusuf, warga Kibin.",
                "category": "pungli-penyimpangan",
                "location": {"kecamatan": "KEC-KIBIN"},
            },
            "INSPEKTORAT",
            ("verify",),
            listed=False,
            secret="mempercepat KTP-el",
        ),
    ]


@dataclass(frozen=True)
class System:
    intake: str
    routing: str
    kafka: str
    statistics_group: str


@pytest.fixture(scope="module")
def system(infra: Infra) -> Iterator[System]:
    with intake_and_routing(infra, "pub", INTAKE_STATISTICS__CACHE_SECONDS="0") as running:
        yield System(
            running.intake,
            running.routing,
            infra.kafka_bootstrap,
            f"{running.consumer_group}-statistics",
        )


def caught_up(bootstrap: str, group: str) -> None:
    """Wait until the consumer group has handled everything on the tickets topic so far (the
    topic is shared with other tests: their tickets count in this run's statistics too)."""

    def lag() -> int:
        return asyncio.run(tickets_lag(bootstrap, group))

    assert eventually(lambda: lag() <= 0, timeout_s=150), f"{group} lags behind"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 20)).save(out, "PNG")
    return out.getvalue()


def _staff(system: System) -> dict[str, str]:
    return staff_headers(system.routing, "admin")


def _act(system: System, auth: dict[str, str], code: str, **body: Any) -> None:
    response = httpx.post(
        f"{system.routing}/api/v1/tickets/{code}/transitions", json=body, headers=auth
    )
    assert response.status_code == 200, response.text


def _handle(system: System, auth: dict[str, str], case: Case) -> None:
    """What the router and then the staff do with the case's ticket."""

    def routed() -> dict[str, Any] | None:
        ticket: dict[str, Any] = httpx.get(
            f"{system.routing}/api/v1/tickets/{case.code}", headers=auth
        ).json()
        return ticket if ticket["status"] in ("routed", "triage") else None

    ticket = eventually(routed)
    assert ticket, f"{case.key} was not routed"
    if case.opd is not None and ticket["opd"] != case.opd:
        _act(system, auth, case.code, action="transfer", to_opd=case.opd, note="Salah tujuan.")
    for step in case.steps:
        if step == "hide":
            response = httpx.put(
                f"{system.routing}/api/v1/tickets/{case.code}/publication",
                json={"hidden": True, "reason": "Menyebut keluarga pelapor"},
                headers=auth,
            )
            assert response.status_code == 200, response.text
        elif step == "reject":
            _act(system, auth, case.code, action="reject", reason="spam", note="Iklan.")
        elif step == "resolve":
            note = "Sudah ditambal. Info lanjut: Pak Joko Widodo 081311112222."
            _act(system, auth, case.code, action="resolve", note=note)
        else:
            _act(system, auth, case.code, action=step)


@pytest.mark.timeout(300)  # the wait for the group's lag (150 s) and the checks after it
def test_nothing_unverified_rejected_or_unredacted_is_public(system: System) -> None:
    caught_up(system.kafka, system.statistics_group)
    before = httpx.get(f"{system.intake}/api/v1/statistics").json()["totals"]
    cases = _cases()
    for case in cases:
        created = httpx.post(f"{system.intake}/api/v1/complaints", json=case.body)
        assert created.status_code == 201, created.text
        case.code, case.token = created.json()["tracking_code"], created.json()["reply_token"]
    photos = {}
    for case in cases:
        upload = httpx.post(
            f"{system.intake}/api/v1/complaints/{case.code}/photos",
            headers={"X-Reply-Token": case.token},
            files={"file": ("foto.png", _png(), "image/png")},
        )
        assert upload.status_code == 201, upload.text
        photos[case.key] = upload.json()["url"]
    auth = _staff(system)
    for case in cases:
        _handle(system, auth, case)

    def counted() -> bool:
        totals = httpx.get(f"{system.intake}/api/v1/statistics").json()["totals"]
        added = {k: totals[k] - before[k] for k in ("received", "resolved", "rejected")}
        return added == {"received": 6, "resolved": 1, "rejected": 1}

    assert eventually(counted, timeout_s=60), "the statistics count every report, once"

    outputs: dict[str, str] = {}

    def get(path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{system.intake}{path}", params=params)

    for fmt in ("json", "xml"):
        outputs[f"open311 list {fmt}"] = get(f"/open311/v2/requests.{fmt}").text
        outputs[f"open311 closed {fmt}"] = get(f"/open311/v2/requests.{fmt}", status="closed").text
    for case in cases:
        for fmt in ("json", "xml"):
            outputs[f"open311 {case.key} {fmt}"] = get(
                f"/open311/v2/requests/{case.code}.{fmt}"
            ).text
        outputs[f"tracking {case.key}"] = get(f"/api/v1/complaints/{case.code}").text
        outputs[f"page {case.key}"] = get("/lacak", kode=case.code).text
    outputs["statistik"] = get("/statistik").text
    outputs["statistics json"] = get("/api/v1/statistics").text
    outputs["statistics csv"] = get("/api/v1/statistics.csv").text

    for where, text in outputs.items():
        for datum in PERSONAL:
            assert datum not in text, f"{datum!r} is public in {where}"
        for case in cases:
            assert case.body["description"] not in text, f"raw text of {case.key} in {where}"
            if not case.listed:
                assert case.secret not in text, f"content of {case.key} ({where})"
    for where in ("statistik", "statistics json", "statistics csv"):
        assert not re.search(r"LP-[0-9A-Z]{4}-[0-9A-Z]{4}", outputs[where]), f"a code in {where}"

    listed = httpx.get(f"{system.intake}/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [cases[0].code], "only the verified one"
    [published] = listed
    assert published["description"] == (
        "Saya [nama], NIK [NIK/KK], hp [nomor telepon]: jalan berlubang besar di depan SDN 1 "
        "Ciruas, sudah sebulan."
    )
    assert (published["lat"], published["long"]) == (-6.123, 106.235)
    assert published["status"] == "closed"
    assert "Pak [nama] [nomor telepon]" in published["status_notes"]
    tracked = httpx.get(f"{system.intake}/api/v1/complaints/{cases[0].code}").json()
    assert tracked["public_text"] == published["description"]
    assert "Pak [nama] [nomor telepon]" in tracked["replies"][0]["message"]
    for case in cases[1:]:
        view = httpx.get(f"{system.intake}/api/v1/complaints/{case.code}").json()
        assert set(view) == {
            "tracking_code",
            "status",
            "opd",
            "submitted_at",
            "updated_at",
            "due_at",
        }
    assert httpx.get(f"{system.intake}{photos['published']}").status_code == 200
    for key in ("hidden", "unverified", "rejected", "confidential", "misconduct"):
        assert httpx.get(f"{system.intake}{photos[key]}").status_code == 404, key
    reporter = httpx.get(
        f"{system.intake}/api/v1/complaints/{cases[2].code}",
        headers={"X-Reply-Token": cases[2].token},
    ).json()
    assert reporter["description"] == cases[2].body["description"], "the reporter sees it all"
    own_photo = httpx.get(
        f"{system.intake}{photos['unverified']}", headers={"X-Reply-Token": cases[2].token}
    )
    assert own_photo.status_code == 200
