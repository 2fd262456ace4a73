"""Routing keeps the public statistics: the projection's consumer and its rebuild command.

The consumer is a `ConsumeLoop` of its own group (`<consumer_group>-statistics`) on the tickets
topic, so the statistics lag or fail without holding up routing; it projects each batch it
reads at once (`Projector.handle_batch`), event by event only if that fails. The rebuild
reads the whole topic again (it is kept without retention limits, shared.topics) into a new
generation while the consumer goes on, then switches readers to it:

    python -m services.routing.statistics rebuild
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.repository import TicketRepository
from services.routing.settings import RoutingSettings
from shared import topics
from shared.events import Envelope, EventType
from shared.kafka import ConsumeLoop, KafkaPublisher
from shared.kafka_connection import KafkaConnection, connection
from shared.mongo import Document, connect
from shared.statistics.projection import month_of
from shared.statistics.service import Projector
from shared.statistics.store import StatisticsStore

log = logging.getLogger(__name__)
REPLAY_BATCH = 2000


class TruncatedLog(Exception):
    """The topic no longer starts at offset 0: retention deleted events a rebuild needs."""


# The statistics consumer's batches (up to the consume loop's 200 records): each reads and
# writes its month's summary and every cell its tickets touch once (a cell holds all its
# tickets' shares, kilobytes), so events more per batch cost little more. A small batch waits
# up to BATCH_LINGER_S to fill; readers cache the summaries for 30 to 60 s anyway.
BATCH_LINGER_S = 2.0


def projector(settings: RoutingSettings, db: AsyncDatabase[Document]) -> Projector:
    tickets = TicketRepository(db)

    async def month_of_ticket(code: str) -> str | None:
        """For events written before they carried `submitted_at`: read the ticket."""
        ticket = await tickets.get(code)
        return month_of(ticket.submitted_at) if ticket else None

    return Projector(StatisticsStore(db), settings.calendar(), month_of_ticket=month_of_ticket)


def consumer(
    settings: RoutingSettings,
    projection: Projector,
    publisher: KafkaPublisher,
    *,
    topic: str = topics.TICKETS,
) -> ConsumeLoop:
    return ConsumeLoop(
        bootstrap_servers=settings.kafka(),
        group_id=f"{settings.consumer_group}-statistics",
        topics=[topic],
        handlers={event_type: projection.handle for event_type in EventType},
        dead_letter_topic=topics.DLQ_ROUTING,
        publisher=publisher,
        batch_handler=projection.handle_batch,
        linger_s=BATCH_LINGER_S,
    )


@contextlib.asynccontextmanager
async def _reader(bootstrap_servers: str | KafkaConnection, topic: str) -> AsyncIterator[ReadTopic]:
    """A consumer of no group, assigned every partition of the topic (none if it is missing)."""
    reader = AIOKafkaConsumer(
        **connection(bootstrap_servers).options(),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="statistics-rebuild",
    )
    await reader.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in await _partition_ids(bootstrap_servers, topic)
        ]
        reader.assign(partitions)
        yield ReadTopic(reader, partitions)
    finally:
        await reader.stop()


async def _partition_ids(bootstrap_servers: str | KafkaConnection, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(**connection(bootstrap_servers).options())
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for p in described.get("partitions") or ())


class ReadTopic:
    def __init__(self, reader: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self.reader, self.partitions = reader, partitions


async def check_whole(
    bootstrap_servers: str | KafkaConnection, topic: str = topics.TICKETS
) -> None:
    """Raise TruncatedLog unless every partition still starts at offset 0."""
    async with _reader(bootstrap_servers, topic) as read:
        if not read.partitions:
            return
        starts = await read.reader.beginning_offsets(read.partitions)
    truncated = {tp.partition: offset for tp, offset in starts.items() if offset > 0}
    if truncated:
        raise TruncatedLog(
            f"{topic} no longer starts at offset 0 (first offsets {truncated}): retention "
            "deleted events. Set retention.ms=-1 on the topic (shared/topics.py)."
        )


async def replay(
    bootstrap_servers: str | KafkaConnection,
    topic: str = topics.TICKETS,
    *,
    batch: int = REPLAY_BATCH,
) -> AsyncIterator[list[Envelope]]:
    """Every event on the topic up to its end when the replay starts, in batches; partitions
    are read in order, so each ticket's events come in the order they were published."""
    async with _reader(bootstrap_servers, topic) as read:
        reader = read.reader
        if not read.partitions:
            return
        ends = await reader.end_offsets(read.partitions)
        await reader.seek_to_beginning(*read.partitions)
        pending = {tp for tp in read.partitions if ends[tp] > 0}
        while pending:
            records = await reader.getmany(*pending, timeout_ms=1000, max_records=batch)
            events: list[Envelope] = []
            for tp, found in records.items():
                for record in found:
                    if record.offset >= ends[tp]:
                        break
                    envelope = _envelope(record.value)
                    if envelope is not None:
                        events.append(envelope)
                if found and found[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
            if events:
                yield events


def _envelope(raw: bytes | None) -> Envelope | None:
    """An event, or None for what the live consumer dead-lettered as unreadable too."""
    try:
        return Envelope.from_bytes(raw or b"")
    except ValidationError:
        log.warning("statistics rebuild: an unreadable message skipped")
        return None


async def rebuild(
    settings: RoutingSettings, *, topic: str = topics.TICKETS, settle_s: float = 5.0
) -> int:
    """The whole projection again from the topic; returns how many events counted."""
    client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
    try:
        await check_whole(settings.kafka(), topic)
        projection = projector(settings, client[settings.mongodb_database])
        events = replay(settings.kafka(), topic)
        return await projection.rebuild(events, settle_s=settle_s)
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing.statistics")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rebuild", help="rebuild the statistics from every event on the topic")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        counted = asyncio.run(rebuild(RoutingSettings()))
    except TruncatedLog as exc:
        print(f"not rebuilt: {exc}", file=sys.stderr)
        return 1
    print(f"statistics rebuilt from {counted} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
