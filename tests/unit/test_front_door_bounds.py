"""What untrusted input may cost: the per-address limit, image decoding, password hashing."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from services.intake.photos import GateFull, NotAnImage, PhotoGate, TooManyPixels, clean_image
from services.intake.ratelimit import OVERFLOW, AddressLimiter
from services.intake.settings import IntakeSettings
from shared.auth import PasswordHashing, hash_password, verify_password
from shared.errors import ServiceUnavailable
from shared.settings import DEV_AUTH_SECRET
from tests.signing_keys import TEST_PUBLIC_KEY


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_address_gets_its_limit_per_minute_then_the_seconds_left() -> None:
    clock = Clock(600.0 + 15)  # 15 s into a minute
    limiter = AddressLimiter(per_minute=3, clock=clock)
    assert [limiter.hit("10.1.1.1") for _ in range(3)] == [0, 0, 0]
    assert limiter.hit("10.1.1.1") == 45
    assert limiter.hit("10.2.2.2") == 0  # another address has its own count
    clock.now = 660.0  # the next minute
    assert limiter.hit("10.1.1.1") == 0


def test_addresses_beyond_the_cap_share_one_count() -> None:
    limiter = AddressLimiter(per_minute=2, max_addresses=3, clock=Clock(0.0))
    for i in range(3):
        assert limiter.hit(f"10.0.0.{i}") == 0
    assert [limiter.hit(f"10.9.9.{i}") for i in range(3)] == [0, 0, 60]
    assert limiter.addresses == 4  # three addresses and the shared overflow count
    assert limiter.hit("10.0.0.1") == 0  # the addresses counted before keep their own
    assert OVERFLOW == "(overflow)"


def _png(width: int, height: int, mode: str = "1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG")
    return out.getvalue()


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 80, 40)).save(out, "JPEG", quality=50)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = _png(10_000, 10_000)  # 100 megapixels in a few dozen KB
    assert len(bomb) < 200_000
    with pytest.raises(TooManyPixels):
        clean_image(bomb)


def test_more_pixels_than_the_cap_are_refused_before_decoding() -> None:
    with pytest.raises(TooManyPixels):
        clean_image(_png(5000, 4000), max_pixels=16_000_000)
    with pytest.raises(NotAnImage):
        clean_image(b"GIF89a" + b"\0" * 100)


def test_a_large_photo_is_stored_within_the_maximum_side() -> None:
    cleaned, content_type = clean_image(_jpeg(4000, 3000), max_side=1000)
    assert content_type == "image/jpeg"
    with Image.open(io.BytesIO(cleaned)) as image:
        assert max(image.size) == 1000
        assert image.size == (1000, 750)


async def test_photo_gate_refuses_uploads_beyond_its_places() -> None:
    gate = PhotoGate(decoders=1, in_flight=2)
    async with gate.admit(), gate.admit():
        with pytest.raises(GateFull):
            async with gate.admit():
                pass
    async with gate.admit():  # places are given back
        cleaned, _ = await gate.clean(_jpeg(64, 64))
        assert cleaned


async def test_password_hashing_runs_a_bounded_number_at_once() -> None:
    hashing = PasswordHashing(concurrency=1, max_waiting=2)
    results = await asyncio.gather(
        *(hashing.hash(f"password-{i}") for i in range(4)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, ServiceUnavailable)]
    hashed = [r for r in results if isinstance(r, str)]
    assert len(refused) == 1 and refused[0].headers == {"Retry-After": "5"}
    assert len(hashed) == 3
    assert all(verify_password(h, f"password-{i}") for i, h in enumerate(hashed))
    assert await hashing.verify(hash_password("x"), "x")
    assert not await hashing.verify(None, "anything")  # an unknown user: the dummy hash


def test_production_refuses_to_believe_every_address_as_a_proxy() -> None:
    secret = DEV_AUTH_SECRET + "-but-long-and-different"
    with pytest.raises(ValueError, match="FORWARDED_ALLOW_IPS"):
        IntakeSettings(
            environment="production",
            auth_secret=secret,
            auth_public_key=TEST_PUBLIC_KEY,
            forwarded_allow_ips="*",
        )
    ok = IntakeSettings(
        environment="production",
        auth_secret=secret,
        auth_public_key=TEST_PUBLIC_KEY,
        forwarded_allow_ips="10.244.0.0/16, ::1",
        whatsapp={"enabled": False},
        sms={"enabled": False},
    )
    assert ok.trusted_proxies() == ["10.244.0.0/16", "::1"]
    assert IntakeSettings().trusted_proxies() == []
