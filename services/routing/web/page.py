"""The console's pages as one kit, the page of one request, and the session behind it.

Server-rendered, in Bahasa Indonesia first (English with `?lang=en`, remembered in a cookie),
usable without JavaScript. The session is the API's signed token in an HttpOnly cookie limited
to /konsol, renewed on every page; every POST carries a signed double-submit CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from services.routing.staff import RoutingContext
from shared.auth import Principal, TokenCodec, principal_of_account
from shared.errors import Unauthorized
from shared.events import utcnow
from shared.mongo import Document
from shared.months import MONTHS
from shared.pages.i18n import Translator
from shared.pages.page import Page, PageKit
from shared.web import Csrf, HardenedStaticFiles, StaticUrls, html_response, security_headers
from shared.workdays import JAKARTA

PACKAGE_DIR = Path(__file__).parent.parent
PREFIX = "/konsol"
STATIC_PATH = f"{PREFIX}/static"
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATE_DIR = PACKAGE_DIR / "templates"
LOCALE_DIR = PACKAGE_DIR / "locale"

SESSION_COOKIE = "lp_konsol"
CSRF_COOKIE = "lp_konsol_csrf"
LANG_COOKIE = "lp_konsol_lang"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = security_headers(CONTENT_SECURITY_POLICY)


class ConsoleTranslator(Translator):
    """The console's words: short dates for lists, and waits in words."""

    def date(self, value: datetime) -> str:
        """`7 Mar 2025`, in Jakarta time: short, for lists."""
        local = value.astimezone(JAKARTA)
        return f"{local.day} {MONTHS[self.lang][local.month - 1][:3]} {local.year}"

    def datetime(self, value: datetime) -> str:
        """`7 Mar 2025 14.05` / `7 Mar 2025 14:05`, in Jakarta time (WIB)."""
        local = value.astimezone(JAKARTA)
        clock = f"{local:%H.%M}" if self.lang == "id" else f"{local:%H:%M}"
        return f"{self.date(local)} {clock}"

    def wait(self, seconds: int) -> str:
        """A wait in words: minutes from two minutes up, else seconds."""
        if seconds >= 120:
            return self("wait.minutes", n=(seconds + 59) // 60)
        return self("wait.seconds", n=max(1, seconds))


KIT = PageKit(
    templates=TEMPLATE_DIR,
    locale=LOCALE_DIR,
    csrf=Csrf("konsol-csrf"),
    csrf_cookie=CSRF_COOKIE,
    lang_cookie=LANG_COOKIE,
    cookie_path=PREFIX,
    translator=ConsoleTranslator,
    globals_={"static": StaticUrls(STATIC_DIR, STATIC_PATH), "PREFIX": PREFIX},
)


def static_files() -> StaticFiles:
    """The console's stylesheet and script, with the pages' hardening headers."""
    return HardenedStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS)


@dataclass(kw_only=True)
class Console(Page):
    """What every console page needs besides the kit's page state: the caller and the session."""

    ctx: RoutingContext
    principal: Principal | None = None
    account: Document | None = None
    session_ended: bool = False

    @property
    def t(self) -> ConsoleTranslator:
        translator = super().t
        assert isinstance(translator, ConsoleTranslator)
        return translator

    @property
    def staff(self) -> Principal:
        """The signed-in caller (routes behind `StaffDep` always have one)."""
        assert self.principal is not None
        return self.principal

    @property
    def codec(self) -> TokenCodec:
        codec: TokenCodec = self.request.app.state.token_codec
        return codec

    def sign_in(self, principal: Principal) -> None:
        self.principal = principal
        self.new_csrf()

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
        values.setdefault("done", None)
        return self.markup(
            template,
            me=self.principal,
            account=self.account,
            switch=self.switch_link(here),
            **values,
        )

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: Response) -> Response:
        """Hardening headers, and the cookies: CSRF, language, and the renewed session."""
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        response.headers.update(self.headers)
        secure = self.ctx.settings.is_production or self.request.url.scheme == "https"
        self.set_cookies(response, secure=secure)
        cookie: dict[str, Any] = {"httponly": True, "samesite": "lax", "secure": secure}
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
    console = Console(**KIT.start(request, ctx.settings.auth_secret), ctx=ctx)
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


def safe_next(value: str | None) -> str:
    """Only a path inside the console: never an address elsewhere (no open redirect)."""
    if value and value.startswith(PREFIX) and "//" not in value and "\\" not in value:
        return value
    return PREFIX


def not_found(console: Console) -> Response:
    return console.render("not_found.html", status=404, here=PREFIX)
