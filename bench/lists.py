"""`make bench-lists`: officers' list and count queries over many tickets, per FerretDB backend.

For each backend (sqlite, postgresql) it starts its own FerretDB through devstack, on free
loopback ports in var/bench-lists-<backend>-<N>/, loads N synthetic tickets shaped like
intake's and routing's (once; a later run with the same N and seed reuses them), times the real
queries of services/routing/queries.py: each one a warm-up run and up to `--repeats` timed runs
(fewer when one measurement passes `--budget-s`), reported as the median and as the ratio to a
single `_id` lookup in the same run. Results go to var/bench/lists-<backend>.json; a table is
printed. The whole run stops itself: loading stops at `--load-minutes` (the tickets loaded by
then are what is measured, and the JSON says so), and measurements left when `--max-minutes`
has passed are recorded as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pymongo
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from devstack.stack import FERRETDB_BACKENDS, Ports, Stack
from devstack.tools import FERRETDB_VERSION, ROOT
from services.routing.classification.examples import original_examples as packaged_examples
from services.routing.queries import TicketFilter, TicketQueries, build_query
from shared.auth import Principal, Role
from shared.catalogue import packaged_catalogue
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.mongo import Document
from shared.search import search_tokens
from shared.ticket_store import TicketStore
from shared.tickets import COLLECTION, Ticket

OUTPUT_DIR: Final = ROOT / "var" / "bench"
DATABASE: Final = "bench_lists"
DATASET_VERSION: Final = 2
BATCH: Final = 1000
IN_FLIGHT: Final = 2
PAGE: Final = 50
OFFICER_OPD: Final = "DPUPR"  # the busiest OPD: its officers have the longest lists
SEARCH: Final = "jalan rusak"
YEARS: Final = 3
TRACKING_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


# -- the synthetic tickets -----------------------------------------------------------------------
def tracking_code(i: int) -> str:
    """A unique code of the intake format (LP-XXXX-XXXX) for ticket number i, not sequential."""
    n = (i * 792_606_555_396_977 + 12_345) % (30**8)  # a bijection on 0..30^8-1 (odd multiplier)
    chars = []
    for _ in range(8):
        n, r = divmod(n, 30)
        chars.append(TRACKING_ALPHABET[r])
    body = "".join(chars)
    return f"LP-{body[:4]}-{body[4:]}"


def zipf_weights(n: int, s: float) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


@dataclass
class Generator:
    """Tickets over YEARS years with skewed OPDs and kecamatan and age-dependent statuses."""

    seed: int
    now: datetime
    rng: random.Random = field(init=False)
    by_opd: dict[str, list[tuple[str, str | None]]] = field(init=False)
    opds: list[str] = field(init=False)
    opd_weights: list[float] = field(init=False)
    kecamatan: list[str] = field(init=False)
    kecamatan_weights: list[float] = field(init=False)
    desa: dict[str, tuple[str, ...]] = field(init=False)
    categories: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        catalogue = packaged_catalogue()
        self.by_opd = {}
        for example in packaged_examples():
            self.by_opd.setdefault(example.opd, []).append((example.text, example.category))
        # The busiest first: roads, environment, ... (ordered by how often examples name them).
        ranked = sorted(self.by_opd, key=lambda o: (o != OFFICER_OPD, -len(self.by_opd[o]), o))
        self.opds = ranked
        self.opd_weights = zipf_weights(len(ranked), 0.9)
        regions = list(catalogue.regions)
        self.rng.shuffle(regions)
        self.kecamatan = [r.name for r in regions]
        self.kecamatan_weights = zipf_weights(len(regions), 0.5)
        self.desa = {r.name: r.desa or (r.name,) for r in regions}
        self.categories = {}
        for c in catalogue.categories:
            self.categories.setdefault(c.opd, []).append(c.code)

    def status_for(self, age: timedelta) -> str:
        """A backlog-heavy mix: one draw, the first status whose cumulative share covers it.

        Older than 60 days: 84 % closed, 16 % still in progress; 14 to 60 days: 45 % closed,
        55 % routed; the last 14 days: 35 % routed, 65 % not yet routed. (These are the shares
        the documented runs had; docs/benchmarks.md.)"""
        r = self.rng.random()
        table: tuple[tuple[str, float], ...]
        if age > timedelta(days=60):
            table = (("closed", 0.84), ("in_progress", 1.0))
        elif age > timedelta(days=14):
            table = (("closed", 0.45), ("routed", 1.0))
        else:
            table = (("routed", 0.35), ("submitted", 1.0))
        return next(status for status, upto in table if r <= upto)

    def ticket(self, i: int) -> Document:
        rng = self.rng
        opd = rng.choices(self.opds, self.opd_weights)[0]
        text, example_category = rng.choice(self.by_opd[opd])
        kecamatan = rng.choices(self.kecamatan, self.kecamatan_weights)[0]
        desa = rng.choice(self.desa[kecamatan])
        choices = self.categories.get(opd)
        category = example_category or (rng.choice(choices) if choices else None)
        submitted = self.now - timedelta(seconds=rng.uniform(0, YEARS * 365 * 86400))
        submitted = submitted.replace(microsecond=submitted.microsecond // 1000 * 1000)
        status = self.status_for(self.now - submitted)
        routed = status not in ("submitted", "triage")
        title = " ".join(text.split()[:8])
        description = f"{text} Lokasi: Desa {desa}, Kecamatan {kecamatan}."
        code = tracking_code(i)
        history = [_step(submitted, "citizen", "submit", None, "submitted")]
        if status == "triage":
            history.append(_step(submitted, "routing", "triage", "submitted", "triage"))
        path = ["routed", "verified", "in_progress", "resolved", "closed"]
        if routed:
            reached = ["routed"] + (
                [] if status == "rejected" else path[1 : path.index(status) + 1]
            )
            at, before = submitted + timedelta(seconds=5), "submitted"
            for step in reached:
                history.append(_step(at, f"{opd.lower()}", step, before, step))
                before, at = step, at + timedelta(hours=rng.uniform(1, 120))
            if status == "rejected":
                history.append(_step(at, opd.lower(), "reject", "routed", "rejected"))
        updated = history[-1]["at"]
        anonymous = rng.random() < 0.15
        return {
            "_id": code,
            "tracking_code": code,
            "version": len(history),
            "status": status,
            "kind": rng.choices(["complaint", "suggestion", "information"], [85, 10, 5])[0],
            "title": title,
            "description": description,
            "category": category,
            "location": {"kecamatan": kecamatan, "desa": desa, "address": None},
            "reporter": None
            if anonymous
            else {"name": f"Warga {i}", "email": f"warga{i}@contoh.id", "phone": None},
            "anonymous": anonymous,
            "confidential": rng.random() < 0.03,
            "reply_token_hash": hashlib.sha256(code.encode()).hexdigest(),
            "submitted_at": submitted,
            "updated_at": updated,
            "opd": {"submitted": None, "triage": "TRIASE"}.get(status, opd),
            "routing": {
                "opd": opd,
                "confidence": round(rng.uniform(0.4, 0.99), 3),
                "reasons": [f"kata kunci: {w}" for w in title.split()[:2]],
                "model": "rules+nb-v1",
            }
            if routed
            else None,
            "due_at": submitted + timedelta(days=14) if routed else None,
            "resolved_at": updated if status in ("resolved", "closed") else None,
            "history": history,
            "comments": [],
            "photos": [],
            "rating": None,
            "source": rng.choices(["web", "api", "open311"], [70, 20, 10])[0],
            "search_tokens": search_tokens(title, description),
            "duplicate_key": hashlib.sha256(description.encode()).hexdigest()[:32],
            "possible_duplicate_of": None,
            "correlation_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "outbox": [],
        }

    def batches(self, start: int, stop: int) -> Iterator[list[Document]]:
        for first in range(start, stop, BATCH):
            yield [self.ticket(i) for i in range(first, min(first + BATCH, stop))]


def _step(at: datetime, actor: str, action: str, before: str | None, after: str) -> Document:
    """A history entry in its stored form (what shared.tickets.history_entry produces)."""
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "from": before,
        "to": after,
        "note": None,
        "public": True,
        "internal_note": None,
    }


# -- loading -------------------------------------------------------------------------------------
async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    """The indexes the services create on `tickets` (routing's lists, intake's look-ups)."""
    await TicketQueries(db[COLLECTION]).ensure_indexes()
    await db[COLLECTION].create_index([("duplicate_key", 1)])
    await db[COLLECTION].create_index([("submitted_at", -1)])


async def load(
    db: AsyncDatabase[Document], gen: Generator, n: int, deadline: float
) -> dict[str, Any]:
    """Insert n tickets in batches (IN_FLIGHT at once) until done or `deadline` (monotonic)."""
    await db.drop_collection(COLLECTION)
    await db.drop_collection("bench_meta")
    await ensure_indexes(db)
    tickets = db[COLLECTION]
    started = last_report = time.monotonic()
    loaded = 0
    stats: Counter[str] = Counter()
    pending: set[asyncio.Future[Any]] = set()
    stopped_early = False
    for batch in gen.batches(0, n):
        if loaded == 0:
            for doc in batch[:50]:
                Ticket.from_document(doc)  # the shape is the stored ticket's
        if time.monotonic() > deadline:
            stopped_early = True
            break
        while len(pending) >= IN_FLIGHT:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        pending.add(asyncio.create_task(tickets.insert_many(batch, ordered=False)))
        for doc in batch:
            if doc["opd"] == OFFICER_OPD:
                stats["officer_opd_tickets"] += 1
                if doc["status"] in OPEN_STATUSES:
                    stats["officer_opd_open"] += 1
                    if doc["due_at"] is not None and doc["due_at"] < gen.now:
                        stats["officer_opd_overdue"] += 1
        loaded += len(batch)
        now = time.monotonic()
        if now - last_report > 15 or loaded == n:
            rate = loaded / (now - started)
            eta = (n - loaded) / rate if rate else 0
            print(
                f"  loaded {loaded:>9,} of {n:,}  {rate:,.0f}/s  eta {eta / 60:.1f} min", flush=True
            )
            last_report = now
    for task in asyncio.as_completed(pending):
        await task
    seconds = time.monotonic() - started
    count = await tickets.count_documents({}) if stopped_early else loaded
    meta = {
        "_id": "dataset",
        "version": DATASET_VERSION,
        "seed": gen.seed,
        "requested": n,
        "tickets": count,
        "now": gen.now,
        "load_seconds": round(seconds, 1),
        "load_rate_per_s": round(count / seconds),
        "stopped_early": stopped_early,
        "kecamatan_most_common": gen.kecamatan[0],
        **stats,
    }
    await db["bench_meta"].insert_one(meta)
    return meta


# -- measuring -----------------------------------------------------------------------------------
@dataclass
class Clock:
    repeats: int
    budget_s: float  # stop repeating once a measurement has taken this long
    cap_s: float  # one call that takes longer is cut off (maxTimeMS) and reported as "> cap"
    deadline: float  # monotonic; measurements not started by then are skipped

    async def measure(self, make: Callable[[int], Awaitable[Any]]) -> dict[str, Any]:
        """A warm-up call, then up to `repeats` timed calls; a warm-up slower than the budget
        is the only run (these are full scans: the cache does not change them)."""
        if time.monotonic() > self.deadline:
            return {"skipped": "time limit of the run reached"}
        times: list[float] = []
        started = time.monotonic()
        result: Any = None
        for i in range(self.repeats + 1):
            cap = max(1.0, min(self.cap_s, self.deadline - time.monotonic()))
            t = time.perf_counter()
            try:
                with pymongo.timeout(cap):
                    result = await make(i)
            except PyMongoError as exc:
                if not exc.timeout:
                    raise
                return {
                    "timed_out_ms": round(cap * 1000),
                    "runs_ms": [round(t, 2) for t in times],
                    "result": f"no answer within {cap:.0f} s ({type(exc).__name__})",
                }
            times.append((time.perf_counter() - t) * 1000)
            spent = time.monotonic() - started
            if spent > self.budget_s and (len(times) >= 2 or times[0] > self.budget_s * 1000):
                break
            if time.monotonic() > self.deadline:
                break
        timed = times[1:] if len(times) > 1 else times
        return {
            "median_ms": round(statistics.median(timed), 2),
            "runs_ms": [round(t, 2) for t in timed],
            "warmup_ms": round(times[0], 2) if len(times) > 1 else None,
            "result": result,
        }


def _page_summary(page: tuple[list[Ticket], str | None]) -> str:
    tickets, cursor = page
    return f"{len(tickets)} rows" + (", more" if cursor else "")


async def measure_all(db: AsyncDatabase[Document], clock: Clock, now: datetime) -> dict[str, Any]:
    tickets = db[COLLECTION]
    queries = TicketQueries(tickets)
    store = TicketStore(db)
    officer = Principal(username="dpupr", role=Role.OFFICER, opd=OFFICER_OPD)
    admin = Principal(username="admin", role=Role.ADMIN)
    meta = await db["bench_meta"].find_one({"_id": "dataset"})
    assert meta is not None
    n = int(meta["tickets"])
    rng = random.Random(7)
    codes = [tracking_code(rng.randrange(n)) for _ in range(64)]
    category = "jalan-rusak"
    kecamatan = str(meta["kecamatan_most_common"])

    def page(who: Principal, f: TicketFilter, sort: str = "-submitted_at") -> Callable[[int], Any]:
        async def run(_: int) -> str:
            return _page_summary(
                await queries.page(who, f, now=now, sort=sort, limit=PAGE, cursor=None)
            )

        return run

    async def by_id(i: int) -> str:
        doc = await store.get(codes[i % len(codes)])
        return "found" if doc else "missing"

    first_cursor: list[str | None] = []

    async def first_page(_: int) -> str:
        page = await queries.page(
            officer, TicketFilter(), now=now, sort="-submitted_at", limit=PAGE, cursor=None
        )
        first_cursor[:] = [page[1]]
        return _page_summary(page)

    async def second_page(_: int) -> str:
        if not first_cursor:
            raise PyMongoError("no cursor: the first page did not finish")
        return _page_summary(
            await queries.page(
                officer,
                TicketFilter(),
                now=now,
                sort="-submitted_at",
                limit=PAGE,
                cursor=first_cursor[0],
            )
        )

    async def counts(_: int) -> dict[str, int]:
        return await queries.counts(officer, now)

    async def update(i: int) -> str:
        ticket = await store.get(codes[(i + 17) % len(codes)])
        assert ticket is not None
        changed = await store.update(ticket, set_fields={"updated_at": now})
        return "updated" if changed else "conflict"

    plan: list[tuple[str, str, Callable[[int], Awaitable[Any]]]] = [
        ("id_lookup", "one ticket by _id (TicketStore.get)", by_id),
        ("list_opd", f"officer's list, newest first, limit {PAGE}", first_page),
        (
            "filter_status",
            "officer's list, status in_progress",
            page(officer, TicketFilter(status=["in_progress"])),
        ),
        (
            "filter_overdue",
            "officer's list, overdue, by due date",
            page(officer, TicketFilter(overdue=True), "due_at"),
        ),
        (
            "filter_category",
            f"officer's list, category {category}",
            page(officer, TicketFilter(category=category)),
        ),
        (
            "filter_kecamatan",
            f"officer's list, kecamatan {kecamatan}",
            page(officer, TicketFilter(kecamatan=kecamatan)),
        ),
        ("search", f"officer's list, search '{SEARCH}'", page(officer, TicketFilter(q=SEARCH))),
        ("cursor_page_2", "officer's list, second page by cursor", second_page),
        ("counts", "officer's dashboard counts ($group by status, overdue)", counts),
        ("admin_list", f"admin's list of all tickets, limit {PAGE}", page(admin, TicketFilter())),
        ("update", "read one ticket and update it (TicketStore.get + .update)", update),
    ]
    results: dict[str, Any] = {}
    for name, what, make in plan:
        print(f"  {name:20} ...", end="", flush=True)
        if name == "cursor_page_2" and not first_cursor:
            measured: dict[str, Any] = {"skipped": "the first page did not finish"}
        else:
            measured = await clock.measure(make)
        measured["what"] = what
        if name.startswith(("list", "filter", "search", "admin")):
            f = {
                "list_opd": TicketFilter(),
                "filter_status": TicketFilter(status=["in_progress"]),
                "filter_overdue": TicketFilter(overdue=True),
                "filter_category": TicketFilter(category=category),
                "filter_kecamatan": TicketFilter(kecamatan=kecamatan),
                "search": TicketFilter(q=SEARCH),
                "admin_list": TicketFilter(),
            }[name]
            measured["query"] = repr(
                build_query(admin if name == "admin_list" else officer, f, now)
            )
        results[name] = measured
        print(
            f" {measured.get('median_ms', '-')} ms",
            measured.get("result", measured.get("skipped")),
            flush=True,
        )
    base = results["id_lookup"].get("median_ms")
    for measured in results.values():
        if base and "median_ms" in measured:
            measured["ratio_to_id"] = round(measured["median_ms"] / base, 1)
        if base and "timed_out_ms" in measured:
            measured["ratio_to_id_at_least"] = round(measured["timed_out_ms"] / base, 1)
        if "result" in measured:
            measured["result"] = str(measured["result"])
    return results


# -- one backend ---------------------------------------------------------------------------------
async def bench_backend(backend: str, args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    stack = Stack(f"bench-lists-{backend}-{args.tickets}", Ports.free(), backend=backend)
    stack.external_mongo = None  # never an outside server: ours, on loopback
    stack.external_kafka = None
    assert stack.mongodb_url.startswith("mongodb://127.0.0.1:")
    print(f"[bench] {backend}: starting FerretDB ({stack.var})", flush=True)
    for component in stack.databases():
        stack.start(component)
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        stack.mongodb_url,
        tz_aware=True,
        serverSelectionTimeoutMS=10_000,
        socketTimeoutMS=int(args.cap_s * 1000) + 30_000,
        appname="bench-lists",
    )
    try:
        db = client[DATABASE]
        meta = await db["bench_meta"].find_one({"_id": "dataset"})
        reuse = (
            meta is not None
            and meta.get("version") == DATASET_VERSION
            and meta.get("seed") == args.seed
            and meta.get("requested") == args.tickets
            and not meta.get("stopped_early")
            and not args.fresh
        )
        if meta is not None and reuse:
            print(
                f"[bench] {backend}: reusing {meta['tickets']:,} tickets loaded before", flush=True
            )
        else:
            print(f"[bench] {backend}: loading {args.tickets:,} tickets ...", flush=True)
            gen = Generator(seed=args.seed, now=datetime.now(UTC).replace(microsecond=0))
            load_deadline = min(deadline, time.monotonic() + args.load_minutes * 60)
            meta = await load(db, gen, args.tickets, load_deadline)
        if not meta["tickets"]:
            raise SystemExit(f"[bench] {backend}: no tickets loaded before the time limit")
        now = meta["now"]
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        # "Now" is when the data were made, so overdue counts do not drift between runs.
        clock = Clock(
            repeats=args.repeats, budget_s=args.budget_s, cap_s=args.cap_s, deadline=deadline
        )
        print(f"[bench] {backend}: measuring ...", flush=True)
        results = await measure_all(db, clock, now)
        data_mb = _du(stack.var / ("postgres" if backend == "postgresql" else "ferretdb"))
    finally:
        await client.close()
        stack.down()
    return {
        "benchmark": "services.routing.queries (TicketQueries.page/counts) over FerretDB",
        "backend": backend,
        "ferretdb": FERRETDB_VERSION,
        "commit": args.commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "dataset": {k: v for k, v in meta.items() if k not in ("_id", "now")},
        "data_on_disk_mb": data_mb,
        "officer_opd": OFFICER_OPD,
        "page_size": PAGE,
        "repeats": args.repeats,
        "results": results,
    }


def _commit() -> str:
    """The checked-out commit (the query shapes measured are those of services/routing)."""
    found = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT
    )
    return found.stdout.strip() or "unknown"


def _du(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return round(total / 2**20)


def table(reports: Sequence[dict[str, Any]]) -> str:
    head = f"{'query':22}" + "".join(f"{r['backend'] + ' ms':>14}{'x _id':>9}" for r in reports)
    lines = [head, "-" * len(head)]
    for name in reports[0]["results"]:
        row = f"{name:22}"
        for r in reports:
            m = r["results"][name]
            if "median_ms" in m:
                row += f"{m['median_ms']:>14,.1f}{m.get('ratio_to_id', 0):>9,.1f}"
            elif "timed_out_ms" in m:
                ratio = m.get("ratio_to_id_at_least")
                row += f"{'>' + format(m['timed_out_ms'], ','):>14}"
                row += f"{'>' + format(ratio, ',.0f') if ratio else '':>9}"
            else:
                row += f"{'skipped':>14}{'':>9}"
        lines.append(row)
    sizes = ", ".join(f"{r['backend']}: {r['dataset']['tickets']:,} tickets" for r in reports)
    return "\n".join([*lines, sizes])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lists", description=__doc__)
    parser.add_argument("--backend", choices=[*FERRETDB_BACKENDS, "both"], default="both")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per query (max)")
    parser.add_argument("--budget-s", type=float, default=60.0, help="stop repeating after this")
    parser.add_argument("--load-minutes", type=float, default=40.0, help="per backend")
    parser.add_argument("--max-minutes", type=float, default=150.0, help="the whole run")
    parser.add_argument("--cap-s", type=float, default=60.0, help="cut off one call after")
    parser.add_argument("--fresh", action="store_true", help="reload even if the data exist")
    parser.add_argument("--report", action="store_true", help="only print the saved results")
    args = parser.parse_args(argv)
    if args.report:
        saved = [OUTPUT_DIR / f"lists-{b}.json" for b in FERRETDB_BACKENDS]
        print(table([json.loads(p.read_text()) for p in saved if p.exists()]))
        return 0
    args.commit = _commit()  # what was imported, whatever is committed while this runs
    deadline = time.monotonic() + args.max_minutes * 60
    backends = list(FERRETDB_BACKENDS) if args.backend == "both" else [args.backend]
    reports = []
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    for backend in backends:
        report = asyncio.run(bench_backend(backend, args, deadline))
        out = OUTPUT_DIR / f"lists-{backend}.json"
        out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"[bench] {backend}: written to {out.relative_to(ROOT)}", flush=True)
        reports.append(report)
    print(table(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
