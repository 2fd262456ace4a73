"""The fault suite (docs/reliability.md): two instances of each service on their own Kafka,
FerretDB and PostgreSQL; complaints through the JSON API, the web form, Open311 and both chat
webhooks while every instance and broker is SIGKILLed and restarted; then nothing lost, nothing
doubled, dead letters only for the poison injected, the deadline escalated once, and no
reporter's personal data where it does not belong. `make test` runs a short scale (about two
minutes); `make test-faults` the full one (FAULTS_COMPLAINTS, FAULTS_ROUNDS)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.cluster import Cluster
from shared import topics
from tests.e2e.conftest import FIGURES
from tests.e2e.faults import Outcome, Reporter, Scale, needles, read_topic, run

# The first test waits for the whole run (the module's fixture): bounded, at any scale.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

SERVICE_ENV = {
    # Fast retries and deadline passes; a lease long enough to outlast a database restart.
    "NOTIFY_RETRY__LEASE_SECONDS": "30",
    "NOTIFY_RETRY__POLL_SECONDS": "0.5",
    "NOTIFY_RETRY__BASE_SECONDS": "0.5",
    "NOTIFY_RETRY__MAX_SECONDS": "4",
    "NOTIFY_RETRY__MAX_ATTEMPTS": "50",
    "ROUTING_DEADLINE_INTERVAL_S": "1",
    "ROUTING_OUTBOX_POLL_INTERVAL_S": "0.5",
    "ROUTING_STATISTICS_CONSUMER": "false",
    "ROUTING_RETRAIN_INTERVAL_S": "3600",
}


@pytest.fixture(scope="module")
def outcome(request: pytest.FixtureRequest) -> Iterator[tuple[Cluster, Outcome]]:
    cluster = Cluster("faults", instances=2, env=SERVICE_ENV)
    try:
        cluster.start()
        result = run(cluster, Scale.from_env())
        figures = request.config.stash.setdefault(FIGURES, [])
        figures += [f"[faults] {line}" for line in result.figures()]
        yield cluster, result
    finally:
        cluster.remove()


def test_every_accepted_complaint_has_one_ticket_routed_once(
    outcome: tuple[Cluster, Outcome],
) -> None:
    _, result = outcome
    assert not result.gave_up, result.gave_up[:3]
    assert all(s.accepted for s in result.submissions)
    assert result.lost() == []
    assert result.doubled_tickets() == []
    assert result.not_routed_once() == []
    assert all(len(s.codes_seen) <= 1 for s in result.submissions)  # retries: the same code


def test_each_expected_message_arrives_once_by_delivery_key(
    outcome: tuple[Cluster, Outcome],
) -> None:
    cluster, result = outcome
    assert result.unfinished_deliveries() == []
    missing = result.missing_messages()
    assert missing == [], [d for d in result.deliveries if d["_id"] in missing[:3]]
    assert result.doubled_messages() == []
    # The crash window (a send whose outcome was not written) repeats at most one key per kill.
    notify_kills = sum(n for name, n in cluster.kills.items() if name.startswith("notify"))
    assert result.raw_resends() <= notify_kills


def test_dead_letters_hold_only_the_poison_and_the_consumers_went_on(
    outcome: tuple[Cluster, Outcome],
) -> None:
    _, result = outcome
    assert len(result.poison) == 2
    assert result.unexpected_dead_letters() == []
    for topic in (topics.DLQ_ROUTING, topics.DLQ_NOTIFY):
        assert result.poison_dead_lettered(topic) == set(result.poison), topic
    # Complaints submitted after the poison were routed and answered (the first test and the
    # second check every one of them).


def test_every_target_was_killed(outcome: tuple[Cluster, Outcome]) -> None:
    cluster, result = outcome
    wanted = {"kafka", "ferretdb", "postgres", *cluster.service_names()}
    assert set(result.kills) == wanted
    assert min(result.kills.values()) >= result.scale.rounds


def test_two_routing_instances_escalate_an_overdue_ticket_once(
    outcome: tuple[Cluster, Outcome],
) -> None:
    _, result = outcome
    assert result.escalated
    assert set(result.escalations().values()) == {1}
    events = result.escalation_events()
    assert {code: events[code] for code in result.escalated} == dict.fromkeys(result.escalated, 1)


# -- personal data ----------------------------------------------------------------------------


def found_in(text: str, reporters: list[Reporter]) -> list[str]:
    return sorted({n for who in reporters for n in needles(who) if n in text})


def public_pages(cluster: Cluster, result: Outcome) -> dict[str, str]:
    base = cluster.url("intake-1")
    codes = [str(t["_id"]) for t in result.tickets[:60]]
    paths = [
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/api/v1/statistics",
        "/api/v1/statistics.csv",
        "/statistik",
    ]
    for code in codes:
        paths += [
            f"/api/v1/complaints/{code}",
            f"/lacak?kode={code}",
            f"/open311/v2/requests/{code}.json",
        ]
    pages = {}
    with httpx.Client(timeout=30) as http:
        for path in paths:
            response = http.get(base + path)
            assert response.status_code < 500, path
            pages[path] = response.text
    return pages


def test_no_personal_data_in_logs_topics_metrics_or_public_pages(
    outcome: tuple[Cluster, Outcome],
) -> None:
    cluster, result = outcome
    reporters = [s.who for s in result.submissions]
    leaks: dict[str, list[str]] = {}

    for name in cluster.service_names():
        log = Path(cluster.stack.log_dir) / f"{name}.log"
        if hits := found_in(log.read_text(errors="replace"), reporters):
            leaks[f"log {log.name}"] = hits[:5]
    bootstrap = cluster.stack.kafka_bootstrap
    for topic in (topics.TICKETS, topics.CHATS, topics.DLQ_ROUTING, topics.DLQ_NOTIFY):
        messages = asyncio.run(read_topic(bootstrap, topic))
        text = "\n".join(
            value.decode(errors="replace")
            + "".join(v.decode(errors="replace") for v in headers.values())
            for value, headers in messages
        )
        if hits := found_in(text, reporters):
            leaks[f"topic {topic}"] = hits[:5]
    with httpx.Client(timeout=30) as http:
        for name in cluster.service_names():
            metrics = http.get(cluster.url(name) + "/metrics").text
            if hits := found_in(metrics, reporters):
                leaks[f"metrics {name}"] = hits[:5]
    for path, text in public_pages(cluster, result).items():
        if hits := found_in(text, reporters):
            leaks[f"page {path}"] = hits[:5]
    assert leaks == {}
