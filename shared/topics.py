"""Kafka topic names; every message is keyed by ticket id."""

from __future__ import annotations

from dataclasses import dataclass

TICKETS = "pengaduan.tickets.v1"
DLQ_ROUTING = "pengaduan.dlq.routing"
DLQ_NOTIFY = "pengaduan.dlq.notify"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int


ALL_TOPICS = (
    TopicSpec(TICKETS, 6),
    TopicSpec(DLQ_ROUTING, 3),
    TopicSpec(DLQ_NOTIFY, 3),
)
