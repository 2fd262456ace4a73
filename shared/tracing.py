"""OpenTelemetry tracing, off unless `TRACING_OTLP_ENDPOINT` (or a service's prefixed setting)
names an OTLP/HTTP collector: then FastAPI, aiokafka and PyMongo are traced with their
maintained instrumentations, and each event's handling is a span of its own.

One complaint is one trace: a request without its own X-Correlation-ID gets its trace id as
correlation id (`shared.correlation`), and the relay publishes each event under a parent with
that trace id, so the Kafka headers (W3C `traceparent`) carry it to the consumers, whose
handling spans continue it. Every span started while a correlation id is current carries it
as the attribute `pengaduan.correlation_id`. Statements are not recorded (personal data).
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from shared import correlation

log = logging.getLogger(__name__)

ATTRIBUTE = correlation.SPAN_ATTRIBUTE
EXCLUDED_URLS = "healthz,readyz,metrics"
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


class CorrelationSpanProcessor(SpanProcessor):
    """Stamps the current correlation id on every span as it starts."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        correlation_id = correlation.current()
        if correlation_id is not None:
            span.set_attribute(ATTRIBUTE, correlation_id)

    def on_end(self, span: ReadableSpan) -> None:
        return None


def provider() -> TracerProvider | None:
    """The SDK tracer provider when tracing is on, else None."""
    found = trace.get_tracer_provider()
    return found if isinstance(found, TracerProvider) else None


def enable(tracer_provider: TracerProvider) -> None:
    """Trace from now on into `tracer_provider` (once per process: OpenTelemetry's provider is
    global), with the aiokafka and PyMongo instrumentations."""
    tracer_provider.add_span_processor(CorrelationSpanProcessor())
    trace.set_tracer_provider(tracer_provider)
    AIOKafkaInstrumentor().instrument(tracer_provider=tracer_provider)
    PymongoInstrumentor().instrument(tracer_provider=tracer_provider)


def disable() -> None:
    """Switch the client instrumentations off again (tests)."""
    AIOKafkaInstrumentor().uninstrument()
    PymongoInstrumentor().uninstrument()


def otlp_provider(service: str, endpoint: str, sample_ratio: float) -> TracerProvider:
    """A provider exporting in batches to the OTLP/HTTP `endpoint`."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    made = TracerProvider(
        resource=Resource.create({"service.name": f"pengaduan-{service}"}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    made.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return made


def instrument_app(app: FastAPI, *, service: str, endpoint: str, sample_ratio: float) -> None:
    """Trace the app's requests when tracing is on (enabling it first when `endpoint` is set
    and no provider is there yet)."""
    if provider() is None and endpoint:
        enable(otlp_provider(service, endpoint, sample_ratio))
        log.info("tracing to %s", endpoint)
    tracer_provider = provider()
    if tracer_provider is not None:
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=tracer_provider, excluded_urls=EXCLUDED_URLS
        )


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, when one is being recorded."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x")


@contextlib.contextmanager
def in_trace_of(correlation_id: str) -> Iterator[None]:
    """Make the complaint's trace (its correlation id, when that is a trace id) the current
    context, so spans started inside (the Kafka send) join it."""
    if provider() is None or not _TRACE_ID.match(correlation_id) or int(correlation_id, 16) == 0:
        yield
        return
    parent = SpanContext(
        trace_id=int(correlation_id, 16),
        span_id=random.getrandbits(64) or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        yield
    finally:
        context.detach(token)


Headers = list[tuple[str, bytes]]


class _HeaderGetter(Getter[Headers]):
    """Reads W3C trace context from a Kafka record's headers."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = [v.decode(errors="replace") for k, v in carrier if k == key]
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        return [k for k, _ in carrier]


_GETTER = _HeaderGetter()


@contextlib.contextmanager
def handling(
    consumer: str, event_type: str, headers: Sequence[tuple[str, bytes]] | None
) -> Iterator[Any]:
    """A span for one event's handling, continuing the producer's trace from the headers."""
    tracer_provider = provider()
    if tracer_provider is None:
        yield None
        return
    parent = propagate.extract(list(headers or ()), getter=_GETTER)
    tracer = tracer_provider.get_tracer(__name__)
    with tracer.start_as_current_span(
        f"handle {event_type}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={"messaging.consumer.group.name": consumer, "pengaduan.event_type": event_type},
    ) as span:
        yield span
