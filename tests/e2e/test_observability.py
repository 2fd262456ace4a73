"""Ops can see it: one complaint through the three services as processes, followed by its
correlation id in every log line that names it; each service's /metrics passes `promtool
check metrics`; the real Prometheus (Debian's) scrapes them and answers through its HTTP API."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from devstack.stack import SERVICES, Stack
from devstack.tools import PROMTOOL
from tests.conftest import Infra, running_services
from tests.e2e.services import eventually

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Journey:
    stack: Stack
    tracking_code: str
    correlation_id: str
    token: str

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{getattr(self.stack.ports, service)}"


@pytest.fixture(scope="module")
def journey(infra: Infra) -> Iterator[Journey]:
    """The services and Prometheus started, and one complaint routed and notified."""
    with running_services(infra, "ops", ROUTING_OPS_COUNT_INTERVAL_S="1") as stack:
        ops = stack.ops_tools(scrape_interval_s=1)
        assert [c.name for c in ops] == ["alertmanager", "prometheus"], (
            "Debian's prometheus and prometheus-alertmanager are missing (devstack installs them)"
        )
        for component in ops:
            stack.start(component)
        correlation_id = f"e2e-{uuid.uuid4().hex}"
        intake = f"http://127.0.0.1:{stack.ports.intake}"
        created = httpx.post(
            f"{intake}/api/v1/complaints",
            json={
                "description": "sampah menumpuk di pinggir jalan dekat pasar, bau sekali",
                "location": {"kecamatan": "Kragilan"},
                "reporter": {"email": "warga@example.com"},
            },
            headers={"X-Correlation-ID": correlation_id},
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Correlation-ID"] == correlation_id
        routing = f"http://127.0.0.1:{stack.ports.routing}"
        token = httpx.post(
            f"{routing}/api/v1/auth/token", data={"username": "admin", "password": "admin"}
        ).json()["access_token"]
        yield Journey(stack, created.json()["tracking_code"], correlation_id, token)


def delivered(journey: Journey, count: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(
        f"{journey.url('notify')}/api/v1/notifications",
        params={"tracking_code": journey.tracking_code},
        headers={"Authorization": f"Bearer {journey.token}"},
    ).json()["items"]
    return items if len(items) >= count and all(i["status"] == "sent" for i in items) else []


def log_lines(stack: Stack, service: str) -> list[dict[str, Any]]:
    lines = []
    for raw in (stack.log_dir / f"{service}.log").read_text().splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def test_the_correlation_id_follows_one_complaint_through_every_service_s_logs(
    journey: Journey,
) -> None:
    assert eventually(lambda: delivered(journey, 3)), "the complaint's messages were not sent"
    seen: dict[str, int] = {}
    for service in SERVICES:
        naming = [
            line
            for line in log_lines(journey.stack, service)
            if journey.tracking_code in line["msg"]
        ]
        assert naming, f"{service} wrote no line about {journey.tracking_code}"
        for line in naming:
            assert line.get("correlation_id") == journey.correlation_id, (service, line)
        seen[service] = len(naming)
    assert set(seen) == set(SERVICES)
    others = [
        line
        for service in SERVICES
        for line in log_lines(journey.stack, service)
        if line.get("correlation_id") == journey.correlation_id
        and journey.tracking_code not in line["msg"]
    ]
    assert all(line["level"] in ("info", "warning", "debug") for line in others)


def metrics_text(journey: Journey, service: str) -> str:
    response = httpx.get(f"{journey.url(service)}/metrics")
    assert response.status_code == 200
    return response.text


def test_every_service_s_metrics_pass_promtool_check_metrics(journey: Journey) -> None:
    assert eventually(lambda: delivered(journey, 3))
    for service in SERVICES:
        text = metrics_text(journey, service)
        result = subprocess.run(
            [str(PROMTOOL), "check", "metrics"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"{service}: {result.stdout}{result.stderr}"


def families(text: str) -> set[str]:
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_the_ops_metrics_are_exposed_with_bounded_labels(journey: Journey) -> None:
    assert eventually(lambda: delivered(journey, 3))
    # The ticket gauges come from a periodic count: wait for one that has seen the ticket routed.
    counted = 'pengaduan_tickets{opd="DLH",status="routed"} 1.0'
    assert eventually(lambda: counted in metrics_text(journey, "routing"))
    routing = metrics_text(journey, "routing")
    assert families(routing) >= {
        "pengaduan_consumer_lag",
        "pengaduan_event_age_seconds",
        "pengaduan_tickets",
        "pengaduan_tickets_overdue",
        "pengaduan_opd_unreachable",
        "pengaduan_routing_decisions_total",
        "pengaduan_routing_confidence",
        "pengaduan_journey_seconds",
        "pengaduan_outbox_oldest_age_seconds",
    }
    decisions = [
        line
        for line in routing.splitlines()
        if line.startswith("pengaduan_routing_decisions_total{")
    ]
    assert len(decisions) == 1 and 'opd="DLH"' in decisions[0], decisions
    assert 'pengaduan_journey_seconds_count{stage="submitted_to_routed"} 1.0' in routing
    assert counted in routing
    intake = metrics_text(journey, "intake")
    assert "pengaduan_outbox_oldest_age_seconds" in families(intake)
    notify = metrics_text(journey, "notify")
    assert 'pengaduan_notification_send_seconds_count{channel="email",outcome="sent"}' in notify
    for text in (routing, intake, notify):
        assert journey.tracking_code not in text
        assert "warga" not in text


def prometheus_query(journey: Journey, query: str) -> list[dict[str, Any]]:
    port = journey.stack.ops_ports["prometheus"]
    answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}).json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def test_the_real_prometheus_scrapes_the_services_and_answers_a_query(journey: Journey) -> None:
    def submitted() -> list[dict[str, Any]]:
        return prometheus_query(journey, 'sum(pengaduan_complaints_submitted_total{job="intake"})')

    result = eventually(submitted)
    assert result and float(result[0]["value"][1]) == 1.0

    def all_up() -> set[str]:
        jobs = {r["metric"]["job"] for r in prometheus_query(journey, "up == 1")}
        return jobs if jobs >= {*SERVICES, "prometheus", "alertmanager"} else set()

    assert eventually(all_up), prometheus_query(journey, "up")
    port = journey.stack.ops_ports["prometheus"]

    def loaded_rules() -> set[str]:
        groups = httpx.get(f"http://127.0.0.1:{port}/api/v1/rules").json()["data"]["groups"]
        return {rule["name"] for group in groups for rule in group["rules"]}

    assert {"ServiceDown", "JourneySloFastBurn", "TriageRateJump"} <= eventually(loaded_rules)

    def alertmanagers() -> list[Any]:
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/alertmanagers").json()
        active: list[Any] = answer["data"]["activeAlertmanagers"]
        return active

    assert eventually(alertmanagers), "Prometheus found no Alertmanager"


def test_every_dashboard_query_is_valid_promql_for_the_real_prometheus(journey: Journey) -> None:
    from tests.unit.test_deploy_k8s import expressions

    port = journey.stack.ops_ports["prometheus"]
    for expr in expressions():
        query = (
            expr.replace("$__rate_interval", "1m")
            .replace("$__range", "1h")
            .replace("$service", ".*")
        )
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query})
        assert answer.status_code == 200, (expr, answer.text)
        assert answer.json()["status"] == "success", expr
