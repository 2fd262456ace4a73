"""The web form's use cases (services/intake/web/service.py) on the in-memory stores of
tests/fakes.py: a complaint with its photos, a double tap, the photos checked before anything
is stored, photos added later by the reporter, and the receipt's deadlines."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.intake.schemas import ComplaintIn
from services.intake.settings import IntakeSettings
from services.intake.web import service as web
from shared.errors import Forbidden, InvalidField
from shared.lifecycle import sla
from tests.fakes import InMemoryPhotos, InMemoryTickets, intake_context

ROAD = "Jalan depan SDN 2 Ciruas berlubang besar, motor sering jatuh kalau malam"


def _complaint(**fields: object) -> ComplaintIn:
    return ComplaintIn.model_validate(
        {
            "description": ROAD,
            "category": "jalan-rusak",
            "location": {"kecamatan": "ciruas"},
            "reporter": {"name": "Siti", "email": "siti@example.com"},
        }
        | fields
    )


def _jpeg(color: str = "green") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(out, "JPEG")
    return out.getvalue()


async def test_the_form_files_the_complaint_with_its_photos_and_the_receipts_deadlines() -> None:
    tickets, photos = InMemoryTickets(), InMemoryPhotos()
    ctx = intake_context(tickets, photos=photos)
    receipt = await web.submit_from_web(
        ctx, _complaint(), [_jpeg(), _jpeg("red")], client="10.0.0.1", form_key="form-1"
    )
    stored = tickets.stored(receipt.tracking_code)
    assert (stored["source"], stored["status"]) == ("web", "submitted")
    assert len(stored["photos"]) == 2 and len(photos.files) == 2
    assert (receipt.photos_added, receipt.photo_failures, receipt.has_contact) == (2, [], True)
    calendar = IntakeSettings().calendar()
    assert receipt.routing_due == sla.routing_due(receipt.submitted_at, calendar)
    assert receipt.follow_up_due == sla.follow_up_due(receipt.routing_due, calendar)
    assert receipt.follow_up_due > receipt.routing_due > receipt.submitted_at


async def test_a_double_tap_gives_the_same_ticket_and_its_photos_once() -> None:
    tickets, photos = InMemoryTickets(), InMemoryPhotos()
    ctx = intake_context(tickets, photos=photos)
    first = await web.submit_from_web(
        ctx, _complaint(), [_jpeg()], client="10.0.0.1", form_key="form-1"
    )
    again = await web.submit_from_web(
        ctx, _complaint(), [_jpeg()], client="10.0.0.1", form_key="form-1"
    )
    assert (again.tracking_code, again.reply_token) == (first.tracking_code, first.reply_token)
    assert len(tickets.docs) == 1 and len(photos.files) == 1 and again.photos_added == 1


async def test_the_same_form_sent_back_with_other_words_is_a_new_complaint() -> None:
    tickets = InMemoryTickets()
    ctx = intake_context(tickets)
    first = await web.submit_from_web(ctx, _complaint(), [], client="10.0.0.1", form_key="f")
    other = _complaint(description="Lampu PJU di Jalan Raya Ciruas mati sudah dua minggu")
    second = await web.submit_from_web(ctx, other, [], client="10.0.0.1", form_key="f")
    assert second.tracking_code != first.tracking_code and len(tickets.docs) == 2
    assert second.has_contact and second.photos_added == 0


@pytest.mark.parametrize(
    "photos",
    [
        [b"bukan gambar sama sekali"],  # not an image
        [b"\xff" * (6 * 1024 * 1024)],  # over the size limit
        [_jpeg()] * 4,  # more than three
    ],
)
async def test_a_photo_that_would_be_refused_sends_the_form_back_before_anything_is_stored(
    photos: list[bytes],
) -> None:
    tickets, files = InMemoryTickets(), InMemoryPhotos()
    with pytest.raises(InvalidField) as caught:
        await web.submit_from_web(
            intake_context(tickets, photos=files),
            _complaint(),
            photos,
            client="10.0.0.1",
            form_key=None,
        )
    assert caught.value.detail[0]["loc"] == ["body", "photos"]
    assert tickets.docs == {} and files.files == {}


async def test_the_reporter_adds_photos_later_up_to_the_limit_and_nobody_else_can() -> None:
    tickets, files = InMemoryTickets(), InMemoryPhotos()
    ctx = intake_context(tickets, photos=files)
    receipt = await web.submit_from_web(
        ctx, _complaint(), [_jpeg(), _jpeg()], client="10.0.0.1", form_key=None
    )
    code, token = receipt.tracking_code, receipt.reply_token
    with pytest.raises(InvalidField):  # one place left, all checked before the first is stored
        await web.add_photos(ctx, code, reply_token=token, photos=[_jpeg(), _jpeg()])
    assert len(tickets.stored(code)["photos"]) == 2
    with pytest.raises(Forbidden):
        await web.add_photos(ctx, code, reply_token="bukan-token-ini", photos=[_jpeg()])
    assert await web.add_photos(ctx, code, reply_token=token, photos=[_jpeg("blue")]) == 1
    assert len(tickets.stored(code)["photos"]) == 3 and len(files.files) == 3


async def test_the_reporters_own_choices_are_read_back_for_their_view() -> None:
    tickets = InMemoryTickets()
    ctx = intake_context(tickets)
    receipt = await web.submit_from_web(
        ctx, _complaint(anonymous=True), [], client="10.0.0.1", form_key=None
    )
    flags = await web.reporter_flags(ctx, receipt.tracking_code.lower())
    assert flags == {"anonymous": True, "confidential": False}
    assert await web.reporter_flags(ctx, "LP-NONE-0000") == {
        "anonymous": False,
        "confidential": False,
    }
