"""How far a consumer group is behind on the tickets topic (for tests that wait until the
services have handled everything published so far)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared import topics


async def tickets_lag(bootstrap: str, group: str) -> int:
    """Messages on the tickets topic the group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await reader.start()
    try:
        [spec] = [t for t in topics.ALL_TOPICS if t.name == topics.TICKETS]
        partitions = [TopicPartition(topics.TICKETS, p) for p in range(spec.partitions)]
        ends = await reader.end_offsets(partitions)
        done = await admin.list_consumer_group_offsets(group, partitions=partitions)
        # A partition the group never committed (offset -1) is behind only by what it holds.
        return sum(ends[tp] - (max(0, done[tp].offset) if tp in done else 0) for tp in partitions)
    finally:
        await reader.stop()
        await admin.close()
