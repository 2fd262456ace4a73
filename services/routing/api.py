"""Routing's HTTP routes for staff: sign-in, accounts, tickets. Parse, call, map."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from services.routing import accounts as account_cases
from services.routing import staff, workflow
from services.routing.catalogue_admin import CatalogueAdmin
from services.routing.queries import SORTS, TicketFilter
from services.routing.repository import LoginThrottle, Transcripts
from services.routing.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    ClassifyIn,
    ClassifyOut,
    CommentIn,
    CommentOut,
    PasswordChangeIn,
    ProfileIn,
    PublicationIn,
    TicketOut,
    TicketPage,
    TokenOut,
    TransitionIn,
    page_body,
    ticket_body,
    transcript_body,
    transition_body,
)
from services.routing.staff import RoutingContext
from services.routing.views import AccountView, Classified
from shared.auth import CurrentPrincipal, Principal, Role, TokenCodec, principal_of_account
from shared.errors import Forbidden, NotFound
from shared.http import require_json
from shared.tickets import Comment


async def _context(request: Request) -> RoutingContext:
    ctx: RoutingContext = request.state.routing
    return ctx


async def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.state.throttle
    return throttle


async def _codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.app.state.token_codec
    return codec


RoutingDep = Annotated[RoutingContext, Depends(_context)]
ThrottleDep = Annotated[LoginThrottle, Depends(_throttle)]
CodecDep = Annotated[TokenCodec, Depends(_codec)]
PasswordForm = Annotated[OAuth2PasswordRequestForm, Depends()]


async def _active_principal(principal: CurrentPrincipal, ctx: RoutingDep) -> Principal:
    """The token's caller as the account is now: deactivated or signed out means 401 at once,
    and a changed role or OPD applies at once (routing holds the accounts)."""
    return principal_of_account(principal, await ctx.accounts.get(principal.username))


StaffPrincipal = Annotated[Principal, Depends(_active_principal)]


def _roles(*roles: Role) -> Any:
    async def check(principal: StaffPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden("Peran Anda tidak diizinkan. (Your role is not allowed here.)")
        return principal

    return Depends(check)


Admin = Annotated[Principal, _roles(Role.ADMIN)]
JSON_BODY = [Depends(require_json)]
SCOPE_404: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown, or outside the caller's scope (never 403)"}
}

router = APIRouter(prefix="/api/v1")


@router.post(
    "/auth/token",
    tags=["auth"],
    response_model=TokenOut,
    summary="Sign in (OAuth2 password form) and get a short-lived bearer token",
    responses={
        401: {"description": "Wrong username or password (the same for both)"},
        429: {"description": "Too many failures for this username from this address"},
    },
)
async def issue_token(
    form: PasswordForm,
    request: Request,
    ctx: RoutingDep,
    throttle: ThrottleDep,
    codec: CodecDep,
) -> TokenOut:
    address = request.client.host if request.client else "unknown"
    token = await account_cases.sign_in(
        username=form.username,
        password=form.password,
        address=address,
        accounts=ctx.accounts,
        throttle=throttle,
        codec=codec,
    )
    return TokenOut(access_token=token, expires_in=codec.ttl_seconds)


@router.get("/auth/me", tags=["auth"], response_model=AccountOut, summary="Who am I")
async def me(principal: StaffPrincipal, ctx: RoutingDep) -> AccountView:
    account = await ctx.accounts.find(principal.username)
    if account is None:
        raise NotFound("Akun tidak ditemukan. (Account not found.)")
    return account_cases.public_account(account)


@router.patch(
    "/auth/me",
    tags=["auth"],
    response_model=AccountOut,
    dependencies=JSON_BODY,
    summary="Change my contact details and notification preference",
)
async def update_me(body: ProfileIn, principal: StaffPrincipal, ctx: RoutingDep) -> AccountView:
    return await account_cases.update_account(
        accounts=ctx.accounts,
        catalogue=await ctx.catalogue.get(),
        username=principal.username,
        fields=body.model_dump(exclude_unset=True),
    )


@router.post(
    "/auth/password",
    tags=["auth"],
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=JSON_BODY,
    summary="Change my password",
)
async def change_password(
    body: PasswordChangeIn, principal: StaffPrincipal, ctx: RoutingDep
) -> Response:
    await account_cases.change_password(
        principal=principal,
        current=body.current_password,
        new=body.new_password,
        accounts=ctx.accounts,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/sign-out",
    tags=["auth"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out: revoke every token of my account (all sessions, console included)",
)
async def sign_out(principal: StaffPrincipal, ctx: RoutingDep) -> Response:
    await account_cases.sign_out(principal=principal, accounts=ctx.accounts)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/accounts", tags=["accounts"], response_model=list[AccountOut], summary="All accounts (admin)"
)
async def list_accounts(_: Admin, ctx: RoutingDep) -> list[AccountView]:
    return [account_cases.public_account(a) for a in await ctx.accounts.all()]


@router.post(
    "/accounts",
    tags=["accounts"],
    response_model=AccountOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=JSON_BODY,
    summary="Create an account (admin)",
)
async def create_account(body: AccountIn, _: Admin, ctx: RoutingDep) -> AccountView:
    profile = body.model_dump(exclude={"username", "password", "role", "opd"}, exclude_none=True)
    return await account_cases.create_account(
        accounts=ctx.accounts,
        catalogue=await ctx.catalogue.get(),
        username=body.username,
        password=body.password,
        role=body.role,
        opd=body.opd,
        profile=profile,
    )


@router.patch(
    "/accounts/{username}",
    tags=["accounts"],
    response_model=AccountOut,
    dependencies=JSON_BODY,
    summary="Change an account (admin)",
)
async def patch_account(
    username: str, body: AccountPatch, _: Admin, ctx: RoutingDep
) -> AccountView:
    return await account_cases.update_account(
        accounts=ctx.accounts,
        catalogue=await ctx.catalogue.get(),
        username=username,
        fields=body.model_dump(exclude_unset=True),
    )


@router.get(
    "/tickets",
    tags=["tickets"],
    response_model=TicketPage,
    summary="Tickets in the caller's scope, filtered, searched and paged",
)
async def list_tickets(
    principal: StaffPrincipal,
    ctx: RoutingDep,
    status_: Annotated[list[str] | None, Query(alias="status")] = None,
    category: str | None = None,
    kecamatan: str | None = None,
    overdue: bool | None = None,
    opd: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
    assigned: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`me`: my tickets; a username; `none`: tickets nobody handles yet",
        ),
    ] = None,
    sort: Annotated[str, Query(pattern="^(-submitted_at|due_at|-weight)$")] = "-submitted_at",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    statuses = [s for value in status_ or [] for s in value.split(",") if s] or None
    f = TicketFilter(
        status=statuses,
        category=category,
        kecamatan=kecamatan,
        overdue=overdue,
        opd=opd,
        q=q,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        assigned_to={"me": principal.username, "none": ""}.get(assigned or "", assigned),
    )
    assert sort in SORTS
    return page_body(
        await staff.list_tickets(ctx, principal, f, sort=sort, limit=limit, cursor=cursor)
    )


@router.get(
    "/tickets/counts",
    tags=["tickets"],
    response_model=dict[str, int],
    summary="Tickets per status in the caller's scope, plus `overdue` (dashboard)",
)
async def ticket_counts(principal: StaffPrincipal, ctx: RoutingDep) -> dict[str, int]:
    return await staff.counts(ctx, principal)


@router.get(
    "/tickets/{tracking_code}",
    tags=["tickets"],
    response_model=TicketOut,
    response_model_exclude_unset=True,
    responses=SCOPE_404,
    summary="One ticket",
)
async def get_ticket(
    tracking_code: str, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    return ticket_body(await staff.get_ticket(ctx, principal, tracking_code), with_cluster=True)


@router.get(
    "/tickets/{tracking_code}/transcript",
    tags=["tickets"],
    responses=SCOPE_404,
    summary="The WhatsApp or SMS conversation a ticket was filed in: the citizen's messages, "
    "the chat's replies and the news sent to it (empty for other tickets)",
)
async def get_transcript(
    tracking_code: str, principal: StaffPrincipal, ctx: RoutingDep, request: Request
) -> dict[str, Any]:
    entries = await staff.transcript(ctx, principal, tracking_code, Transcripts(request.state.db))
    return transcript_body(entries)


@router.post(
    "/tickets/{tracking_code}/transitions",
    tags=["tickets"],
    response_model=TicketOut | dict[str, Any],
    dependencies=JSON_BODY,
    responses={
        **SCOPE_404,
        403: {"description": "The caller's role may not take this action"},
        409: {
            "description": "Not allowed from this status, or `version` is stale: "
            "the body carries the current `ticket`"
        },
        422: {"description": "A field the action needs is missing"},
    },
    summary="Move the ticket along the transition table",
)
async def transition(
    tracking_code: str, body: TransitionIn, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    request = workflow.Request(
        action=body.action, note=body.note, to_opd=body.to_opd, reason=body.reason
    )
    done = await staff.transition(
        ctx, principal, tracking_code, request, version=body.version, cluster=body.cluster
    )
    return transition_body(done)


@router.post(
    "/tickets/{tracking_code}/comments",
    tags=["tickets"],
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=JSON_BODY,
    responses={**SCOPE_404, 403: {"description": "Auditors change nothing"}},
    summary="Comment on a ticket, public (shown to the citizen) or internal",
)
async def add_comment(
    tracking_code: str, body: CommentIn, principal: StaffPrincipal, ctx: RoutingDep
) -> Comment:
    return await staff.comment(
        ctx, principal, tracking_code, body=body.body, public=body.public, cluster=body.cluster
    )


@router.put(
    "/tickets/{tracking_code}/publication",
    tags=["tickets"],
    response_model=TicketOut,
    response_model_exclude_unset=True,
    dependencies=JSON_BODY,
    responses={
        **SCOPE_404,
        403: {"description": "Auditors change nothing"},
        409: {"description": "`version` is stale: the body carries the current `ticket`"},
    },
    summary="Edit or hide what the public sees of a ticket (redacted either way), with a reason",
)
async def set_publication(
    tracking_code: str, body: PublicationIn, principal: StaffPrincipal, ctx: RoutingDep
) -> dict[str, Any]:
    view = await staff.set_publication(
        ctx,
        principal,
        tracking_code,
        text=body.text,
        hidden=body.hidden,
        reason=body.reason,
        version=body.version,
    )
    return ticket_body(view)


@router.post(
    "/routing/classify",
    tags=["routing"],
    response_model=ClassifyOut,
    dependencies=JSON_BODY,
    summary="Dry run of the router (admin): the same code path and model as live routing",
)
async def classify(body: ClassifyIn, _: Admin, ctx: RoutingDep) -> Classified:
    return await staff.dry_run(
        ctx, text=body.text, category=body.category, kecamatan=body.kecamatan, desa=body.desa
    )


@router.post(
    "/routing/retrain",
    tags=["routing"],
    summary="Retrain the classifier now from the corrections (admin); promotes only a "
    "model that is not worse on held-back examples",
)
async def retrain(_: Admin, ctx: RoutingDep) -> dict[str, Any]:
    result = await ctx.models.retrain(
        await ctx.catalogue.get(), threshold=ctx.settings.confidence_threshold
    )
    active = await ctx.models.active_record()
    return {
        "result": result,
        "active_model": active["_id"] if active else None,
        "corrections": await ctx.models.correction_count(),
    }


Staff = Annotated[Principal, _roles(Role.ADMIN, Role.AUDITOR)]


@router.get(
    "/catalogue",
    tags=["catalogue"],
    summary="The stored catalogue: OPDs, categories, regions, referrals",
)
async def get_catalogue(_: StaffPrincipal, ctx: RoutingDep) -> dict[str, Any]:
    return (await ctx.catalogue.get()).model_dump(mode="json")


@router.put(
    "/catalogue/{kind}/{code}",
    tags=["catalogue"],
    dependencies=JSON_BODY,
    responses={
        404: {"description": "Unknown catalogue kind"},
        422: {"description": "Invalid entry (e.g. a category's unknown OPD)"},
    },
    summary="Create or change a catalogue entry (admin; audited)",
)
async def put_catalogue_entry(
    kind: str, code: str, body: dict[str, Any], principal: Admin, request: Request, ctx: RoutingDep
) -> dict[str, Any]:
    admin = CatalogueAdmin(request.state.db)
    entry = await admin.put(
        kind=kind, code=code, body=body, principal=principal, catalogue=await ctx.catalogue.get()
    )
    ctx.catalogue.invalidate()
    return entry.model_dump(mode="json")


@router.get(
    "/catalogue/audit",
    tags=["catalogue"],
    summary="Who changed which catalogue entry, when, from what to what",
)
async def catalogue_audit(
    _: Staff, request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    return [
        dataclasses.asdict(change)
        for change in await CatalogueAdmin(request.state.db).trail(limit=limit)
    ]
