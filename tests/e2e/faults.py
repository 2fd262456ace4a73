"""The fault run: complaints through every front door of two intake instances, while each
service instance, Kafka, FerretDB and PostgreSQL are killed (SIGKILL) and started again; then
what must hold is counted (docs/reliability.md).

`Scale.from_env()` reads FAULTS_COMPLAINTS and FAULTS_ROUNDS (kill rounds over every target);
`make test` runs a short scale, `make test-faults` the full one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import MongoClient

from devstack.cluster import Cluster, wait_until
from devstack.tools import say
from services.intake.chat import whatsapp
from services.intake.settings import DEV_SMS_SECRET, DEV_WHATSAPP_APP_SECRET
from shared import topics
from shared.events import utcnow
from tests.e2e.kafka_lag import tickets_lag

CHANNELS = ("api", "web", "open311", "sms", "whatsapp")
OPEN311_KEY = "dev-open311-key"
CODE = re.compile(r"LP-[0-9A-Z]{4}-[0-9A-Z]{4}")
SMS_PART = re.compile(r"^(.*)/([0-9]+)$")
POISON_HEADER = "fault.poison"
KIRIM = {"id": "kirim", "title": "Kirim"}
# Complaints that name their kecamatan and desa, so a chat needs no more questions than these.
STORIES = (
    "Jalan desa rusak parah dan berlubang di Ds Citerep Kec Ciruas, mohon segera diperbaiki",
    "Sampah menumpuk di pinggir jalan dekat pasar Ds Citerep Kec Ciruas, bau sekali",
    "Lampu penerangan jalan mati sudah seminggu di Ds Citerep Kec Ciruas, gelap dan rawan",
    "Saluran air tersumbat sehingga banjir setiap hujan di Ds Citerep Kec Ciruas",
)


@dataclass(frozen=True)
class Scale:
    complaints: int
    rounds: int  # each round kills every target once
    workers: int = 6
    gap_s: float = 2.0  # between one kill's restart and the next kill
    down_s: float = 2.0  # between a kill and the restart

    @classmethod
    def from_env(cls) -> Scale:
        env = os.environ
        return cls(
            complaints=int(env.get("FAULTS_COMPLAINTS", "100")),
            rounds=int(env.get("FAULTS_ROUNDS", "1")),
            gap_s=float(env.get("FAULTS_GAP_SECONDS", "1")),
            down_s=float(env.get("FAULTS_DOWN_SECONDS", "1")),
        )


@dataclass(frozen=True)
class Reporter:
    """Personal data of one complaint's reporter, distinct per run and complaint."""

    name: str
    email: str
    phone: str  # +62…
    nik: str

    @property
    def local_phone(self) -> str:
        return "0" + self.phone.removeprefix("+62")


def needles(who: Reporter) -> list[str]:
    """The forms a reporter's personal data would take in text."""
    return [who.name, who.email, who.phone.removeprefix("+"), who.local_phone, who.nik]


def broker_log_lines(cluster: Cluster, reporters: list[Reporter]) -> list[str]:
    """Lines of Kafka's, PostgreSQL's and FerretDB's own logs naming a reporter's data, with
    the data blanked out (reported, not asserted: those logs belong to the database hosts)."""
    found = []
    wanted = {n for who in reporters for n in needles(who)}
    for name in ("kafka", "postgres", "ferretdb"):
        log = cluster.stack.log_dir / f"{name}.log"
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            hits = [n for n in wanted if n in line]
            for hit in hits:
                line = line.replace(hit, "<personal data>")
            if hits:
                found.append(f"{name}: {line[:300]}")
    return found


def reporter(run: str, i: int) -> Reporter:
    digits = int(run[:6], 16) % 10_000
    return Reporter(
        name=f"Nyimas Ujiwati {run[:4].upper()}{i:04d}",
        email=f"warga.{run}.{i}@contoh.id",
        phone=f"+62857{digits:04d}{i:04d}",
        nik=f"3604{digits:04d}{i:08d}",
    )


@dataclass
class Submission:
    i: int
    channel: str
    who: Reporter
    marker: str
    accepted: bool = False
    tracking_code: str | None = None
    codes_seen: set[str] = field(default_factory=set)
    attempts: int = 0


# -- clients that retry as documented ---------------------------------------------------------


class GiveUp(Exception):
    pass


