"""Notify's HTTP routes: the delivery log (admins, auditors) and template previews (admins)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase

from services.notify import previews, recipients, service
from services.notify.rendering import Renderer
from services.notify.repository import DeliveryRepository, DigestRepository
from services.notify.views import DeliveryEntry
from shared.auth import CurrentPrincipal, Principal, Role, principal_of_account
from shared.catalogue import CatalogueStore
from shared.errors import Forbidden
from shared.mongo import Document

# Routing's collection of staff accounts (routing writes it; notify only reads).
ACCOUNTS = "accounts"


class TransitionOut(BaseModel):
    action: str | None = Field(description="`verify`, `resolve`, `confirm`, `route`, ...")
    from_status: str | None = Field(alias="from")
    to_status: str | None = Field(alias="to")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class DeliveryOut(BaseModel):
    event_id: str
    event_type: str
    message: str | None = Field(
        description="The message (template) sent, e.g. `citizen_resolved`; `webhook` for webhooks."
    )
    transition: TransitionOut | None = Field(
        description="The status change the event records; null for events that change none."
    )
    tracking_code: str
    channel: str
    recipient: str
    recipient_kind: str | None
    status: str
    attempts: int
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime | None
    sent_at: datetime | None
    next_attempt_at: datetime | None = None

    @classmethod
    def of(cls, entry: DeliveryEntry) -> DeliveryOut:
        change = entry.transition
        return cls.model_validate(
            {
                **{name: getattr(entry, name) for name in DELIVERY_FIELDS},
                "transition": None
                if change is None
                else TransitionOut(
                    action=change.action, from_status=change.from_status, to_status=change.to_status
                ),
            }
        )


DELIVERY_FIELDS = [f.name for f in dataclasses.fields(DeliveryEntry) if f.name != "transition"]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


class RuleOut(BaseModel):
    event_type: str
    audience: str
    template: str
    digestible: bool


class RuleList(BaseModel):
    items: list[RuleOut]


class PreviewOut(BaseModel):
    template: str
    audience: str
    variant: str | None
    subject: str
    text: str
    html: str | None


class PreviewList(BaseModel):
    event_type: str
    lang: str
    channel: str
    items: list[PreviewOut]


async def _deliveries(request: Request) -> DeliveryRepository:
    deliveries: DeliveryRepository = request.state.deliveries
    return deliveries


async def _digests(request: Request) -> DigestRepository:
    digests: DigestRepository = request.state.digests
    return digests


async def _renderer(request: Request) -> Renderer:
    renderer: Renderer = request.state.renderer
    return renderer


async def _catalogue(request: Request) -> CatalogueStore:
    catalogue: CatalogueStore = request.state.catalogue
    return catalogue


DeliveriesDep = Annotated[DeliveryRepository, Depends(_deliveries)]
DigestsDep = Annotated[DigestRepository, Depends(_digests)]
RendererDep = Annotated[Renderer, Depends(_renderer)]
CatalogueDep = Annotated[CatalogueStore, Depends(_catalogue)]


async def _active_principal(principal: CurrentPrincipal, request: Request) -> Principal:
    """The token's caller as the account is now, as routing checks it: a deactivated account,
    a revoked token (sign-out, password change) or a lost role is refused at once."""
    db: AsyncDatabase[Document] = request.state.db
    account = await db[ACCOUNTS].find_one({"_id": principal.username}, {"password_hash": 0})
    return principal_of_account(principal, account)


def _roles(*roles: Role) -> object:
    async def check(principal: Annotated[Principal, Depends(_active_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden("Peran Anda tidak diizinkan. (Your role is not allowed here.)")
        return principal

    return Depends(check)


Staff = Annotated[Principal, _roles(Role.ADMIN, Role.AUDITOR)]
Admin = Annotated[Principal, _roles(Role.ADMIN)]
PreviewChannel = Literal["email", "whatsapp", "sms", "webhook", "log"]

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get(
    "/notifications",
    response_model=DeliveryList,
    summary="Delivery log of one ticket (contacts masked)",
)
async def list_notifications(
    _: Staff,
    deliveries: DeliveriesDep,
    digests: DigestsDep,
    tracking_code: Annotated[str, Query(min_length=1, max_length=32)],
) -> DeliveryList:
    entries = await service.delivery_log(
        tracking_code=tracking_code.strip().upper(), deliveries=deliveries, digests=digests
    )
    return DeliveryList(items=[DeliveryOut.of(entry) for entry in entries])


@router.get(
    "/templates",
    response_model=RuleList,
    summary="Who hears of which event, with which template",
)
async def list_rules(_: Admin) -> RuleList:
    return RuleList(
        items=[
            RuleOut(
                event_type=r.event_type,
                audience=r.audience.value,
                template=r.template,
                digestible=r.digestible,
            )
            for r in recipients.RULES
        ]
    )


@router.get(
    "/templates/{event_type}/preview",
    response_model=PreviewList,
    summary="The messages of an event type rendered for a sample ticket (`digest` too)",
)
async def preview_templates(
    _: Admin,
    renderer: RendererDep,
    catalogue: CatalogueDep,
    event_type: Annotated[str, Path(max_length=64)],
    lang: Literal["id", "en"] = "id",
    channel: PreviewChannel = "email",
    audience: Literal["citizen", "officer", "supervisor", "admin"] | None = None,
) -> PreviewList:
    names = {o.code: o.name for o in (await catalogue.get()).opds}
    items = previews.preview(
        renderer=renderer,
        event_type=event_type,
        lang=lang,
        channel=channel,
        audience=audience,
        opd_names=names,
    )
    return PreviewList.model_validate(
        {"event_type": event_type, "lang": lang, "channel": channel, "items": items}
    )
