"""Intake and routing as real processes, on a database of their own, for end-to-end tests."""

from __future__ import annotations

import contextlib
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pymongo import MongoClient

from devstack.stack import Ports, Stack
from tests.conftest import Infra


@dataclass(frozen=True)
class Running:
    intake: str
    routing: str
    database: str
    consumer_group: str  # routing's; its statistics projection's is `<this>-statistics`


@contextlib.contextmanager
def intake_and_routing(infra: Infra, name: str, **env: str) -> Iterator[Running]:
    run = uuid.uuid4().hex[:8]
    database, group = f"e2e_{name}_{run}", f"routing-{run}"
    stack = Stack(
        f"e2e-{name}-{run}",
        Ports.free(),
        kafka=infra.kafka_bootstrap,
        mongodb=infra.mongodb_url,
        service_env={"MONGODB_DATABASE": database, "ROUTING_CONSUMER_GROUP": group, **env},
    )
    try:
        for component in stack.services():
            if component.name in ("intake", "routing"):
                stack.start(component)
        yield Running(
            f"http://127.0.0.1:{stack.ports.intake}",
            f"http://127.0.0.1:{stack.ports.routing}",
            database,
            group,
        )
    finally:
        stack.down()
        shutil.rmtree(stack.var, ignore_errors=True)
        client: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url)
        client.drop_database(database)
        client.close()


def eventually(check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """`check()` until it returns something true, or its last answer after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)
