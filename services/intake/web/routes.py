"""The citizens' web pages: the complaint form, the receipt and the tracking page.

Server-rendered, in Bahasa Indonesia first (English with `?lang=en`, remembered in a cookie),
usable without JavaScript. Every POST carries a signed double-submit CSRF token. The reply
token never appears in a URL the server sees: the receipt shows a link with the token in the
fragment, and the tracking page posts it (a script does that from the fragment).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure
from starlette.datastructures import FormData, UploadFile
from starlette.staticfiles import StaticFiles

from services.intake import service, web_service
from services.intake.deps import ClientDep, IntakeDep
from services.intake.i18n import DEFAULT_LANG, Lang, Translator, language
from services.intake.schemas import ComplaintIn, RatingIn, ReplyIn
from services.intake.service import IntakeContext
from services.intake.settings import IntakeSettings
from shared.catalogue import Catalogue
from shared.errors import AppError, Forbidden, InvalidField, NotFound, TooManyRequests, Unauthorized
from shared.events import utcnow
from shared.tickets import Kind
from shared.web import (
    Csrf,
    HardenedStaticFiles,
    StaticUrls,
    app_error_details,
    html_response,
    security_headers,
    template_environment,
    validation_errors,
)

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"
# Multipart form posts that may carry photos (the complaint form and the reporter's photo form).
WEB_UPLOAD_PATH = r"^/(kirim|lacak/[^/]+/foto)$"
MULTIPART_SLACK = 64 * 1024
MAX_FORM_FIELDS = 40

CSRF_COOKIE = "lp_csrf"
LANG_COOKIE = "lp_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
# Until the purge of reporter contact gets its own setting, the notice states this period.

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
# The reporter's pages carry the token in their form and, without JavaScript, maybe in the
# address: the shared headers never send it on in a Referer.
SECURITY_HEADERS = security_headers(CONTENT_SECURITY_POLICY)
CSRF = Csrf("csrf")
COMPLAINT_FIELDS = (
    "kind",
    "title",
    "description",
    "category",
    "kecamatan",
    "desa",
    "address",
    "lat",
    "lon",
    "name",
    "email",
    "phone",
    "anonymous",
    "confidential",
)
# Where each use case names a field (`loc`), and the form field that shows its message.
LOCATION_FIELDS = ("kecamatan", "desa", "address", "lat", "lon")
REPORTER_FIELDS = ("name", "email", "phone")
REPLY_FIELD = {"info": "info-message", "dispute": "dispute-message", "confirm": "info-message"}
LABEL_KEYS = {
    "info-message": "label.info_message",
    "dispute-message": "label.dispute_message",
    "rate-score": "act.rate.title",
    "rate-comment": "label.rate_comment",
    "photo-files": "act.photo.title",
    "photos": "section.photos",
    "kind": "kind.legend",
}

router = APIRouter(include_in_schema=False)


# -- wiring: templates, static files, body limit --------------------------------------------------
def web_upload_limit(settings: IntakeSettings) -> int:
    """Body limit of the web's multipart posts: every photo allowed plus the form fields."""
    return settings.photo_max_count * settings.photo_max_bytes + MULTIPART_SLACK


def static_files() -> StaticFiles:
    """The pages' CSS and script, served with the same hardening headers as the pages."""
    return HardenedStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS)


@functools.cache
def _templates() -> jinja2.Environment:
    return template_environment(TEMPLATE_DIR, static=StaticUrls(STATIC_DIR, "/static"))


