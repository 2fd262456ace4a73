"""Fixtures of the integration tests: the one settings factory (`settings_for`), the stored
database (`stored`, or `module_stored` for a module whose tests share one app), the dev mail
catcher and gateway sink (`catcher`, `sink`), routing's
staff API, complaints as intake takes them in (`new_complaint`, `store_complaint`), routed
(`route_stored`) or put straight into the store as routing has them (`put_ticket`), and a
topic's records read back (`read_topic`)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient
from pymongo import MongoClient
from pymongo.asynchronous.database import AsyncDatabase

from devstack.mailcatcher import MailCatcher
from devstack.sink import Sink
from services.intake import complaints
from services.routing import service as routing_service
from services.routing.app import create_app
from services.routing.repository import TicketRepository
from services.routing.settings import RoutingSettings
from shared.catalogue import packaged_catalogue
from shared.events import Envelope, utcnow
from shared.mongo import Document
from shared.settings import ServiceSettings
from shared.tickets import Kind, Location, Reporter, Ticket
from shared.workdays import WorkCalendar
from tests.conftest import Infra, dev_accounts_seeded, dev_password

CLOSED_PORT_KAFKA = "127.0.0.1:1"  # nothing listens there: Kafka is "down" (or not needed)
AnySettings = TypeVar("AnySettings", bound=ServiceSettings)


def settings_for(
    kind: type[AnySettings], infra: Infra, database: str, **changes: Any
) -> AnySettings:
    """A service's settings on the test's MongoDB database; `changes` override.

    Intake and notify get no broker (CLOSED_PORT_KAFKA; pass `kafka_bootstrap_servers` for the
    real one); routing gets the real broker, a consumer group of its own, the dev accounts,
    three failed logins before a lock-out, and no statistics consumer (stopping it mid-join
    can take 40 s; tested on its own).
    """
    values: dict[str, Any] = {
        "mongodb_url": infra.mongodb_url,
        "mongodb_database": database,
        "kafka_bootstrap_servers": CLOSED_PORT_KAFKA,
    }
    if issubclass(kind, RoutingSettings):
        values.update(
            kafka_bootstrap_servers=infra.kafka_bootstrap,
            seed_dev_accounts=True,
            consumer_group=f"routing-{database}",
            login_max_failures=3,
            statistics_consumer=False,
        )
    return kind(**(values | changes))


@contextlib.contextmanager
def stored_database(infra: Infra, name: str) -> Iterator[Any]:
    """Database `name` through a synchronous client (tests seed and read the store with it),
    dropped afterwards."""
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url, tz_aware=True)
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture
def stored(infra: Infra, db_name: str) -> Iterator[Any]:
    """The test's database (`db_name`)."""
    with stored_database(infra, db_name) as database:
        yield database


