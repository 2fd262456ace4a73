"""The staff's web console under /konsol: sign-in, the queue, a ticket, triage, my account.

Server-rendered, in Bahasa Indonesia first (English with `?lang=en`, remembered in a cookie),
usable without JavaScript. The session is the API's signed token in an HttpOnly cookie limited
to /konsol, renewed on every page; every POST carries a signed double-submit CSRF token. Routes
parse a form, call one use case of staff.py or accounts.py, and render a page or redirect.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from services.routing import accounts as account_cases
from services.routing import staff, throughput, workflow
from services.routing.classification import router as classification
from services.routing.console_i18n import DEFAULT_LANG, Lang, Translator, language
from services.routing.queries import SORTS, TicketFilter
from services.routing.repository import LoginThrottle, Transcripts
from services.routing.schemas import CommentIn, ProfileIn, PublicationIn, TransitionIn
from services.routing.staff import RoutingContext
from shared.auth import Principal, Role, TokenCodec, principal_of_account
from shared.catalogue import Catalogue, Opd
from shared.chat import CHAT_SOURCES
from shared.errors import (
    Conflict,
    Forbidden,
    InvalidField,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from shared.events import utcnow
from shared.lifecycle.statuses import OPEN_STATUSES
from shared.mongo import Document
from shared.photos import PhotoStore
from shared.tickets import TicketStatus
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
from shared.workdays import JAKARTA

PREFIX = "/konsol"
STATIC_PATH = f"{PREFIX}/static"
STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"

SESSION_COOKIE = "lp_konsol"
CSRF_COOKIE = "lp_konsol_csrf"
LANG_COOKIE = "lp_konsol_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_FORM_FIELDS = 20
QUEUE_PAGE = 50
OVERDUE_SECTION = 20  # overdue tickets shown above the queue; the rest behind a link
TRIAGE_PAGE = 20
OPEN = "open"  # the status filter "not finished yet"
OPD_GROUPS = ("dinas", "badan", "other", "kecamatan")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = security_headers(CONTENT_SECURITY_POLICY)
CSRF = Csrf("konsol-csrf")
# Where a field's error shows on the ticket page: the form field of the action that was posted.
ACTION_FIELDS = ("note", "to_opd", "reason")

router = APIRouter(prefix=PREFIX, include_in_schema=False)


# -- wiring: templates and static files ------------------------------------------------------------
def static_files() -> StaticFiles:
    """The console's stylesheet and script, with the pages' hardening headers."""
    return HardenedStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS)


@functools.cache
def _templates() -> jinja2.Environment:
    return template_environment(
        TEMPLATE_DIR, static=StaticUrls(STATIC_DIR, STATIC_PATH), PREFIX=PREFIX
    )


# -- the page of one request: language, CSRF, session ----------------------------------------------
@dataclass
class Console:
    """What every console page needs: the caller, language, CSRF token, and cookies to set."""

    request: Request
    ctx: RoutingContext
    lang: Lang
    csrf: str
    set_csrf_cookie: bool
    principal: Principal | None = None
    account: Document | None = None
    session_ended: bool = False
    set_lang_cookie: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def t(self) -> Translator:
        return Translator(self.lang)

    @property
    def staff(self) -> Principal:
        """The signed-in caller (routes behind `StaffDep` always have one)."""
        assert self.principal is not None
        return self.principal

    @property
    def codec(self) -> TokenCodec:
        codec: TokenCodec = self.request.app.state.token_codec
        return codec

    def choose_language(self, value: str | None) -> None:
        chosen = language(value)
        if chosen is not None:
            self.lang = chosen
            self.set_lang_cookie = True

    def csrf_ok(self, form: FormData) -> bool:
        """The form's token equals the cookie's, and we signed it."""
        cookie = self.request.cookies.get(CSRF_COOKIE)
        sent = form.get("csrf")
        return (
            isinstance(sent, str)
            and cookie is not None
            and hmac.compare_digest(sent.encode(), cookie.encode())
            and CSRF.valid(self.ctx.settings.auth_secret, cookie)
        )

    def sign_in(self, principal: Principal) -> None:
        self.principal = principal
        # A new session gets a new CSRF token, so one planted before sign-in is worthless.
        self.csrf, self.set_csrf_cookie = CSRF.new(self.ctx.settings.auth_secret), True

    def sign_out(self) -> None:
        self.principal, self.account, self.session_ended = None, None, True

    def render(
        self, template: str, *, status: int = 200, here: str | None = None, **values: Any
    ) -> Response:
        html = self.html(template, here=here, **values)
        response = html_response(html, self.request, status_code=status)
        return self.finish(response)

    def html(self, template: str, *, here: str | None = None, **values: Any) -> str:
        """A page's markup (a PDF is made from it too)."""
        errors: Mapping[str, str] = values.setdefault("errors", {})
        values.setdefault("banner", None)
        values.setdefault("done", None)
        values["summary"] = [(key, self.label(key), message) for key, message in errors.items()]
        return (
            _templates()
            .get_template(template)
            .render(
                t=self.t,
                lang=self.lang,
                csrf=self.csrf,
                me=self.principal,
                account=self.account,
                switch=self.switch_link(here),
                **values,
            )
        )

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: Response) -> Response:
        """Hardening headers, and the cookies: CSRF, language, and the renewed session."""
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        response.headers.update(self.headers)
        secure = self.ctx.settings.is_production or self.request.url.scheme == "https"
        cookie: dict[str, Any] = {"httponly": True, "samesite": "lax", "secure": secure}
        if self.set_csrf_cookie:
            response.set_cookie(CSRF_COOKIE, self.csrf, path=PREFIX, **cookie)
        if self.set_lang_cookie:
            response.set_cookie(
                LANG_COOKIE, self.lang, max_age=LANG_COOKIE_MAX_AGE, path=PREFIX, **cookie
            )
        if self.principal is not None:
            response.set_cookie(
                SESSION_COOKIE,
                self.codec.issue(self.principal),
                max_age=self.codec.ttl_seconds,
                path=PREFIX,
                **cookie,
            )
        elif self.session_ended:
            response.delete_cookie(SESSION_COOKIE, path=PREFIX, **cookie)
        return response

    def label(self, key: str) -> str:
        """The label of a form field as the error summary names it ("transfer-note" too)."""
        action, _, name = key.partition("-")
        for candidate in (f"label.{key}", f"act.{action}.{name}", f"label.{name}"):
            if self.t.has(candidate):
                return self.t(candidate)
        return ""

    def switch_link(self, here: str | None) -> dict[str, str]:
        """This page in the other language; a posted page switches on its GET page."""
        other = self.t("lang.other_code")
        if here is None and self.request.method == "GET":
            query = {k: v for k, v in self.request.query_params.items() if k != "lang"}
            query["lang"] = other
            return {"href": f"{self.request.url.path}?{urlencode(query)}", "lang": other}
        return {"href": f"{here or PREFIX}?lang={other}", "lang": other}


