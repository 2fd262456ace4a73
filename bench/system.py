"""`make bench` (after the router's benchmark): the front door, the pipeline and the consumers.

It starts its own Kafka, PostgreSQL and FerretDB on free loopback ports (var/bench-system-<pid>/,
removed afterwards), runs the services as real processes, and measures each figure as a ratio
to a yardstick measured in the same run:
- intake's accepted complaints/s at 1, 8 and 64 keep-alive clients, from one address and from
  many (X-Forwarded-For from the trusted proxy 127.0.0.1), against a trivial JSON endpoint and
  a naive insert-and-send handler on the same FastAPI/uvicorn setup (bench/baseline_app.py);
- the same at the default per-address limit: only 201 and 429, never a 5xx;
- intake's throughput with 1,000 and with 100,000 stored tickets;
- submit -> `ticket.routed` seen on Kafka (p50/p99) at 20 complaints/s, against the broker's
  own produce -> consume round trip with the same producer settings;
- routing's and notify's consumers (events/s) against bare aiokafka loops on the same topic
  (commit per batch, and commit per message);
- the peak memory (RSS) of each service in each phase.
Every load is bounded in requests and time and goes to 127.0.0.1 only. The result is written
to var/bench/system.json and printed as the table of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from pymongo.errors import DuplicateKeyError

from bench import load
from bench.baseline_app import NAIVE_TOPIC
from bench.lists import Generator
from bench.lists import ensure_indexes as ensure_ticket_indexes
from devstack.stack import Component, Ports, Stack, free_port, http_ok
from devstack.tools import ROOT
from services.intake import complaints
from services.routing.classification.examples import original_examples as packaged_examples
from shared import topics
from shared.catalogue import packaged_catalogue
from shared.events import EventType, utcnow
from shared.kafka import ensure_topics
from shared.mongo import Document, connect
from shared.tickets import COLLECTION, Kind, Location, Reporter

OUTPUT: Final = ROOT / "var" / "bench" / "system.json"
RTT_TOPIC: Final = "bench.rtt"
CLIENTS: Final = (1, 8, 64)
NO_LIMIT: Final = "1000000000"
DEFAULT_LIMIT: Final = "60"
PROXY: Final = "127.0.0.1"
# Whose CPU time a consumer's events cost: the service and the database behind it.
CONSUMER_CPU: Final = {
    "routing": ("routing", "ferretdb", "postgres"),
    "notify": ("notify", "ferretdb", "postgres"),
}
KECAMATAN: Final = ("Ciruas", "Kragilan", "Cikande", "Kramatwatu", "Anyar", "Pontang")


@dataclass(frozen=True)
class Sizes:
    """How long and how much each phase runs (`--quick` for a short run)."""

    load_s: float
    warmup_s: float
    latency_s: float
    consumer_events: int
    scale_small: int
    scale_large: int

    @classmethod
    def of(cls, quick: bool) -> Sizes:
        if quick:
            return cls(3.0, 1.0, 10.0, 600, 1_000, 10_000)
        return cls(8.0, 2.0, 30.0, 2_000, 1_000, 100_000)


# -- memory --------------------------------------------------------------------------------------
def rss_mb(pid: int) -> float | None:
    """A process's resident memory (VmRSS) in MB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def cpu_seconds(pid: int) -> tuple[float, float]:
    """A process's CPU seconds (user + system) and its waited-for children's, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def stack_cpu(stack: Stack, names: Sequence[str]) -> dict[str, float]:
    """CPU seconds so far of these components; PostgreSQL's with its backends (live ones
    counted directly, ended ones through the postmaster's children's time)."""
    found: dict[str, float] = {}
    for name in names:
        pid = stack.pid(name)
        if not pid:
            continue
        try:
            own, ended = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        total = own
        if name == "postgres":
            total += ended
            for stat in Path("/proc").glob("[0-9]*/stat"):
                with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
                    rest = stat.read_text().rsplit(")", 1)[1].split()
                    if int(rest[1]) == pid:
                        total += cpu_seconds(int(stat.parent.name))[0]
        found[name] = total
    return found


class MemorySampler:
    """Samples the services' RSS five times a second; the peak per (phase, service)."""

    def __init__(self, stack: Stack, names: Sequence[str]) -> None:
        self._stack = stack
        self._names = names
        self.phase = "start"
        self.peaks: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for name in self._names:
                pid = self._stack.pid(name)
                mb = rss_mb(pid) if pid else None
                if mb is not None:
                    peaks = self.peaks.setdefault(self.phase, {})
                    peaks[name] = round(max(peaks.get(name, 0.0), mb), 1)


