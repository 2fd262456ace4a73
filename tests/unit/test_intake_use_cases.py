"""Intake's use cases (services/intake/service.py) on the in-memory stores of tests/fakes.py:
a complaint taken, replayed and twinned, the public view, the reporter's follow-ups, ratings,
chat choices, photos and support, in milliseconds."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from services.intake import canary, complaints, service
from services.intake.schemas import ComplaintIn
from services.intake.views import SupportCounted
from shared.errors import (
    Conflict,
    Forbidden,
    InvalidField,
    NotFound,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from shared.events import EventType, utcnow
from shared.lifecycle import sla
from shared.tickets import Reporter, TicketStatus
from tests.fakes import (
    CODE,
    InMemoryPhotos,
    InMemorySupporters,
    InMemoryTickets,
    a_ticket,
    intake_context,
)

S = TicketStatus
TOKEN = "rahasia-pelapor"
ROAD = "Jalan rusak berlubang besar di depan SDN 2 Ciruas, sudah tiga bulan"


def _complaint(**fields: object) -> ComplaintIn:
    return ComplaintIn.model_validate(
        {"description": ROAD, "category": "jalan-rusak", "location": {"kecamatan": "ciruas"}}
        | fields
    )


def _mine(status: TicketStatus, **fields: object) -> InMemoryTickets:
    """The store with one ticket of the reporter holding TOKEN."""
    return InMemoryTickets(
        a_ticket(status, CODE, reply_token_hash=complaints.hash_reply_token(TOKEN), **fields)
    )


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(out, "JPEG")
    return out.getvalue()


# -- taking a complaint --------------------------------------------------------------------------


async def test_a_complaint_is_stored_with_its_pending_event_in_one_write() -> None:
    tickets = InMemoryTickets()
    ctx = intake_context(tickets)
    answer = await service.submit_complaint(ctx, _complaint(), client="10.0.0.1")
    assert answer.status is S.SUBMITTED and answer.reply_token
    stored = tickets.stored(answer.tracking_code)
    assert stored["status"] == "submitted"
    assert stored["location"]["kecamatan"] == "KEC-CIRUAS"  # the code, as typed in any case
    assert stored["reply_token_hash"] == complaints.hash_reply_token(answer.reply_token)
    [event] = stored["outbox"]
    assert event["event_type"] == EventType.TICKET_SUBMITTED and event["producer"] == "intake"


async def test_unknown_codes_and_half_a_position_are_refused_by_field() -> None:
    ctx = intake_context(InMemoryTickets())
    refused = [
        _complaint(category="tidak-ada"),
        _complaint(location={"kecamatan": "atlantis"}),
        _complaint(location={"kecamatan": "ciruas", "desa": "Tidak Ada"}),
        _complaint(location={"lat": -6.1}),
    ]
    fields = []
    for complaint in refused:
        with pytest.raises(InvalidField) as caught:
            await service.submit_complaint(ctx, complaint)
        fields.append(caught.value.detail[0]["loc"][-1])
    assert fields == ["category", "kecamatan", "desa", "lon"]


async def test_a_replay_with_its_idempotency_key_returns_the_same_answer_and_stores_once() -> None:
    tickets = InMemoryTickets()
    ctx = intake_context(tickets)
    first = await service.submit_complaint(ctx, _complaint(), idempotency_key="k-1")
    again = await service.submit_complaint(ctx, _complaint(), idempotency_key="k-1")
    assert again == first and list(tickets.docs) == [first.tracking_code]
    with pytest.raises(Conflict):
        await service.submit_complaint(ctx, _complaint(title="Lain"), idempotency_key="k-1")
    # The reply token is not kept in the clear with the key.
    [record] = ctx.idempotency.records.values()  # type: ignore[attr-defined]
    assert first.reply_token not in str(record)


async def test_the_same_words_from_the_same_address_point_at_the_earlier_ticket() -> None:
    tickets = InMemoryTickets()
    ctx = intake_context(tickets)
    first = await service.submit_complaint(ctx, _complaint(), client="10.0.0.7")
    twin = await service.submit_complaint(ctx, _complaint(), client="10.0.0.7")
    other = await service.submit_complaint(ctx, _complaint(), client="10.0.0.8")
    assert tickets.stored(twin.tracking_code)["possible_duplicate_of"] == first.tracking_code
    assert tickets.stored(other.tracking_code)["possible_duplicate_of"] is None


async def test_a_tracking_code_taken_already_gets_a_new_one() -> None:
    taken = a_ticket(S.SUBMITTED, "LP-TAKE-NNNN")
    tickets = InMemoryTickets(taken)
    ctx = intake_context(tickets)
    codes = iter(["LP-TAKE-NNNN", "LP-FREE-CODE"])
    original = complaints.new_tracking_code
    complaints.new_tracking_code = lambda _prefix: next(codes)  # type: ignore[assignment]
    try:
        answer = await service.submit_complaint(ctx, _complaint())
    finally:
        complaints.new_tracking_code = original
    assert answer.tracking_code == "LP-FREE-CODE"
    assert set(tickets.docs) == {"LP-TAKE-NNNN", "LP-FREE-CODE"}


def test_public_writes_past_the_limit_get_retry_after() -> None:
    ctx = intake_context(InMemoryTickets())
    for _ in range(60):
        service.check_rate(ctx, "10.0.0.9")
    with pytest.raises(TooManyRequests) as caught:
        service.check_rate(ctx, "10.0.0.9")
    assert caught.value.headers is not None and int(caught.value.headers["Retry-After"]) > 0
    service.check_rate(ctx, "10.0.0.10")  # another address has its own count


# -- the public view -----------------------------------------------------------------------------


async def test_the_public_sees_a_verified_ticket_without_its_reporter_the_reporter_sees_all() -> (
    None
):
    reporter = Reporter(name="Siti", email="siti@example.org")
    ctx = intake_context(_mine(S.VERIFIED, reporter=reporter))
    public = await service.public_complaint(ctx, CODE.lower())  # codes as people type them
    assert public.tracking_code == CODE and public.supporters == 0
    assert public.content is not None and public.mine is None  # no reporter, no description
    own = await service.public_complaint(ctx, CODE, reply_token=TOKEN)
    assert own.mine is not None and own.mine.reporter == reporter
    with pytest.raises(NotFound):
        await service.public_complaint(ctx, "LP-NONE-NONE")


async def test_before_verification_the_public_sees_status_and_dates_only() -> None:
    ctx = intake_context(_mine(S.ROUTED))
    public = await service.public_complaint(ctx, CODE)
    assert public.content is None and public.mine is None and public.supporters is None
    assert public.status is S.ROUTED and public.opd is not None and public.opd.code == "DPUPR"


# -- the reporter's follow-ups -------------------------------------------------------------------


async def test_a_follow_up_needs_the_reporters_token() -> None:
    ctx = intake_context(_mine(S.IN_PROGRESS))
    with pytest.raises(Unauthorized):
        await service.citizen_reply(ctx, CODE, reply_token=None, action="info", message="x")
    with pytest.raises(Forbidden):
        await service.citizen_reply(ctx, CODE, reply_token="salah", action="info", message="x")
    with pytest.raises(NotFound):
        await service.citizen_reply(
            ctx, "LP-NONE-NONE", reply_token=TOKEN, action="info", message="x"
        )


async def test_added_information_is_an_internal_comment_and_keeps_the_status() -> None:
    tickets = _mine(S.IN_PROGRESS)
    ctx = intake_context(tickets)
    answer = await service.citizen_reply(
        ctx, CODE, reply_token=TOKEN, action="info", message="Lubangnya makin lebar"
    )
    assert (answer.status, answer.action) == ("in_progress", "info")
    stored = tickets.stored(CODE)
    [comment] = stored["comments"]
    assert (comment["body"], comment["author"], comment["public"]) == (
        "Lubangnya makin lebar",
        "warga",
        False,
    )
    assert stored["history"][-1]["action"] == "citizen_info"
    with pytest.raises(InvalidField):
        await service.citizen_reply(ctx, CODE, reply_token=TOKEN, action="info", message=None)


async def test_confirming_a_resolution_closes_the_ticket() -> None:
    tickets = _mine(S.RESOLVED, resolved_at=utcnow() - timedelta(days=1))
    ctx = intake_context(tickets)
    answer = await service.citizen_reply(
        ctx, CODE, reply_token=TOKEN, action="confirm", message=None
    )
    assert answer.status == "closed" and tickets.stored(CODE)["status"] == "closed"
    with pytest.raises(Conflict):  # closed now: nothing left to confirm
        await service.citizen_reply(ctx, CODE, reply_token=TOKEN, action="confirm", message=None)


async def test_a_dispute_reopens_toward_the_categorys_resolution_deadline() -> None:
    tickets = _mine(S.RESOLVED, resolved_at=utcnow() - timedelta(days=1))
    ctx = intake_context(tickets)
    answer = await service.citizen_reply(
        ctx, CODE, reply_token=TOKEN, action="dispute", message="Belum diperbaiki sama sekali"
    )
    stored = tickets.stored(CODE)
    assert answer.status == "in_progress" == stored["status"]
    catalogue = await ctx.catalogue.get()
    ticket = await tickets.get(CODE)
    assert ticket is not None
    days = sla.resolution_days(ticket, catalogue)
    expected = sla.resolution_due(answer.at, ctx.settings.calendar(), days=days)
    assert stored["due_at"] == expected
    assert stored["outbox"][-1]["event_type"] == EventType.CITIZEN_REPLIED


async def test_a_dispute_after_its_window_or_of_an_open_ticket_is_refused() -> None:
    late = intake_context(_mine(S.RESOLVED, resolved_at=utcnow() - timedelta(days=40)))
    with pytest.raises(Conflict):
        await service.citizen_reply(late, CODE, reply_token=TOKEN, action="dispute", message="x")
    open_ = intake_context(_mine(S.IN_PROGRESS))
    with pytest.raises(Conflict):
        await service.citizen_reply(open_, CODE, reply_token=TOKEN, action="dispute", message="x")


async def test_a_follow_up_lost_to_a_race_is_made_again_on_the_fresh_ticket() -> None:
    tickets = _mine(S.IN_PROGRESS)
    tickets.interfere(CODE, 2)
    ctx = intake_context(tickets)
    await service.citizen_reply(ctx, CODE, reply_token=TOKEN, action="info", message="Tambahan")
    assert tickets.writes == 1 and len(tickets.stored(CODE)["comments"]) == 1


async def test_a_follow_up_that_keeps_losing_its_race_is_a_conflict() -> None:
    tickets = _mine(S.IN_PROGRESS)
    tickets.interfere(CODE, 10)
    ctx = intake_context(tickets)
    with pytest.raises(Conflict):
        await service.citizen_reply(ctx, CODE, reply_token=TOKEN, action="info", message="x")
    assert tickets.writes == 0


async def test_a_resolved_ticket_is_rated_once() -> None:
    tickets = _mine(S.RESOLVED, resolved_at=utcnow())
    ctx = intake_context(tickets)
    answer = await service.rate(ctx, CODE, reply_token=TOKEN, score=4, comment="Cepat")
    assert answer.action == "rate"
    assert tickets.stored(CODE)["rating"]["score"] == 4
    with pytest.raises(Conflict):
        await service.rate(ctx, CODE, reply_token=TOKEN, score=5, comment=None)
    not_yet = intake_context(_mine(S.IN_PROGRESS))
    with pytest.raises(Conflict):
        await service.rate(not_yet, CODE, reply_token=TOKEN, score=5, comment=None)


async def test_the_reporter_chooses_among_routings_candidates_once() -> None:
    question = {
        "candidates": [{"opd": "DLH", "confidence": 0.4}, {"opd": "DPUPR", "confidence": 0.35}],
        "asked_at": utcnow(),
        "confidence": 0.4,
        "model": "rules",
    }
    tickets = _mine(S.SUBMITTED, routing_question=question)
    ctx = intake_context(tickets)
    with pytest.raises(InvalidField):
        await service.choose_opd(ctx, CODE, reply_token=TOKEN, opd="DINKES")
    answer = await service.choose_opd(ctx, CODE, reply_token=TOKEN, opd="DLH")
    assert answer.action == "choose"
    stored = tickets.stored(CODE)
    assert stored["routing_choice"]["opd"] == "DLH"
    assert stored["outbox"][-1]["event_type"] == EventType.OPD_CHOSEN
    with pytest.raises(Conflict):
        await service.choose_opd(ctx, CODE, reply_token=TOKEN, opd="DPUPR")


# -- photos --------------------------------------------------------------------------------------


async def test_photos_are_listed_on_the_ticket_and_limited() -> None:
    tickets = _mine(S.IN_PROGRESS)
    photos = InMemoryPhotos()
    ctx = intake_context(tickets, photos=photos)
    added = [await service.add_photo(ctx, CODE, reply_token=TOKEN, data=_jpeg()) for _ in range(3)]
    assert [p["id"] for p in tickets.stored(CODE)["photos"]] == [p.id for p in added]
    assert added[0].content_type == "image/jpeg"
    assert added[0].url == f"/api/v1/complaints/{CODE}/photos/{added[0].id}"
    with pytest.raises(Conflict):
        await service.add_photo(ctx, CODE, reply_token=TOKEN, data=_jpeg())
    assert len(photos.files) == 3


async def test_a_photo_that_loses_its_place_meanwhile_leaves_no_file() -> None:
    tickets = _mine(S.IN_PROGRESS)
    photos = InMemoryPhotos()
    ctx = intake_context(tickets, photos=photos)
    read = await tickets.get(CODE)
    assert read is not None
    # Two photos were attached by someone else after this upload's first read.
    full = [
        {"id": f"p{i}", "content_type": "image/jpeg", "size": 1, "uploaded_at": utcnow()}
        for i in range(3)
    ]
    tickets.interfere(CODE, 1)
    tickets.docs[CODE]["photos"] = full
    with pytest.raises(Conflict):
        await service.add_photo(
            ctx, CODE, reply_token=TOKEN, data=b"", cleaned=(_jpeg(), "image/jpeg")
        )
    assert photos.files == {}


async def test_what_is_not_an_image_is_refused_and_nothing_is_stored() -> None:
    tickets = _mine(S.IN_PROGRESS)
    photos = InMemoryPhotos()
    ctx = intake_context(tickets, photos=photos)
    with pytest.raises(UnsupportedMediaType):
        await service.add_photo(ctx, CODE, reply_token=TOKEN, data=b"%PDF-1.4 not a photo")
    assert photos.files == {} and tickets.stored(CODE).get("photos", []) == []


async def test_a_photo_is_public_once_the_content_is_else_only_for_the_reporter() -> None:
    for status, public in ((S.VERIFIED, True), (S.ROUTED, False)):
        tickets = _mine(status)
        ctx = intake_context(tickets)
        added = await service.add_photo(ctx, CODE, reply_token=TOKEN, data=_jpeg())
        own, kind = await service.photo(ctx, CODE, added.id, reply_token=TOKEN)
        assert own and kind == "image/jpeg"
        if public:
            assert (await service.photo(ctx, CODE, added.id, reply_token=None))[0] == own
        else:
            with pytest.raises(NotFound):
                await service.photo(ctx, CODE, added.id, reply_token=None)
        with pytest.raises(NotFound):
            await service.photo(ctx, CODE, "no-such-photo", reply_token=TOKEN)


# -- support -------------------------------------------------------------------------------------


async def test_support_counts_a_contact_once_and_weighs_the_ticket() -> None:
    tickets = _mine(S.VERIFIED)
    supporters = InMemorySupporters()
    ctx = intake_context(tickets, supporters=supporters)

    async def support(email: str | None) -> SupportCounted:
        return await service.support(
            ctx, CODE, email=email, phone=None, lang="id", client="10.0.0.3"
        )

    first = await support("budi@example.org")
    again = await support("BUDI@example.org ")
    anonymous = await support(None)
    assert [(a.supporters, a.new) for a in (first, again, anonymous)] == [
        (1, True),
        (1, False),
        (2, True),
    ]
    assert tickets.stored(CODE)["weight"] > 1
    assert (await service.public_complaint(ctx, CODE)).supporters == 2


async def test_only_public_open_reports_can_be_supported() -> None:
    for status in (S.ROUTED, S.RESOLVED):
        ctx = intake_context(_mine(status))
        with pytest.raises(Conflict):
            await service.support(ctx, CODE, email=None, phone=None, lang="id", client="a")
    with pytest.raises(NotFound):
        await service.support(
            intake_context(InMemoryTickets()),
            "LP-NONE-NONE",
            email=None,
            phone=None,
            lang="id",
            client="a",
        )


async def test_nearby_reports_need_a_category() -> None:
    ctx = intake_context(InMemoryTickets())
    found = await service.nearby_reports(
        ctx, category=None, kecamatan="ciruas", desa=None, lat=None, lon=None, text=ROAD
    )
    assert found == []


async def test_the_canary_files_a_synthetic_complaint_like_any_other() -> None:
    tickets = InMemoryTickets()
    code = await canary.file_canary(intake_context(tickets))
    stored = tickets.stored(code)
    assert stored["synthetic"] is True and stored["source"] == canary.SOURCE
    assert stored["outbox"][0]["event_type"] == EventType.TICKET_SUBMITTED
