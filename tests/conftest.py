"""Fixtures shared by the whole suite.

Integration and end-to-end tests use the real Kafka broker and MongoDB-compatible server named
by KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL (`make test` starts both on free ports). Run
without them, the suite starts its own through devstack, so plain `pytest` works too
(in var/pytest-<pid>/, removed afterwards).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from pymongo import MongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document, connect

if TYPE_CHECKING:
    from devstack.stack import Ports, Stack


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    mongodb_url: str


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URL")
    if kafka and mongo:
        yield Infra(kafka, mongo)
        return
    from devstack.stack import Ports, Stack

    stack = Stack(f"pytest-{os.getpid()}", Ports.free())
    stack.up(with_services=False)
    try:
        yield Infra(stack.kafka_bootstrap, stack.mongodb_url)
    finally:
        stack.remove()


@pytest.fixture
def db_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def db(infra: Infra, db_name: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database on the real server, dropped afterwards."""
    client = connect(infra.mongodb_url)
    try:
        yield client[db_name]
    finally:
        await client.drop_database(db_name)
        await client.close()


def dev_password(username: str) -> str:
    """The password of a dev account that routing seeds (README: admin, auditor, officers and
    supervisors)."""
    if username in ("admin", "auditor"):
        return username
    return "supervisor" if username.endswith("-kepala") else "officer"


def dev_accounts_seeded(stored: Any) -> None:
    """Wait (30 s at most) until routing has seeded its dev accounts into the synchronous
    database `stored`: it does so in the background once it has started."""
    from shared.catalogue import packaged_catalogue

    accounts = 2 + 2 * len(
        packaged_catalogue().opds
    )  # admin, auditor; an officer and a head per OPD
    deadline = time.monotonic() + 30
    while stored.accounts.count_documents({}) < accounts and time.monotonic() < deadline:
        time.sleep(0.1)


def services_stack(infra: Infra, name: str, **env: str) -> Stack:
    """The services as processes on free ports over the suite's Kafka and database, each run
    with its own database (`e2e_<name>_<run>`) and consumer groups; `env` is added."""
    from devstack.stack import Ports, Stack

    run = uuid.uuid4().hex[:8]
    return Stack(
        f"e2e-{name}-{run}",
        Ports.free(),
        kafka=infra.kafka_bootstrap,
        mongodb=infra.mongodb_url,
        service_env={
            "MONGODB_DATABASE": f"e2e_{name}_{run}",
            "ROUTING_CONSUMER_GROUP": f"routing-{run}",
            "NOTIFY_CONSUMER_GROUP": f"notify-{run}",
            **env,
        },
    )


def stack_database(stack: Stack) -> str:
    """The database a `services_stack`'s services keep their data in."""
    return stack.service_env["MONGODB_DATABASE"]


@contextlib.contextmanager
def running_services(infra: Infra, name: str, *only: str, **env: str) -> Iterator[Stack]:
    """The services named in `only` (all three when none is) running on a `services_stack`;
    stopped afterwards, with the stack's files and its database removed."""
    stack = services_stack(infra, name, **env)
    try:
        for component in stack.services():
            if not only or component.name in only:
                stack.start(component)
        yield stack
    finally:
        stack.down()
        shutil.rmtree(stack.var, ignore_errors=True)
        client: MongoClient[Document] = MongoClient(infra.mongodb_url)
        try:
            client.drop_database(stack_database(stack))
        finally:
            client.close()


@contextlib.contextmanager
def all_services(infra: Infra, name: str, **env: str) -> Iterator[Ports]:
    """The three services running on a `services_stack`; stopped and removed afterwards."""
    with running_services(infra, name, **env) as stack:
        yield stack.ports


def start_of_a_rate_window() -> None:
    """Wait out the last seconds of a minute: the rate limiter counts in whole-minute windows,
    so a burst that straddles a minute boundary would be counted in two windows."""
    from shared.events import utcnow

    second = utcnow().second
    if second >= 50:
        time.sleep(61 - second)
