"""Kafka topic names. Ticket events are keyed by ticket id; chat replies (`CHATS`) by their
conversation's id, so one conversation's replies stay in order."""

from __future__ import annotations

from dataclasses import dataclass, field

TICKETS = "pengaduan.tickets.v1"
CHATS = "pengaduan.chats.v1"
DLQ_ROUTING = "pengaduan.dlq.routing"
DLQ_NOTIFY = "pengaduan.dlq.notify"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


# The ticket events are kept for good: the statistics projection is rebuilt from all of them
# (services/routing/statistics.py), so no retention may delete the start of the log.
KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}

ALL_TOPICS = (
    TopicSpec(TICKETS, 6, KEEP_FOREVER),
    TopicSpec(CHATS, 6),
    TopicSpec(DLQ_ROUTING, 3),
    TopicSpec(DLQ_NOTIFY, 3),
)
