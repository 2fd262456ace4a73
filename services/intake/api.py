"""Intake's HTTP routes: parse, call one use case, map the result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status

from services.intake import service
from services.intake.repository import TicketRepository
from services.intake.schemas import ComplaintCreated, ComplaintIn, PublicComplaint
from services.intake.settings import IntakeSettings
from shared.catalogue import CatalogueStore
from shared.http import require_json


def _tickets(request: Request) -> TicketRepository:
    repo: TicketRepository = request.state.tickets
    return repo


def _catalogue(request: Request) -> CatalogueStore:
    store: CatalogueStore = request.state.catalogue
    return store


def _settings(request: Request) -> IntakeSettings:
    settings: IntakeSettings = request.app.state.settings
    return settings


TicketsDep = Annotated[TicketRepository, Depends(_tickets)]
CatalogueDep = Annotated[CatalogueStore, Depends(_catalogue)]
SettingsDep = Annotated[IntakeSettings, Depends(_settings)]

ERRORS = {
    413: {"description": "Body over 64 KiB"},
    415: {"description": "Content-Type is not application/json"},
    422: {"description": "Invalid field (named in `loc`) or malformed JSON"},
    503: {"description": "Database unreachable; nothing was stored"},
}

router = APIRouter(prefix="/api/v1", tags=["complaints"])


@router.post(
    "/complaints",
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintCreated,
    dependencies=[Depends(require_json)],
    responses=ERRORS,  # type: ignore[arg-type]
    summary="Submit a complaint, suggestion or information request",
)
async def submit_complaint(
    complaint: ComplaintIn,
    request: Request,
    tickets: TicketsDep,
    catalogue: CatalogueDep,
    settings: SettingsDep,
) -> dict[str, object]:
    body = await service.submit_complaint(
        complaint=complaint,
        tickets=tickets,
        catalogue=catalogue,
        tracking_prefix=settings.tracking_prefix,
    )
    request.state.relay.wake()
    return body


@router.get(
    "/complaints/{tracking_code}",
    response_model=PublicComplaint,
    response_model_exclude_unset=True,
    summary="Track a complaint (public view; the whole ticket with the reporter's X-Reply-Token)",
    responses={404: {"description": "Unknown tracking code"}},
)
async def get_complaint(
    tracking_code: str,
    tickets: TicketsDep,
    catalogue: CatalogueDep,
    x_reply_token: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, object]:
    return await service.public_complaint(
        tracking_code=tracking_code,
        reply_token=x_reply_token,
        tickets=tickets,
        catalogue=catalogue,
    )
