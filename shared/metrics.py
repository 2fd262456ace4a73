"""Prometheus metrics every service shares (the module globals STYLE.md allows)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "pengaduan_http_requests_total",
    "HTTP requests answered.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "pengaduan_http_request_duration_seconds", "HTTP request latency.", ["service", "route"]
)
OUTBOX_PENDING = Gauge(
    "pengaduan_outbox_pending", "Events waiting in ticket outboxes to be published.", ["producer"]
)
OUTBOX_PUBLISHED = Counter(
    "pengaduan_outbox_published_total", "Outbox events acknowledged by Kafka.", ["producer"]
)
OUTBOX_REJECTED = Counter(
    "pengaduan_outbox_rejected_total",
    "Malformed outbox entries set aside (moved to the ticket's outbox_rejected) unpublished.",
    ["producer"],
)
EVENTS_CONSUMED = Counter(
    "pengaduan_events_consumed_total",
    "Kafka events handled.",
    ["consumer", "event_type", "outcome"],
)
CONSUMER_ERRORS = Counter(
    "pengaduan_consumer_errors_total", "Failed attempts at handling an event.", ["consumer"]
)
DEAD_LETTERS = Counter(
    "pengaduan_dead_letters_total", "Events sent to a dead-letter topic.", ["consumer"]
)
