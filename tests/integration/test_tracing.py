"""One complaint's spans across the three services, into an in-memory exporter: intake's
request and insert, its relay's Kafka send, routing's handling with its database calls and
its own send, notify's handling of both events; one trace, whose id is the correlation id."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings
from shared import tracing
from tests.conftest import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test only (OpenTelemetry's provider is global: reset afterwards)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "pengaduan-tests"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.enable(provider)
    try:
        yield memory
    finally:
        tracing.disable()
        provider.shutdown()
        trace._TRACER_PROVIDER = None
        trace._TRACER_PROVIDER_SET_ONCE = Once()


def of_complaint(spans: tuple[ReadableSpan, ...], correlation_id: str) -> list[ReadableSpan]:
    return [s for s in spans if (s.attributes or {}).get(tracing.ATTRIBUTE) == correlation_id]


def group_of(span: ReadableSpan) -> object:
    return (span.attributes or {}).get("messaging.consumer.group.name")


def child_of(span: ReadableSpan, parent: ReadableSpan) -> bool:
    return span.parent is not None and span.parent.span_id == parent.context.span_id


def test_one_complaint_is_one_trace_across_the_three_services(
    infra: Infra, db_name: str, exporter: InMemorySpanExporter
) -> None:
    common: dict[str, Any] = {
        "mongodb_url": infra.mongodb_url,
        "mongodb_database": db_name,
        "kafka_bootstrap_servers": infra.kafka_bootstrap,
    }
    routing_group, notify_group = f"routing-{db_name}", f"notify-{db_name}"
    apps = [
        create_intake(IntakeSettings(**common)),
        create_routing(
            RoutingSettings(**common, consumer_group=routing_group, statistics_consumer=False)
        ),
        create_notify(NotifySettings(**common, consumer_group=notify_group)),
    ]
    with ExitStack() as stack:
        intake, *_ = [
            stack.enter_context(TestClient(app, raise_server_exceptions=False)) for app in apps
        ]
        created = intake.post(
            "/api/v1/complaints",
            json={
                "description": "sampah menumpuk di pinggir jalan dekat pasar, bau sekali",
                "location": {"kecamatan": "Kragilan"},
                "reporter": {"email": "warga@example.com"},
            },
        )
        assert created.status_code == 201, created.text
        correlation_id = created.headers["X-Correlation-ID"]

        def handled_by_notify() -> list[ReadableSpan]:
            return [
                s
                for s in of_complaint(exporter.get_finished_spans(), correlation_id)
                if s.name == "handle ticket.routed" and group_of(s) == notify_group
            ]

        deadline = time.monotonic() + 90
        while not handled_by_notify() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert handled_by_notify(), "notify did not handle the routed event in time"

    spans = of_complaint(exporter.get_finished_spans(), correlation_id)
    assert {s.context.trace_id for s in spans} == {int(correlation_id, 16)}, "not one trace"
    by_id = {s.context.span_id: s for s in spans}

    def named(name: str, group: str | None = None) -> list[ReadableSpan]:
        return [
            s
            for s in spans
            if s.name == name
            and (
                group is None or (s.attributes or {}).get("messaging.consumer.group.name") == group
            )
        ]

    [request] = named("POST /api/v1/complaints")
    assert request.kind is trace.SpanKind.SERVER
    inserts = [s for s in spans if s.kind is trace.SpanKind.CLIENT and "insert" in s.name]
    assert any(
        s.parent is not None and s.parent.span_id == request.context.span_id for s in inserts
    )
    sends = [s for s in spans if s.name == "pengaduan.tickets.v1 send"]
    # intake's submitted, routing's routed
    assert len(sends) >= 2, " | ".join(sorted({s.name for s in spans}))
    [routed_by] = named("handle ticket.submitted", routing_group)
    assert routed_by.parent is not None and by_id[routed_by.parent.span_id] in sends
    database_calls = [
        s
        for s in spans
        if s.kind is trace.SpanKind.CLIENT
        and s.parent is not None
        and s.parent.span_id == routed_by.context.span_id
    ]
    assert database_calls, "routing's database calls are not in its handling span"
    assert named("handle ticket.submitted", notify_group)
    [notified] = named("handle ticket.routed", notify_group)
    assert notified.parent is not None and by_id[notified.parent.span_id] in sends
    for span in spans:
        assert "warga@example.com" not in str(span.attributes)
