"""Dead letters after a fix: list them, and replay them to the topic they came from.

A message a consumer could not handle after its retries sits in that consumer's dead-letter
topic with the error and its origin in headers (`shared/kafka.py`). Once the cause is fixed
(a bug, a missing catalogue entry), replay sends each one back to its origin topic with its own
key and headers, so the ticket's partition and order are kept. Every consumer of that topic
sees it again; they are idempotent per event id, so only the one that failed does anything.

Replay reads with its own consumer group (`dead-letters-replay`) and commits after each message
is republished: running it twice does not replay a message twice, and a message that fails
again returns to the dead-letter topic as a new entry, to be replayed after the next fix.

    python -m shared.dead_letters list   --topic pengaduan.dlq.routing
    python -m shared.dead_letters replay --topic pengaduan.dlq.routing [--dry-run] [--limit N]

`KAFKA_BOOTSTRAP_SERVERS` names the brokers. Neither command prints a message's payload: it
may carry a ticket's description.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.kafka import KafkaPublisher
from shared.kafka_connection import KafkaConnection, connection, from_environment

REPLAY_GROUP: Final = "dead-letters-replay"
ORIGIN: Final = "dlq.origin.topic"
REPLAYED: Final = "dlq.replayed"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: str
    origin: str | None
    error: str
    attempts: str
    event_type: str


def _describe(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        key=(record.key or b"").decode(errors="replace"),
        origin=headers.get(ORIGIN),
        error=headers.get("dlq.error", ""),
        attempts=headers.get("dlq.attempts", ""),
        event_type=headers.get("event_type", ""),
    )


def replay_headers(record: ConsumerRecord[bytes, bytes], topic: str) -> list[tuple[str, bytes]]:
    """The original headers without the dead-letter ones, and where the replay came from."""
    kept = [(k, v) for k, v in record.headers or () if not k.startswith("dlq.")]
    return [*kept, (REPLAYED, f"{topic}:{record.partition}:{record.offset}".encode())]


async def _records(
    consumer: AIOKafkaConsumer, limit: int | None, *, timeout_s: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """What is in the topic now (up to its end offsets when reading starts), in offset order
    per partition, at most `limit`."""
    async with asyncio.timeout(timeout_s):
        while not consumer.assignment():  # noqa: ASYNC110 (aiokafka has no event for it)
            await asyncio.sleep(0.1)
        ends = await consumer.end_offsets(list(consumer.assignment()))
        found: list[ConsumerRecord[bytes, bytes]] = []
        while limit is None or len(found) < limit:
            behind = [tp for tp, end in ends.items() if await consumer.position(tp) < end]
            if not behind:
                break
            batch = await consumer.getmany(*behind, timeout_ms=1000)
            for tp, records in batch.items():
                found.extend(r for r in records if r.offset < ends[tp])
    return found[:limit] if limit is not None else found


async def list_dead_letters(bootstrap: str | KafkaConnection, topic: str) -> list[DeadLetter]:
    """Every message in the dead-letter topic (a reader without a group: nothing committed)."""
    consumer = AIOKafkaConsumer(
        topic, **connection(bootstrap).options(), group_id=None, auto_offset_reset="earliest"
    )  # without a group every partition is assigned at start
    await consumer.start()
    try:
        return [_describe(r) for r in await _records(consumer, None)]
    finally:
        await consumer.stop()


async def replay(
    bootstrap: str | KafkaConnection,
    topic: str,
    *,
    dry_run: bool = False,
    limit: int | None = None,
) -> list[DeadLetter]:
    """Republish the dead letters not replayed yet to their origin; returns what was (or, in a
    dry run, would be) replayed. A message without a known origin is skipped and reported."""
    consumer = AIOKafkaConsumer(
        topic,
        **connection(bootstrap).options(),
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    publisher = KafkaPublisher(bootstrap, client_id=REPLAY_GROUP)
    await consumer.start()
    done: list[DeadLetter] = []
    try:
        for record in await _records(consumer, limit):
            letter = _describe(record)
            if letter.origin is None:
                print(
                    f"skipped {letter.partition}/{letter.offset}: no origin topic", file=sys.stderr
                )
                continue
            if not dry_run:
                await publisher.send(
                    letter.origin,
                    record.value or b"",
                    key=record.key or b"",
                    headers=replay_headers(record, topic),
                )
                await consumer.commit(
                    {TopicPartition(record.topic, record.partition): record.offset + 1}
                )
            done.append(letter)
    finally:
        await publisher.close()
        await consumer.stop()
    return done


def _line(letter: DeadLetter) -> str:
    return (
        f"{letter.partition}/{letter.offset}  ticket {letter.key}  {letter.event_type or '?'}  "
        f"from {letter.origin or '?'}  after {letter.attempts or '?'} attempts: {letter.error}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=("list", "replay"))
    parser.add_argument("--topic", required=True, help="the dead-letter topic")
    parser.add_argument("--dry-run", action="store_true", help="replay: show, send nothing")
    parser.add_argument("--limit", type=int, default=None, help="replay: at most this many")
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="Kafka brokers (default: KAFKA_BOOTSTRAP_SERVERS)",
    )
    args = parser.parse_args(argv)
    # SASL and TLS from the unprefixed settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME, ...).
    kafka = from_environment(args.bootstrap, os.environ)
    if args.command == "list":
        letters = asyncio.run(list_dead_letters(kafka, args.topic))
        verb = "in"
    else:
        letters = asyncio.run(replay(kafka, args.topic, dry_run=args.dry_run, limit=args.limit))
        verb = "would be replayed from" if args.dry_run else "replayed from"
    for letter in letters:
        print(_line(letter))
    print(f"{len(letters)} dead letters {verb} {args.topic}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
