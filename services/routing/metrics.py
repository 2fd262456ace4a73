"""Prometheus metrics of routing."""

from __future__ import annotations

from prometheus_client import Counter

TICKETS_ROUTED = Counter(
    "pengaduan_tickets_routed_total", "Tickets the router placed, by resulting status.", ["status"]
)