async def _console(request: Request) -> Console:
    """The request's page state; a valid session names an active account, read afresh."""
    ctx: RoutingContext = request.state.routing
    secret = ctx.settings.auth_secret
    cookie_csrf = request.cookies.get(CSRF_COOKIE)
    fresh = not CSRF.valid(secret, cookie_csrf)
    console = Console(
        request=request,
        ctx=ctx,
        lang=language(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG,
        csrf=CSRF.new(secret) if fresh else str(cookie_csrf),
        set_csrf_cookie=fresh,
    )
    console.choose_language(request.query_params.get("lang"))
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            claimed = console.codec.verify(token)
        except Unauthorized:
            console.session_ended = True
            return console
        # A deactivated account, a sign-out elsewhere, a changed password, role or OPD count
        # from the next page on; and a session ends CONSOLE_SESSION_MAX_HOURS after sign-in.
        account = await ctx.accounts.get(claimed.username)
        try:
            principal = principal_of_account(claimed, account)
        except Unauthorized:
            console.session_ended = True
            return console
        began = principal.signed_in_at
        limit = timedelta(hours=ctx.settings.console_session_max_hours)
        if began is None or utcnow() - began > limit:
            console.session_ended = True
        else:
            console.principal, console.account = principal, account
    return console


ConsoleDep = Annotated[Console, Depends(_console)]


def _back_after_sign_in(request: Request) -> str:
    """Where to return after signing in: this page, or for a post the page it came from."""
    path = request.url.path
    if request.method != "GET":
        path = path.rsplit("/", 1)[0] if path.count("/") > 2 else PREFIX
    elif request.url.query:
        path = f"{path}?{request.url.query}"
    return path


def _signed_in(console: ConsoleDep) -> Console:
    """Pages for signed-in staff; everyone else is sent to the sign-in page (303)."""
    if console.principal is None:
        query = {"next": _back_after_sign_in(console.request)}
        if console.session_ended:
            query["sesi"] = "habis"
        location = f"{PREFIX}/masuk?{urlencode(query)}"
        headers = {**SECURITY_HEADERS, "Location": location, "Cache-Control": "no-store"}
        if console.session_ended:
            headers["Set-Cookie"] = f"{SESSION_COOKIE}=; Max-Age=0; Path={PREFIX}; HttpOnly"
        raise HTTPException(status_code=303, headers=headers)
    return console


StaffDep = Annotated[Console, Depends(_signed_in)]


def _safe_next(value: str | None) -> str:
    """Only a path inside the console: never an address elsewhere (no open redirect)."""
    if value and value.startswith(PREFIX) and "//" not in value and "\\" not in value:
        return value
    return PREFIX


# -- forms and errors ------------------------------------------------------------------------------
def _text(form: FormData, name: str, limit: int = 5000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _field(loc: Sequence[str | int]) -> str:
    """The field a `loc` names: its last name (FastAPI's leading `body` is not a field)."""
    names = [part for part in loc if isinstance(part, str)]
    if len(names) > 1 and names[0] in ("body", "query"):
        names = names[1:]
    return names[-1] if names else "note"


def _messages(
    t: Translator, errors: Sequence[Mapping[str, Any]], prefix: str = ""
) -> dict[str, str]:
    """FastAPI-shaped error details as {form field: message}, the first message per field."""
    found: dict[str, str] = {}
    for error in errors:
        name = _field(error.get("loc", ()))
        key = f"{prefix}{name}"
        if key not in found:
            found[key] = t.field_error(
                name, str(error.get("type", "")), error.get("ctx") or {}, str(error.get("msg", ""))
            )
    return found


def not_found(console: Console) -> Response:
    return console.render("not_found.html", status=404, here=PREFIX)


# -- what the pages show besides the use cases' views ----------------------------------------------
def _names(cat: Catalogue, lang: Lang) -> dict[str, dict[str, str]]:
    """Display names of OPD, category and kecamatan codes."""
    return {
        "opd": {o.code: o.name for o in cat.opds},
        "category": {
            c.code: (c.name_en if lang == "en" and c.name_en else c.name) for c in cat.categories
        },
        "kecamatan": {r.code: r.name for r in cat.regions},
    }


def _opd_groups(cat: Catalogue) -> list[tuple[str, list[Opd]]]:
    """The OPDs for a select, grouped: dinas, badan, other units, kecamatan offices."""
    groups: dict[str, list[Opd]] = {group: [] for group in OPD_GROUPS}
    for opd in cat.opds:
        groups[opd.kind if opd.kind in groups else "other"].append(opd)
    return [(group, opds) for group, opds in groups.items() if opds]


_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*\b")
_PERCENT = re.compile(r"^\s*(\d{1,3})\s?%")


def triage_candidates(
    view: Mapping[str, Any], cat: Catalogue, fresh: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The router's candidate OPDs for a ticket, best first.

    First what the stored decision tells (its OPD and its alternatives; a ticket routed before
    alternatives were stored has only its reasons, so the OPD codes they name, with the
    percentage that follows a code), then `fresh`, the router's answer now (staff.dry_run: its
    OPD and alternatives), then the default OPD of the category.
    """
    routing = view.get("routing") or {}
    found: dict[str, dict[str, Any]] = {}

    def add(code: str, confidence: float | None, source: str) -> None:
        opd = cat.opd(code)
        if opd is None:
            return
        if code not in found:
            found[code] = {"code": code, "name": opd.name, "confidence": confidence, "via": source}
        elif found[code]["confidence"] is None:
            found[code]["confidence"] = confidence

    if cat.opd(str(routing.get("opd", ""))):
        add(str(routing["opd"]), routing.get("confidence"), "router")
    for alternative in routing.get("alternatives") or []:
        add(str(alternative.get("opd", "")), alternative.get("confidence"), "router")
    for reason in [] if routing.get("alternatives") else routing.get("reasons") or []:
        for match in _CODE.finditer(str(reason)):
            percent = _PERCENT.match(str(reason)[match.end() :])
            add(match.group(), int(percent.group(1)) / 100 if percent else None, "reason")
    for answer in [fresh or {}, *(fresh or {}).get("alternatives", [])]:
        add(str(answer.get("opd", "")), answer.get("confidence"), "router")
    category = cat.category(view.get("category") or "")
    if category is not None:
        add(category.opd, None, "category")
    return list(found.values())


async def _candidates(ctx: RoutingContext, view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A triage ticket's candidates, with the router asked again (a dry run, no change)."""
    fresh = await staff.dry_run(
        ctx,
        text=classification.complaint_text(view.get("title"), str(view.get("description", ""))),
        category=view.get("category"),
        kecamatan=(view.get("location") or {}).get("kecamatan"),
        desa=(view.get("location") or {}).get("desa"),
    )
    return triage_candidates(view, await ctx.catalogue.get(), fresh)


def _history(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(view.get("history") or [])


# -- sign-in and sign-out --------------------------------------------------------------------------
@router.get("/masuk", response_class=HTMLResponse)
async def sign_in_page(
    console: ConsoleDep, next: str | None = None, sesi: str | None = None, keluar: str | None = None
) -> Response:
    if console.principal is not None:
        return console.redirect(_safe_next(next))
    done = console.t("signin.signed_out") if keluar else None
    banner = console.t("signin.expired") if sesi == "habis" else None
    return console.render(
        "sign_in.html", next=_safe_next(next), values={}, banner=banner, done=done, here=None
    )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/masuk", response_class=HTMLResponse)
async def sign_in(console: ConsoleDep) -> Response:
    request, t = console.request, console.t
    async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        username = _text(form, "username", 64).lower()
        password = form.get("password")
        password = password if isinstance(password, str) else ""
        next_page = _safe_next(_text(form, "next", 500))
        csrf_ok = console.csrf_ok(form)
    again: dict[str, Any] = {"next": next_page, "values": {"username": username}}
    here = f"{PREFIX}/masuk"
    if not csrf_ok:
        return console.render("sign_in.html", status=403, banner=t("err.csrf"), here=here, **again)
    errors = {}
    if not username:
        errors["username"] = t("err.missing")
    if not password:
        errors["password"] = t("err.missing")
    if errors:
        return console.render("sign_in.html", status=422, errors=errors, here=here, **again)
    throttle: LoginThrottle = request.state.throttle
    try:
        principal = await account_cases.authenticate(
            username=username,
            password=password[:200],
            address=_client_address(request),
            accounts=console.ctx.accounts,
            throttle=throttle,
        )
    except TooManyRequests as exc:
        retry_after = (exc.headers or {}).get("Retry-After", "60")
        console.headers["Retry-After"] = retry_after
        wait = t.wait(int(retry_after) if retry_after.isdigit() else 60)
        banner = t("err.throttled", wait=wait)
        return console.render("sign_in.html", status=429, banner=banner, here=here, **again)
    except Unauthorized:
        banner = t("err.credentials")
        return console.render("sign_in.html", status=401, banner=banner, here=here, **again)
    console.sign_in(principal)
    return console.redirect(next_page)


@router.get("/keluar", response_class=HTMLResponse)
async def sign_out_page(console: StaffDep) -> Response:
    return console.render("sign_out.html")


@router.post("/keluar", response_class=HTMLResponse)
async def sign_out(console: ConsoleDep) -> Response:
    async with console.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        csrf_ok = console.csrf_ok(form)
    if not csrf_ok:
        if console.principal is None:
            return console.redirect(f"{PREFIX}/masuk")
        banner = console.t("err.csrf")
        return console.render("sign_out.html", status=403, banner=banner, here=f"{PREFIX}/keluar")
    if console.principal is not None:
        await account_cases.sign_out(principal=console.principal, accounts=console.ctx.accounts)
    console.sign_out()
    return console.redirect(f"{PREFIX}/masuk?keluar=1")


# -- the queue -------------------------------------------------------------------------------------
def _day(value: str, *, end: bool) -> datetime:
    """A `YYYY-MM-DD` day in Jakarta time: its first moment, or with `end` its last."""
    day = date.fromisoformat(value)
    return datetime.combine(day, time.max if end else time.min, tzinfo=JAKARTA)


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters as the form sent them, and what they mean for the use case."""

    values: dict[str, str]
    filter: TicketFilter
    sort: str
    cursor: str | None
    errors: dict[str, str]


def _queue_query(console: Console, cat: Catalogue) -> QueueQuery:
    params = console.request.query_params
    names = ("status", "category", "kecamatan", "opd", "overdue", "dari", "sampai", "q", "urut")
    values = {name: (params.get(name) or "").strip()[:200] for name in names}
    errors: dict[str, str] = {}
    statuses: list[str] | None = None
    if values["status"] == OPEN:
        statuses = [s.value for s in OPEN_STATUSES]
    elif values["status"] in set(TicketStatus):
        statuses = [values["status"]]
    else:
        values["status"] = ""
    window: dict[str, datetime | None] = {"dari": None, "sampai": None}
    for name in window:
        if values[name]:
            try:
                window[name] = _day(values[name], end=name == "sampai")
            except ValueError:
                errors[name] = console.t("err.date")
    overdue = {"1": True, "0": False}.get(values["overdue"])
    sees_all = console.staff.role in (Role.ADMIN, Role.AUDITOR)
    sort = values["urut"] if values["urut"] in SORTS else "-submitted_at"
    values["urut"] = sort
    region = cat.region(values["kecamatan"]) if values["kecamatan"] else None
    f = TicketFilter(
        status=statuses,
        category=values["category"] if cat.category(values["category"]) else None,
        kecamatan=region.code if region else None,
        opd=values["opd"] if sees_all and cat.opd(values["opd"]) else None,
        overdue=overdue,
        q=values["q"] or None,
        submitted_from=window["dari"],
        submitted_to=window["sampai"],
    )
    cursor = (params.get("cursor") or "")[:500] or None
    return QueueQuery(values=values, filter=f, sort=sort, cursor=cursor, errors=errors)


def _queue_url(values: Mapping[str, str], **changes: str) -> str:
    query = {k: v for k, v in {**values, **changes}.items() if v}
    return f"{PREFIX}?{urlencode(query)}" if query else PREFIX


@router.get("", response_class=HTMLResponse)
async def queue(console: StaffDep, selesai: str | None = None) -> Response:
    ctx, principal, t = console.ctx, console.staff, console.t
    cat = await ctx.catalogue.get()
    query = _queue_query(console, cat)
    sections: list[dict[str, Any]] = []
    banner = None
    overdue_first = query.filter.overdue is None and query.cursor is None
    if overdue_first:
        late = await staff.list_tickets(
            ctx,
            principal,
            dataclasses.replace(query.filter, overdue=True),
            sort="due_at",
            limit=OVERDUE_SECTION,
            cursor=None,
        )
        if late["items"]:
            more = _queue_url(query.values, overdue="1", urut="due_at")
            sections.append(
                {
                    "id": "lewat",
                    "title": t("section.overdue"),
                    "hint": t("section.overdue_hint"),
                    "tickets": late["items"],
                    "more": more if late["next_cursor"] else None,
                    "next": None,
                }
            )
    rest_filter = query.filter
    if overdue_first and sections:
        rest_filter = dataclasses.replace(query.filter, overdue=False)
    try:
        rest = await staff.list_tickets(
            ctx, principal, rest_filter, sort=query.sort, limit=QUEUE_PAGE, cursor=query.cursor
        )
    except InvalidField:
        rest, banner = {"items": [], "next_cursor": None}, t("err.cursor")
    sections.append(
        {
            "id": "lainnya",
            "title": t("section.rest") if sections else t("section.all"),
            "hint": None,
            "tickets": rest["items"],
            "more": None,
            "next": _queue_url(query.values, cursor=rest["next_cursor"])
            if rest["next_cursor"]
            else None,
        }
    )
    done = None
    if selesai == "transfer":
        code = (console.request.query_params.get("kode") or "")[:40]
        opd = cat.opd(console.request.query_params.get("ke") or "")
        done = t("done.transfer", code=code, opd=opd.name if opd else "")
    mine = cat.opd(principal.opd) if principal.opd else None
    forecast = None
    unfiltered = not any(v for k, v in query.values.items() if k != "urut")
    if principal.opd and query.cursor is None and unfiltered:
        forecast = await throughput.breach_forecast(ctx, principal, None)
    return console.render(
        "queue.html",
        forecast=forecast,
        can_bulk=principal.role is not Role.AUDITOR,
        status=422 if query.errors else 200,
        title=t("queue.title_opd", opd=mine.name) if mine else t("queue.title"),
        sections=sections,
        counts=await staff.counts(ctx, principal),
        statuses=[s.value for s in TicketStatus],
        values=query.values,
        filtered=any(v for k, v in query.values.items() if k not in ("q", "urut")),
        errors=query.errors,
        banner=banner,
        done=done,
        first_page=_queue_url(query.values) if query.cursor else None,
        sees_all=principal.role in (Role.ADMIN, Role.AUDITOR),
        categories=cat.categories,
        regions=cat.regions,
        opd_groups=_opd_groups(cat),
        sorts=list(SORTS),
        names=_names(cat, console.lang),
    )


# -- a ticket --------------------------------------------------------------------------------------
async def _ticket_page(
    console: Console,
    view: Mapping[str, Any],
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    done: str | None = None,
) -> Response:
    cat = await console.ctx.catalogue.get()
    candidates = await _candidates(console.ctx, view) if view.get("status") == "triage" else []
    chat = []
    if view.get("source") in CHAT_SOURCES:
        transcripts = Transcripts(console.request.state.db)
        chat = await staff.transcript(
            console.ctx, console.staff, view["tracking_code"], transcripts
        )
    return console.render(
        "ticket.html",
        transcript=chat,
        status=status,
        here=f"{PREFIX}/tiket/{view['tracking_code']}",
        view=view,
        history=_history(view),
        candidates=candidates,
        guess=candidates[0]["code"] if candidates else "",
        errors=dict(errors or {}),
        values=dict(values or {}),
        banner=banner,
        done=done,
        opd_groups=_opd_groups(cat),
        reasons=[r.value for r in workflow.RejectReason],
        names=_names(cat, console.lang),
        can_comment=console.staff.role is not Role.AUDITOR,
        canned=await _canned(console, view),
        cluster_primary=bool(
            view.get("cluster")
            and view["cluster"]["status"] == "confirmed"
            and view["cluster"]["primary"] == view["tracking_code"]
        ),
    )


async def _canned(console: Console, view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ticket's OPD's canned answers, filled for it (services/routing/throughput.py)."""
    opd = view.get("opd")
    if not opd or console.staff.role is Role.AUDITOR:
        return []
    ticket = await console.ctx.tickets.get(view["tracking_code"])
    if ticket is None:
        return []
    cat = await console.ctx.catalogue.get()
    answers = await throughput.CannedAnswers(console.request.state.db).of(opd)
    return [{"title": a["title"], "text": throughput.fill(a["body"], ticket, cat)} for a in answers]


@router.get("/tiket/{code}", response_class=HTMLResponse)
async def ticket(code: str, console: StaffDep, selesai: str | None = None) -> Response:
    try:
        view = await staff.get_ticket(console.ctx, console.staff, code[:40])
    except NotFound:
        return not_found(console)
    done = None
    if selesai in {a.value for a in workflow.Action} | {
        "comment",
        "publication",
        "cluster_confirm",
        "cluster_split",
    }:
        cat = await console.ctx.catalogue.get()
        opd = cat.opd(view.get("opd") or "")
        done = console.t(f"done.{selesai}", code=view["tracking_code"], opd=opd.name if opd else "")
    return await _ticket_page(console, view, done=done)


@router.post("/tiket/{code}/tindakan", response_class=HTMLResponse)
async def act(code: str, console: StaffDep) -> Response:
    """One transition from the ticket page or the triage page, at the version the form showed."""
    ctx, principal, t = console.ctx, console.staff, console.t
    async with console.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        values = {name: _text(form, name) for name in ("action", "version", *ACTION_FIELDS)}
        back_to_triage = _text(form, "kembali") == "triase"
        cluster = _text(form, "cluster") == "1"
        csrf_ok = console.csrf_ok(form)
    action = values["action"]
    try:
        current = await staff.get_ticket(ctx, principal, code[:40])
    except NotFound:
        return not_found(console)
    if not csrf_ok:
        return await _ticket_page(console, current, status=403, banner=t("err.csrf"))
    prefix = f"{action}-"
    try:
        body = TransitionIn.model_validate(
            {
                "action": action,
                "version": values["version"] or None,
                **{name: values[name] or None for name in ACTION_FIELDS},
            }
        )
        result = await staff.transition(
            ctx,
            principal,
            code[:40],
            workflow.Request(
                action=body.action, note=body.note, to_opd=body.to_opd, reason=body.reason
            ),
            version=body.version,
            cluster=cluster,
        )
    except ValidationError as exc:
        errors = _messages(t, validation_errors(exc), prefix)
        banner = None if any(k.startswith(prefix) for k in errors) else t("err.generic")
        return await _ticket_page(
            console, current, status=422, errors=errors, values=values, banner=banner
        )
    except InvalidField as exc:
        errors = _messages(t, app_error_details(exc), prefix)
        return await _ticket_page(console, current, status=422, errors=errors, values=values)
    except Conflict as exc:
        latest = exc.extra.get("ticket") or current
        changed = str(latest.get("version")) != values["version"]
        banner = t("err.conflict") if changed else t.pick(str(exc.detail))
        return await _ticket_page(console, latest, status=409, values=values, banner=banner)
    except Forbidden:
        return await _ticket_page(
            console, current, status=403, values=values, banner=t("err.forbidden")
        )
    except NotFound:
        return not_found(console)
    outcome = {"selesai": body.action.value}
    if body.action is workflow.Action.TRANSFER:
        outcome |= {"kode": result["tracking_code"], "ke": str(result.get("opd") or "")}
    if back_to_triage:
        return console.redirect(f"{PREFIX}/triase?{urlencode(outcome)}")
    if "allowed_actions" not in result:  # transferred out of the caller's scope
        return console.redirect(f"{PREFIX}?{urlencode(outcome)}")
    return console.redirect(
        f"{PREFIX}/tiket/{result['tracking_code']}?selesai={body.action.value}#selesai"
    )


@router.post("/tiket/{code}/komentar", response_class=HTMLResponse)
async def comment(code: str, console: StaffDep) -> Response:
    ctx, principal, t = console.ctx, console.staff, console.t
    async with console.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        values = {"body": _text(form, "body"), "public": _text(form, "public")}
        csrf_ok = console.csrf_ok(form)
    try:
        current = await staff.get_ticket(ctx, principal, code[:40])
    except NotFound:
        return not_found(console)
    comment_values = {"comment-body": values["body"], "comment-public": values["public"]}
    if not csrf_ok:
        return await _ticket_page(
            console, current, status=403, values=comment_values, banner=t("err.csrf")
        )
    try:
        body = CommentIn.model_validate({"body": values["body"], "public": values["public"] == "1"})
        await staff.comment(ctx, principal, code[:40], body=body.body, public=body.public)
    except ValidationError as exc:
        errors = _messages(t, validation_errors(exc), "comment-")
        return await _ticket_page(
            console, current, status=422, errors=errors, values=comment_values
        )
    except Forbidden:
        return await _ticket_page(console, current, status=403, banner=t("err.auditor"))
    except Conflict as exc:
        return await _ticket_page(
            console, current, status=409, values=comment_values, banner=t.pick(str(exc.detail))
        )
    except NotFound:
        return not_found(console)
    return console.redirect(f"{PREFIX}/tiket/{current['tracking_code']}?selesai=comment#selesai")


@router.post("/tiket/{code}/publikasi", response_class=HTMLResponse)
async def set_publication(code: str, console: StaffDep) -> Response:
    """Edit or hide the public text, with the reason, at the version the form showed."""
    ctx, principal, t = console.ctx, console.staff, console.t
    async with console.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        values = {
            "publication-text": _text(form, "text"),
            "publication-hidden": _text(form, "hidden"),
            "publication-reason": _text(form, "reason"),
        }
        version = _text(form, "version")
        csrf_ok = console.csrf_ok(form)
    try:
        current = await staff.get_ticket(ctx, principal, code[:40])
    except NotFound:
        return not_found(console)
    if not csrf_ok:
        return await _ticket_page(console, current, status=403, values=values, banner=t("err.csrf"))
    try:
        body = PublicationIn.model_validate(
            {
                "text": values["publication-text"] or None,
                "hidden": values["publication-hidden"] == "1",
                "reason": values["publication-reason"],
                "version": version or None,
            }
        )
        await staff.set_publication(
            ctx,
            principal,
            code[:40],
            text=body.text,
            hidden=body.hidden,
            reason=body.reason,
            version=body.version,
        )
    except ValidationError as exc:
        errors = _messages(t, validation_errors(exc), "publication-")
        return await _ticket_page(console, current, status=422, errors=errors, values=values)
    except Forbidden:
        return await _ticket_page(console, current, status=403, banner=t("err.auditor"))
    except Conflict as exc:
        latest = exc.extra.get("ticket") or current
        return await _ticket_page(
            console, latest, status=409, values=values, banner=t("err.conflict")
        )
    except NotFound:
        return not_found(console)
    return console.redirect(
        f"{PREFIX}/tiket/{current['tracking_code']}?selesai=publication#selesai"
    )


@router.get("/tiket/{code}/foto/{photo_id}")
async def photo(code: str, photo_id: str, console: StaffDep) -> Response:
    """A photo of a ticket the caller may see (read from intake's photo store)."""
    try:
        view = await staff.get_ticket(console.ctx, console.staff, code[:40])
    except NotFound:
        return not_found(console)
    listed = next((p for p in view.get("photos") or [] if p.get("id") == photo_id), None)
    data = await PhotoStore(console.request.state.db).get(photo_id) if listed else None
    if listed is None or data is None:
        return not_found(console)
    response = Response(data, media_type=str(listed["content_type"]))
    console.finish(response)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# -- triage ----------------------------------------------------------------------------------------
@router.get("/triase", response_class=HTMLResponse)
async def triage(console: StaffDep, cursor: str | None = None) -> Response:
    """Tickets the router left to the admin koordinator, oldest deadline first (admins only)."""
    ctx, principal, t = console.ctx, console.staff, console.t
    if principal.role is not Role.ADMIN:
        return not_found(console)
    cat = await ctx.catalogue.get()
    banner = None
    try:
        page = await staff.list_tickets(
            ctx,
            principal,
            TicketFilter(status=[TicketStatus.TRIAGE.value]),
            sort="due_at",
            limit=TRIAGE_PAGE,
            cursor=(cursor or "")[:500] or None,
        )
    except InvalidField:
        page, banner = {"items": [], "next_cursor": None}, t("err.cursor")
    items = [{"view": view, "candidates": await _candidates(ctx, view)} for view in page["items"]]
    params = console.request.query_params
    done = None
    if params.get("selesai") == "transfer":
        opd = cat.opd(params.get("ke") or "")
        done = t("done.transfer", code=(params.get("kode") or "")[:40], opd=opd.name if opd else "")
    next_page = page["next_cursor"]
    return console.render(
        "triage.html",
        items=items,
        banner=banner,
        done=done,
        next=f"{PREFIX}/triase?{urlencode({'cursor': next_page})}" if next_page else None,
        first_page=f"{PREFIX}/triase" if cursor else None,
        opd_groups=_opd_groups(cat),
        names=_names(cat, console.lang),
    )


# -- my account ------------------------------------------------------------------------------------
PROFILE_FIELDS = ("full_name", "email", "whatsapp", "notify_mode")


def _account_page(
    console: Console,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    done: str | None = None,
) -> Response:
    account = account_cases.public_account(console.account or {"_id": "", "role": ""})
    shown = {name: str(account.get(name) or "") for name in PROFILE_FIELDS}
    return console.render(
        "account.html",
        status=status,
        here=f"{PREFIX}/akun",
        profile=account,
        values={**shown, **(values or {})},
        errors=dict(errors or {}),
        banner=banner,
        done=done,
    )


def _whatsapp(value: str) -> str:
    """A number as people write it (`0812-3456 7890`) in the stored form `+6281234567890`."""
    digits = re.sub(r"[\s().-]", "", value)
    return "+62" + digits[1:] if digits.startswith("0") else digits


@router.get("/akun", response_class=HTMLResponse)
async def account_page(console: StaffDep, selesai: str | None = None) -> Response:
    done = console.t(f"done.{selesai}") if selesai in ("profile", "password") else None
    return _account_page(console, done=done)


@router.post("/akun", response_class=HTMLResponse)
async def update_profile(console: StaffDep) -> Response:
    """Contact details and the notification preference (immediate or daily digest)."""
    t = console.t
    async with console.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        values = {name: _text(form, name, 300) for name in PROFILE_FIELDS}
        csrf_ok = console.csrf_ok(form)
    if not csrf_ok:
        return _account_page(console, status=403, values=values, banner=t("err.csrf"))
    try:
        body = ProfileIn.model_validate(
            {
                "full_name": values["full_name"] or None,
                "email": values["email"] or None,
                "whatsapp": _whatsapp(values["whatsapp"]) or None,
                "notify_mode": values["notify_mode"] or "immediate",
            }
        )
        await account_cases.update_account(
            accounts=console.ctx.accounts,
            catalogue=await console.ctx.catalogue.get(),
            username=console.staff.username,
            fields=body.model_dump(),
        )
    except ValidationError as exc:
        errors = _messages(t, validation_errors(exc))
        return _account_page(console, status=422, values=values, errors=errors)
    except InvalidField as exc:
        errors = _messages(t, app_error_details(exc))
        return _account_page(console, status=422, values=values, errors=errors)
    return console.redirect(f"{PREFIX}/akun?selesai=profile#selesai")


@router.post("/akun/sandi", response_class=HTMLResponse)
async def change_password(console: StaffDep) -> Response:
    t = console.t
    async with console.request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        secrets_sent = {
            name: str(form.get(name) or "")[:200]
            for name in ("current_password", "new_password", "confirm_password")
        }
        csrf_ok = console.csrf_ok(form)
    if not csrf_ok:
        return _account_page(console, status=403, banner=t("err.csrf"))
    errors = {name: t("err.missing") for name, value in secrets_sent.items() if not value}
    if not errors and secrets_sent["new_password"] != secrets_sent["confirm_password"]:
        errors["confirm_password"] = t("err.confirm_password")
    if errors:
        return _account_page(console, status=422, errors=errors)
    try:
        console.principal = await account_cases.change_password(
            principal=console.staff,
            current=secrets_sent["current_password"],
            new=secrets_sent["new_password"],
            accounts=console.ctx.accounts,
        )
    except Unauthorized:
        return _account_page(
            console, status=422, errors={"current_password": t("err.current_password")}
        )
    except InvalidField as exc:
        return _account_page(console, status=422, errors=_messages(t, app_error_details(exc)))
    return console.redirect(f"{PREFIX}/akun?selesai=password#selesai")