@pytest.fixture(scope="module")
def module_stored(infra: Infra, request: pytest.FixtureRequest) -> Iterator[Any]:
    """One database for a module whose tests share one app (and one seeding of the dev
    accounts): each test creates what it needs and changes nothing the others rely on."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    with stored_database(infra, f"{module}_{uuid.uuid4().hex[:8]}") as database:
        yield database


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    """The dev mail catcher on free ports: the SMTP server notify sends email to."""
    catcher = MailCatcher().start()
    try:
        yield catcher
    finally:
        catcher.stop()


@pytest.fixture
def sink_secret() -> str:
    """The secret the `sink` checks webhook signatures with (empty: it checks none)."""
    return ""


@pytest.fixture
def sink(sink_secret: str) -> Iterator[Sink]:
    """The dev gateway sink on a free port: WhatsApp, SMS and webhook posts land there."""
    sink = Sink(webhook_secret=sink_secret).start()
    try:
        yield sink
    finally:
        sink.stop()


@contextlib.contextmanager
def routing_client(infra: Infra, stored: Any, **changes: Any) -> Iterator[TestClient]:
    """Routing's app on the database `stored` (`changes` to its `settings_for`), once its dev
    accounts are seeded."""
    settings = settings_for(RoutingSettings, infra, stored.name, **changes)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        dev_accounts_seeded(stored)
        yield client


@pytest.fixture
def api(infra: Infra, stored: Any) -> Iterator[TestClient]:
    """Routing's staff API on the test's database."""
    with routing_client(infra, stored) as client:
        yield client


def auth(api: TestClient, username: str) -> dict[str, str]:
    response = api.post(
        "/api/v1/auth/token", data={"username": username, "password": dev_password(username)}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


CITIZEN = Reporter(email="warga@example.com")
SITI = Reporter(name="Siti", email="siti@example.com")


def new_complaint(
    description: str,
    *,
    location: Location | None = None,
    reporter: Reporter | None = CITIZEN,
    category: str | None = None,
    anonymous: bool = False,
    synthetic: bool = False,
    now: datetime | None = None,
    tracking_code: str | None = None,
) -> tuple[Ticket, Envelope]:
    """A complaint as intake takes it in (`submitted`, its event in the outbox), in KEC-CIRUAS
    unless `location` says otherwise."""
    return complaints.new_ticket(
        tracking_code=tracking_code or complaints.new_tracking_code("LP"),
        reply_token="t",
        now=now or utcnow(),
        correlation_id="c",
        kind=Kind.COMPLAINT,
        description=description,
        title=None,
        category=category,
        location=location or Location(kecamatan="KEC-CIRUAS"),
        reporter=reporter,
        anonymous=anonymous,
        confidential=False,
        synthetic=synthetic,
    )


async def store_complaint(db: AsyncDatabase[Document], description: str, **options: Any) -> str:
    """A `new_complaint` (`options` are its own) stored in `db`; its tracking code."""
    ticket, _ = new_complaint(description, **options)
    await db.tickets.insert_one(ticket.to_document())
    return ticket.tracking_code


async def route_stored(
    db: AsyncDatabase[Document], code: str, *, threshold: float = 0.5, **options: Any
) -> bool:
    """Routing's `route_submitted_ticket` on a stored ticket, with the packaged catalogue and
    the default calendar; `options` are its own (`clusters`, `choice_timeout`, ...)."""
    return await routing_service.route_submitted_ticket(
        tracking_code=code,
        tickets=TicketRepository(db),
        catalogue=packaged_catalogue(),
        threshold=threshold,
        calendar=WorkCalendar(),
        **options,
    )


def put_ticket(
    stored: Any,
    *,
    status: str = "routed",
    opd: str | None = "DPUPR",
    description: str = "Jalan berlubang besar di depan sekolah dasar",
    anonymous: bool = False,
    due_in: timedelta | None = None,
    kecamatan: str = "KEC-CIRUAS",
    desa: str | None = None,
    by: Reporter = SITI,
    submitted_ago: timedelta = timedelta(0),
    **fields: Any,
) -> str:
    """A complaint `by` a citizen put straight into the store as routing has it (`status` at
    `opd`, its outbox sent); `fields` are set on the stored document."""
    ticket, _ = new_complaint(
        description,
        location=Location(kecamatan=kecamatan, desa=desa),
        reporter=by,
        category="jalan-rusak",
        anonymous=anonymous,
        now=utcnow() - submitted_ago,
    )
    doc = ticket.to_document()
    doc.update(
        status=status,
        opd=opd,
        outbox=[],
        due_at=utcnow() + due_in if due_in is not None else None,
        **fields,
    )
    stored.tickets.insert_one(doc)
    return ticket.tracking_code


def put_proposed_cluster(stored: Any, cluster_id: str, codes: list[str], **member: Any) -> None:
    """A cluster the router proposed of `codes` (the first its primary) put straight into the
    store, its members pointing at it; `member` is set on each member ticket too."""
    now = utcnow()
    stored.clusters.insert_one(
        {
            "_id": cluster_id,
            "opd": "DPUPR",
            "primary": codes[0],
            "members": codes,
            "proposed": [],
            "status": "proposed",
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "history": [],
        }
    )
    stored.tickets.update_many(
        {"_id": {"$in": codes}}, {"$set": {"cluster_id": cluster_id, **member}}
    )


async def read_topic(
    infra: Infra, topic: str, expected: int, *, timeout_s: float = 60
) -> list[tuple[bytes, Envelope, dict[str, bytes]]]:
    """The first `expected` records of `topic` (key, event, headers), read from the start."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[tuple[bytes, Envelope, dict[str, bytes]]] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(found) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for r in records:
                        found.append((r.key, Envelope.from_bytes(r.value), dict(r.headers)))
    finally:
        await consumer.stop()
    return found
