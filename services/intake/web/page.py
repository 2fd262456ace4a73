"""The citizens' pages as one kit: templates, words, cookies and hardening headers.

Server-rendered, in Bahasa Indonesia first (English with `?lang=en`, remembered in a cookie),
usable without JavaScript. Every POST carries a signed double-submit CSRF token. The reply
token never appears in a URL the server sees: the receipt shows a link with the token in the
fragment, and the tracking page posts it (a script does that from the fragment).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from services.intake.deps import IntakeDep
from services.intake.settings import IntakeSettings
from shared.pages.page import Page as BasePage
from shared.pages.page import PageKit
from shared.web import Csrf, HardenedStaticFiles, StaticUrls, html_response, security_headers

PACKAGE_DIR = Path(__file__).parent.parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATE_DIR = PACKAGE_DIR / "templates"
LOCALE_DIR = PACKAGE_DIR / "locale"
# Multipart form posts that may carry photos (the complaint form and the reporter's photo form).
WEB_UPLOAD_PATH = r"^/(kirim|lacak/[^/]+/foto)$"
MULTIPART_SLACK = 64 * 1024

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
# The reporter's pages carry the token in their form and, without JavaScript, maybe in the
# address: the shared headers never send it on in a Referer.
SECURITY_HEADERS = security_headers(CONTENT_SECURITY_POLICY)
CSRF_COOKIE = "lp_csrf"
LANG_COOKIE = "lp_lang"
KIT = PageKit(
    templates=TEMPLATE_DIR,
    locale=LOCALE_DIR,
    csrf=Csrf("csrf"),
    csrf_cookie=CSRF_COOKIE,
    lang_cookie=LANG_COOKIE,
    globals_={"static": StaticUrls(STATIC_DIR, "/static")},
)
# The message of a form field's label, where it is not `label.<field>`.
LABEL_KEYS = {
    "info-message": "label.info_message",
    "dispute-message": "label.dispute_message",
    "rate-score": "act.rate.title",
    "rate-comment": "label.rate_comment",
    "photo-files": "act.photo.title",
    "photos": "section.photos",
    "kind": "kind.legend",
}


def web_upload_limit(settings: IntakeSettings) -> int:
    """Body limit of the web's multipart posts: every photo allowed plus the form fields."""
    return settings.photo_max_count * settings.photo_max_bytes + MULTIPART_SLACK


def static_files() -> StaticFiles:
    """The pages' CSS and script, served with the same hardening headers as the pages."""
    return HardenedStaticFiles(directory=STATIC_DIR, headers=SECURITY_HEADERS)


@dataclass(kw_only=True)
class Page(BasePage):
    """A citizen's page: the kit's page state and intake's settings."""

    settings: IntakeSettings

    def render(
        self, template: str, *, status: int = 200, private: bool = False, **values: Any
    ) -> HTMLResponse:
        html = self.markup(template, **values)
        # The form lists every desa; compressed it is a fifth of the size on a slow line.
        response = html_response(html, self.request, status_code=status, headers=SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store" if private else "no-cache"
        response.headers.update(self.headers)
        self.set_cookies(response, secure=self.request.url.scheme == "https")
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
    page = Page(**KIT.start(request, ctx.settings.auth_secret), settings=ctx.settings)
    page.choose_language(request.query_params.get("lang"))
    return page


PageDep = Annotated[Page, Depends(_page)]
