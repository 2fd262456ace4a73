"""Services as real processes, on a database of their own, for end-to-end tests (intake and
routing, or one of them), and the dev accounts' sign-in over HTTP."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from pymongo import MongoClient
from pymongo.database import Database

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


@dataclass(frozen=True)
class OneService:
    url: str
    db: Database[dict[str, Any]]  # its database, through a synchronous client


@contextlib.contextmanager
def one_service(infra: Infra, name: str, service: str) -> Iterator[OneService]:
    """Only `service` as a real process, on a database of its own (removed afterwards)."""
    with running_services(infra, name, service) as stack:
        client: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url, tz_aware=True)
        try:
            url = f"http://127.0.0.1:{getattr(stack.ports, service)}"
            yield OneService(url, client[stack_database(stack)])
        finally:
            client.close()


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