# -- the run -------------------------------------------------------------------------------------
@dataclass
class Run:
    stack: Stack
    sizes: Sizes
    memory: MemorySampler
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def kafka(self) -> str:
        return self.stack.kafka_bootstrap

    def component(self, name: str, database: str, env: dict[str, str]) -> Component:
        found = next(c for c in self.stack.services() if c.name == name)
        found.env = {
            **found.env,
            "MONGODB_DATABASE": database,
            "NOTIFY_EMAIL__TRANSPORT": "log",
            "NOTIFY_WHATSAPP__TRANSPORT": "log",
            "NOTIFY_SMS__TRANSPORT": "off",
            "NOTIFY_WEBHOOK__TARGETS": "[]",
            **env,
        }
        return found

    async def start(self, name: str, database: str, **env: str) -> int:
        """Start a service on `database`; its port."""
        await asyncio.to_thread(self.stack.start, self.component(name, database, env))
        return int(getattr(self.stack.ports, name))

    async def stop(self, *names: str) -> None:
        for name in names:
            await asyncio.to_thread(self.stack.stop, name)

    async def start_baseline(self, database: str) -> int:
        port = free_port()
        await asyncio.to_thread(
            self.stack.start,
            Component(
                name="baseline",
                argv=[sys.executable, "-m", "bench.baseline_app"],
                env={
                    **self.stack.infra_env(),
                    "MONGODB_DATABASE": database,
                    "BASELINE_PORT": str(port),
                },
                ready=lambda: http_ok(f"http://127.0.0.1:{port}/healthz"),
                ready_timeout_s=30.0,
            ),
        )
        return port


def complaint_body(i: int, series: str = "") -> bytes:
    """A plausible complaint, different each time (so none is flagged as a duplicate): number
    i of a load, whose `series` tells it from the same number of another load."""
    body = {
        "description": (
            f"Jalan rusak berlubang di depan SD nomor {i}, sudah dua minggu belum diperbaiki, "
            "motor sering jatuh kalau malam."
        ),
        "location": {"kecamatan": KECAMATAN[i % len(KECAMATAN)]},
        "reporter": {"name": "Warga", "email": f"warga{i}{series}@contoh.id"},
    }
    return json.dumps(body).encode()


async def closed(port: int, path: str, clients: int, seconds: float, *, many: bool) -> load.Result:
    # Each load its own series: a warm-up's complaints must not make the next load's twins.
    series = f".{uuid.uuid4().hex[:8]}"
    requests = load.post_json(
        path, functools.partial(complaint_body, series=series), forwarded_for=many
    )
    return await load.closed_loop(
        port, requests, clients=clients, seconds=seconds, max_requests=clients * 20_000
    )


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None


# -- phase: intake against the yardsticks --------------------------------------------------------
async def phase_intake(run: Run) -> None:
    s = run.sizes
    run.memory.phase = "intake"
    db = "bench_intake"
    await drop_database(run, db)
    baseline = await run.start_baseline(db)
    intake = await run.start(
        "intake",
        db,
        INTAKE_RATE_LIMIT_PER_MINUTE=NO_LIMIT,
        FORWARDED_ALLOW_IPS=PROXY,
    )
    rows: list[dict[str, Any]] = []
    targets: tuple[tuple[str, int, str, bool], ...] = (
        ("trivial", baseline, "/trivial", False),
        ("naive", baseline, "/naive", False),
        ("intake_one_address", intake, "/api/v1/complaints", False),
        ("intake_many_addresses", intake, "/api/v1/complaints", True),
    )
    try:
        for clients in CLIENTS:
            row: dict[str, Any] = {"clients": clients}
            for name, port, path, many in targets:
                await closed(port, path, clients, s.warmup_s, many=many)
                result = await closed(port, path, clients, s.load_s, many=many)
                row[name] = result.summary() | {"accepted_per_second": round(result.rate(201), 1)}
                print(
                    f"[bench] {clients:>2} clients {name:<22} {result.rate(201):8.1f}/s accepted"
                    f"  p50 {row[name]['p50_ms']} ms  statuses {row[name]['statuses']}",
                    flush=True,
                )
            accepted = {n: row[n]["accepted_per_second"] for n, *_ in targets}
            row["ratios"] = {
                "one_address_vs_naive": _ratio(accepted["intake_one_address"], accepted["naive"]),
                "many_addresses_vs_naive": _ratio(
                    accepted["intake_many_addresses"], accepted["naive"]
                ),
                "one_address_vs_trivial": _ratio(
                    accepted["intake_one_address"], accepted["trivial"]
                ),
                "naive_vs_trivial": _ratio(accepted["naive"], accepted["trivial"]),
            }
            rows.append(row)
        run.results["intake"] = rows
        await run.stop("intake")
        run.memory.phase = "intake_limited"
        intake = await run.start(
            "intake",
            f"{db}_limited",  # counts of the unlimited runs must not carry over
            INTAKE_RATE_LIMIT_PER_MINUTE=DEFAULT_LIMIT,
            FORWARDED_ALLOW_IPS=PROXY,
        )
        limited: dict[str, Any] = {"limit_per_minute": int(DEFAULT_LIMIT), "clients": 64}
        for name, many in (("one_address", False), ("many_addresses", True)):
            result = await closed(intake, "/api/v1/complaints", 64, s.load_s, many=many)
            limited[name] = result.summary()
            print(f"[bench] at the default limit, {name}: {limited[name]['statuses']}", flush=True)
        run.results["intake_at_default_limit"] = limited
    finally:
        await run.stop("intake", "baseline")


