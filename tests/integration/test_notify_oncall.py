"""Alertmanager's webhook to notify, sent on to the on-call WhatsApp group through notify's
WhatsApp channel (an HTTP gateway: the dev sink), once per notification, with a token."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from devstack.sink import Sink
from services.notify.app import create_app
from services.notify.settings import NotifySettings
from tests.conftest import Infra
from tests.integration.conftest import settings_for

pytestmark = pytest.mark.integration

TOKEN = "oncall-token-for-the-tests-0123456789"
GROUP = "120363000000000042"


def webhook(status: str = "firing", **labels: str) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4), as it posts it."""
    alert_labels = {"alertname": "ConsumerLagGrowing", "severity": "warning", **labels}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="ConsumerLagGrowing"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "oncall-all",
        "groupLabels": {"alertname": "ConsumerLagGrowing"},
        "commonLabels": alert_labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": alert_labels,
                "annotations": {"summary": "notify falls behind: lag over 50 and still growing"},
                "startsAt": "2026-12-01T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": "4f2b1c0d9e8a7b6c",
            }
        ],
    }


def notify_app(infra: Infra, db_name: str, sink: Sink, **oncall: Any) -> TestClient:
    settings = settings_for(
        NotifySettings,
        infra,
        db_name,  # the webhook needs no broker
        email={"transport": "off"},
        whatsapp={"transport": "http", "url": f"{sink.url}/whatsapp"},
        oncall=oncall,
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_an_alert_reaches_the_on_call_group_once(infra: Infra, db_name: str, sink: Sink) -> None:
    with notify_app(infra, db_name, sink, token=TOKEN, address=GROUP) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        first = client.post("/api/v1/alerts/alertmanager", json=webhook(), headers=auth)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "sent" and first.json()["duplicate"] is False
        again = client.post("/api/v1/alerts/alertmanager", json=webhook(), headers=auth)
        assert again.json() == {**first.json(), "duplicate": True}
        resolved = client.post(
            "/api/v1/alerts/alertmanager", json=webhook("resolved"), headers=auth
        )
        assert resolved.json()["status"] == "sent"
        assert resolved.json()["key"] != first.json()["key"]
    posts = [m for m in sink.messages() if m["path"] == "/whatsapp"]
    assert [p["body"]["to"] for p in posts] == [GROUP, GROUP]
    firing, back = (p["body"]["message"] for p in posts)
    assert firing.startswith("[PERINGATAN] 1 alert aktif: ConsumerLagGrowing")
    assert "notify falls behind" in firing and "docs/operations.md#runbook" in firing
    assert back.startswith("[PULIH]")
    assert posts[0]["key"] == first.json()["key"]


def test_the_webhook_needs_the_token(infra: Infra, db_name: str, sink: Sink) -> None:
    with notify_app(infra, db_name, sink, token=TOKEN, address=GROUP) as client:
        url = "/api/v1/alerts/alertmanager"
        assert client.post(url, json=webhook()).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token"}
        assert client.post(url, json=webhook(), headers=wrong).status_code == 403
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert client.post(url, json={"status": "firing"}, headers=auth).status_code == 422
    assert sink.messages() == []


def test_without_a_token_the_relay_is_switched_off(infra: Infra, db_name: str, sink: Sink) -> None:
    with notify_app(infra, db_name, sink) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        answer = client.post("/api/v1/alerts/alertmanager", json=webhook(), headers=auth)
        assert answer.status_code == 404
    assert sink.messages() == []
