"""Prometheus metrics of intake."""

from __future__ import annotations

from prometheus_client import Counter

COMPLAINTS_SUBMITTED = Counter(
    "pengaduan_complaints_submitted_total", "Complaints accepted (201).", ["kind"]
)
CHAT_MESSAGES = Counter(
    "pengaduan_chat_messages_total",
    "Chat messages received, by channel and outcome (handled, duplicate, throttled).",
    ["channel", "outcome"],
)
CHAT_STATUSES = Counter(
    "pengaduan_chat_statuses_total",
    "Delivery statuses the WhatsApp platform reported for what was sent.",
    ["status"],
)
CANARY_SUBMITTED = Counter(
    "pengaduan_canary_submitted_total",
    "Synthetic complaints the canary filed (docs/operations.md).",
)
