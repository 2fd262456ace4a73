"""Prometheus metrics of routing."""

from __future__ import annotations

from prometheus_client import Counter

TICKETS_ROUTED = Counter(
    "pengaduan_tickets_routed_total", "Tickets the router placed, by resulting status.", ["status"]
)
DEADLINE_TICKETS_SKIPPED = Counter(
    "pengaduan_deadline_tickets_skipped_total",
    "Tickets a deadline pass skipped because they are invalid (each pass that meets one).",
    ["step"],
)
