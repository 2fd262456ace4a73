"""Fixtures shared by the whole suite.

Integration and end-to-end tests use the real Kafka broker and MongoDB-compatible server named
by KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL (`make test` starts both on free ports). Run
without them, the suite starts its own through devstack, so plain `pytest` works too
(in var/pytest-<pid>/, removed afterwards).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document, connect


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


def start_of_a_rate_window() -> None:
    """Wait out the last seconds of a minute: the rate limiter counts in whole-minute windows,
    so a burst that straddles a minute boundary would be counted in two windows."""
    from shared.events import utcnow

    second = utcnow().second
    if second >= 50:
        time.sleep(61 - second)
