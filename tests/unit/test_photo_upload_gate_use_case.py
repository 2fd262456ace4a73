"""Intake's upload gate (services/intake/service.py `photo_upload`, around a photo's bytes
being read) on the in-memory stores: a place per upload, 503 with Retry-After when every
place is taken, and the place given back however the upload ends."""

from __future__ import annotations

import contextlib

import pytest

from services.intake import service
from services.intake.photos import PhotoGate
from shared.errors import ServiceUnavailable
from tests.fakes import InMemoryTickets, intake_context


async def test_an_upload_past_the_places_in_flight_is_503_with_retry_after() -> None:
    ctx = intake_context(InMemoryTickets(), photo_gate=PhotoGate(in_flight=2))
    async with service.photo_upload(ctx), service.photo_upload(ctx):
        with pytest.raises(ServiceUnavailable) as busy:
            async with service.photo_upload(ctx):
                pytest.fail("a third upload was let in")
    assert busy.value.detail == service.PHOTO_BUSY
    assert busy.value.headers == {"Retry-After": "5"}


async def test_a_place_is_given_back_when_an_upload_ends_or_fails() -> None:
    ctx = intake_context(InMemoryTickets(), photo_gate=PhotoGate(in_flight=1))
    async with service.photo_upload(ctx):
        pass
    with contextlib.suppress(ValueError):
        async with service.photo_upload(ctx):
            raise ValueError("the upload broke off")
    entered = False
    async with service.photo_upload(ctx):
        entered = True
    assert entered


async def test_a_refusal_inside_an_upload_is_not_taken_for_a_full_gate() -> None:
    ctx = intake_context(InMemoryTickets(), photo_gate=PhotoGate(in_flight=1))
    with pytest.raises(LookupError):
        async with service.photo_upload(ctx):
            raise LookupError("the ticket is gone")
