"""`make soak`: the whole system on loopback (its own Kafka, PostgreSQL and FerretDB, one
instance of each service) under a steady load at half its measured capacity.

First the capacity: complaints sent as fast as `--clients` connections allow for
`--measure-seconds`, then the time until routing and notify have handled all of them (consumer
lag and outbox backlog at zero); capacity is accepted complaints over that whole time. Then
`--seconds` (SOAK_SECONDS, default 600) at half that rate. It reports throughput, latency
percentiles, errors, each service's memory at start and end, and consumer lag and outbox
backlog over time, and fails when errors occur, lag or backlog do not return to zero, or a
service's memory grows by more than `--max-growth` (default 50 %) plus 20 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient

from bench import load
from devstack.cluster import Cluster, rss_mb
from devstack.tools import ROOT, say
from shared import topics
from shared.tickets import outbox_flag

SERVICE_ENV = {
    "ROUTING_STATISTICS_CONSUMER": "false",
    "ROUTING_RETRAIN_INTERVAL_S": "3600",
    "ROUTING_OUTBOX_POLL_INTERVAL_S": "0.5",
    "NOTIFY_EMAIL__RATE_PER_SECOND": "1000",
    "NOTIFY_EMAIL__BURST": "100",
    "NOTIFY_WEBHOOK__RATE_PER_SECOND": "1000",
    "NOTIFY_WEBHOOK__BURST": "100",
}


def complaint(run: str) -> load.RequestFactory:
    def body(i: int) -> bytes:
        return json.dumps(
            {
                "description": f"Jalan rusak berlubang di depan SD nomor {i}, sudah dua minggu "
                f"belum diperbaiki, motor sering jatuh kalau malam ({run}-{i}).",
                "location": {"kecamatan": "KEC-CIRUAS"},
                "reporter": {"email": f"soak.{run}.{i}@contoh.id"},
            }
        ).encode()

    return load.post_json("/api/v1/complaints", body, forwarded_for=True)


class Probe:
    """Consumer lag per group on the ticket topic, and tickets with events still waiting."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        env = cluster.service_env()
        self._groups = [env["ROUTING_CONSUMER_GROUP"], env["NOTIFY_CONSUMER_GROUP"]]
        self._mongo: MongoClient[dict[str, Any]] = MongoClient(cluster.stack.mongodb_url)
        self._bootstrap = cluster.stack.kafka_bootstrap

    def close(self) -> None:
        self._mongo.close()

    def backlog(self) -> int:
        tickets = self._mongo[self._cluster.database].tickets
        return sum(tickets.count_documents({outbox_flag(p): True}) for p in ("intake", "routing"))

    async def lag(self) -> dict[str, int]:
        [spec] = [t for t in topics.ALL_TOPICS if t.name == topics.TICKETS]
        parts = [TopicPartition(topics.TICKETS, p) for p in range(spec.partitions)]
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap)
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        try:
            await consumer.start()
            await admin.start()
            ends = await consumer.end_offsets(parts)
            lags = {}
            for group in self._groups:
                committed = await admin.list_consumer_group_offsets(group, partitions=parts)
                done = {tp: max(committed[tp].offset, 0) for tp in parts if tp in committed}
                lags[group.split("-")[0]] = sum(ends[tp] - done.get(tp, 0) for tp in parts)
            return lags
        finally:
            await consumer.stop()
            await admin.close()

    async def sample(self) -> dict[str, Any]:
        return {
            "at_s": round(time.monotonic(), 1),
            "lag": await self.lag(),
            "backlog": await asyncio.to_thread(self.backlog),
            "rss_mb": {name: rss_mb(pid) for name, pid in self._cluster.pids().items()},
        }

    async def drained(self, timeout_s: float) -> tuple[bool, float]:
        """Wait until lag and backlog are zero; whether they were, and how long it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            sample = await self.sample()
            if sample["backlog"] == 0 and not any(sample["lag"].values()):
                return True, time.monotonic() - started
            await asyncio.sleep(1.0)
        return False, time.monotonic() - started


async def measure_capacity(
    cluster: Cluster, probe: Probe, *, clients: int, seconds: float
) -> dict[str, Any]:
    port = cluster.ports["intake-1"]
    started = time.monotonic()
    burst = await load.closed_loop(
        port, complaint("cap"), clients=clients, seconds=seconds, max_requests=10**7
    )
    drained, after_s = await probe.drained(timeout_s=600)
    total_s = time.monotonic() - started
    accepted = burst.statuses[201]
    return {
        "front_door": burst.summary(),
        "drained": drained,
        "pipeline_seconds": round(total_s, 1),
        "capacity_per_second": round(accepted / total_s, 2),
        "drain_seconds": round(after_s, 1),
    }


async def soak(
    cluster: Cluster, probe: Probe, *, per_second: float, seconds: float
) -> dict[str, Any]:
    port = cluster.ports["intake-1"]
    samples: list[dict[str, Any]] = [await probe.sample()]
    stop = asyncio.Event()

    async def sampling() -> None:
        while not stop.is_set():
            try:
                async with asyncio.timeout(10):
                    await stop.wait()
            except TimeoutError:
                samples.append(await probe.sample())

    sampler = asyncio.create_task(sampling())
    result = await load.open_loop(
        port,
        complaint("soak"),
        per_second=per_second,
        seconds=seconds,
        on_answer=lambda *_: None,
    )
    stop.set()
    await sampler
    drained, after_s = await probe.drained(timeout_s=300)
    samples.append(await probe.sample())
    return {
        "load": result.summary(),
        "drained": drained,
        "drain_seconds": round(after_s, 1),
        "samples": samples,
    }


def verdict(results: dict[str, Any], max_growth: float) -> list[str]:
    """What went wrong, if anything."""
    problems = []
    run = results["soak"]
    if run["load"]["errors"] or set(run["load"]["statuses"]) != {"201"}:
        problems.append(f"errors or refusals: {run['load']['statuses']} {run['load']['errors']}")
    if not run["drained"]:
        problems.append("consumer lag or outbox backlog did not return to zero")
    first, last = run["samples"][0]["rss_mb"], run["samples"][-1]["rss_mb"]
    for name, start in first.items():
        end = last.get(name)
        if start and end and end > start * (1 + max_growth) + 20:
            problems.append(f"{name} memory grew from {start} MB to {end} MB")
    return problems


def figures(results: dict[str, Any]) -> list[str]:
    cap, run = results["capacity"], results["soak"]
    front = cap["front_door"]
    lines = [
        f"capacity: {cap['capacity_per_second']}/s end to end ({front['statuses'].get('201', 0)} "
        f"complaints sent at {front['per_second']}/s, all handled in {cap['pipeline_seconds']} s)",
    ]
    loaded = run["load"]
    lines.append(
        f"soak: {results['seconds']:.0f} s at {results['per_second']}/s: {loaded['responses']} "
        f"answers ({loaded['per_second']}/s), statuses {loaded['statuses']}, errors "
        f"{loaded['errors'] or 0}; latency p50 {loaded['p50_ms']} ms, p90 {loaded['p90_ms']} ms, "
        f"p99 {loaded['p99_ms']} ms, max {loaded['max_ms']} ms"
    )
    first, last = run["samples"][0], run["samples"][-1]
    lines.append(
        "memory (MB, start -> end): "
        + ", ".join(f"{n} {first['rss_mb'][n]} -> {last['rss_mb'].get(n)}" for n in first["rss_mb"])
    )
    worst_lag = max(sum(s["lag"].values()) for s in run["samples"])
    worst_backlog = max(s["backlog"] for s in run["samples"])
    lines.append(
        f"consumer lag: at most {worst_lag} events, at the end {last['lag']}; outbox backlog: "
        f"at most {worst_backlog} tickets, at the end {last['backlog']}; drained "
        f"{run['drained']} in {run['drain_seconds']} s after the load"
    )
    return lines


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cluster = Cluster("soak", instances=1, env=SERVICE_ENV)
    try:
        await asyncio.to_thread(cluster.start)
        probe = Probe(cluster)
        try:
            say("soak: measuring capacity ...")
            capacity = await measure_capacity(
                cluster, probe, clients=args.clients, seconds=args.measure_seconds
            )
            rate = max(round(capacity["capacity_per_second"] / 2, 2), 0.5)
            measured = capacity["capacity_per_second"]
            say(f"soak: {args.seconds:.0f} s at {rate}/s (half of {measured}/s)")
            soaked = await soak(cluster, probe, per_second=rate, seconds=args.seconds)
        finally:
            probe.close()
    finally:
        await asyncio.to_thread(cluster.remove)
    return {"capacity": capacity, "per_second": rate, "seconds": args.seconds, "soak": soaked}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600"))
    )
    parser.add_argument("--measure-seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-growth", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "soak.json")
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    for line in figures(results):
        print(f"[soak] {line}")
    problems = verdict(results, args.max_growth)
    for problem in problems:
        print(f"[soak] FAILED: {problem}")
    print(f"[soak] results in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
