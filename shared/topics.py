"""Kafka topic names. Ticket events are keyed by ticket id; chat replies (`CHATS`) by their
conversation's id, so one conversation's replies stay in order."""

from __future__ import annotations

from dataclasses import dataclass

TICKETS = "pengaduan.tickets.v1"
CHATS = "pengaduan.chats.v1"
DLQ_ROUTING = "pengaduan.dlq.routing"
DLQ_NOTIFY = "pengaduan.dlq.notify"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int


ALL_TOPICS = (
    TopicSpec(TICKETS, 6),
    TopicSpec(CHATS, 6),
    TopicSpec(DLQ_ROUTING, 3),
    TopicSpec(DLQ_NOTIFY, 3),
)