@dataclass
class Page:
    """What every page needs: its language, the CSRF token, and the cookies to set."""

    request: Request
    settings: IntakeSettings
    lang: Lang
    csrf: str
    set_csrf_cookie: bool
    set_lang_cookie: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def t(self) -> Translator:
        return Translator(self.lang)

    def choose_language(self, value: str | None) -> None:
        chosen = language(value)
        if chosen is not None:
            self.lang = chosen
            self.set_lang_cookie = True

    def csrf_ok(self, form: FormData) -> bool:
        """The signed double submit: the form's token equals the cookie's, and we signed it."""
        cookie = self.request.cookies.get(CSRF_COOKIE)
        sent = form.get("csrf")
        return (
            isinstance(sent, str)
            and cookie is not None
            and hmac.compare_digest(sent.encode(), cookie.encode())
            and CSRF.valid(self.settings.auth_secret, cookie)
        )

    def render(
        self, template: str, *, status: int = 200, private: bool = False, **values: Any
    ) -> HTMLResponse:
        errors: Mapping[str, str] = values.setdefault("errors", {})
        values.setdefault("banner", None)
        values["summary"] = [(key, self.label(key), message) for key, message in errors.items()]
        html = (
            _templates()
            .get_template(template)
            .render(t=self.t, lang=self.lang, csrf=self.csrf, **values)
        )
        # The form lists every desa; compressed it is a fifth of the size on a slow line.
        response = html_response(html, self.request, status_code=status, headers=SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store" if private else "no-cache"
        response.headers.update(self.headers)
        secure = self.request.url.scheme == "https"
        if self.set_csrf_cookie:
            response.set_cookie(
                CSRF_COOKIE, self.csrf, httponly=True, samesite="lax", secure=secure
            )
        if self.set_lang_cookie:
            response.set_cookie(
                LANG_COOKIE,
                self.lang,
                max_age=LANG_COOKIE_MAX_AGE,
                httponly=True,
                samesite="lax",
                secure=secure,
            )
        return response

    def label(self, key: str) -> str:
        """The label of a form field, as the error summary names it."""
        name = LABEL_KEYS.get(key, f"label.{key}")
        return self.t(name) if self.t.has(name) else ""

    def switch_link(self, path: str, **query: str) -> dict[str, str]:
        """A link to the page at `path` (a GET page) in the other language."""
        other = self.t("lang.other_code")
        return {"href": f"{path}?{urlencode({**query, 'lang': other})}", "lang": other}


async def _page(request: Request, ctx: IntakeDep) -> Page:
    settings = ctx.settings
    cookie_token = request.cookies.get(CSRF_COOKIE)
    if CSRF.valid(settings.auth_secret, cookie_token):
        csrf, fresh = str(cookie_token), False
    else:
        csrf, fresh = CSRF.new(settings.auth_secret), True
    page = Page(
        request=request,
        settings=settings,
        lang=language(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG,
        csrf=csrf,
        set_csrf_cookie=fresh,
    )
    page.choose_language(request.query_params.get("lang"))
    return page


PageDep = Annotated[Page, Depends(_page)]


# -- turning form posts into use-case input, and errors into messages -----------------------------
def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _uploads(form: FormData, name: str, settings: IntakeSettings) -> list[bytes]:
    """The chosen files (empty file inputs are skipped), each read to one byte past the limit."""
    photos = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and item.filename:
            photos.append(await item.read(settings.photo_max_bytes + 1))
    return photos


def _complaint_values(form: FormData) -> dict[str, str]:
    values = {name: _text(form, name) for name in COMPLAINT_FIELDS}
    values["kind"] = values["kind"] or Kind.COMPLAINT.value
    return values


def _complaint_data(values: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body the API would get for these form values (empty fields left out)."""
    kecamatan_of_desa, _, desa = values["desa"].rpartition("|")
    location = {
        "kecamatan": values["kecamatan"] or kecamatan_of_desa,
        "desa": desa,
        "address": values["address"],
        # Indonesian phones write decimals with a comma.
        "lat": values["lat"].replace(",", "."),
        "lon": values["lon"].replace(",", "."),
    }
    reporter = {name: values[name] for name in REPORTER_FIELDS}
    data: dict[str, Any] = {
        "kind": values["kind"],
        "description": values["description"],
        "anonymous": values["anonymous"] == "1",
    }
    if values["confidential"] in ("1", "0"):  # empty: no choice, the publication policy decides
        data["confidential"] = values["confidential"] == "1"
    for name in ("title", "category"):
        if values[name]:
            data[name] = values[name]
    if any(location.values()):
        data["location"] = {k: v for k, v in location.items() if v}
    if any(reporter.values()):
        data["reporter"] = {k: v for k, v in reporter.items() if v}
    return data


def _field(loc: Sequence[str | int]) -> str:
    """The form field a `loc` names: its last name, after `body` and the nesting."""
    names = [part for part in loc if isinstance(part, str) and part != "body"]
    return names[-1] if names else "description"


def _messages(
    t: Translator, errors: Sequence[Mapping[str, Any]], rename: Mapping[str, str] | None = None
) -> dict[str, str]:
    """FastAPI-shaped error details as {form field: message}, the first message per field."""
    found: dict[str, str] = {}
    for error in errors:
        name = _field(error.get("loc", ()))
        key = (rename or {}).get(name, name)
        if key not in found:
            found[key] = t.field_error(
                name, str(error.get("type", "")), error.get("ctx") or {}, str(error.get("msg", ""))
            )
    return found


def _retry_after(exc: AppError) -> str:
    return (exc.headers or {}).get("Retry-After", "60")


# -- the complaint form and its receipt -----------------------------------------------------------
def _form_choices(cat: Catalogue, lang: Lang) -> dict[str, Any]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in cat.categories:
        name = category.name_en if lang == "en" and category.name_en else category.name
        groups.setdefault(category.group or "", []).append((category.code, name))
    return {
        "kinds": [k.value for k in Kind],
        "category_groups": sorted(groups.items()),
        "regions": cat.regions,
    }


async def _form_page(
    page: Page,
    ctx: IntakeContext,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    banner: str | None = None,
    status: int = 200,
    photos_dropped: bool = False,
) -> HTMLResponse:
    settings = ctx.settings
    return page.render(
        "form.html",
        status=status,
        switch=page.switch_link("/"),
        values={
            **dict.fromkeys(COMPLAINT_FIELDS, ""),
            "kind": Kind.COMPLAINT.value,
            **(values or {}),
        },
        errors=dict(errors or {}),
        banner=banner,
        photos_dropped=photos_dropped,
        form_key=secrets.token_urlsafe(18),
        photo_max_count=settings.photo_max_count,
        photo_max_mb=settings.photo_max_bytes // 1024 // 1024,
        retention_days=int(settings.contact_retention_days),
        **_form_choices(await ctx.catalogue.get(), page.lang),
    )


@router.get("/", response_class=HTMLResponse)
async def complaint_form(page: PageDep, ctx: IntakeDep) -> HTMLResponse:
    return await _form_page(page, ctx)


@router.post("/kirim", response_class=HTMLResponse)
async def submit(page: PageDep, ctx: IntakeDep, client: ClientDep) -> HTMLResponse:
    request, settings, t = page.request, ctx.settings, page.t
    async with request.form(max_files=settings.photo_max_count, max_fields=MAX_FORM_FIELDS) as form:
        values = _complaint_values(form)
        photos = await _uploads(form, "foto", settings)
        form_key = _text(form, "form_key") or None
        csrf_ok = page.csrf_ok(form)
    again: dict[str, Any] = {"values": values, "photos_dropped": bool(photos)}
    if not csrf_ok:
        return await _form_page(page, ctx, banner=t("err.csrf"), status=403, **again)
    try:
        service.check_rate(ctx, client)
    except TooManyRequests as exc:
        page.headers["Retry-After"] = _retry_after(exc)
        banner = t("err.rate", seconds=_retry_after(exc))
        return await _form_page(page, ctx, banner=banner, status=429, **again)
    try:
        complaint = ComplaintIn.model_validate(_complaint_data(values))
        receipt = await web_service.submit_from_web(
            ctx, complaint, photos, client=client, form_key=form_key
        )
    except ValidationError as exc:
        errors = _messages(t, validation_errors(exc))
        return await _form_page(page, ctx, errors=errors, status=422, **again)
    except InvalidField as exc:
        errors = _messages(t, app_error_details(exc))
        return await _form_page(page, ctx, errors=errors, status=422, **again)
    except ConnectionFailure:
        page.headers["Retry-After"] = "5"
        return await _form_page(page, ctx, banner=t("err.database"), status=503, **again)
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
async def _track_page(
    page: Page,
    ctx: IntakeContext,
    *,
    code: str | None,
    token: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The lookup form, and the ticket: public, or whole with the forms the status allows."""
    errors = dict(errors or {})
    view: dict[str, Any] | None = None
    if code:
        try:
            view = await service.public_complaint(ctx, code, token)
        except NotFound:
            errors.setdefault("kode", page.t("err.not_found"))
            status = 404
    mine = view is not None and "description" in view
    if view is not None and token and not mine:
        errors.setdefault("token", page.t("err.token"))
        status = max(status, 403)
    cat = await ctx.catalogue.get()
    calendar = ctx.settings.calendar()
    actions: frozenset[str] = frozenset()
    dispute_until = None
    flags = {"anonymous": False, "confidential": view is not None and "timeline" not in view}
    if view is not None and mine:
        flags = await web_service.reporter_flags(ctx, view["tracking_code"])
        actions = web_service.allowed_actions(
            view, now=utcnow(), calendar=calendar, photo_max_count=ctx.settings.photo_max_count
        )
        dispute_until = web_service.dispute_deadline(view, calendar)
        page.headers["X-Robots-Tag"] = "noindex"
    switch = page.switch_link("/lacak", **({"kode": view["tracking_code"]} if view else {}))
    if mine:
        # A link would lose the token: the reporter's page switches by posting it again.
        switch = {"post": "/lacak", "lang": page.t("lang.other_code")}
    return page.render(
        "track.html",
        status=status,
        private=mine,
        switch=switch,
        code=view["tracking_code"] if view else (code or ""),
        view=view,
        mine=mine,
        token=token if mine else "",
        actions=actions,
        flags=flags,
        dispute_until=dispute_until,
        errors=errors,
        values=dict(values or {}),
        banner=banner,
        done=done,
        names=_names(cat, page.lang),
        photo_room=ctx.settings.photo_max_count - len((view or {}).get("photos") or []),
        photo_max_mb=ctx.settings.photo_max_bytes // 1024 // 1024,
    )


def _names(cat: Catalogue, lang: Lang) -> dict[str, dict[str, str]]:
    """Display names of category and kecamatan codes."""
    return {
        "category": {
            c.code: (c.name_en if lang == "en" and c.name_en else c.name) for c in cat.categories
        },
        "kecamatan": {r.code: r.name for r in cat.regions},
    }


@router.get("/lacak", response_class=HTMLResponse)
async def track(
    page: PageDep, ctx: IntakeDep, kode: str | None = None, t: str | None = None
) -> HTMLResponse:
    """`?kode=` shows the public view; `t` (the token, for browsers without JavaScript) all."""
    return await _track_page(page, ctx, code=(kode or "").strip()[:40] or None, token=t or None)


@router.post("/lacak", response_class=HTMLResponse)
async def track_as_reporter(page: PageDep, ctx: IntakeDep) -> HTMLResponse:
    """The reporter's view, from the token posted by the form (or by the script)."""
    async with page.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        code, token = _text(form, "kode")[:40], _text(form, "token")[:200]
        page.choose_language(_text(form, "lang"))
        csrf_ok = page.csrf_ok(form)
    if not csrf_ok:
        return await _track_page(page, ctx, code=code, banner=page.t("err.csrf"), status=403)
    if not code:
        return await _track_page(
            page, ctx, code=None, errors={"kode": page.t("err.kode_missing")}, status=422
        )
    if not token:
        errors = {"token": page.t("err.token_missing")}
        return await _track_page(page, ctx, code=code, errors=errors, status=422)
    return await _track_page(page, ctx, code=code, token=token)


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
        token = _text(form, "token")[:200]
        values = {name: _text(form, name) for name in fields}
        photos = await _uploads(form, "foto", settings)
        csrf_ok = page.csrf_ok(form)
    refusal = None
    keep: dict[str, Any] = {"code": code, "token": token, "values": values}
    if not csrf_ok:
        refusal = await _track_page(page, ctx, banner=page.t("err.csrf"), status=403, **keep)
    else:
        try:
            service.check_rate(ctx, client)
        except TooManyRequests as exc:
            page.headers["Retry-After"] = _retry_after(exc)
            banner = page.t("err.rate", seconds=_retry_after(exc))
            refusal = await _track_page(page, ctx, banner=banner, status=429, **keep)
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
        return await _track_page(page, ctx, code=post.code, token=post.token, done=message)
    if isinstance(exc, ValidationError):
        errors = _messages(page.t, validation_errors(exc), rename)
        return await _track_page(page, ctx, errors=errors, status=422, **keep)
    if isinstance(exc, InvalidField):
        errors = _messages(page.t, app_error_details(exc), rename)
        return await _track_page(page, ctx, errors=errors, status=422, **keep)
    if isinstance(exc, (Unauthorized, Forbidden)):
        errors = {"token": page.t("err.token_missing" if not post.token else "err.token")}
        return await _track_page(page, ctx, code=post.code, errors=errors, status=403)
    if isinstance(exc, ConnectionFailure):
        page.headers["Retry-After"] = "5"
        return await _track_page(page, ctx, banner=page.t("err.database"), status=503, **keep)
    assert isinstance(exc, AppError)
    banner = page.t.pick(str(exc.detail))
    return await _track_page(page, ctx, banner=banner, status=exc.status_code, **keep)


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
