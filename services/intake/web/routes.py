"""The citizens' pages' routes: each parses a form, calls one use case and renders a page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure

from services.intake import service
from services.intake.deps import ClientDep, IntakeDep
from services.intake.schemas import ComplaintIn, RatingIn, ReplyIn
from services.intake.service import IntakeContext
from services.intake.web import forms, views
from services.intake.web import service as web_service
from services.intake.web.forms import MAX_FORM_FIELDS, REPLY_FIELD
from services.intake.web.page import Page, PageDep
from shared.errors import AppError, Forbidden, InvalidField, TooManyRequests, Unauthorized
from shared.pages.forms import form_text
from shared.web import app_error_details, validation_errors

router = APIRouter(include_in_schema=False)


# -- the complaint form and its receipt -----------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
async def complaint_form(page: PageDep, ctx: IntakeDep) -> HTMLResponse:
    return await views.form_page(page, ctx)


@router.post("/kirim", response_class=HTMLResponse)
async def submit(page: PageDep, ctx: IntakeDep, client: ClientDep) -> HTMLResponse:
    request, settings, t = page.request, ctx.settings, page.t
    async with request.form(max_files=settings.photo_max_count, max_fields=MAX_FORM_FIELDS) as form:
        values = forms.complaint_values(form)
        photos = await forms.uploads(form, "foto", settings)
        form_key = form_text(form, "form_key") or None
        csrf_ok = page.csrf_ok(form)
    again: dict[str, Any] = {"values": values, "photos_dropped": bool(photos)}
    if not csrf_ok:
        return await views.form_page(page, ctx, banner=t("err.csrf"), status=403, **again)
    try:
        service.check_rate(ctx, client)
    except TooManyRequests as exc:
        page.headers["Retry-After"] = forms.retry_after(exc)
        banner = t("err.rate", seconds=forms.retry_after(exc))
        return await views.form_page(page, ctx, banner=banner, status=429, **again)
    try:
        complaint = ComplaintIn.model_validate(forms.complaint_data(values))
        receipt = await web_service.submit_from_web(
            ctx, complaint, photos, client=client, form_key=form_key
        )
    except ValidationError as exc:
        errors = forms.messages(t, validation_errors(exc))
        return await views.form_page(page, ctx, errors=errors, status=422, **again)
    except InvalidField as exc:
        errors = forms.messages(t, app_error_details(exc))
        return await views.form_page(page, ctx, errors=errors, status=422, **again)
    except ConnectionFailure:
        page.headers["Retry-After"] = "5"
        return await views.form_page(page, ctx, banner=t("err.database"), status=503, **again)
    base = str(request.base_url).rstrip("/")
    return page.render(
        "receipt.html",
        status=201,
        private=True,
        switch=None,
        receipt=receipt,
        private_link=f"{base}/lacak?{urlencode({'kode': receipt.tracking_code})}"
        f"#t={receipt.reply_token}",
        failures=[(n, t.pick(reason)) for n, reason in receipt.photo_failures],
    )


# -- the tracking page ----------------------------------------------------------------------------
@router.get("/lacak", response_class=HTMLResponse)
async def track(
    page: PageDep, ctx: IntakeDep, kode: str | None = None, t: str | None = None
) -> HTMLResponse:
    """`?kode=` shows the public view; `t` (the token, for browsers without JavaScript) all."""
    return await views.track_page(
        page, ctx, code=(kode or "").strip()[:40] or None, token=t or None
    )


@router.post("/lacak", response_class=HTMLResponse)
async def track_as_reporter(page: PageDep, ctx: IntakeDep) -> HTMLResponse:
    """The reporter's view, from the token posted by the form (or by the script)."""
    async with page.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        code, token = form_text(form, "kode")[:40], form_text(form, "token")[:200]
        page.choose_language(form_text(form, "lang"))
        csrf_ok = page.csrf_ok(form)
    if not csrf_ok:
        return await views.track_page(page, ctx, code=code, banner=page.t("err.csrf"), status=403)
    if not code:
        return await views.track_page(
            page, ctx, code=None, errors={"kode": page.t("err.kode_missing")}, status=422
        )
    if not token:
        errors = {"token": page.t("err.token_missing")}
        return await views.track_page(page, ctx, code=code, errors=errors, status=422)
    return await views.track_page(page, ctx, code=code, token=token)


@dataclass
class _FollowUp:
    """A reporter's post on the tracking page, read and checked once for every action."""

    code: str
    token: str
    values: dict[str, str]
    photos: list[bytes]
    refusal: HTMLResponse | None