class Door:
    """One front-door client: tries an intake instance and, when it is away, the next one, with
    the same idempotency key or message id, until `budget_s` is spent."""

    def __init__(self, cluster: Cluster, budget_s: float = 180.0) -> None:
        self._urls = [cluster.url(n) for n in cluster.service_names("intake")]
        self._budget_s = budget_s
        self._turn = itertools.count()
        self._http = httpx.Client(timeout=15.0)

    def close(self) -> None:
        self._http.close()

    def call(self, sub: Submission, make: Callable[[httpx.Client, str], httpx.Response]) -> Any:
        deadline = time.monotonic() + self._budget_s
        delay = 0.2
        while time.monotonic() < deadline:
            base = self._urls[next(self._turn) % len(self._urls)]
            sub.attempts += 1
            try:
                response = make(self._http, base)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 500 and response.status_code != 429:
                return response
            time.sleep(delay)
            delay = min(delay * 2, 3.0)
        raise GiveUp(f"complaint {sub.i} ({sub.channel}) not accepted in {self._budget_s:.0f}s")


def api_body(sub: Submission) -> dict[str, Any]:
    return {
        "description": f"{STORIES[sub.i % len(STORIES)]}. NIK saya {sub.who.nik}. {sub.marker}",
        "location": {"kecamatan": "KEC-CIRUAS", "desa": "Citerep"},
        "reporter": {"name": sub.who.name, "email": sub.who.email, "phone": sub.who.phone},
    }


def submit_api(door: Door, sub: Submission) -> None:
    key = f"fault-{sub.marker}"

    def post(http: httpx.Client, base: str) -> httpx.Response:
        return http.post(
            f"{base}/api/v1/complaints", json=api_body(sub), headers={"Idempotency-Key": key}
        )

    response = door.call(sub, post)
    assert response.status_code == 201, response.text
    _accepted(sub, response.json()["tracking_code"])


def submit_web(door: Door, sub: Submission) -> None:
    body = api_body(sub)
    form: dict[str, str] = {}

    def post(_: httpx.Client, base: str) -> httpx.Response:
        with httpx.Client(timeout=15.0) as browser:  # its own cookies, as a browser's
            return send(browser, base)

    def send(http: httpx.Client, base: str) -> httpx.Response:
        if not form:  # the page once: its CSRF cookie and token, and the form_key
            page = http.get(f"{base}/")
            if page.status_code != 200:
                return page
            form["csrf"] = _hidden(page.text, "csrf")
            form["form_key"] = _hidden(page.text, "form_key")
            form["cookie"] = page.cookies.get("lp_csrf") or ""
        http.cookies.set("lp_csrf", form["cookie"])
        data = {
            "csrf": form["csrf"],
            "form_key": form["form_key"],
            "kind": "complaint",
            "description": body["description"],
            "kecamatan": "KEC-CIRUAS",
            "desa": "KEC-CIRUAS|Citerep",
            "name": sub.who.name,
            "email": sub.who.email,
            "phone": sub.who.local_phone,
        }
        return http.post(f"{base}/kirim", data=data)

    response = door.call(sub, post)
    assert response.status_code == 201, response.text[:500]
    match = CODE.search(response.text)
    assert match is not None
    _accepted(sub, match.group(0))


def submit_open311(door: Door, sub: Submission) -> None:
    body = api_body(sub)
    first, _, last = sub.who.name.rpartition(" ")
    data = {
        "api_key": OPEN311_KEY,
        "service_code": "jalan-rusak",
        "description": body["description"],
        "address_id": "KEC-CIRUAS/Citerep",
        "first_name": first,
        "last_name": last,
        "email": sub.who.email,
        "phone": sub.who.local_phone,
    }

    def post(http: httpx.Client, base: str) -> httpx.Response:
        headers = {"Idempotency-Key": f"fault-{sub.marker}"}
        return http.post(f"{base}/open311/v2/requests.json", data=data, headers=headers)

    response = door.call(sub, post)
    assert response.status_code == 201, response.text
    _accepted(sub, response.json()[0]["service_request_id"])


def submit_sms(door: Door, sub: Submission) -> None:
    story = f"{STORIES[sub.i % len(STORIES)]} {sub.marker}"
    for n, text in enumerate((story, "YA", "KIRIM")):
        data = {"from": sub.who.local_phone, "text": text, "id": f"sms-{sub.marker}-{n}"}

        def post(http: httpx.Client, base: str, data: dict[str, str] = data) -> httpx.Response:
            return http.post(
                f"{base}/api/v1/channels/sms/webhook",
                data=data,
                headers={"X-Sms-Secret": DEV_SMS_SECRET},
            )

        response = door.call(sub, post)
        assert response.status_code == 200, response.text
    sub.accepted = True


