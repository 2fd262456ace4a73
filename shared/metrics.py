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

# -- issue 16: what ops watch (docs/operations.md lists every family and its labels) -----------
# Labels are bounded: services, consumers, topics, partitions, OPD codes, statuses, stages,
# channels and outcomes; never a tracking code, a text or a person.
CONSUMER_LAG = Gauge(
    "pengaduan_consumer_lag",
    "Messages behind: the partition's high watermark minus the consumer's committed position.",
    ["consumer", "topic", "partition"],
)
EVENT_AGE = Histogram(
    "pengaduan_event_age_seconds",
    "Time from an event's occurred_at to its handling by a consumer.",
    ["consumer"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
OUTBOX_OLDEST_AGE = Gauge(
    "pengaduan_outbox_oldest_age_seconds",
    "Age of the oldest event this producer's relay has still to publish (0 when none).",
    ["producer"],
)
TICKETS = Gauge(
    "pengaduan_tickets",
    "Tickets by status and responsible OPD (a periodic count; opd 'none' when unassigned).",
    ["status", "opd"],
)
TICKETS_OVERDUE = Gauge(
    "pengaduan_tickets_overdue",
    "Open tickets past their deadline, by responsible OPD (a periodic count).",
    ["opd"],
)
TICKET_COUNT_AGE = Gauge(
    "pengaduan_ticket_count_age_seconds",
    "Seconds since pengaduan_tickets and pengaduan_tickets_overdue were last counted.",
)
OPDS_UNREACHABLE = Gauge(
    "pengaduan_opd_unreachable",
    "1 when an OPD has no active officer or supervisor account that can be reached.",
    ["opd"],
)
ROUTING_DECISIONS = Counter(
    "pengaduan_routing_decisions_total",
    "Routing decisions written, by resulting OPD and by what decided it.",
    ["opd", "method"],
)
ROUTING_CONFIDENCE = Histogram(
    "pengaduan_routing_confidence",
    "The router's confidence in its decisions (0-1).",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
JOURNEY = Histogram(
    "pengaduan_journey_seconds",
    "How long a complaint takes between two points of its life, by stage.",
    ["stage"],
    buckets=(
        1,
        5,
        15,
        30,
        60,
        120,
        300,
        900,
        3600,
        4 * 3600,
        86400,
        3 * 86400,
        7 * 86400,
        14 * 86400,
        30 * 86400,
    ),
)
NOTIFICATION_SEND_SECONDS = Histogram(
    "pengaduan_notification_send_seconds",
    "Time one send attempt took, by channel and outcome (sent, failed).",
    ["channel", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CANARY_SECONDS = Histogram(
    "pengaduan_canary_seconds",
    "The canary's synthetic complaint: time from its submission to routed (routing measures it).",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
