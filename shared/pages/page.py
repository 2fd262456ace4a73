"""The page of one request: its language, CSRF token and cookies, and its rendering.

A service describes its pages once in a `PageKit` (templates, catalogues, cookie names, the
CSRF purpose) and subclasses `Page` with what its pages know besides (the caller, settings).
Templates are looked up in the service's folder first, then in this package's (`_page.html`,
the frame; `_fields.html`, the form macros), and get `t`, `_`/`gettext`/`ngettext` (Jinja2's
i18n extension), `lang`, `csrf` and `summary` (the error summary's entries).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import jinja2
from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from shared.pages.i18n import DEFAULT_LANG, Catalogues, Lang, Translator, language
from shared.web import Csrf

SHARED_TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


class PageKit:
    """One service's pages: where its templates and words are, its cookies and CSRF purpose."""

    def __init__(
        self,
        *,
        templates: Path,
        locale: Path,
        csrf: Csrf,
        csrf_cookie: str,
        lang_cookie: str,
        cookie_path: str = "/",
        translator: type[Translator] = Translator,
        globals_: Mapping[str, Any] | None = None,
    ) -> None:
        self.templates = templates
        self.catalogues = Catalogues(locale)
        self.csrf = csrf
        self.csrf_cookie = csrf_cookie
        self.lang_cookie = lang_cookie
        self.cookie_path = cookie_path
        self._translator = translator
        self._globals = dict(globals_ or {})
        self._environment = functools.cache(self._build_environment)

    def _build_environment(self) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(self.templates), jinja2.FileSystemLoader(SHARED_TEMPLATES)]
            ),
            autoescape=True,  # citizen text is always rendered escaped
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.globals.update(self._globals)
        return env

    @property
    def environment(self) -> jinja2.Environment:
        """The Jinja2 environment, built on first use."""
        return self._environment()

    def translator(self, lang: Lang) -> Translator:
        return self._translator(self.catalogues, lang)

    def start(self, request: Request, secret: str) -> PageStart:
        """A request's language (cookie, else the default) and CSRF token (a new one if needed)."""
        cookie_token = request.cookies.get(self.csrf_cookie)
        fresh = not self.csrf.valid(secret, cookie_token)
        return {
            "request": request,
            "kit": self,
            "secret": secret,
            "lang": language(request.cookies.get(self.lang_cookie)) or DEFAULT_LANG,
            "csrf": self.csrf.new(secret) if fresh else str(cookie_token),
            "set_csrf_cookie": fresh,
        }


class PageStart(TypedDict):
    """The fields every page starts from (`Page(**kit.start(request, secret), ...)`)."""

    request: Request
    kit: PageKit
    secret: str
    lang: Lang
    csrf: str
    set_csrf_cookie: bool


@dataclass(kw_only=True)
class Page:
    """What every page needs: its language, the CSRF token, and the cookies to set."""

    request: Request
    kit: PageKit
    secret: str
    lang: Lang
    csrf: str
    set_csrf_cookie: bool
    set_lang_cookie: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def t(self) -> Translator:
        return self.kit.translator(self.lang)

    def choose_language(self, value: str | None) -> None:
        """Switch to `value` if it is a language we have (and remember it in a cookie)."""
        chosen = language(value)
        if chosen is not None:
            self.lang = chosen
            self.set_lang_cookie = True

    def new_csrf(self) -> None:
        """A new token (after sign-in, so one planted before is worthless)."""
        self.csrf, self.set_csrf_cookie = self.kit.csrf.new(self.secret), True

    def csrf_ok(self, form: FormData) -> bool:
        """The signed double submit: the form's token equals the cookie's, and we signed it."""
        cookie = self.request.cookies.get(self.kit.csrf_cookie)
        sent = form.get("csrf")
        return (
            isinstance(sent, str)
            and cookie is not None
            and hmac.compare_digest(sent.encode(), cookie.encode())
            and self.kit.csrf.valid(self.secret, cookie)
        )

    def label(self, key: str) -> str:
        """The label of a form field, as the error summary names it ("" when it has none)."""
        name = f"label.{key}"
        return self.t(name) if self.t.has(name) else ""

    def markup(self, template: str, **values: Any) -> str:
        """A template rendered in the page's language; `errors` fill the error summary."""
        errors: Mapping[str, str] = values.setdefault("errors", {})
        values.setdefault("banner", None)
        values["summary"] = [(key, self.label(key), message) for key, message in errors.items()]
        t = self.t
        return self.kit.environment.get_template(template).render(
            t=t,
            _=t,
            gettext=t.gettext,
            ngettext=t.ngettext,
            lang=self.lang,
            csrf=self.csrf,
            **values,
        )

    def set_cookies(self, response: Response, *, secure: bool) -> None:
        """The CSRF and language cookies, when they are new (HttpOnly, SameSite=Lax)."""
        cookie: dict[str, Any] = {"httponly": True, "samesite": "lax", "secure": secure}
        path = self.kit.cookie_path
        if self.set_csrf_cookie:
            response.set_cookie(self.kit.csrf_cookie, self.csrf, path=path, **cookie)
        if self.set_lang_cookie:
            response.set_cookie(
                self.kit.lang_cookie, self.lang, max_age=LANG_COOKIE_MAX_AGE, path=path, **cookie
            )