async def _follow_up(
    page: Page, ctx: IntakeContext, client: str, code: str, fields: Sequence[str]
) -> _FollowUp:
    settings = ctx.settings
    async with page.request.form(
        max_files=settings.photo_max_count, max_fields=MAX_FORM_FIELDS
    ) as form:
        token = form_text(form, "token")[:200]
        values = {name: form_text(form, name) for name in fields}
        photos = await forms.uploads(form, "foto", settings)
        csrf_ok = page.csrf_ok(form)
    refusal = None
    keep: dict[str, Any] = {"code": code, "token": token, "values": values}
    if not csrf_ok:
        refusal = await views.track_page(page, ctx, banner=page.t("err.csrf"), status=403, **keep)
    else:
        try:
            service.check_rate(ctx, client)
        except TooManyRequests as exc:
            page.headers["Retry-After"] = forms.retry_after(exc)
            banner = page.t("err.rate", seconds=forms.retry_after(exc))
            refusal = await views.track_page(page, ctx, banner=banner, status=429, **keep)
    return _FollowUp(code=code, token=token, values=values, photos=photos, refusal=refusal)


async def _after_follow_up(
    page: Page,
    ctx: IntakeContext,
    post: _FollowUp,
    exc: Exception | None,
    *,
    done: str,
    rename: Mapping[str, str],
) -> HTMLResponse:
    """The tracking page again: with the success message (key `done`), or the refusal."""
    keep: dict[str, Any] = {"code": post.code, "token": post.token, "values": post.values}
    if exc is None:
        message = page.t(done, count=len(post.photos))
        return await views.track_page(page, ctx, code=post.code, token=post.token, done=message)
    if isinstance(exc, ValidationError):
        errors = forms.messages(page.t, validation_errors(exc), rename)
        return await views.track_page(page, ctx, errors=errors, status=422, **keep)
    if isinstance(exc, InvalidField):
        errors = forms.messages(page.t, app_error_details(exc), rename)
        return await views.track_page(page, ctx, errors=errors, status=422, **keep)
    if isinstance(exc, (Unauthorized, Forbidden)):
        errors = {"token": page.t("err.token_missing" if not post.token else "err.token")}
        return await views.track_page(page, ctx, code=post.code, errors=errors, status=403)
    if isinstance(exc, ConnectionFailure):
        page.headers["Retry-After"] = "5"
        return await views.track_page(page, ctx, banner=page.t("err.database"), status=503, **keep)
    assert isinstance(exc, AppError)
    banner = page.t.pick(str(exc.detail))
    return await views.track_page(page, ctx, banner=banner, status=exc.status_code, **keep)


@router.post("/lacak/{code}/balas", response_class=HTMLResponse)
async def reply(code: str, page: PageDep, ctx: IntakeDep, client: ClientDep) -> HTMLResponse:
    """Add information, confirm the resolution, or dispute it."""
    post = await _follow_up(page, ctx, client, code, ("action", "message"))
    if post.refusal is not None:
        return post.refusal
    action = post.values["action"] or "info"
    field_name = REPLY_FIELD.get(action, "info-message")
    error: Exception | None = None
    try:
        body = ReplyIn.model_validate(
            {
                "reply_token": post.token or None,
                "message": post.values["message"] or None,
                "action": action,
            }
        )
        await service.citizen_reply(
            ctx, code, reply_token=body.reply_token, action=body.action.value, message=body.message
        )
    except (ValidationError, AppError, ConnectionFailure) as exc:
        error = exc
    return await _after_follow_up(
        page, ctx, post, error, done=f"done.{action}", rename={"message": field_name}
    )


@router.post("/lacak/{code}/nilai", response_class=HTMLResponse)
async def rate(code: str, page: PageDep, ctx: IntakeDep, client: ClientDep) -> HTMLResponse:
    """Rate the handling 1 to 5, with an optional comment."""
    post = await _follow_up(page, ctx, client, code, ("score", "comment"))
    if post.refusal is not None:
        return post.refusal
    score = post.values["score"]
    error: Exception | None = None
    try:
        body = RatingIn.model_validate(
            {
                "reply_token": post.token or None,
                "score": int(score) if score.isdigit() else score or None,
                "comment": post.values["comment"] or None,
            }
        )
        await service.rate(
            ctx, code, reply_token=body.reply_token, score=body.score, comment=body.comment
        )
    except (ValidationError, AppError, ConnectionFailure) as exc:
        error = exc
    return await _after_follow_up(
        page,
        ctx,
        post,
        error,
        done="done.rate",
        rename={"score": "rate-score", "comment": "rate-comment"},
    )


@router.post("/lacak/{code}/foto", response_class=HTMLResponse)
async def add_photos(code: str, page: PageDep, ctx: IntakeDep, client: ClientDep) -> HTMLResponse:
    """Attach more photos (up to the limit per complaint)."""
    post = await _follow_up(page, ctx, client, code, ())
    if post.refusal is not None:
        return post.refusal
    error: Exception | None = None
    if not post.photos:
        error = InvalidField(("body", "photos"), page.t("err.photos.missing"))
    else:
        try:
            await web_service.add_photos(
                ctx, code, reply_token=post.token or None, photos=post.photos
            )
        except (AppError, ConnectionFailure) as exc:
            error = exc
    return await _after_follow_up(
        page, ctx, post, error, done="done.photo", rename={"photos": "photo-files"}
    )
