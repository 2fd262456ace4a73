"""Signing in and out of the console."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from services.routing import accounts as account_cases
from services.routing.repository import LoginThrottle
from services.routing.web import forms
from services.routing.web.page import PREFIX, ConsoleDep, StaffDep, safe_next
from shared.errors import TooManyRequests, Unauthorized

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/masuk", response_class=HTMLResponse)
async def sign_in_page(
    console: ConsoleDep, next: str | None = None, sesi: str | None = None, keluar: str | None = None
) -> Response:
    if console.principal is not None:
        return console.redirect(safe_next(next))
    done = console.t("signin.signed_out") if keluar else None
    banner = console.t("signin.expired") if sesi == "habis" else None
    return console.render(
        "sign_in.html", next=safe_next(next), values={}, banner=banner, done=done, here=None
    )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/masuk", response_class=HTMLResponse)
async def sign_in(console: ConsoleDep) -> Response:
    request, t = console.request, console.t
    async with request.form(max_files=0, max_fields=forms.MAX_FORM_FIELDS) as form:
        username = forms.text(form, "username", 64).lower()
        password = form.get("password")
        password = password if isinstance(password, str) else ""
        next_page = safe_next(forms.text(form, "next", 500))
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
    async with console.request.form(max_files=0, max_fields=forms.MAX_FORM_FIELDS) as form:
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
