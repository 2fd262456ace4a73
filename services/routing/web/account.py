"""My account: contact details, the notification preference, and the password."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import Response

from services.routing import accounts as account_cases
from services.routing.schemas import ProfileIn
from services.routing.web import forms, views
from services.routing.web.page import PREFIX, StaffDep
from shared.errors import InvalidField, Unauthorized
from shared.web import app_error_details, validation_errors

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/akun", response_class=HTMLResponse)
async def account_page(console: StaffDep, selesai: str | None = None) -> Response:
    done = console.t(f"done.{selesai}") if selesai in ("profile", "password") else None
    return views.account_page(console, done=done)


@router.post("/akun", response_class=HTMLResponse)
async def update_profile(console: StaffDep) -> Response:
    """Contact details and the notification preference (immediate or daily digest)."""
    t = console.t
    async with console.request.form(max_files=0, max_fields=forms.MAX_FORM_FIELDS) as form:
        values = {name: forms.text(form, name, 300) for name in forms.PROFILE_FIELDS}
        csrf_ok = console.csrf_ok(form)
    if not csrf_ok:
        return views.account_page(console, status=403, values=values, banner=t("err.csrf"))
    try:
        body = ProfileIn.model_validate(
            {
                "full_name": values["full_name"] or None,
                "email": values["email"] or None,
                "whatsapp": forms.whatsapp(values["whatsapp"]) or None,
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
        errors = forms.messages(t, validation_errors(exc))
        return views.account_page(console, status=422, values=values, errors=errors)
    except InvalidField as exc:
        errors = forms.messages(t, app_error_details(exc))
        return views.account_page(console, status=422, values=values, errors=errors)
    return console.redirect(f"{PREFIX}/akun?selesai=profile#selesai")


@router.post("/akun/sandi", response_class=HTMLResponse)
async def change_password(console: StaffDep) -> Response:
    t = console.t
    async with console.request.form(max_files=0, max_fields=forms.MAX_FORM_FIELDS) as form:
        secrets_sent = {
            name: str(form.get(name) or "")[:200]
            for name in ("current_password", "new_password", "confirm_password")
        }
        csrf_ok = console.csrf_ok(form)
    if not csrf_ok:
        return views.account_page(console, status=403, banner=t("err.csrf"))
    errors = {name: t("err.missing") for name, value in secrets_sent.items() if not value}
    if not errors and secrets_sent["new_password"] != secrets_sent["confirm_password"]:
        errors["confirm_password"] = t("err.confirm_password")
    if errors:
        return views.account_page(console, status=422, errors=errors)
    try:
        console.principal = await account_cases.change_password(
            principal=console.staff,
            current=secrets_sent["current_password"],
            new=secrets_sent["new_password"],
            accounts=console.ctx.accounts,
        )
    except Unauthorized:
        return views.account_page(
            console, status=422, errors={"current_password": t("err.current_password")}
        )
    except InvalidField as exc:
        return views.account_page(
            console, status=422, errors=forms.messages(t, app_error_details(exc))
        )
    return console.redirect(f"{PREFIX}/akun?selesai=password#selesai")