def submit_whatsapp(door: Door, sub: Submission) -> None:
    story = f"{STORIES[sub.i % len(STORIES)]} {sub.marker}"
    number = sub.who.phone.removeprefix("+")
    steps: list[tuple[str, dict[str, Any]]] = [
        ("text", {"body": story}),
        ("text", {"body": "LEWATI"}),  # no photo
        ("text", {"body": "YA"}),
        ("interactive", {"type": "button_reply", "button_reply": KIRIM}),
    ]
    for n, (kind, content) in enumerate(steps):
        message = {
            "from": number,
            "id": f"wamid.{sub.marker}.{n}",
            "timestamp": str(int(time.time())),
            "type": kind,
            kind: content,
        }
        raw = json.dumps(whatsapp.envelope(sender=number, name=sub.who.name, message=message))
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": whatsapp.sign(raw.encode(), DEV_WHATSAPP_APP_SECRET),
        }

        def post(
            http: httpx.Client, base: str, raw: str = raw, headers: dict[str, str] = headers
        ) -> httpx.Response:
            return http.post(
                f"{base}/api/v1/channels/whatsapp/webhook", content=raw.encode(), headers=headers
            )

        response = door.call(sub, post)
        assert response.status_code == 200, response.text
    sub.accepted = True


SUBMIT: dict[str, Callable[[Door, Submission], None]] = {
    "api": submit_api,
    "web": submit_web,
    "open311": submit_open311,
    "sms": submit_sms,
    "whatsapp": submit_whatsapp,
}


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, f"no {name} in the form"
    return match.group(1)


def _accepted(sub: Submission, code: str) -> None:
    sub.codes_seen.add(code)
    sub.tracking_code = code
    sub.accepted = True


# -- Kafka: poison in, topics out -------------------------------------------------------------


