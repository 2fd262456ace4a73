"""End to end: one broken bridge, three reports and one supporter, one answer.

The three services run as real processes over the real broker and database. Three citizens
report the same broken bridge; the router proposes them as a cluster; a fourth citizen
supports the published report; the officer confirms the cluster and resolves its primary once.
Each of the four hears of the resolution exactly once, and each member ticket is resolved with
its own history.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import Ports
from tests.conftest import Infra, all_services
from tests.e2e.services import eventually, staff_headers

pytestmark = pytest.mark.e2e

REPORTS = [
    ("alfa@example.com", "Jembatan di desa Citerep ambrol, papannya patah. Motor tidak bisa lewat"),
    ("bravo@example.com", "jembatan citerep jebol sdh 2 hari, motor gk bisa lewat. tolong pak"),
    ("charlie@example.com", "Mohon perbaikan jembatan Citerep yang ambruk, motor tidak bisa lewat"),
]
SUPPORTER = "delta@example.com"
RESOLUTION = ("citizen_resolved", "supporter_resolved")


@pytest.fixture(scope="module")
def system(infra: Infra) -> Iterator[Ports]:
    with all_services(infra, "one_answer") as ports:
        yield ports


def test_three_reports_and_a_supporter_hear_the_one_answer_once(system: Ports) -> None:
    intake = f"http://127.0.0.1:{system.intake}"
    routing = f"http://127.0.0.1:{system.routing}"
    notify = f"http://127.0.0.1:{system.notify}"
    codes = []
    for email, text in REPORTS:
        created = httpx.post(
            f"{intake}/api/v1/complaints",
            json={
                "description": text,
                "category": "jembatan-rusak",
                "location": {"kecamatan": "KEC-CIRUAS", "desa": "Citerep"},
                "reporter": {"email": email},
            },
        )
        assert created.status_code == 201, created.text
        codes.append(created.json()["tracking_code"])
        # One at a time, as citizens do: each is routed before the next arrives.
        assert eventually(functools.partial(_routed, intake, codes[-1])), codes[-1]

    officer = staff_headers(routing, "dpupr")
    primary = codes[0]
    ticket = httpx.get(f"{routing}/api/v1/tickets/{primary}", headers=officer).json()
    cluster = ticket["cluster"]
    assert cluster is not None, "the router proposed no cluster"
    assert cluster["primary"] == primary and sorted(cluster["members"]) == sorted(codes)
    assert cluster["status"] == "proposed"

    confirmed = httpx.post(f"{routing}/api/v1/clusters/{cluster['id']}/confirm", headers=officer)
    assert confirmed.status_code == 200, confirmed.text
    verified = _transition(routing, officer, primary, {"action": "verify", "cluster": True})
    assert [r["result"] for r in verified["cluster_results"]] == ["done", "done"]

    supported = httpx.post(
        f"{intake}/api/v1/complaints/{primary}/support", json={"email": SUPPORTER}
    )
    assert supported.status_code == 201, supported.text
    again = httpx.post(f"{intake}/api/v1/complaints/{primary}/support", json={"email": SUPPORTER})
    assert again.status_code == 201 and again.json()["new"] is False
    public = httpx.get(f"{intake}/api/v1/complaints/{primary}").json()
    assert public["supporters"] == 1 and SUPPORTER not in str(public)

    answer = "Jembatan Citerep sudah diperbaiki dan dapat dilalui kembali."
    resolved = _transition(
        routing, officer, primary, {"action": "resolve", "note": answer, "cluster": True}
    )
    assert resolved["status"] == "resolved"
    assert [r["result"] for r in resolved["cluster_results"]] == ["done", "done"]

    admin = staff_headers(routing, "admin")

    def resolution_messages() -> list[dict[str, Any]]:
        found = [
            item
            for code in codes
            for item in httpx.get(
                f"{notify}/api/v1/notifications", params={"tracking_code": code}, headers=admin
            ).json()["items"]
            if item["message"] in RESOLUTION
        ]
        return found if len(found) >= 4 else []

    messages = eventually(resolution_messages, timeout_s=60)
    assert messages, "not all four heard of the resolution"
    time.sleep(3)  # anything sent twice would show by now
    messages = resolution_messages()
    per_person = Counter(m["recipient"] for m in messages)
    assert per_person == {
        "a***@example.com": 1,
        "b***@example.com": 1,
        "c***@example.com": 1,
        "d***@example.com": 1,
    }
    assert {m["message"] for m in messages if m["recipient"] == "d***@example.com"} == {
        "supporter_resolved"
    }
    assert all(m["status"] == "sent" for m in messages), messages

    for code in codes:
        member = httpx.get(f"{routing}/api/v1/tickets/{code}", headers=officer).json()
        assert member["status"] == "resolved"
        actions = [h["action"] for h in member["history"]]
        assert actions.count("resolve") == 1 and actions.count("verify") == 1
        resolve = next(h for h in member["history"] if h["action"] == "resolve")
        assert resolve["note"] == answer
        if code != primary:
            assert primary in (resolve["internal_note"] or "")
        view = httpx.get(f"{intake}/api/v1/complaints/{code}").json()
        assert view["status"] == "resolved"


def _routed(intake: str, code: str) -> bool:
    status: str = httpx.get(f"{intake}/api/v1/complaints/{code}").json()["status"]
    return status == "routed"


def _transition(
    routing: str, headers: dict[str, str], code: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = httpx.post(
        f"{routing}/api/v1/tickets/{code}/transitions", json=body, headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_contact_in_two_roles_of_one_cluster_hears_its_answer_once(system: Ports) -> None:
    """Dewi supports two members, Gita (a reporter) supports another member too: one message
    each, and a reporter's is their own ticket's."""
    intake = f"http://127.0.0.1:{system.intake}"
    routing = f"http://127.0.0.1:{system.routing}"
    notify = f"http://127.0.0.1:{system.notify}"
    reporters = ["gita@example.com", "hadi@example.com", "indah@example.com"]
    codes = []
    for email in reporters:
        created = httpx.post(
            f"{intake}/api/v1/complaints",
            json={
                "description": "Gorong-gorong di depan SD Kaserangan mampet, air meluap ke jalan",
                "category": "drainase",
                "location": {"kecamatan": "KEC-CIRUAS", "desa": "Kaserangan"},
                "reporter": {"email": email},
            },
        )
        assert created.status_code == 201, created.text
        codes.append(created.json()["tracking_code"])
        assert eventually(functools.partial(_routed, intake, codes[-1])), codes[-1]
    officer = staff_headers(routing, "dpupr")
    for code in codes:  # the router may have proposed some of them: build the cluster by hand
        ticket = httpx.get(f"{routing}/api/v1/tickets/{code}", headers=officer).json()
        if ticket["cluster"] is not None:
            split = httpx.delete(
                f"{routing}/api/v1/clusters/{ticket['cluster']['id']}/members/{code}",
                headers=officer,
            )
            assert split.status_code in (200, 204), split.text
    built = httpx.post(
        f"{routing}/api/v1/clusters",
        json={"primary": codes[0], "members": codes[1:]},
        headers=officer,
    )
    assert built.status_code == 201, built.text
    verified = _transition(routing, officer, codes[0], {"action": "verify", "cluster": True})
    assert [r["result"] for r in verified["cluster_results"]] == ["done", "done"]

    supports = [
        (codes[0], "dewi@example.com"),
        (codes[1], "DEWI@example.com"),  # the same contact, typed otherwise, on another member
        (codes[1], "gita@example.com"),  # the reporter of codes[0]
        (codes[2], "joko@example.com"),
    ]
    for code, email in supports:
        supported = httpx.post(f"{intake}/api/v1/complaints/{code}/support", json={"email": email})
        assert supported.status_code == 201 and supported.json()["new"], supported.text

    resolved = _transition(
        routing,
        officer,
        codes[0],
        {"action": "resolve", "note": "Gorong-gorong sudah dibersihkan.", "cluster": True},
    )
    assert [r["result"] for r in resolved["cluster_results"]] == ["done", "done"]
    admin = staff_headers(routing, "admin")

    def resolution_messages() -> list[dict[str, Any]]:
        return [
            {**item, "of": code}
            for code in codes
            for item in httpx.get(
                f"{notify}/api/v1/notifications", params={"tracking_code": code}, headers=admin
            ).json()["items"]
            if item["message"] in RESOLUTION
        ]

    assert eventually(lambda: len(resolution_messages()) >= 5, timeout_s=60)
    time.sleep(3)  # anything sent twice would show by now
    messages = resolution_messages()
    heard = sorted((m["recipient"], m["message"], m["of"]) for m in messages)
    assert heard == sorted(
        [
            ("g***@example.com", "citizen_resolved", codes[0]),
            ("h***@example.com", "citizen_resolved", codes[1]),
            ("i***@example.com", "citizen_resolved", codes[2]),
            ("d***@example.com", "supporter_resolved", codes[0]),
            ("j***@example.com", "supporter_resolved", codes[2]),
        ]
    ) or heard == sorted(
        [
            ("g***@example.com", "citizen_resolved", codes[0]),
            ("h***@example.com", "citizen_resolved", codes[1]),
            ("i***@example.com", "citizen_resolved", codes[2]),
            ("d***@example.com", "supporter_resolved", codes[1]),
            ("j***@example.com", "supporter_resolved", codes[2]),
        ]
    ), heard
    assert all(m["status"] == "sent" for m in messages), messages
    public = httpx.get(f"{intake}/api/v1/complaints/{codes[1]}").json()
    assert public["supporters"] == 2 and "example.com" not in str(public)
