"""Intake's JSON API: parse, call one use case, map the result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Query, Response, UploadFile, status

from services.intake import service
from services.intake.deps import ClientDep, IntakeDep, RateLimited
from services.intake.schemas import (
    CategoryOut,
    ComplaintCreated,
    ComplaintIn,
    FollowUpOut,
    NearbyReport,
    NearbyReports,
    OpdOut,
    PhotoOut,
    PublicComplaint,
    RatingIn,
    RegionOut,
    ReplyIn,
    SupportIn,
    SupportOut,
)
from services.intake.views import ComplaintTaken, FollowUpDone, PhotoAdded, SupportCounted
from shared.http import require_json

ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Body over 64 KiB"},
    415: {"description": "Content-Type is not application/json"},
    422: {"description": "Invalid field (named in `loc`) or malformed JSON"},
    429: {"description": "Too many requests from this address (see Retry-After)"},
    503: {"description": "Database unreachable; nothing was stored"},
}
FOLLOW_UP_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "reply_token missing"},
    403: {"description": "reply_token wrong"},
    404: {"description": "Unknown tracking code"},
    409: {"description": "Not allowed in the ticket's current status (or already rated)"},
    **ERRORS,
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=255,
        description="Makes retries safe: the same key and body within 24 h return the same 201.",
    ),
]
ReplyTokenHeader = Annotated[str | None, Header(max_length=200)]

router = APIRouter(prefix="/api/v1")


@router.post(
    "/complaints",
    tags=["complaints"],
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintCreated,
    dependencies=[Depends(require_json), RateLimited],
    responses={409: {"description": "Idempotency-Key reused with another body"}, **ERRORS},
    summary="Submit a complaint, suggestion or information request",
)
async def submit_complaint(
    complaint: ComplaintIn,
    ctx: IntakeDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> ComplaintTaken:
    return await service.submit_complaint(
        ctx, complaint, idempotency_key=idempotency_key, client=client
    )


@router.get(
    "/complaints/nearby",
    tags=["complaints"],
    response_model=NearbyReports,
    summary="Public open reports of a category near a place (the form offers to support one)",
)
async def nearby(
    ctx: IntakeDep,
    category: Annotated[str, Query(max_length=64)],
    kecamatan: Annotated[str | None, Query(max_length=64)] = None,
    desa: Annotated[str | None, Query(max_length=120)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    text: Annotated[str, Query(max_length=4000)] = "",
) -> NearbyReports:
    items = await service.nearby_reports(
        ctx, category=category, kecamatan=kecamatan, desa=desa, lat=lat, lon=lon, text=text
    )
    return NearbyReports(
        items=[NearbyReport.model_validate(i, from_attributes=True) for i in items]
    )


@router.get(
    "/complaints/{tracking_code}",
    tags=["complaints"],
    response_model=PublicComplaint,
    response_model_exclude_unset=True,
    summary="Track a complaint (public view; the whole ticket with the reporter's X-Reply-Token)",
    responses={404: {"description": "Unknown tracking code"}},
)
async def get_complaint(
    tracking_code: str, ctx: IntakeDep, x_reply_token: ReplyTokenHeader = None
) -> PublicComplaint:
    return PublicComplaint.of(await service.public_complaint(ctx, tracking_code, x_reply_token))


@router.post(
    "/complaints/{tracking_code}/replies",
    tags=["follow-up"],
    status_code=status.HTTP_201_CREATED,
    response_model=FollowUpOut,
    dependencies=[Depends(require_json), RateLimited],
    responses=FOLLOW_UP_ERRORS,
    summary="The reporter adds information, confirms the resolution, or disputes it",
)
async def reply(tracking_code: str, body: ReplyIn, ctx: IntakeDep) -> FollowUpDone:
    return await service.citizen_reply(
        ctx,
        tracking_code,
        reply_token=body.reply_token,
        action=body.action.value,
        message=body.message,
    )


@router.post(
    "/complaints/{tracking_code}/support",
    tags=["follow-up"],
    status_code=status.HTTP_201_CREATED,
    response_model=SupportOut,
    dependencies=[Depends(require_json), RateLimited],
    responses={
        404: {"description": "Unknown tracking code"},
        409: {"description": "Not a public, open report (not verified, confidential, or done)"},
        **ERRORS,
    },
    summary='"Dukung laporan ini": support a public open report (once per contact)',
)
async def support(
    tracking_code: str, body: SupportIn, ctx: IntakeDep, client: ClientDep
) -> SupportCounted:
    return await service.support(
        ctx, tracking_code, email=body.email, phone=body.phone, lang=body.lang, client=client
    )


@router.post(
    "/complaints/{tracking_code}/rating",
    tags=["follow-up"],
    status_code=status.HTTP_201_CREATED,
    response_model=FollowUpOut,
    dependencies=[Depends(require_json), RateLimited],
    responses=FOLLOW_UP_ERRORS,
    summary="The reporter rates the handling (1-5) after resolution",
)
async def rate(tracking_code: str, body: RatingIn, ctx: IntakeDep) -> FollowUpDone:
    return await service.rate(
        ctx, tracking_code, reply_token=body.reply_token, score=body.score, comment=body.comment
    )


@router.post(
    "/complaints/{tracking_code}/photos",
    tags=["follow-up"],
    status_code=status.HTTP_201_CREATED,
    response_model=PhotoOut,
    dependencies=[RateLimited],
    responses={
        **FOLLOW_UP_ERRORS,
        413: {"description": "Photo too large (bytes, or over 16 megapixels)"},
        415: {"description": "Not a JPEG, PNG or WebP image"},
        503: {"description": "Too many photos at once, or database unreachable (Retry-After)"},
    },
    summary="Attach a photo (JPEG, PNG or WebP; location metadata is removed); at most 3",
)
async def upload_photo(
    tracking_code: str,
    ctx: IntakeDep,
    file: Annotated[UploadFile, File()],
    x_reply_token: ReplyTokenHeader = None,
) -> PhotoAdded:
    async with service.photo_upload(ctx):  # the bytes are read only once a place is free
        data = await file.read(ctx.settings.photo_max_bytes + 1)
        return await service.add_photo(ctx, tracking_code, reply_token=x_reply_token, data=data)


@router.get(
    "/complaints/{tracking_code}/photos/{photo_id}",
    tags=["follow-up"],
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        404: {"description": "Unknown photo (or confidential without the token)"},
    },
    summary="A complaint's photo",
)
async def get_photo(
    tracking_code: str, photo_id: str, ctx: IntakeDep, x_reply_token: ReplyTokenHeader = None
) -> Response:
    data, content_type = await service.photo(
        ctx, tracking_code, photo_id, reply_token=x_reply_token
    )
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get(
    "/categories",
    tags=["reference"],
    response_model=list[CategoryOut],
    summary="Complaint categories, each with its default OPD",
)
async def categories(ctx: IntakeDep) -> list[dict[str, Any]]:
    cat = await ctx.catalogue.get()
    return [{"code": c.code, "name": c.name, "opd": c.opd} for c in cat.categories]


@router.get(
    "/regions",
    tags=["reference"],
    response_model=list[RegionOut],
    summary="The kecamatan with their desa/kelurahan",
)
async def regions(ctx: IntakeDep) -> list[dict[str, Any]]:
    cat = await ctx.catalogue.get()
    return [{"code": r.code, "name": r.name, "desa": list(r.desa)} for r in cat.regions]


@router.get(
    "/opds", tags=["reference"], response_model=list[OpdOut], summary="The responsible units (OPD)"
)
async def opds(ctx: IntakeDep) -> list[dict[str, Any]]:
    cat = await ctx.catalogue.get()
    return [{"code": o.code, "name": o.name, "description": o.description} for o in cat.opds]
