"""Prometheus metrics of notify."""

from __future__ import annotations

from prometheus_client import Counter

NOTIFICATIONS = Counter(
    "pengaduan_notifications_total", "Messages by channel and outcome.", ["channel", "status"]
)
