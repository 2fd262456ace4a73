"""Intake and routing as real processes, on a database of their own, for end-to-end tests, and
the dev accounts' sign-in over HTTP."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Infra, dev_password, running_services, stack_database


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


def staff_headers(routing: str, username: str) -> dict[str, str]:
    """The bearer header of dev account `username`, signed in at routing's URL `routing`."""
    response = httpx.post(
        f"{routing}/api/v1/auth/token",
        data={"username": username, "password": dev_password(username)},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def eventually(check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """`check()` until it returns something true, or its last answer after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)