# -- phase: stored tickets -----------------------------------------------------------------------
async def phase_scale(run: Run) -> None:
    s = run.sizes
    db_name = "bench_scale"
    await drop_database(run, db_name)
    client = connect(run.stack.mongodb_url, timeout_ms=10_000)
    gen = Generator(seed=10, now=datetime.now(UTC))
    points: list[dict[str, Any]] = []
    loaded = added = 0  # preloaded, and stored by the measurements since
    try:
        db = client[db_name]
        await ensure_ticket_indexes(db)
        for size in (s.scale_small, s.scale_large):
            started = time.monotonic()
            for batch in gen.batches(loaded, size):
                await db[COLLECTION].insert_many(batch, ordered=False)
            print(
                f"[bench] loaded {size - loaded:,} tickets in {time.monotonic() - started:.0f}s",
                flush=True,
            )
            loaded = size
            stored = loaded + added  # (counting them would itself read every ticket)
            run.memory.phase = f"scale_{size}"
            port = await run.start("intake", db_name, INTAKE_RATE_LIMIT_PER_MINUTE=NO_LIMIT)
            try:
                warm = await closed(port, "/api/v1/complaints", 64, s.warmup_s, many=False)
                added += warm.statuses[201]
                point: dict[str, Any] = {"stored_tickets": stored}
                for clients in (8, 64):
                    result = await closed(port, "/api/v1/complaints", clients, s.load_s, many=False)
                    point[f"clients_{clients}"] = result.summary() | {
                        "accepted_per_second": round(result.rate(201), 1)
                    }
                    added += result.statuses[201]
                    print(
                        f"[bench] {stored:>7,} stored, {clients} clients: "
                        f"{result.rate(201):.1f}/s accepted",
                        flush=True,
                    )
                points.append(point)
            finally:
                await run.stop("intake")
    finally:
        await client.close()
    small, large = points
    run.results["scale"] = {
        "points": points,
        "large_vs_small_64_clients": _ratio(
            large["clients_64"]["accepted_per_second"], small["clients_64"]["accepted_per_second"]
        ),
        "large_vs_small_8_clients": _ratio(
            large["clients_8"]["accepted_per_second"], small["clients_8"]["accepted_per_second"]
        ),
    }


# -- phase: submit -> routed against the broker's round trip -------------------------------------
async def watching(run: Run, topic: str) -> AIOKafkaConsumer:
    """A consumer of `topic` from its end, assigned before it returns."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=run.kafka,
        group_id=f"bench-watch-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        await consumer.getmany(timeout_ms=200)
    for tp in consumer.assignment():
        await consumer.position(tp)
    return consumer


async def broker_round_trip(run: Run, per_second: float, seconds: float) -> dict[str, Any]:
    """Produce (acks=all, idempotent, as the relays do) -> consume, message by message."""
    consumer = await watching(run, RTT_TOPIC)
    producer = AIOKafkaProducer(bootstrap_servers=run.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}
    total = int(per_second * seconds)

    async def watch() -> None:
        while len(seen) < total:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    seen[int(record.value or b"0")] = now

    watcher = asyncio.create_task(watch())
    try:
        begin = time.perf_counter()
        for i in range(total):
            delay = begin + i / per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[i] = time.perf_counter()
            await producer.send_and_wait(RTT_TOPIC, str(i).encode(), key=str(i % 97).encode())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(watcher), timeout=10)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await producer.stop()
        await consumer.stop()
    latencies = [seen[i] - sent[i] for i in sent if i in seen]
    return {"messages": total, "seen": len(latencies), **load.percentiles_ms(latencies)}


async def submit_to_routed(
    run: Run, port: int, per_second: float, seconds: float
) -> dict[str, Any]:
    """POST complaints at a fixed rate; time each until its routing event is on Kafka."""
    consumer = await watching(run, topics.TICKETS)
    submitted: dict[str, float] = {}
    routed: dict[str, float] = {}
    published: dict[str, float] = {}  # intake's `ticket.submitted` seen on the topic
    wanted = {EventType.TICKET_ROUTED.value.encode(), EventType.TICKET_TRIAGED.value.encode()}
    intake_event = EventType.TICKET_SUBMITTED.value.encode()

    async def watch() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    kind = dict(record.headers or ()).get("event_type")
                    if record.key is None:
                        continue
                    if kind in wanted:
                        routed.setdefault(record.key.decode(), now)
                    elif kind == intake_event:
                        published.setdefault(record.key.decode(), now)

    def answered(_: int, started: float, status: int, body: bytes) -> None:
        if status == 201:
            submitted[json.loads(body)["tracking_code"]] = started

    watcher = asyncio.create_task(watch())
    try:
        requests = load.post_json("/api/v1/complaints", complaint_body)
        result = await load.open_loop(
            port, requests, per_second=per_second, seconds=seconds, on_answer=answered
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not set(submitted) <= set(routed):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await consumer.stop()
    latencies = [routed[c] - t for c, t in submitted.items() if c in routed]
    # The two halves: intake's (POST to its event on the topic), routing's (that to routed).
    intake_part = [published[c] - t for c, t in submitted.items() if c in published]
    routing_part = [routed[c] - published[c] for c in submitted if c in routed and c in published]
    return {
        "per_second": per_second,
        "submitted": len(submitted),
        "routed_seen": len(latencies),
        "http": result.summary(),
        **load.percentiles_ms(latencies),
        "intake_part": load.percentiles_ms(intake_part),
        "routing_part": load.percentiles_ms(routing_part),
    }


async def phase_latency(run: Run) -> None:
    s = run.sizes
    run.memory.phase = "latency"
    db = "bench_latency"
    await drop_database(run, db)
    intake = await run.start("intake", db)
    await run.start("routing", db)
    await run.start("notify", db)
    try:
        await submit_to_routed(run, intake, 20, min(3.0, s.latency_s))  # warm-up
        rtt = await broker_round_trip(run, 20, s.latency_s / 2)
        pipeline = await submit_to_routed(run, intake, 20, s.latency_s)
    finally:
        await run.stop("notify", "routing", "intake")
    run.results["latency"] = {
        "broker_round_trip": rtt,
        "submit_to_routed": pipeline,
        "p50_vs_broker": _ratio(pipeline["p50_ms"] or 0, rtt["p50_ms"] or 0),
        "p99_vs_broker": _ratio(pipeline["p99_ms"] or 0, rtt["p99_ms"] or 0),
    }
    print(
        f"[bench] submit->routed p50 {pipeline['p50_ms']} ms p99 {pipeline['p99_ms']} ms; "
        f"broker round trip p50 {rtt['p50_ms']} ms p99 {rtt['p99_ms']} ms",
        flush=True,
    )


# -- phase: consumers against bare loops ---------------------------------------------------------
async def drop_database(run: Run, name: str) -> None:
    client = connect(run.stack.mongodb_url, timeout_ms=10_000)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


async def reset_tickets_topic(run: Run) -> None:
    """Delete and re-create the tickets topic, so a phase's consumers see only its events."""
    admin = AIOKafkaAdminClient(bootstrap_servers=run.kafka)
    await admin.start()
    try:
        with contextlib.suppress(KafkaError):
            await admin.delete_topics([topics.TICKETS])
        for _ in range(100):
            await asyncio.sleep(0.3)
            if topics.TICKETS not in await admin.list_topics():
                break
    finally:
        await admin.close()
    for _ in range(50):
        try:
            await ensure_topics(run.kafka)
            return
        except KafkaError:
            await asyncio.sleep(0.3)
    raise RuntimeError("could not re-create the tickets topic")


