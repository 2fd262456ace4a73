"""Prometheus metrics of intake."""

from __future__ import annotations

from prometheus_client import Counter

COMPLAINTS_SUBMITTED = Counter(
    "pengaduan_complaints_submitted_total", "Complaints accepted (201).", ["kind"]
)
