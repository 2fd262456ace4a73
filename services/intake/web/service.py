"""Use cases of the web pages that the JSON API does not need: a form with photos, what next.

They only combine the use cases of `service` (the same rules for every door); nothing here
writes to the database on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.intake import complaints, service
from services.intake.schemas import ComplaintIn
from services.intake.service import IntakeContext
from services.intake.views import TrackedComplaint
from shared.errors import AppError, Conflict, InvalidField, PayloadTooLarge, UnsupportedMediaType
from shared.lifecycle import sla
from shared.lifecycle.statuses import NOT_FINAL_STATUSES
from shared.tickets import TicketStatus
from shared.workdays import WorkCalendar

PHOTOS_FIELD = ("body", "photos")


@dataclass(frozen=True)
class Receipt:
    """What the receipt page shows after a web submission."""

    tracking_code: str
    reply_token: str
    submitted_at: datetime
    routing_due: datetime
    follow_up_due: datetime
    has_contact: bool
    photos_added: int = 0
    # (photo number, bilingual reason) for photos that could not be attached after the ticket
    photo_failures: list[tuple[int, str]] = field(default_factory=list)


async def check_photos(
    ctx: IntakeContext, photos: Sequence[bytes], *, room: int
) -> list[tuple[bytes, str]]:
    """Refuse the first photo that would be refused later: too many, too large, not an image;
    return them cleaned (so each is decoded once).

    Checked before anything is stored, so a bad photo sends the form back instead of leaving
    a report without it.
    """
    settings = ctx.settings
    if len(photos) > room:
        raise InvalidField(
            PHOTOS_FIELD,
            f"Paling banyak {room} foto. (At most {room} photos.)",
        )
    megabytes = settings.photo_max_bytes // 1024 // 1024
    megapixels = settings.photo_max_pixels // 1_000_000
    cleaned = []
    for number, data in enumerate(photos, start=1):
        if len(data) > settings.photo_max_bytes:
            raise InvalidField(
                PHOTOS_FIELD,
                f"Foto {number} lebih besar dari {megabytes} MB. "
                f"(Photo {number} is larger than {megabytes} MB.)",
            )
        try:
            cleaned.append(await service.clean_photo(ctx, data))
        except PayloadTooLarge as exc:
            raise InvalidField(
                PHOTOS_FIELD,
                f"Foto {number} lebih dari {megapixels} megapiksel. "
                f"(Photo {number} has more than {megapixels} megapixels.)",
            ) from exc
        except UnsupportedMediaType as exc:
            raise InvalidField(
                PHOTOS_FIELD,
                f"Foto {number} bukan gambar JPEG, PNG atau WebP. "
                f"(Photo {number} is not a JPEG, PNG or WebP image.)",
            ) from exc
    return cleaned


async def submit_from_web(
    ctx: IntakeContext,
    complaint: ComplaintIn,
    photos: Sequence[bytes],
    *,
    client: str,
    form_key: str | None,
) -> Receipt:
    """Submit the form's complaint, then attach its photos; return what the receipt shows.

    `form_key` (a random value rendered into the form) is the Idempotency-Key: a double tap or
    a reload of the posted page returns the same ticket instead of a second one. The same form
    sent again with other content (the browser's back button) is a new complaint.
    """
    cleaned = await check_photos(ctx, photos, room=ctx.settings.photo_max_count)
    try:
        answer = await service.submit_complaint(
            ctx, complaint, idempotency_key=form_key, client=client, source="web"
        )
    except Conflict:
        if form_key is None:
            raise
        answer = await service.submit_complaint(ctx, complaint, client=client, source="web")
    code, token, submitted_at = answer.tracking_code, answer.reply_token, answer.submitted_at
    added, failures = 0, []
    ticket = await ctx.tickets.get(code)
    already = len(ticket.photos) if ticket else 0
    if already:  # a replay of a submission whose photos are stored already
        added = already
    else:
        for number, (data, ready) in enumerate(zip(photos, cleaned, strict=True), start=1):
            try:
                await service.add_photo(ctx, code, reply_token=token, data=data, cleaned=ready)
            except AppError as exc:
                failures.append((number, str(exc.detail)))
            else:
                added += 1
    calendar = ctx.settings.calendar()
    routing_due = sla.routing_due(submitted_at, calendar)
    reporter = complaint.reporter
    return Receipt(
        tracking_code=code,
        reply_token=token,
        submitted_at=submitted_at,
        routing_due=routing_due,
        follow_up_due=sla.follow_up_due(routing_due, calendar),
        has_contact=bool(reporter and (reporter.email or reporter.phone)),
        photos_added=added,
        photo_failures=failures,
    )


async def add_photos(
    ctx: IntakeContext, tracking_code: str, *, reply_token: str | None, photos: Sequence[bytes]
) -> int:
    """The reporter attaches photos later; all are checked before the first is stored."""
    view = await service.public_complaint(ctx, tracking_code, reply_token)
    room = ctx.settings.photo_max_count - len(view.photos)
    cleaned = await check_photos(ctx, photos, room=room)
    for data, ready in zip(photos, cleaned, strict=True):
        await service.add_photo(
            ctx, tracking_code, reply_token=reply_token, data=data, cleaned=ready
        )
    return len(photos)


async def reporter_flags(ctx: IntakeContext, tracking_code: str) -> dict[str, bool]:
    """The reporter's own choices (anonymous, confidential), for their view of the ticket."""
    ticket = await ctx.tickets.get(complaints.normalise_tracking_code(tracking_code))
    if ticket is None:
        return {"anonymous": False, "confidential": False}
    return {"anonymous": ticket.anonymous, "confidential": ticket.confidential}


def dispute_deadline(view: TrackedComplaint, calendar: WorkCalendar) -> datetime | None:
    """The last day the reporter may dispute the resolution, from the reporter's timeline."""
    timeline = view.content.timeline if view.content is not None else ()
    resolved = [e.at for e in timeline if e.status == "resolved"]
    if not resolved:
        return None
    return sla.dispute_deadline(max(resolved), calendar)


def allowed_actions(
    view: TrackedComplaint, *, now: datetime, calendar: WorkCalendar, photo_max_count: int
) -> frozenset[str]:
    """Which of the reporter's forms the tracking page offers in the ticket's current status.

    The use cases check the same rules again; this only avoids offering what would be refused.
    """
    status = view.status
    actions: set[str] = set()
    if status in NOT_FINAL_STATUSES:
        actions.add("info")
        if len(view.photos) < photo_max_count:
            actions.add("photo")
    if status is TicketStatus.RESOLVED:
        actions.add("confirm")
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        deadline = dispute_deadline(view, calendar)
        if deadline is not None and calendar.working_days_between(deadline, now) == 0:
            actions.add("dispute")
        if view.mine is None or view.mine.rating is None:
            actions.add("rate")
    return frozenset(actions)
