"""The pure parts of what ops see: journey stages, the routing method label, unreachable
OPDs, the on-call message, the correlation id's rules and the outbox's oldest entry."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.notify.oncall import AlertIn, AlertmanagerWebhook, alert_text, delivery_key
from services.routing import journey
from services.routing.classification import router
from shared import correlation
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, packaged_catalogue
from shared.correlation import CorrelationMiddleware
from shared.events import Envelope, utcnow
from shared.logging import JsonFormatter
from shared.outbox import OutboxRelay, outbox_entry
from shared.tickets import Ticket, history_entry

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
CATALOGUE = packaged_catalogue()


def ticket(*steps: tuple[str, str, timedelta]) -> Ticket:
    """A ticket submitted at NOW with history steps (action, to status, after submission)."""
    history = [
        history_entry(at=NOW + after, actor="x", action=action, from_status=None, to_status=to)
        for action, to, after in steps
    ]
    return Ticket.model_validate(
        {
            "tracking_code": "LP-ABCD-EFGH",
            "status": "routed",
            "kind": "complaint",
            "description": "Jalan rusak parah di depan sekolah",
            "reply_token_hash": "x",
            "submitted_at": NOW,
            "updated_at": NOW,
            "correlation_id": "c",
            "opd": "DPUPR",
            "history": history,
        }
    )


ROUTED = ("route", "routed", timedelta(seconds=20))


def test_the_first_response_counts_from_routing_and_only_once() -> None:
    routed = ticket(("submit", "submitted", timedelta(0)), ROUTED)
    stages = journey.stages_of_transition(routed, "verify", NOW + timedelta(hours=2))
    assert stages == [(journey.ROUTED_TO_FIRST_RESPONSE, 2 * 3600 - 20.0)]
    verified = ticket(ROUTED, ("verify", "verified", timedelta(hours=2)))
    assert journey.stages_of_transition(verified, "start", NOW + timedelta(hours=3)) == []


def test_the_first_resolution_counts_from_submission_and_a_second_does_not() -> None:
    verified = ticket(ROUTED, ("verify", "verified", timedelta(hours=1)))
    stages = journey.stages_of_transition(verified, "resolve", NOW + timedelta(days=2))
    assert stages == [(journey.SUBMITTED_TO_RESOLVED, 2 * 86400.0)]
    reopened = ticket(
        ROUTED,
        ("verify", "verified", timedelta(hours=1)),
        ("resolve", "resolved", timedelta(days=2)),
        ("reopen", "in_progress", timedelta(days=3)),
    )
    assert journey.stages_of_transition(reopened, "resolve", NOW + timedelta(days=4)) == []


def classify(text: str, category: str | None = None) -> router.Classification:
    return router.classify(
        text=text,
        category=category,
        kecamatan=None,
        catalogue=CATALOGUE,
        threshold=0.5,
        model=None,
    )


def test_the_routing_method_label_is_one_of_a_few() -> None:
    by_rules = classify(
        "Jalan kabupaten berlubang besar dan rusak parah, sering terjadi kecelakaan"
    )
    assert journey.decision_method(by_rules) in ("rules", "category")
    assert journey.decision_method(classify("halo")) == "triage"
    assert journey.decision_method(router.Classification(TRIASE, 0.9, [])) == "triage"
    outside = router.Classification(LUAR_KEWENANGAN, 0.9, [], method="rules")
    assert journey.decision_method(outside) == "out_of_authority"
    odd = router.Classification("DPUPR", 0.9, [], method="a tracking code")
    assert journey.decision_method(odd) == "rules"
    for result in (by_rules, classify("halo")):
        assert journey.decision_method(result) in journey.METHODS


def test_an_opd_is_unreachable_without_an_active_contactable_officer() -> None:
    from services.routing.ops_counts import unreachable_opds

    accounts: list[dict[str, Any]] = [
        {"opd": "DPUPR", "role": "officer", "active": True, "email": "a@pemkab.go.id"},
        {"opd": "DLH", "role": "officer", "active": False, "email": "b@pemkab.go.id"},
        {"opd": "DINKES", "role": "supervisor", "active": True, "whatsapp": "+62812"},
        {"opd": "DISDUK", "role": "officer", "active": True},  # no contact
        {"opd": "DINSOS", "role": "admin", "active": True, "email": "c@pemkab.go.id"},
    ]
    unreachable = unreachable_opds(CATALOGUE, accounts)
    assert "DPUPR" not in unreachable and "DINKES" not in unreachable
    assert "DLH" in unreachable
    assert TRIASE not in unreachable and LUAR_KEWENANGAN not in unreachable
    real = [o.code for o in CATALOGUE.opds if o.code not in (TRIASE, LUAR_KEWENANGAN)]
    assert len(unreachable) == len(real) - 2


def hook(status: str = "firing", count: int = 1) -> AlertmanagerWebhook:
    return AlertmanagerWebhook(
        groupKey='{}:{alertname="OpdUnreachable"}',
        status=status,
        alerts=[
            AlertIn(
                status=status,
                labels={"alertname": "OpdUnreachable", "severity": "warning", "opd": f"O{i}"},
                annotations={"summary": f"O{i} has no active account that can be reached"},
                startsAt="2026-12-01T10:00:00Z",
                fingerprint=f"f{i}",
            )
            for i in range(count)
        ],
    )


def test_the_on_call_message_lists_a_few_alerts_and_points_to_the_runbook() -> None:
    subject, text = alert_text(hook(count=7), max_listed=5)
    assert subject == "[PERINGATAN] 7 alert aktif: OpdUnreachable"
    lines = text.splitlines()
    assert lines[1] == "- O0 has no active account that can be reached"
    assert "- ... dan 2 lainnya" in lines
    assert lines[-1].startswith("Panduan: docs/operations.md")
    assert alert_text(hook("resolved"), max_listed=5)[0].startswith("[PULIH]")


def test_the_same_notification_gets_the_same_key_and_another_state_another() -> None:
    assert delivery_key(hook()) == delivery_key(hook())
    assert delivery_key(hook()) != delivery_key(hook("resolved"))
    assert delivery_key(hook(count=1)) != delivery_key(hook(count=2))


def test_a_request_gets_a_correlation_id_that_logs_carry() -> None:
    app = FastAPI()
    app.add_middleware(CorrelationMiddleware)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    logger = logging.getLogger("test.correlation")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @app.get("/")
    async def home() -> dict[str, str | None]:
        logger.info("handling")
        return {"id": correlation.current()}

    try:
        with TestClient(app) as client:
            given = client.get("/", headers={"X-Correlation-ID": "caller-id-1234"})
            fresh = client.get("/")
            forged = client.get("/", headers={"X-Correlation-ID": 'x"\n{"level": "error"}'})
    finally:
        logger.removeHandler(handler)
    assert given.json()["id"] == given.headers["X-Correlation-ID"] == "caller-id-1234"
    assert fresh.json()["id"] == fresh.headers["X-Correlation-ID"]
    assert len(fresh.json()["id"]) == 32
    assert forged.json()["id"] != 'x"\n{"level": "error"}'
    ids = [json.loads(line)["correlation_id"] for line in stream.getvalue().splitlines()]
    assert ids == [given.json()["id"], fresh.json()["id"], forged.json()["id"]]
    assert correlation.current() is None


def test_the_outbox_oldest_entry_is_the_oldest_event_still_to_publish() -> None:
    relay = OutboxRelay(
        collection=cast(Any, None),
        locks=cast(Any, None),
        publisher=cast(Any, None),
        topic="t",
        producer="unit",
    )
    assert relay.oldest_age() == 0.0
    old = Envelope(
        event_type="ticket.submitted",
        ticket_id="A",
        correlation_id="c",
        producer="unit",
        occurred_at=utcnow() - timedelta(minutes=10),
    )
    new = Envelope(
        event_type="ticket.submitted", ticket_id="B", correlation_id="c", producer="unit"
    )
    relay.notify("B", [outbox_entry(new)])
    relay.notify("A", [outbox_entry(old)])
    assert 599 < relay.oldest_age() < 660


def test_tracing_is_off_by_default() -> None:
    from services.intake.app import create_app
    from services.intake.settings import IntakeSettings
    from shared import tracing

    settings = IntakeSettings()
    assert settings.tracing_otlp_endpoint == ""
    app = create_app(settings)
    assert tracing.provider() is None
    assert not any("OpenTelemetry" in str(m.cls) for m in app.user_middleware)


def test_the_statistics_count_no_synthetic_complaint() -> None:
    from shared.events import TicketSubmitted
    from shared.statistics.projection import compact, ticket_facts
    from shared.workdays import WorkCalendar

    def facts(synthetic: bool) -> object:
        event = TicketSubmitted(kind="complaint", synthetic=synthetic, submitted_at=NOW).envelope(
            ticket_id="LP-ABCD-EFGH", producer="intake", correlation_id="c"
        )
        stored = compact(event)
        assert stored is not None
        return ticket_facts([stored], WorkCalendar())

    assert facts(False) is not None
    assert facts(True) is None
