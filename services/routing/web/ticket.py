"""A ticket: its page, the transitions, comments and public text posted from it, its photos."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import Response

from services.routing import staff, workflow
from services.routing.schemas import CommentIn, PublicationIn, TransitionIn
from services.routing.web import forms, views
from services.routing.web.page import PREFIX, StaffDep, not_found
from shared.errors import Conflict, Forbidden, InvalidField, NotFound
from shared.photos import PhotoStore
from shared.web import app_error_details, validation_errors

router = APIRouter(prefix=PREFIX, include_in_schema=False)


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
        opd = cat.opd(view.opd or "")
        done = console.t(f"done.{selesai}", code=view.tracking_code, opd=opd.name if opd else "")
    return await views.ticket_page(console, view, done=done)


@router.post("/tiket/{code}/tindakan", response_class=HTMLResponse)
async def act(code: str, console: StaffDep) -> Response:
    """One transition from the ticket page or the triage page, at the version the form showed."""
    ctx, principal, t = console.ctx, console.staff, console.t
    async with console.request.form(max_files=0, max_fields=forms.MAX_FORM_FIELDS) as form:
        values = {
            name: forms.text(form, name) for name in ("action", "version", *forms.ACTION_FIELDS)
        }
        back_to_triage = forms.text(form, "kembali") == "triase"
        cluster = forms.text(form, "cluster") == "1"
        csrf_ok = console.csrf_ok(form)
    action = values["action"]
    try:
        current = await staff.get_ticket(ctx, principal, code[:40])
    except NotFound:
        return not_found(console)
    if not csrf_ok:
        return await views.ticket_page(console, current, status=403, banner=t("err.csrf"))
    prefix = f"{action}-"
    try:
        body = TransitionIn.model_validate(
            {
                "action": action,
                "version": values["version"] or None,
                **{name: values[name] or None for name in forms.ACTION_FIELDS},
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
        errors = forms.messages(t, validation_errors(exc), prefix)
        banner = None if any(k.startswith(prefix) for k in errors) else t("err.generic")
        return await views.ticket_page(
            console, current, status=422, errors=errors, values=values, banner=banner
        )
    except InvalidField as exc:
        errors = forms.messages(t, app_error_details(exc), prefix)
        return await views.ticket_page(console, current, status=422, errors=errors, values=values)
    except Conflict as exc:
        latest = exc.ticket if isinstance(exc, staff.TicketConflict) else current
        changed = str(latest.version) != values["version"]
        banner = t("err.conflict") if changed else t.pick(str(exc.detail))
        return await views.ticket_page(console, latest, status=409, values=values, banner=banner)
    except Forbidden:
        return await views.ticket_page(
            console, current, status=403, values=values, banner=t("err.forbidden")
        )
    except NotFound:
        return not_found(console)
    outcome = {"selesai": body.action.value}
    if body.action is workflow.Action.TRANSFER:
        outcome |= {"kode": result.tracking_code, "ke": result.opd or ""}
    if back_to_triage:
        return console.redirect(f"{PREFIX}/triase?{urlencode(outcome)}")
    if result.ticket is None:  # transferred out of the caller's scope
        return console.redirect(f"{PREFIX}?{urlencode(outcome)}")
    return console.redirect(
        f"{PREFIX}/tiket/{result.tracking_code}?selesai={body.action.value}#selesai"
    )


@router.post("/tiket/{code}/komentar", response_class=HTMLResponse)
async def comment(code: str, console: StaffDep) -> Response:
    ctx, principal, t = console.ctx, console.staff, console.t
    async with console.request.form(max_files=0, max_fields=forms.MAX_FORM_FIELDS) as form:
        values = {"body": forms.text(form, "body"), "public": forms.text(form, "public")}
        csrf_ok = console.csrf_ok(form)
    try:
        current = await staff.get_ticket(ctx, principal, code[:40])
    except NotFound:
        return not_found(console)
    comment_values = {"comment-body": values["body"], "comment-public": values["public"]}
    if not csrf_ok:
        return await views.ticket_page(
            console, current, status=403, values=comment_values, banner=t("err.csrf")
        )
    try:
        body = CommentIn.model_validate({"body": values["body"], "public": values["public"] == "1"})
        await staff.comment(ctx, principal, code[:40], body=body.body, public=body.public)
    except ValidationError as exc:
        errors = forms.messages(t, validation_errors(exc), "comment-")
        return await views.ticket_page(
            console, current, status=422, errors=errors, values=comment_values
        )
    except Forbidden:
        return await views.ticket_page(console, current, status=403, banner=t("err.auditor"))
    except Conflict as exc:
        return await views.ticket_page(
            console, current, status=409, values=comment_values, banner=t.pick(str(exc.detail))
        )
    except NotFound:
        return not_found(console)
    return console.redirect(f"{PREFIX}/tiket/{current.tracking_code}?selesai=comment#selesai")


@router.post("/tiket/{code}/publikasi", response_class=HTMLResponse)
async def set_publication(code: str, console: StaffDep) -> Response:
    """Edit or hide the public text, with the reason, at the version the form showed."""
    ctx, principal, t = console.ctx, console.staff, console.t
    async with console.request.form(max_files=0, max_fields=forms.MAX_FORM_FIELDS) as form:
        values = {
            "publication-text": forms.text(form, "text"),
            "publication-hidden": forms.text(form, "hidden"),
            "publication-reason": forms.text(form, "reason"),
        }
        version = forms.text(form, "version")
        csrf_ok = console.csrf_ok(form)
    try:
        current = await staff.get_ticket(ctx, principal, code[:40])
    except NotFound:
        return not_found(console)
    if not csrf_ok:
        return await views.ticket_page(
            console, current, status=403, values=values, banner=t("err.csrf")
        )
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
        errors = forms.messages(t, validation_errors(exc), "publication-")
        return await views.ticket_page(console, current, status=422, errors=errors, values=values)
    except Forbidden:
        return await views.ticket_page(console, current, status=403, banner=t("err.auditor"))
    except Conflict as exc:
        latest = exc.ticket if isinstance(exc, staff.TicketConflict) else current
        return await views.ticket_page(
            console, latest, status=409, values=values, banner=t("err.conflict")
        )
    except NotFound:
        return not_found(console)
    return console.redirect(f"{PREFIX}/tiket/{current.tracking_code}?selesai=publication#selesai")


@router.get("/tiket/{code}/foto/{photo_id}")
async def photo(code: str, photo_id: str, console: StaffDep) -> Response:
    """A photo of a ticket the caller may see (read from intake's photo store)."""
    try:
        view = await staff.get_ticket(console.ctx, console.staff, code[:40])
    except NotFound:
        return not_found(console)
    listed = next((p for p in view.photos if p.id == photo_id), None)
    data = await PhotoStore(console.request.state.db).get(photo_id) if listed else None
    if listed is None or data is None:
        return not_found(console)
    response = Response(data, media_type=listed.content_type)
    console.finish(response)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
