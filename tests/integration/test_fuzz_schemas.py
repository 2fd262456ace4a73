"""Schemathesis against each service's OpenAPI schema, with test data created first (so that
tracking codes exist) and a token where one is needed: no 5xx, answers match the schema.

`make test` runs a short round (tests/fuzzing.py's SHORT_CASES per service); `make test-fuzz`
sets FUZZ_CASES to at least 1,000 per service.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from schemathesis.generation.case import Case

from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from shared.auth import Principal, Role, TokenCodec
from shared.signing import DEV_AUTH_PRIVATE_KEY, DEV_AUTH_PUBLIC_KEY
from tests.conftest import Infra
from tests.fuzzing import cases_per_service, fuzz
from tests.integration.conftest import auth, put_ticket, routing_client, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

BODY = {
    "description": "Jalan berlubang di depan sekolah, sudah dua minggu belum diperbaiki.",
    "reporter": {"name": "Siti", "email": "siti@example.com", "phone": "081234567890"},
}


def _known(codes: list[str]) -> Any:
    """Half the cases aim at a real ticket: the path's tracking code replaced by one."""
    turn = itertools.count()
    known = itertools.cycle(codes)

    def prepare(case: Case[Any]) -> None:
        params = case.path_parameters or {}
        if "tracking_code" in params and next(turn) % 2 == 0:
            params["tracking_code"] = next(known)

    return prepare


def _check(report: Any) -> None:
    print(report.line())
    assert report.cases >= cases_per_service(), report.line()
    assert not report.failures, "\n".join(report.failures[:20])


def test_fuzz_intake(infra: Infra, stored: Any) -> None:
    settings = settings_for(IntakeSettings, infra, stored.name, rate_limit_per_minute=1_000_000)
    with TestClient(create_intake(settings), raise_server_exceptions=False) as client:
        created = [client.post("/api/v1/complaints", json=BODY).json() for _ in range(3)]
        codes = [c["tracking_code"] for c in created]
        stored.tickets.update_many({}, {"$set": {"status": "verified"}})
        report = fuzz(
            client,
            "intake",
            cases=cases_per_service(),
            prepare=_known(codes),
            headers_for=lambda method, path: {"X-Reply-Token": created[0]["reply_token"]},
        )
    _check(report)


def test_fuzz_routing(infra: Infra, stored: Any) -> None:
    # The fuzzed sign-ins fail by the hundred from one address: no throttle for the admin's.
    with routing_client(
        infra, stored, login_max_failures=10**6, login_max_failures_per_address=10**6
    ) as client:
        codes = [put_ticket(stored, opd=opd) for opd in ("DPUPR", "DLH", None)]
        report = fuzz(
            client,
            "routing",
            cases=cases_per_service(),
            prepare=_known(codes),
            # A fresh token per operation: signing out (or a password change) revokes it.
            headers_for=lambda method, path: auth(client, "admin"),
            # Retraining takes seconds of CPU per call; tested on its own.
            skip=lambda method, path: path == "/api/v1/routing/retrain",
        )
    _check(report)


def test_fuzz_notify(infra: Infra, stored: Any) -> None:
    settings = settings_for(
        NotifySettings,
        infra,
        stored.name,
        email={"transport": "off"},
        whatsapp={"transport": "off"},
    )
    stored.accounts.insert_one({"_id": "admin", "role": "admin", "opd": None, "active": True})
    codec = TokenCodec(DEV_AUTH_PUBLIC_KEY, private=DEV_AUTH_PRIVATE_KEY, ttl_seconds=3600)
    token = codec.issue(Principal(username="admin", role=Role.ADMIN))
    with TestClient(create_notify(settings), raise_server_exceptions=False) as client:
        report = fuzz(
            client,
            "notify",
            cases=cases_per_service(),
            headers_for=lambda method, path: {"Authorization": f"Bearer {token}"},
        )
    _check(report)
