"""Prometheus metrics of notify."""

from __future__ import annotations

from prometheus_client import Counter

NOTIFICATIONS = Counter(
    "pengaduan_notifications_total",
    "Send attempts by channel and outcome (sent, retrying, dead).",
    ["channel", "status"],
)
NOTIFICATIONS_DEAD = Counter(
    "pengaduan_notifications_dead_total",
    "Messages given up on after their last attempt, by channel.",
    ["channel"],
)
DIGESTS = Counter("pengaduan_notification_digests_total", "Daily digests built for officers.")
