"""Intake and routing as real processes, on a database of their own, for end-to-end tests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.conftest import Infra, running_services, stack_database


@dataclass(frozen=True)
class Running:
    intake: str
    routing: str
    database: str
    consumer_group: str  # routing's; its statistics projection's is `<this>-statistics`


@contextlib.contextmanager
def intake_and_routing(infra: Infra, name: str, **env: str) -> Iterator[Running]:
    with running_services(infra, name, "intake", "routing", **env) as stack:
        yield Running(
            f"http://127.0.0.1:{stack.ports.intake}",
            f"http://127.0.0.1:{stack.ports.routing}",
            stack_database(stack),
            stack.service_env["ROUTING_CONSUMER_GROUP"],
        )


def eventually(check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """`check()` until it returns something true, or its last answer after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)
