"""End to end: intake and routing as real processes under the loads that used to take them
down: a burst from one address, decompression bombs, a sign-in flood. Memory is the
process's own peak (VmHWM in /proc), read before and after."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from devstack.stack import Stack
from tests.conftest import Infra, running_services, start_of_a_rate_window

pytestmark = pytest.mark.e2e

LIMIT = 20
MB = 1024 * 1024
BODY = {
    "description": "Saluran air depan pasar mampet, air meluap ke jalan tiap hujan.",
    "location": {"kecamatan": "Ciruas"},
}


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def stack(infra: Infra) -> Iterator[Stack]:
    with running_services(
        infra,
        "load",
        "intake",
        "routing",
        INTAKE_RATE_LIMIT_PER_MINUTE=str(LIMIT),
        ROUTING_LOGIN_MAX_FAILURES_PER_ADDRESS="10",
        FORWARDED_ALLOW_IPS="127.0.0.1",
    ) as stack:
        yield stack


async def _post_many(url: str, clients: int, each: int) -> list[httpx.Response]:
    """`clients` connections posting at once, each `each` times in a row."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one_client() -> list[httpx.Response]:
            return [await client.post(url, json=BODY) for _ in range(each)]

        batches = await asyncio.gather(*(one_client() for _ in range(clients)))
    return [response for batch in batches for response in batch]


def test_64_concurrent_posts_from_one_address_get_only_201_or_429(stack: Stack) -> None:
    start_of_a_rate_window()
    url = f"http://127.0.0.1:{stack.ports.intake}/api/v1/complaints"
    responses = asyncio.run(_post_many(url, 64, each=8))
    assert len(responses) == 512
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 429}, statuses
    assert statuses[201] == LIMIT, statuses
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["Retry-After"]) <= 60


def _image(kind: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, kind, **({"quality": 40} if kind == "JPEG" else {}))
    return out.getvalue()


def test_a_decompression_bomb_gets_413_and_intake_memory_stays_bounded(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.ports.intake}"
    # Other tests of this module may have used the address's limit: come from another one.
    headers = {"X-Forwarded-For": "127.9.9.9"}
    created = httpx.post(f"{base}/api/v1/complaints", json=BODY, headers=headers)
    assert created.status_code == 201, created.text
    code, token = created.json()["tracking_code"], created.json()["reply_token"]
    url = f"{base}/api/v1/complaints/{code}/photos"
    photo_headers = {"X-Reply-Token": token, **headers}

    def upload(data: bytes, name: str) -> httpx.Response:
        return httpx.post(url, headers=photo_headers, files={"file": (name, data)}, timeout=60)

    assert upload(_image("JPEG", (640, 480)), "warm.jpg").status_code == 201
    pid = stack.pid("intake")
    assert pid is not None
    before = peak_rss(pid)
    bombs = {
        "png-100-megapixels": _image("PNG", (10_000, 10_000), mode="1"),  # a few KB
        "jpeg-40-megapixels": _image("JPEG", (6300, 6300)),  # a few hundred KB
    }
    for name, data in bombs.items():
        assert len(data) < 1 * MB, name
        refused = upload(data, f"{name}.img")
        assert refused.status_code == 413, (name, refused.text)
    after_bombs = peak_rss(pid)
    assert after_bombs - before < 30 * MB, f"bombs raised intake's peak by {after_bombs - before}"
    # The largest photo allowed (16 megapixels) is decoded, bounded by the cap.
    assert upload(_image("JPEG", (4000, 4000)), "big.jpg").status_code == 201
    assert peak_rss(pid) - before < 160 * MB


async def _sign_in_flood(url: str, n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        return await asyncio.gather(
            *(
                client.post(
                    url,
                    data={"username": f"tebakan-{uuid.uuid4().hex[:8]}", "password": "salah123"},
                    # Each from its own address (through the trusted proxy): no throttle stops
                    # them before the password hashing, which alone has to hold the line.
                    headers={"X-Forwarded-For": f"127.77.0.{i}"},
                )
                for i in range(n)
            )
        )


def test_a_sign_in_flood_keeps_routing_memory_bounded(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.ports.routing}/api/v1/auth/token"
    warm = httpx.post(url, data={"username": "admin", "password": "admin"}, timeout=30)
    assert warm.status_code == 200, warm.text  # one argon2 hash is in the peak already
    pid = stack.pid("routing")
    assert pid is not None
    before = peak_rss(pid)
    responses = asyncio.run(_sign_in_flood(url, 48))
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {401, 503}, statuses
    assert statuses[401] >= 1
    assert all(r.headers.get("Retry-After") for r in responses if r.status_code == 503)
    grew = peak_rss(pid) - before
    assert grew < 48 * MB, f"48 parallel sign-ins raised routing's peak by {grew // MB} MB"


def test_one_address_trying_many_usernames_is_throttled(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.ports.routing}/api/v1/auth/token"
    headers = {"X-Forwarded-For": "127.88.0.1"}
    statuses = []
    for i in range(12):
        response = httpx.post(
            url, data={"username": f"dinas-{i}", "password": "salah123"}, headers=headers
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    other = httpx.post(url, data={"username": "dinas-0", "password": "x"}, headers={})
    assert other.status_code == 401  # another address is not throttled