async def end_offsets(run: Run, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=run.kafka)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            parts = [TopicPartition(topic, p) for p in range(6)]
        ends = await consumer.end_offsets(parts)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def committed_rate(
    run: Run,
    group: str,
    ends: dict[int, int],
    timeout_s: float,
    *,
    cpu_of: Sequence[str] = (),
) -> dict[str, Any]:
    """Watch a group's committed offsets until it reaches `ends`; events/s between 10 % and
    90 % of them (start-up and the tail are left out), and the CPU milliseconds per event the
    components `cpu_of` spent over that stretch."""
    total = sum(ends.values())
    admin = AIOKafkaAdminClient(bootstrap_servers=run.kafka)
    await admin.start()
    samples: list[tuple[float, int]] = []
    cpu: list[tuple[int, dict[str, float]]] = []  # (events done, CPU seconds) at 10 % and 90 %
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            offsets = await admin.list_consumer_group_offsets(group)
            done = sum(
                min(meta.offset, ends.get(tp.partition, 0))
                for tp, meta in offsets.items()
                if tp.topic == topics.TICKETS and meta.offset >= 0
            )
            samples.append((time.perf_counter(), done))
            if cpu_of and len(cpu) < 2 and done >= (0.1, 0.9)[len(cpu)] * total:
                cpu.append((done, stack_cpu(run.stack, cpu_of)))
            if done >= total:
                break
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
    done = samples[-1][1] if samples else 0

    def first_at(share: float) -> float | None:
        return next((t for t, n in samples if n >= share * total), None)

    t10, t90 = first_at(0.1), first_at(0.9)
    rate = 0.8 * total / (t90 - t10) if t10 is not None and t90 is not None and t90 > t10 else None
    found: dict[str, Any] = {
        "events": total,
        "committed": done,
        "per_second": round(rate, 1) if rate else None,
    }
    if len(cpu) == 2 and cpu[1][0] > cpu[0][0]:
        (n0, at10), (n1, at90) = cpu
        per_event = {
            name: round(1000 * (at90[name] - at10[name]) / (n1 - n0), 2)
            for name in at90
            if name in at10
        }
        per_event["sum"] = round(sum(per_event.values()), 2)
        found["cpu_ms_per_event"] = per_event
    return found


