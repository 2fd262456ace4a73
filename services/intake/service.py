"""Intake use cases: take a complaint, show it, take the reporter's follow-ups and photos.

The HTTP API, the web form and Open311 all call these, so every door follows the same rules.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from services.intake import complaints, metrics, sealing
from services.intake.photos import GateFull, NotAnImage, PhotoGate, TooManyPixels
from services.intake.ratelimit import AddressLimiter
from services.intake.schemas import ComplaintIn, LocationIn
from services.intake.settings import IntakeSettings
from services.intake.stores import (
    Catalogues,
    DuplicateKeys,
    IdempotencyRecords,
    IntakeTickets,
    Nearby,
    PhotoFiles,
    StatisticsSummaries,
    Supporters,
)
from services.intake.support import supportable
from services.intake.views import (
    ComplaintTaken,
    FollowUpDone,
    NearbyItem,
    PhotoAdded,
    SupportCounted,
    TrackedComplaint,
)
from shared import correlation, publication
from shared.catalogue import Catalogue
from shared.errors import (
    Conflict,
    Forbidden,
    InvalidField,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    conflict_when_changing,
)
from shared.events import utcnow
from shared.lifecycle import sla
from shared.tickets import Location, Photo, Reporter, Ticket, TicketStatus, queue_weight

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeContext:
    """What intake's use cases work with; built once in app.py's lifespan (the stores are
    the Protocols of stores.py: tests build it on the in-memory fakes of tests/fakes.py)."""

    settings: IntakeSettings
    tickets: IntakeTickets  # repository.TicketRepository; the in-memory fake in unit tests
    catalogue: Catalogues
    idempotency: IdempotencyRecords
    duplicates: DuplicateKeys
    photos: PhotoFiles
    photo_gate: PhotoGate
    rate_limiter: AddressLimiter
    statistics: StatisticsSummaries
    supporters: Supporters | None = None
    support_limiter: AddressLimiter | None = None
    nearby: Nearby | None = None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _location(loc: LocationIn | None, cat: Catalogue, settings: IntakeSettings) -> Location:
    if loc is None:
        return Location()
    kecamatan = None
    if loc.kecamatan is not None:
        region = cat.region(loc.kecamatan)
        if region is None:
            raise InvalidField(
                ("body", "location", "kecamatan"), "Kecamatan tidak dikenal. (Unknown kecamatan.)"
            )
        kecamatan = region.code
        if loc.desa is not None and region.desa:
            known = {d.lower(): d for d in region.desa}
            if loc.desa.lower() not in known:
                raise InvalidField(
                    ("body", "location", "desa"),
                    f"Desa tidak ada di Kecamatan {region.name}. (Unknown desa.)",
                )
    if (loc.lat is None) != (loc.lon is None):
        missing = "lon" if loc.lon is None else "lat"
        raise InvalidField(
            ("body", "location", missing),
            "lat dan lon harus diisi bersama. (Give both lat and lon.)",
        )
    if loc.lat is not None and loc.lon is not None:
        lat_lo, lat_hi = settings.bounds_lat
        lon_lo, lon_hi = settings.bounds_lon
        if not lat_lo <= loc.lat <= lat_hi:
            raise InvalidField(
                ("body", "location", "lat"),
                "Lokasi di luar wilayah kabupaten. (Outside the kabupaten.)",
            )
        if not lon_lo <= loc.lon <= lon_hi:
            raise InvalidField(
                ("body", "location", "lon"),
                "Lokasi di luar wilayah kabupaten. (Outside the kabupaten.)",
            )
    desa = None
    if loc.desa is not None and kecamatan is not None:
        region = cat.region(kecamatan)
        desa = next(
            (d for d in (region.desa if region else ()) if d.lower() == loc.desa.lower()), loc.desa
        )
    elif loc.desa is not None:
        desa = loc.desa
    return Location(kecamatan=kecamatan, desa=desa, address=loc.address, lat=loc.lat, lon=loc.lon)


def check_rate(ctx: IntakeContext, client: str) -> None:
    """Count a public write from `client`; 429 with Retry-After past the per-minute limit."""
    wait = ctx.rate_limiter.hit(client)
    if wait:
        raise TooManyRequests(
            "Terlalu banyak permintaan; coba lagi sebentar. (Too many requests.)",
            headers={"Retry-After": str(wait)},
        )


async def submit_complaint(
    ctx: IntakeContext,
    complaint: ComplaintIn,
    *,
    idempotency_key: str | None = None,
    client: str = "unknown",
    source: str = "api",
    conversation_id: str | None = None,
    synthetic: bool = False,
) -> ComplaintTaken:
    """Store the ticket with its pending event in one write; return the 201 body.

    With an Idempotency-Key, a replay of the same body within the window returns the same body
    (and creates nothing); the same key with another body is a conflict. `conversation_id`
    names the chat a ticket of source `whatsapp` or `sms` was filed in.
    """
    cat = await ctx.catalogue.get()
    category = cat.category(complaint.category) if complaint.category is not None else None
    if complaint.category is not None and category is None:
        raise InvalidField(("body", "category"), "Kategori tidak dikenal. (Unknown category.)")
    location = _location(complaint.location, cat, ctx.settings)
    confidential = publication.confidential_when_submitted(
        requested=complaint.confidential, category_opd=category.opd if category else None
    )
    now = utcnow()
    answer = ComplaintTaken(
        tracking_code=complaints.new_tracking_code(ctx.settings.tracking_prefix),
        status=TicketStatus.SUBMITTED,
        submitted_at=now,
        reply_token=complaints.new_reply_token(),
    )
    if idempotency_key is not None:
        answer = await _claim_idempotency_key(ctx, idempotency_key, complaint, answer, now)
    reporter = (
        Reporter.model_validate(complaint.reporter.model_dump()) if complaint.reporter else None
    )
    dup_key = complaints.duplicate_key(
        complaint.description, reporter, client, anonymous=complaint.anonymous
    )
    earlier = await _earlier_twin(ctx, dup_key, answer.tracking_code, now)
    for attempt in range(3):
        ticket, _ = complaints.new_ticket(
            tracking_code=answer.tracking_code,
            reply_token=answer.reply_token,
            now=answer.submitted_at,
            correlation_id=correlation.current_or_new(),
            kind=complaint.kind,
            description=complaint.description,
            title=complaint.title,
            category=complaint.category,
            location=location,
            reporter=reporter,
            anonymous=complaint.anonymous,
            confidential=confidential,
            confidential_requested=complaint.confidential,
            synthetic=synthetic,
        )
        ticket = ticket.model_copy(
            update={
                "source": source,
                "conversation_id": conversation_id,
                "duplicate_key": dup_key,
                "possible_duplicate_of": earlier if earlier != ticket.tracking_code else None,
            }
        )
        try:
            await ctx.tickets.add(ticket)
        except PyMongoError as exc:
            if not isinstance(exc, DuplicateKeyError):
                # Not stored: its marker must not make a later twin point at it.
                with contextlib.suppress(PyMongoError):
                    await ctx.duplicates.forget(dup_key, ticket.tracking_code)
                raise
            if idempotency_key is not None:
                break  # a concurrent replay stored this very ticket: nothing is lost or doubled
            if attempt == 2:
                raise
            answer = dataclasses.replace(
                answer, tracking_code=complaints.new_tracking_code(ctx.settings.tracking_prefix)
            )
            continue
        metrics.COMPLAINTS_SUBMITTED.labels(ticket.kind.value).inc()
        log.info("complaint %s stored (%s)", ticket.tracking_code, source)
        break
    return answer


async def _earlier_twin(
    ctx: IntakeContext, key: str, tracking_code: str, now: datetime
) -> str | None:
    """The ticket stored shortly before with the same duplicate key, if any (one insert when
    there is none)."""
    before = await ctx.duplicates.mark(key, tracking_code, now)
    if before is None:
        return None
    code, at = before
    window = timedelta(minutes=ctx.settings.duplicate_window_minutes)
    if code == tracking_code or at < now - window:
        return None
    return code


async def _claim_idempotency_key(
    ctx: IntakeContext, key: str, complaint: ComplaintIn, answer: ComplaintTaken, now: datetime
) -> ComplaintTaken:
    """Claim the key for this body and answer, or return the answer stored with it (the
    reply token unsealed); 409 for the same key with another body."""
    key_hash = _hash(key)
    body = json.dumps(
        complaint.model_dump(mode="json", exclude_unset=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    # The reply token is stored sealed with the key: the database alone cannot reveal it.
    stored_answer = {
        "tracking_code": answer.tracking_code,
        "status": answer.status.value,
        "submitted_at": answer.submitted_at,
        "reply_token_sealed": sealing.seal(key, answer.reply_token, bound_to=key_hash),
    }
    record = {
        "_id": key_hash,
        "body_hash": _hash(body),
        "answer": stored_answer,
        "created_at": now,
    }
    for _ in range(2):
        existing = await ctx.idempotency.claim(record)
        if existing is None:
            return answer
        expired = existing["created_at"] < now - timedelta(
            hours=ctx.settings.idempotency_window_hours
        )
        if expired:
            await ctx.idempotency.forget(key_hash)
            continue
        if existing["body_hash"] != record["body_hash"]:
            raise Conflict(
                "Idempotency-Key ini sudah dipakai untuk laporan lain. "
                "(This Idempotency-Key was used with a different body.)"
            )
        stored: dict[str, Any] = existing["answer"]
        sealed = stored.get("reply_token_sealed")
        try:
            reply_token: str = (
                sealing.unseal(key, sealed, bound_to=key_hash)
                if sealed is not None
                else stored["reply_token"]  # a record from before tokens were sealed
            )
        except (KeyError, sealing.Unsealable) as exc:
            raise Conflict(
                "Idempotency-Key ini sudah dipakai untuk laporan lain. "
                "(This Idempotency-Key was used with a different body.)"
            ) from exc
        return ComplaintTaken(
            tracking_code=stored["tracking_code"],
            status=TicketStatus(stored["status"]),
            submitted_at=stored["submitted_at"],
            reply_token=reply_token,
        )
    raise Conflict("Idempotency-Key sedang dipakai; coba lagi. (Idempotency-Key in use.)")


async def _ticket_for_reporter(ctx: IntakeContext, tracking_code: str, token: str | None) -> Ticket:
    ticket = await ctx.tickets.get(complaints.normalise_tracking_code(tracking_code))
    if ticket is None:
        raise NotFound("Kode pelacakan tidak ditemukan. (Tracking code not found.)")
    if not token:
        raise Unauthorized("Token balasan diperlukan. (reply_token is required.)")
    if not complaints.reply_token_matches(token, ticket):
        raise Forbidden("Token balasan salah. (Wrong reply_token.)")
    return ticket


async def public_complaint(
    ctx: IntakeContext, tracking_code: str, reply_token: str | None = None
) -> TrackedComplaint:
    """A ticket by its tracking code, as the public or (with its token) its reporter sees it."""
    ticket = await ctx.tickets.get(complaints.normalise_tracking_code(tracking_code))
    if ticket is None:
        raise NotFound("Kode pelacakan tidak ditemukan. (Tracking code not found.)")
    is_reporter = reply_token is not None and complaints.reply_token_matches(reply_token, ticket)
    view = complaints.public_view(ticket, await ctx.catalogue.get(), is_reporter=is_reporter)
    # Only where the content is public (or for the reporter): otherwise a ticket shows status,
    # OPD and dates alone, and it cannot be supported anyway.
    if ctx.supporters is not None and (is_reporter or publication.shows_content(ticket)):
        view = dataclasses.replace(
            view, supporters=await ctx.supporters.count(ticket.tracking_code)
        )
    return view


async def nearby_reports(
    ctx: IntakeContext,
    *,
    category: str | None,
    kecamatan: str | None,
    desa: str | None,
    lat: float | None,
    lon: float | None,
    text: str,
) -> list[NearbyItem]:
    """Public open reports of the same kind near the place of a complaint being typed (the
    form offers to support one instead); none without a category, which names the OPD."""
    cat = await ctx.catalogue.get()
    chosen = cat.category(category) if category else None
    if chosen is None or ctx.nearby is None:
        return []
    region = cat.region(kecamatan) if kecamatan else None
    return await ctx.nearby.find(
        opd=chosen.opd,
        category=chosen.code,
        kecamatan=region.code if region else None,
        desa=desa,
        lat=lat,
        lon=lon,
        text=text,
    )


async def support(
    ctx: IntakeContext,
    tracking_code: str,
    *,
    email: str | None,
    phone: str | None,
    lang: str,
    client: str,
) -> SupportCounted:
    """A citizen supports a public, open report; once per contact, limited per address."""
    if ctx.support_limiter is not None:
        wait = ctx.support_limiter.hit(client)
        if wait:
            raise TooManyRequests(
                "Terlalu banyak dukungan dari alamat ini; coba lagi nanti. (Too many supports.)",
                headers={"Retry-After": str(wait)},
            )
    ticket = await ctx.tickets.get(complaints.normalise_tracking_code(tracking_code))
    if ticket is None or ctx.supporters is None:
        raise NotFound("Kode pelacakan tidak ditemukan. (Tracking code not found.)")
    if not supportable(ticket):
        raise Conflict(
            "Laporan ini tidak dapat didukung: belum diverifikasi, tidak untuk umum, atau sudah "
            "selesai. (Only public, open reports can be supported.)"
        )
    supporters = ctx.supporters
    done = await supporters.add(
        ticket.tracking_code, email=email, phone=phone, lang=lang, now=utcnow()
    )
    if done.new:
        size = await supporters.cluster_size(ticket)
        weight = queue_weight(cluster_size=size, supporters=done.count)
        await _apply(
            ctx, ticket, lambda _: complaints.Change(set_fields={"weight": weight}, push={})
        )
    return SupportCounted(tracking_code=ticket.tracking_code, supporters=done.count, new=done.new)


async def _apply(
    ctx: IntakeContext, ticket: Ticket, make_change: Callable[[Ticket], complaints.Change]
) -> Ticket:
    """Apply a domain change with the version check, re-reading the ticket on a race."""
    with conflict_when_changing():
        updated = await ctx.tickets.apply(ticket.tracking_code, make_change, current=ticket)
    if updated is None:
        raise NotFound("Kode pelacakan tidak ditemukan. (Tracking code not found.)")
    return updated


def _follow_up_errors(exc: Exception) -> Exception:
    if isinstance(exc, complaints.FollowUpRefused):
        return Conflict(str(exc))
    field = str(exc)
    return InvalidField(
        ("body", field),
        f"{field} wajib diisi untuk tindakan ini. ({field} is required for this action.)",
    )


async def citizen_reply(
    ctx: IntakeContext,
    tracking_code: str,
    *,
    reply_token: str | None,
    action: str,
    message: str | None,
) -> FollowUpDone:
    ticket = await _ticket_for_reporter(ctx, tracking_code, reply_token)
    now = utcnow()
    calendar = ctx.settings.calendar()
    catalogue = await ctx.catalogue.get()
    try:
        updated = await _apply(
            ctx,
            ticket,
            lambda t: complaints.citizen_follow_up(
                t,
                action=action,
                message=message,
                now=now,
                calendar=calendar,
                resolution_working_days=sla.resolution_days(t, catalogue),
            ),
        )
    except (complaints.FollowUpRefused, complaints.FollowUpInvalid) as exc:
        raise _follow_up_errors(exc) from exc
    return FollowUpDone(
        tracking_code=updated.tracking_code, status=updated.status, action=action, at=now
    )


async def rate(
    ctx: IntakeContext,
    tracking_code: str,
    *,
    reply_token: str | None,
    score: int,
    comment: str | None,
) -> FollowUpDone:
    ticket = await _ticket_for_reporter(ctx, tracking_code, reply_token)
    now = utcnow()
    try:
        updated = await _apply(
            ctx, ticket, lambda t: complaints.rating(t, score=score, comment=comment, now=now)
        )
    except complaints.FollowUpRefused as exc:
        raise Conflict(str(exc)) from exc
    return FollowUpDone(
        tracking_code=updated.tracking_code, status=updated.status, action="rate", at=now
    )


PHOTO_BUSY = "Terlalu banyak foto sedang diproses; coba lagi sebentar. (Too many photos at once.)"


async def clean_photo(ctx: IntakeContext, data: bytes) -> tuple[bytes, str]:
    """The photo without metadata, within the pixel cap; 413 for too many pixels, 415 for what
    is not an image, 503 (with Retry-After) when too many photos are being decoded."""
    try:
        return await ctx.photo_gate.clean(data)
    except TooManyPixels as exc:
        megapixels = ctx.settings.photo_max_pixels // 1_000_000
        raise PayloadTooLarge(
            f"Foto melebihi {megapixels} megapiksel. (Image over {megapixels} megapixels.)"
        ) from exc
    except NotAnImage as exc:
        raise UnsupportedMediaType(
            "Berkas bukan foto JPEG, PNG atau WebP. (Not a JPEG, PNG or WebP image.)"
        ) from exc


@contextlib.asynccontextmanager
async def photo_upload(ctx: IntakeContext) -> AsyncIterator[None]:
    """A place for one upload in memory; 503 with Retry-After when all are taken."""
    try:
        async with ctx.photo_gate.admit():
            yield
    except GateFull as exc:
        raise ServiceUnavailable(PHOTO_BUSY, headers={"Retry-After": "5"}) from exc


async def choose_opd(
    ctx: IntakeContext, tracking_code: str, *, reply_token: str | None, opd: str | None
) -> FollowUpDone:
    """The reporter's answer to routing's choice question (chat tickets)."""
    ticket = await _ticket_for_reporter(ctx, tracking_code, reply_token)
    now = utcnow()
    try:
        updated = await _apply(ctx, ticket, lambda t: complaints.opd_choice(t, opd=opd, now=now))
    except (complaints.FollowUpRefused, complaints.FollowUpInvalid) as exc:
        raise _follow_up_errors(exc) from exc
    return FollowUpDone(
        tracking_code=updated.tracking_code, status=updated.status, action="choose", at=now
    )


async def add_photo(
    ctx: IntakeContext,
    tracking_code: str,
    *,
    reply_token: str | None,
    data: bytes,
    cleaned: tuple[bytes, str] | None = None,
) -> PhotoAdded:
    """Store a cleaned photo in GridFS and list it on the ticket (at most photo_max_count);
    `cleaned` is the photo already cleaned by `clean_photo`, when the caller checked it."""
    ticket = await _ticket_for_reporter(ctx, tracking_code, reply_token)
    limit = ctx.settings.photo_max_count
    if len(ticket.photos) >= limit:
        raise Conflict(f"Maksimal {limit} foto per laporan. (At most {limit} photos.)")
    if len(data) > ctx.settings.photo_max_bytes:
        raise PayloadTooLarge(
            f"Foto melebihi {ctx.settings.photo_max_bytes // 1024 // 1024} MB. (Photo too large.)"
        )
    image, content_type = cleaned or await clean_photo(ctx, data)
    photo_id = await ctx.photos.put(
        image, content_type=content_type, tracking_code=ticket.tracking_code
    )
    photo = Photo(id=photo_id, content_type=content_type, size=len(image), uploaded_at=utcnow())

    def attach(current: Ticket) -> complaints.Change:
        if len(current.photos) >= limit:
            raise complaints.FollowUpRefused(f"Maksimal {limit} foto per laporan.")
        return complaints.Change(
            set_fields={"updated_at": photo.uploaded_at}, push={"photos": [photo.model_dump()]}
        )

    try:
        await _apply(ctx, ticket, attach)
    except BaseException as exc:
        # Not attached (refused, a race lost, the store gone): the file must not stay behind.
        with contextlib.suppress(PyMongoError):
            await ctx.photos.delete(photo_id)
        if isinstance(exc, complaints.FollowUpRefused):
            raise Conflict(str(exc)) from exc
        raise
    return PhotoAdded(
        id=photo.id,
        content_type=content_type,
        size=photo.size,
        url=f"/api/v1/complaints/{ticket.tracking_code}/photos/{photo.id}",
    )


async def photo(
    ctx: IntakeContext, tracking_code: str, photo_id: str, *, reply_token: str | None
) -> tuple[bytes, str]:
    """A photo's bytes: public once the ticket's content is (shared.publication), else only
    for the reporter."""
    ticket = await ctx.tickets.get(complaints.normalise_tracking_code(tracking_code))
    listed = next((p for p in ticket.photos if p.id == photo_id), None) if ticket else None
    if ticket is None or listed is None:
        raise NotFound("Foto tidak ditemukan. (Photo not found.)")
    if not publication.shows_content(ticket) and not (
        reply_token and complaints.reply_token_matches(reply_token, ticket)
    ):
        raise NotFound("Foto tidak ditemukan. (Photo not found.)")
    data = await ctx.photos.get(photo_id)
    if data is None:
        raise NotFound("Foto tidak ditemukan. (Photo not found.)")
    return data, listed.content_type
