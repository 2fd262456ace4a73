"""What the citizens' pages show: the complaint form's choices, and the tracking page's view."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from fastapi.responses import HTMLResponse

from services.intake import service
from services.intake.service import IntakeContext
from services.intake.views import TrackedComplaint
from services.intake.web import service as web_service
from services.intake.web.forms import COMPLAINT_FIELDS
from services.intake.web.page import Page
from shared.catalogue import Catalogue
from shared.errors import NotFound
from shared.events import utcnow
from shared.pages.i18n import Lang
from shared.tickets import Kind


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


async def form_page(
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


async def track_page(
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
    view: TrackedComplaint | None = None
    if code:
        try:
            view = await service.public_complaint(ctx, code, token)
        except NotFound:
            errors.setdefault("kode", page.t("err.not_found"))
            status = 404
    mine = view is not None and view.mine is not None
    if view is not None and token and not mine:
        errors.setdefault("token", page.t("err.token"))
        status = max(status, 403)
    cat = await ctx.catalogue.get()
    calendar = ctx.settings.calendar()
    actions: frozenset[str] = frozenset()
    dispute_until = None
    flags = {"anonymous": False, "confidential": view is not None and view.content is None}
    if view is not None and mine:
        flags = await web_service.reporter_flags(ctx, view.tracking_code)
        actions = web_service.allowed_actions(
            view, now=utcnow(), calendar=calendar, photo_max_count=ctx.settings.photo_max_count
        )
        dispute_until = web_service.dispute_deadline(view, calendar)
        page.headers["X-Robots-Tag"] = "noindex"
    switch = page.switch_link("/lacak", **({"kode": view.tracking_code} if view else {}))
    if mine:
        # A link would lose the token: the reporter's page switches by posting it again.
        switch = {"post": "/lacak", "lang": page.t("lang.other_code")}
    return page.render(
        "track.html",
        status=status,
        private=mine,
        switch=switch,
        code=view.tracking_code if view else (code or ""),
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
        photo_room=ctx.settings.photo_max_count - len(view.photos if view else ()),
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
