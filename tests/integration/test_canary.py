"""The canary over the three services in one process, on the real broker and database: its
synthetic complaint is filed at the interval, routed and measured, closed at once, and left
out of messages, the statistics, the backlog counts and the public lists."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pymongo import MongoClient

from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from services.routing.app import create_app as create_routing
from services.routing.ops_counts import BacklogQueries, OpsCounts
from services.routing.settings import RoutingSettings
from tests.conftest import Infra

pytestmark = pytest.mark.integration


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def eventually(check: Callable[[], Any], timeout_s: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return result


def test_the_canary_is_filed_routed_measured_closed_and_left_out(
    infra: Infra, db_name: str
) -> None:
    common: dict[str, Any] = {
        "mongodb_url": infra.mongodb_url,
        "mongodb_database": db_name,
        "kafka_bootstrap_servers": infra.kafka_bootstrap,
    }
    routing_group, notify_group = f"routing-{db_name}", f"notify-{db_name}"
    apps = [
        create_intake(
            IntakeSettings(**common, canary_interval_s=0.5, statistics={"cache_seconds": 0})
        ),
        create_routing(RoutingSettings(**common, consumer_group=routing_group)),
        create_notify(NotifySettings(**common, consumer_group=notify_group)),
    ]
    measured_before = sample("pengaduan_canary_seconds_count")
    filed_before = sample("pengaduan_canary_submitted_total")
    stored: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url, tz_aware=True)
    db = stored[db_name]
    try:
        with ExitStack() as stack:
            intake, *_ = [
                stack.enter_context(TestClient(app, raise_server_exceptions=False)) for app in apps
            ]

            def closed() -> dict[str, Any] | None:
                return db.tickets.find_one({"synthetic": True, "status": "rejected"})

            canary = eventually(closed)
            assert canary, "no canary was routed and closed in time"
            code = canary["_id"]
            assert canary["source"] == "canary"
            assert [h["action"] for h in canary["history"]] == ["submit", "route", "reject"]
            assert canary["history"][-1]["actor"] == "sistem:canary"
            assert sample("pengaduan_canary_submitted_total") > filed_before
            assert sample("pengaduan_canary_seconds_count") > measured_before

            # The closing event is published; then notify has caught up with the topic.
            assert eventually(lambda: not (db.tickets.find_one({"_id": code}) or {}).get("outbox"))

            def notify_caught_up() -> bool:
                lags = [
                    m.value
                    for metric in REGISTRY.collect()
                    if metric.name == "pengaduan_consumer_lag"
                    for m in metric.samples
                    if m.labels.get("consumer") == notify_group
                ]
                return bool(lags) and sum(lags) == 0

            time.sleep(6)  # past one lag measurement after the publication
            assert eventually(notify_caught_up), "notify did not catch up with the topic"
            assert db.deliveries.count_documents({"tracking_code": code}) == 0

            def projected() -> dict[str, Any] | None:
                for name in db.list_collection_names():
                    if name.startswith("statistics_g"):
                        doc = db[name].find_one({"_id": f"t:{code}"})
                        if doc is not None and doc.get("n", 0) >= 3:
                            return doc
                return None

            seen = eventually(projected)
            assert seen, "the statistics projection did not see the canary's events"
            assert seen["cell"] is None and seen["share"] is None, seen
            listed = intake.get("/open311/v2/requests.json").json()
            assert all(r.get("service_request_id") != code for r in listed)
    finally:
        stored.drop_database(db_name)
        stored.close()


async def test_the_backlog_counts_leave_the_canary_out(infra: Infra, db: Any) -> None:
    from shared.catalogue import packaged_catalogue
    from shared.tickets import Location
    from tests.integration.conftest import store_complaint

    for synthetic in (True, False):
        await store_complaint(
            db,
            "Sampah menumpuk di pinggir jalan dekat pasar",
            location=Location(),
            reporter=None,
            anonymous=True,
            synthetic=synthetic,
        )
    backlog = BacklogQueries(db)
    assert await backlog.by_status_and_opd() == {("submitted", "none"): 1}
    await OpsCounts(backlog).count(packaged_catalogue())
    assert sample("pengaduan_tickets", status="submitted", opd="none") == 1.0