async def bare_loop(run: Run, ends: dict[int, int], *, per_message: bool) -> dict[str, Any]:
    """The least a consumer does: read the topic and commit (per batch or per message)."""
    total = sum(ends.values())
    consumer = AIOKafkaConsumer(
        topics.TICKETS,
        bootstrap_servers=run.kafka,
        group_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen = 0
    first: float | None = None
    try:
        deadline = time.monotonic() + 120
        while seen < total and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            for tp, records in batches.items():
                if first is None and records:
                    first = time.perf_counter()
                for record in records:
                    seen += 1
                    if per_message:
                        await consumer.commit({tp: record.offset + 1})
                if records and not per_message:
                    await consumer.commit({tp: records[-1].offset + 1})
        finished = time.perf_counter()
    finally:
        await consumer.stop()
    seconds = finished - first if first is not None else 0.0
    return {"events": seen, "per_second": round(seen / seconds, 1) if seconds else None}


def seed_tickets(n: int) -> tuple[list[Document], list[bytes]]:
    """n submitted tickets (as intake stores them, outbox already published) and their events."""
    examples = [e for e in packaged_examples() if len(e.text) >= 10]
    # A kecamatan and one of its desa each, as citizens give them: routing then remembers every
    # ticket for its cluster proposals (a ticket without a place is never compared).
    places = [(r.code, d) for r in packaged_catalogue().regions for d in r.desa]
    rng = random.Random(7)
    now = utcnow()
    docs, events = [], []
    for i in range(n):
        example = rng.choice(examples)
        kecamatan, desa = rng.choice(places)
        ticket, event = complaints.new_ticket(
            tracking_code=complaints.new_tracking_code("LP"),
            reply_token=f"token-{i}",
            now=now,
            correlation_id=uuid.uuid4().hex,
            kind=Kind.COMPLAINT,
            description=example.text[:4000],
            title=None,
            category=None,
            location=Location(kecamatan=kecamatan, desa=desa),
            reporter=Reporter(name="Warga", email=f"warga{i}@contoh.id"),
            anonymous=False,
            confidential=False,
        )
        doc = ticket.to_document()
        doc["outbox"] = []
        docs.append(doc)
        events.append(event.to_bytes())
    return docs, events


async def phase_consumers(run: Run) -> None:
    n = run.sizes.consumer_events
    db_name = "bench_consumers"
    await drop_database(run, db_name)
    await reset_tickets_topic(run)
    docs, events = seed_tickets(n)
    client = connect(run.stack.mongodb_url, timeout_ms=10_000)
    try:
        await client[db_name][COLLECTION].insert_many(docs)
    finally:
        await client.close()
    producer = AIOKafkaProducer(bootstrap_servers=run.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sends = [
            await producer.send(
                topics.TICKETS,
                value,
                key=doc["_id"].encode(),
                headers=[("event_type", EventType.TICKET_SUBMITTED.value.encode())],
            )
            for doc, value in zip(docs, events, strict=True)
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    submitted_ends = await end_offsets(run, topics.TICKETS)
    run.memory.phase = "consumer_routing"
    await run.start("routing", db_name)
    try:
        routing = await committed_rate(
            run, "routing", submitted_ends, timeout_s=600, cpu_of=CONSUMER_CPU["routing"]
        )
        deadline = time.monotonic() + 120
        while sum((await end_offsets(run, topics.TICKETS)).values()) < 2 * n:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await run.stop("routing")
    all_ends = await end_offsets(run, topics.TICKETS)
    run.memory.phase = "consumer_notify"
    await run.start("notify", db_name)
    try:
        notify = await committed_rate(
            run, "notify", all_ends, timeout_s=600, cpu_of=CONSUMER_CPU["notify"]
        )
    finally:
        await run.stop("notify")
    batch = await bare_loop(run, all_ends, per_message=False)
    each = await bare_loop(run, all_ends, per_message=True)
    run.results["consumers"] = {
        "routing": routing,
        "notify": notify,
        "bare_commit_per_batch": batch,
        "bare_commit_per_message": each,
        "routing_vs_bare_batch": _ratio(routing["per_second"] or 0, batch["per_second"] or 0),
        "notify_vs_bare_batch": _ratio(notify["per_second"] or 0, batch["per_second"] or 0),
        "routing_vs_bare_per_message": _ratio(routing["per_second"] or 0, each["per_second"] or 0),
        "notify_vs_bare_per_message": _ratio(notify["per_second"] or 0, each["per_second"] or 0),
    }
    print(
        f"[bench] consumers: routing {routing['per_second']}/s, notify {notify['per_second']}/s; "
        f"bare loop {batch['per_second']}/s (commit per batch), "
        f"{each['per_second']}/s (per message)",
        flush=True,
    )


# -- phase: can the store count atomically without a lock? ----------------------------------------
async def phase_counter(run: Run) -> None:
    """64 concurrent `$inc` upserts on one window document, as a MongoDB-backed rate limiter
    would do without a lock: how many increments does the stored count keep?"""
    client = connect(run.stack.mongodb_url, timeout_ms=10_000)
    rounds, concurrency = 10, 64
    kept, calls, duplicate_keys = 0, 0, 0
    try:
        await client.drop_database("bench_counter")
        # Created first: 64 first writes at once into a missing collection can stall FerretDB.
        windows = await client["bench_counter"].create_collection("rate_windows")
        for r in range(rounds):
            key = f"127.0.0.1|window-{r}"

            async def hit(key: str = key) -> bool:
                try:
                    await windows.find_one_and_update({"_id": key}, {"$inc": {"n": 1}}, upsert=True)
                except DuplicateKeyError:
                    return False
                return True

            outcomes = await asyncio.gather(*(hit() for _ in range(concurrency)))
            calls += concurrency
            duplicate_keys += outcomes.count(False)
            doc = await windows.find_one({"_id": key})
            kept += int(doc["n"]) if doc else 0
        await client.drop_database("bench_counter")
    finally:
        await client.close()
    run.results["counter"] = {
        "calls": calls,
        "refused_duplicate_key": duplicate_keys,
        "counted": kept,
        "kept_share": _ratio(kept, calls - duplicate_keys),
    }
    print(f"[bench] $inc upserts without a lock: {run.results['counter']}", flush=True)


# -- report --------------------------------------------------------------------------------------
def _commit() -> str:
    found = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT
    )
    return found.stdout.strip() or "unknown"


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}" if value >= 10 else f"{value:.2f}{suffix}"
    return f"{value:,}{suffix}"


def table(results: dict[str, Any]) -> str:
    """The Markdown tables of docs/benchmarks.md."""
    out: list[str] = []
    if "counter" in results:
        c = results["counter"]
        out += [
            f"`$inc` upserts on one document, 64 at once, no lock: {c['counted']:,} of "
            f"{c['calls']:,} counted, {c['refused_duplicate_key']:,} refused with a duplicate key.",
            "",
        ]
    if "intake" in results:
        out += [
            "| clients | trivial /s | naive /s | intake, one address /s | x naive | "
            "intake, many addresses /s | x naive | intake p50 ms (one address) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in results["intake"]:
            r = row["ratios"]
            out.append(
                f"| {row['clients']} | {_fmt(row['trivial']['accepted_per_second'])} "
                f"| {_fmt(row['naive']['accepted_per_second'])} "
                f"| {_fmt(row['intake_one_address']['accepted_per_second'])} "
                f"| {_fmt(r['one_address_vs_naive'])} "
                f"| {_fmt(row['intake_many_addresses']['accepted_per_second'])} "
                f"| {_fmt(r['many_addresses_vs_naive'])} "
                f"| {_fmt(row['intake_one_address']['p50_ms'])} |"
            )
        out.append("")
    if "intake_at_default_limit" in results:
        lim = results["intake_at_default_limit"]
        out.append(
            f"At the default limit ({lim['limit_per_minute']}/min), 64 clients: one address "
            f"{lim['one_address']['statuses']}, many addresses {lim['many_addresses']['statuses']}."
        )
        out.append("")
    if "scale" in results:
        sc = results["scale"]
        small, large = sc["points"]
        out += [
            "| stored tickets | 8 clients /s | 64 clients /s |",
            "|---:|---:|---:|",
            f"| {small['stored_tickets']:,} | {_fmt(small['clients_8']['accepted_per_second'])} "
            f"| {_fmt(small['clients_64']['accepted_per_second'])} |",
            f"| {large['stored_tickets']:,} | {_fmt(large['clients_8']['accepted_per_second'])} "
            f"| {_fmt(large['clients_64']['accepted_per_second'])} |",
            f"| ratio | {_fmt(sc['large_vs_small_8_clients'])} "
            f"| {_fmt(sc['large_vs_small_64_clients'])} |",
            "",
        ]
    if "latency" in results:
        lat = results["latency"]
        p, b = lat["submit_to_routed"], lat["broker_round_trip"]
        out += [
            "| at 20/s | p50 ms | p99 ms | seen |",
            "|---|---:|---:|---:|",
            f"| broker produce -> consume | {_fmt(b['p50_ms'])} | {_fmt(b['p99_ms'])} "
            f"| {b['seen']}/{b['messages']} |",
            f"| submit -> routed | {_fmt(p['p50_ms'])} | {_fmt(p['p99_ms'])} "
            f"| {p['routed_seen']}/{p['submitted']} |",
            *[
                f"| {label} | {_fmt(part['p50_ms'])} | {_fmt(part['p99_ms'])} | |"
                for label, part in (
                    ("of which submit -> ticket.submitted on the topic", p.get("intake_part")),
                    ("of which ticket.submitted -> routed", p.get("routing_part")),
                )
                if part
            ],
            f"| ratio | {_fmt(lat['p50_vs_broker'])} | {_fmt(lat['p99_vs_broker'])} | |",
            "",
        ]
    if "consumers" in results:
        c = results["consumers"]
        out += [
            "| consumer | events/s | x bare (commit per batch) | x bare (commit per message) |",
            "|---|---:|---:|---:|",
            f"| routing | {_fmt(c['routing']['per_second'])} | {_fmt(c['routing_vs_bare_batch'])} "
            f"| {_fmt(c['routing_vs_bare_per_message'])} |",
            f"| notify | {_fmt(c['notify']['per_second'])} | {_fmt(c['notify_vs_bare_batch'])} "
            f"| {_fmt(c['notify_vs_bare_per_message'])} |",
            f"| bare loop | {_fmt(c['bare_commit_per_batch']['per_second'])} (per batch) "
            f"| | {_fmt(c['bare_commit_per_message']['per_second'])} (per message) |",
            "",
        ]
        out += _cpu_rows(c, _fmt)
    if "memory_peak_mb" in results:
        peaks = results["memory_peak_mb"]
        names = ("intake", "routing", "notify")
        out += ["| phase | " + " | ".join(f"{n} MB" for n in names) + " |", "|---|---:|---:|---:|"]
        for phase, values in peaks.items():
            out.append(f"| {phase} | " + " | ".join(_fmt(values.get(n)) for n in names) + " |")
        out.append("")
    return "\n".join(out)


def _cpu_rows(consumers: dict[str, Any], show: Callable[[Any], str]) -> list[str]:
    """CPU milliseconds per event of each consumer's stack, where measured."""
    rows: list[str] = []
    for name in ("routing", "notify"):
        cpu = (consumers.get(name) or {}).get("cpu_ms_per_event")
        if not cpu:
            continue
        parts = [p for p in (name, "ferretdb", "postgres", "sum") if p in cpu]
        rows += [
            f"| CPU ms per {name} event | " + " | ".join(parts) + " |",
            "|---|" + "---:|" * len(parts),
            "| | " + " | ".join(show(cpu[p]) for p in parts) + " |",
            "",
        ]
    return rows


def _pair(before: Any, after: Any) -> str:
    return f"{_fmt(before)} → {_fmt(after)}"


def _get(results: dict[str, Any], *path: Any) -> Any:
    value: Any = results
    for key in path:
        if value is None:
            return None
        value = value[key] if isinstance(key, int) else value.get(key)
    return value


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The before → after tables of docs/benchmarks.md (two runs' JSON; the phases both ran)."""
    out: list[str] = []

    def both(phase: str) -> bool:
        return phase in before and phase in after

    if both("intake"):
        out += [
            "| clients | naive /s | intake, one address /s | x naive | intake, many addresses /s "
            "| x naive | intake p50 ms |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for i, clients in enumerate(CLIENTS):
            b, a = before["intake"][i], after["intake"][i]

            def cell(*path: str, b: Any = b, a: Any = a) -> str:
                return _pair(_get(b, *path), _get(a, *path))

            out.append(
                f"| {clients} | {cell('naive', 'accepted_per_second')} "
                f"| {cell('intake_one_address', 'accepted_per_second')} "
                f"| {cell('ratios', 'one_address_vs_naive')} "
                f"| {cell('intake_many_addresses', 'accepted_per_second')} "
                f"| {cell('ratios', 'many_addresses_vs_naive')} "
                f"| {cell('intake_one_address', 'p50_ms')} |"
            )
        out.append("")
    if both("intake_at_default_limit"):
        lb, la = before["intake_at_default_limit"], after["intake_at_default_limit"]
        out += [
            "| 64 clients at the default limit (60/min) | statuses before | statuses after |",
            "|---|---|---|",
            f"| one address | {lb['one_address']['statuses']} | {la['one_address']['statuses']} |",
            f"| many addresses | {lb['many_addresses']['statuses']} "
            f"| {la['many_addresses']['statuses']} |",
            "",
        ]
    if both("scale"):
        out += [
            "| stored tickets (before / after) | 8 clients /s | 64 clients /s |",
            "|---|---:|---:|",
        ]
        for i in range(2):
            b, a = before["scale"]["points"][i], after["scale"]["points"][i]
            rates = [
                _pair(
                    _get(b, f"clients_{n}", "accepted_per_second"),
                    _get(a, f"clients_{n}", "accepted_per_second"),
                )
                for n in (8, 64)
            ]
            out.append(
                f"| {b['stored_tickets']:,} / {a['stored_tickets']:,} | {rates[0]} | {rates[1]} |"
            )
        sb, sa = before["scale"], after["scale"]
        ratios = [
            _pair(sb[f"large_vs_small_{n}_clients"], sa[f"large_vs_small_{n}_clients"])
            for n in (8, 64)
        ]
        out += [f"| ratio, large / small | {ratios[0]} | {ratios[1]} |", ""]
    if both("latency"):
        out += ["| at 20 complaints/s | p50 ms | p99 ms |", "|---|---:|---:|"]
        for label, key in (
            ("broker produce → consume", "broker_round_trip"),
            ("submit → routed", "submit_to_routed"),
        ):
            b, a = before["latency"][key], after["latency"][key]
            out.append(
                f"| {label} | {_pair(b['p50_ms'], a['p50_ms'])} "
                f"| {_pair(b['p99_ms'], a['p99_ms'])} |"
            )
        for label, key in (
            ("of which submit → ticket.submitted on the topic", "intake_part"),
            ("of which ticket.submitted → routed", "routing_part"),
        ):
            b = before["latency"]["submit_to_routed"].get(key)
            a = after["latency"]["submit_to_routed"].get(key)
            if b and a:
                out.append(
                    f"| {label} | {_pair(b['p50_ms'], a['p50_ms'])} "
                    f"| {_pair(b['p99_ms'], a['p99_ms'])} |"
                )
        lb, la = before["latency"], after["latency"]
        out += [
            f"| ratio | {_pair(lb['p50_vs_broker'], la['p50_vs_broker'])} "
            f"| {_pair(lb['p99_vs_broker'], la['p99_vs_broker'])} |",
            "",
        ]
    if both("consumers"):
        out += [
            "| consumer | events/s | x bare loop, commit per message "
            "| x bare loop, commit per batch |",
            "|---|---:|---:|---:|",
        ]
        cb, ca = before["consumers"], after["consumers"]
        for name in ("routing", "notify"):
            out.append(
                f"| {name} | {_pair(cb[name]['per_second'], ca[name]['per_second'])} "
                f"| {_pair(cb[f'{name}_vs_bare_per_message'], ca[f'{name}_vs_bare_per_message'])} "
                f"| {_pair(cb[f'{name}_vs_bare_batch'], ca[f'{name}_vs_bare_batch'])} |"
            )
        bare = {
            kind: _pair(
                cb[f"bare_commit_per_{kind}"]["per_second"],
                ca[f"bare_commit_per_{kind}"]["per_second"],
            )
            for kind in ("message", "batch")
        }
        out += [f"| bare loop | per message {bare['message']}, per batch {bare['batch']} | | |", ""]
        for name in ("routing", "notify"):
            b, a = cb[name].get("cpu_ms_per_event"), ca[name].get("cpu_ms_per_event")
            if b and a:
                out += _cpu_rows(
                    {name: {"cpu_ms_per_event": {k: (b.get(k), a[k]) for k in a}}},
                    lambda pair: _pair(*pair),
                )
    out += ["| peak RSS, MB | intake | routing | notify |", "|---|---:|---:|---:|"]
    for phase in after["memory_peak_mb"]:
        b, a = before["memory_peak_mb"].get(phase, {}), after["memory_peak_mb"][phase]
        out.append(
            f"| {phase} | "
            + " | ".join(_pair(b.get(n), a.get(n)) for n in ("intake", "routing", "notify"))
            + " |"
        )
    return "\n".join(out) + "\n"


PHASES: Final[dict[str, Callable[[Run], Any]]] = {
    "counter": phase_counter,
    "latency": phase_latency,
    "consumers": phase_consumers,
    "intake": phase_intake,
    "scale": phase_scale,
}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    stack = Stack(f"bench-system-{os.getpid()}", Ports.free())
    stack.external_kafka = None  # never an outside server: ours, on loopback
    stack.external_mongo = None
    memory = MemorySampler(stack, ("intake", "routing", "notify"))
    run = Run(stack=stack, sizes=Sizes.of(args.quick), memory=memory)
    started = time.monotonic()
    run.results.update(
        benchmark="bench.system",
        commit=_commit(),
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        python=platform.python_version(),
        machine=f"{platform.machine()}, {os.cpu_count()} cores",
        quick=args.quick,
        sizes=run.sizes.__dict__,
    )
    try:
        for component in stack.brokers():
            await asyncio.to_thread(stack.start, component)
        await ensure_topics(stack.kafka_bootstrap)
        await create_topics(run, [RTT_TOPIC, NAIVE_TOPIC])
        memory.start()
        for name in args.phases:
            t = time.monotonic()
            print(f"[bench] phase {name} ...", flush=True)
            try:
                await PHASES[name](run)
            # devstack raises SystemExit when a component does not come up.
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - the other phases still run
                print(f"[bench] phase {name} failed: {type(exc).__name__}: {exc}", flush=True)
                run.results.setdefault("failed", {})[name] = f"{type(exc).__name__}: {exc}"
            run.results.setdefault("phase_seconds", {})[name] = round(time.monotonic() - t)
            run.results["memory_peak_mb"] = memory.peaks
            write(args.output, run.results)  # what is measured so far survives a later failure
    finally:
        memory.stop()
        await asyncio.to_thread(stack.remove)
    run.results["memory_peak_mb"] = memory.peaks
    run.results["seconds"] = round(time.monotonic() - started)
    return run.results


async def create_topics(run: Run, names: Sequence[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=run.kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, 3, 1) for n in names if n not in existing]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()


def write(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the load client when it is installed: the client then costs less CPU."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter loads, 10,000 tickets")
    parser.add_argument(
        "--phases", nargs="+", choices=list(PHASES), default=list(PHASES), help="what to run"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--report", action="store_true", help="print the table of --output")
    parser.add_argument(
        "--before", type=Path, help="with --report: before -> after tables against this run"
    )
    args = parser.parse_args(argv)
    if args.report:
        results = json.loads(args.output.read_text())
        if args.before:
            print(compare(json.loads(args.before.read_text()), results))
        else:
            print(table(results))
        return 0
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        results = runner.run(main_async(args))
    write(args.output, results)
    print(table(results))
    print(f"[bench] written to {args.output} in {results['seconds']}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