async def inject_poison(bootstrap: str, count: int) -> list[str]:
    """Messages no consumer can read, each marked by a header, on the ticket topic."""
    ids = [uuid.uuid4().hex for _ in range(count)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        await producer.start()
        for n, poison_id in enumerate(ids):
            value = b"{not json" if n % 2 == 0 else json.dumps({"event_type": 42}).encode()
            await producer.send_and_wait(
                topics.TICKETS,
                value,
                key=f"poison-{poison_id}".encode(),
                headers=[(POISON_HEADER, poison_id.encode())],
            )
    finally:
        await producer.stop()
    return ids


async def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, dict[str, bytes]]]:
    """Every message of a topic up to its end now: value and headers."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
        [spec] = [t for t in topics.ALL_TOPICS if t.name == topic]
        parts = [TopicPartition(topic, p) for p in range(spec.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: list[tuple[bytes, dict[str, bytes]]] = []
        deadline = time.monotonic() + 60
        while [p for p in parts if await consumer.position(p) < ends[p]]:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end")
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                found += [(r.value or b"", dict(r.headers or ())) for r in records]
        return found
    finally:
        await consumer.stop()


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What was done and found; `figures()` are the lines printed at the end."""

    scale: Scale
    submissions: list[Submission]
    kills: dict[str, int]
    poison: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    mails: list[dict[str, Any]] = field(default_factory=list)
    ticket_events: list[tuple[bytes, dict[str, bytes]]] = field(default_factory=list)
    dead_letters: dict[str, list[tuple[bytes, dict[str, bytes]]]] = field(default_factory=dict)
    escalated: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    broker_log_lines: list[str] = field(default_factory=list)
    chat_replies: list[str] = field(default_factory=list)  # their delivery keys
    chat_outboxes_left: int = 0

    # -- derived counts --------------------------------------------------------------------
    def tickets_by_marker(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for ticket in self.tickets:
            match = re.search(r"uji[0-9a-f]{8}x[0-9]{5}", ticket.get("description") or "")
            if match:
                found.setdefault(match.group(0), []).append(ticket)
        return found

    def lost(self) -> list[str]:
        by_marker = self.tickets_by_marker()
        return [s.marker for s in self.submissions if s.accepted and not by_marker.get(s.marker)]

    def doubled_tickets(self) -> list[str]:
        return [m for m, found in self.tickets_by_marker().items() if len(found) > 1]

    def not_routed_once(self) -> list[str]:
        wrong = []
        for ticket in self.tickets:
            routes = [h for h in ticket.get("history", []) if h.get("action") == "route"]
            if len(routes) != 1 or ticket.get("status") == "submitted":
                wrong.append(str(ticket["_id"]))
        return wrong

    def received(self) -> Counter[tuple[str, str]]:
        """Each (delivery key, part) as often as a receiver got it; SMS parts are posted as
        `<key>/<part>`, everything else whole."""
        raw: Counter[tuple[str, str]] = Counter()
        for post in self.posts:
            if post["key"] and post["status"] == 200:
                key, part = post["key"], ""
                if post["path"] == "/sms" and (split := SMS_PART.match(key)):
                    key, part = split.group(1), split.group(2)
                raw[(key, part)] += 1
        raw.update((m["delivery_key"], "") for m in self.mails if m["delivery_key"])
        return raw

    def delivered_keys(self) -> Counter[str]:
        """How many times a receiver took each key as new: the sink (like a provider) and a
        mail client (by Message-ID, which follows from the key) drop a repeated one, so a
        count above 1 means two different sends were taken for the same message."""
        keys: Counter[str] = Counter()
        for post in self.posts:
            if post["delivered"] and post["key"]:
                key = post["key"]
                if post["path"] == "/sms" and (split := SMS_PART.match(key)):
                    if split.group(2) != "1":
                        continue  # a message in parts counts once, by its first part
                    key = split.group(1)
                keys[key] += 1
        keys.update({m["delivery_key"] for m in self.mails if m["delivery_key"]})
        return keys

    def raw_resends(self) -> int:
        """Posts or mails repeating a (key, part) already received: the crash window."""
        return sum(n - 1 for n in self.received().values() if n > 1)

    def expected_keys(self) -> set[str]:
        """What must have arrived: every delivery notify recorded and, independently of
        notify's records, every chat reply intake stored and the webhook of every distinct
        ticket event Kafka holds."""
        keys = {str(d["_id"]) for d in self.deliveries if d.get("channel") != "log"}
        keys.update(self.chat_replies)  # as intake stored them, whether notify heard or not
        for value, headers in self.ticket_events:
            if POISON_HEADER in headers:
                continue
            event_id = json.loads(value)["event_id"]
            keys.add(f"{event_id}:webhook:webhook:sink")
        return keys

    def missing_messages(self) -> list[str]:
        delivered = self.delivered_keys()
        return sorted(k for k in self.expected_keys() if delivered[k] == 0)

    def doubled_messages(self) -> list[str]:
        """Keys a receiver took as new twice (the sink drops a repeated key like a provider;
        the mail catcher does not, so an email resent is counted here)."""
        return sorted(k for k, n in self.delivered_keys().items() if n > 1)

    def unfinished_deliveries(self) -> list[str]:
        return [f"{d['_id']}={d['status']}" for d in self.deliveries if d["status"] != "sent"]

    def unexpected_dead_letters(self) -> list[str]:
        return [
            f"{topic}: {headers.get('dlq.error', b'?').decode(errors='replace')[:120]}"
            for topic, found in self.dead_letters.items()
            for _, headers in found
            if POISON_HEADER not in headers
        ]

    def poison_dead_lettered(self, topic: str) -> set[str]:
        return {
            headers[POISON_HEADER].decode()
            for _, headers in self.dead_letters.get(topic, [])
            if POISON_HEADER in headers
        }

    def escalations(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for ticket in self.tickets:
            if ticket["_id"] in self.escalated:
                steps = [h for h in ticket.get("history", []) if h.get("action") == "escalate"]
                found[str(ticket["_id"])] = len(steps)
        return found

    def escalation_events(self) -> Counter[str]:
        found: Counter[str] = Counter()
        seen: set[str] = set()
        for value, headers in self.ticket_events:
            if POISON_HEADER in headers:
                continue
            event = json.loads(value)
            if event["event_type"] == "ticket.escalated" and event["event_id"] not in seen:
                seen.add(event["event_id"])
                found[event["ticket_id"]] += 1
        return found

    def figures(self) -> list[str]:
        by_channel = Counter(s.channel for s in self.submissions)
        accepted = sum(s.accepted for s in self.submissions)
        kills = ", ".join(f"{name} {n}" for name, n in sorted(self.kills.items()))
        escalations = self.escalations()
        return [
            f"submitted: {len(self.submissions)} ("
            + ", ".join(f"{c} {by_channel[c]}" for c in CHANNELS)
            + f"); accepted {accepted}; client attempts "
            f"{sum(s.attempts for s in self.submissions)}; gave up {len(self.gave_up)}",
            f"kills (SIGKILL, then restart): {sum(self.kills.values())}: {kills}",
            f"tickets: {len(self.tickets)}; lost {len(self.lost())}; "
            f"duplicated {len(self.doubled_tickets())}; not routed exactly once "
            f"{len(self.not_routed_once())}",
            f"messages expected: {len(self.expected_keys())}; missing "
            f"{len(self.missing_messages())}; duplicated {len(self.doubled_messages())}; "
            f"raw resends of one key (dropped by the receiver) {self.raw_resends()}; "
            f"deliveries not sent {len(self.unfinished_deliveries())}",
            f"dead letters: poison injected {len(self.poison)}, in "
            + ", ".join(
                f"{t} {len(self.poison_dead_lettered(t))}" for t in sorted(self.dead_letters)
            )
            + f"; unexpected {len(self.unexpected_dead_letters())}",
            f"deadline: {len(self.escalated)} tickets overdue, escalated "
            f"{sum(escalations.values())} times, escalation events "
            f"{sum(self.escalation_events()[c] for c in self.escalated)}",
            f"chat conversations whose outbox still holds events after the run (published "
            f"or not: the messages line counts every reply): {self.chat_outboxes_left}",
            f"personal data in the brokers' own logs (reported, not asserted): "
            f"{len(self.broker_log_lines)} lines"
            + (f", e.g. {self.broker_log_lines[0]}" if self.broker_log_lines else ""),
            "seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in self.seconds.items()),
        ]


def targets(cluster: Cluster) -> list[str]:
    """One round: one instance of each service, each broker, then the other instances."""
    first = [f"{s}-1" for s in ("intake", "routing", "notify")]
    rest = [n for n in cluster.service_names() if n not in first]
    return [first[0], "kafka", first[1], "postgres", first[2], "ferretdb", *rest]


def chaos(cluster: Cluster, scale: Scale, stop: threading.Event) -> None:
    for _ in range(scale.rounds):
        for name in targets(cluster):
            if stop.wait(scale.gap_s):
                return
            say(f"faults: killing {name}")
            cluster.kill(name, down_s=scale.down_s)


def run(cluster: Cluster, scale: Scale) -> Outcome:
    """Submit, kill, drain, overdue, collect: everything the assertions and figures need."""
    run_id = cluster.run
    subs = [
        Submission(i, CHANNELS[i % len(CHANNELS)], reporter(run_id, i), f"uji{run_id}x{i:05d}")
        for i in range(scale.complaints)
    ]
    outcome = Outcome(scale, subs, cluster.kills, [])
    bootstrap = cluster.stack.kafka_bootstrap
    started = time.monotonic()

    stop = threading.Event()
    chaos_thread = threading.Thread(target=chaos, args=(cluster, scale, stop), daemon=True)
    chaos_thread.start()
    door = Door(cluster)
    poisoned = threading.Event()

    def submit(sub: Submission) -> None:
        if sub.i == scale.complaints // 3 and not poisoned.is_set():
            poisoned.set()
            outcome.poison = _poison(bootstrap)
        try:
            SUBMIT[sub.channel](door, sub)
        except GiveUp as exc:
            outcome.gave_up.append(str(exc))

    try:
        with ThreadPoolExecutor(scale.workers) as pool:
            list(pool.map(submit, _paced(subs, chaos_thread, scale)))
        chaos_thread.join(timeout=600)
    finally:
        stop.set()
        door.close()
    outcome.seconds["submitting under faults"] = time.monotonic() - started

    mongo: MongoClient[dict[str, Any]] = MongoClient(cluster.stack.mongodb_url)
    db = mongo[cluster.database]
    try:
        t = time.monotonic()
        # Bounded, and long enough for the backlog a long run leaves on a busy machine.
        settle_s = max(240.0, 1.0 * scale.complaints)
        settled = wait_until(
            lambda: _settled(db, outcome, bootstrap, f"notify-{cluster.run}"),
            timeout_s=settle_s,
            every_s=2,
        )
        outcome.seconds["settling"] = time.monotonic() - t
        if settled:
            t = time.monotonic()
            outcome.escalated = _overdue(db, count=min(10, scale.complaints // 5))
            wait_until(lambda: _all_escalated(db, outcome.escalated), timeout_s=60, every_s=1)
            time.sleep(3)  # more deadline passes of both routing instances: nothing twice
            wait_until(
                lambda: _settled(db, outcome, bootstrap, f"notify-{cluster.run}"),
                timeout_s=60,
                every_s=1,
            )
            outcome.seconds["deadline"] = time.monotonic() - t
        outcome.tickets = list(db.tickets.find({}, {"outbox": 0}))
        outcome.deliveries = list(db.deliveries.find({}, {"message": 0}))
        outcome.chat_replies = [
            _chat_key(m) for m in db.chat_messages.find({"direction": "out"}, {"channel": 1})
        ]
        outcome.chat_outboxes_left = db.chat_conversations.count_documents(
            {"outbox.0": {"$exists": True}}
        )
    finally:
        mongo.close()
    outcome.posts = cluster.sink.messages()
    outcome.mails = cluster.mail.messages()
    outcome.ticket_events = asyncio.run(read_topic(bootstrap, topics.TICKETS))
    outcome.dead_letters = {
        t: asyncio.run(read_topic(bootstrap, t)) for t in (topics.DLQ_ROUTING, topics.DLQ_NOTIFY)
    }
    outcome.broker_log_lines = broker_log_lines(cluster, [s.who for s in subs])
    outcome.seconds["total"] = time.monotonic() - started
    return outcome


def _paced(
    subs: list[Submission], chaos_thread: threading.Thread, scale: Scale
) -> Iterator[Submission]:
    """Spread the complaints over the kills: while kills are still to come, hand out work at
    a rate that lasts about as long as the kills do."""
    rounds_s = scale.rounds * 9 * (scale.gap_s + 6.0)
    per_s = max(len(subs) / rounds_s, 2.0)
    start = time.monotonic()
    for n, sub in enumerate(subs):
        if chaos_thread.is_alive():
            wait = start + n / per_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        yield sub


def _poison(bootstrap: str) -> list[str]:
    for _ in range(30):  # Kafka may be the one being killed just now
        try:
            return asyncio.run(inject_poison(bootstrap, 2))
        except Exception as exc:  # noqa: BLE001 (any client error: try again shortly)
            say(f"faults: poison not published yet ({type(exc).__name__})")
            time.sleep(2)
    raise AssertionError("could not publish the poison messages")


def _settled(db: Any, outcome: Outcome, bootstrap: str, notify_group: str) -> bool:
    """Every accepted complaint has a routed ticket, no outbox waits, notify has handled every
    ticket event published (else an event's deliveries are not even recorded yet), every
    delivery is done."""
    accepted = {s.marker for s in outcome.submissions if s.accepted}
    tickets = list(db.tickets.find({}, {"description": 1, "status": 1, "outbox": 1}))
    markers = set()
    for ticket in tickets:
        if ticket.get("outbox") or ticket.get("status") == "submitted":
            return False
        match = re.search(r"uji[0-9a-f]{8}x[0-9]{5}", ticket.get("description") or "")
        if match:
            markers.add(match.group(0))
    if not accepted <= markers:
        return False
    try:
        if asyncio.run(tickets_lag(bootstrap, notify_group)) > 0:
            return False
    except Exception:  # noqa: BLE001 (the broker just restarted: not settled yet)
        return False
    if db.deliveries.count_documents({"status": {"$in": ["pending", "retrying"]}}):
        return False
    # Every chat reply intake stored has its delivery (published, whatever its outbox says).
    replies = {_chat_key(m) for m in db.chat_messages.find({"direction": "out"}, {"channel": 1})}
    return replies <= {d["_id"] for d in db.deliveries.find({"template": "chat_reply"}, {"_id": 1})}


def _chat_key(message: dict[str, Any]) -> str:
    return f"{message['_id']}:{message['channel']}:citizen"


def _overdue(db: Any, *, count: int) -> list[str]:
    """Move the deadline of some routed tickets into the past, as the clock would."""
    codes = [d["_id"] for d in db.tickets.find({"status": "routed"}, {"_id": 1}).limit(count)]
    past = utcnow() - timedelta(minutes=5)
    for code in codes:
        db.tickets.update_one({"_id": code}, {"$set": {"due_at": past}})
    return [str(c) for c in codes]


def _all_escalated(db: Any, codes: list[str]) -> bool:
    return all(
        (doc := db.tickets.find_one({"_id": c}, {"escalated_for": 1})) and doc.get("escalated_for")
        for c in codes
    )
