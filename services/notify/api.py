"""Notify's HTTP routes: the delivery log for admins and auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from services.notify import service
from services.notify.repository import DeliveryRepository
from shared.auth import Principal, Role, require_roles


class DeliveryOut(BaseModel):
    event_id: str
    event_type: str
    tracking_code: str
    channel: str
    recipient: str
    recipient_kind: str | None
    status: str
    attempts: int
    created_at: datetime
    updated_at: datetime | None
    sent_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


def _deliveries(request: Request) -> DeliveryRepository:
    deliveries: DeliveryRepository = request.state.deliveries
    return deliveries


DeliveriesDep = Annotated[DeliveryRepository, Depends(_deliveries)]
Staff = Annotated[Principal, require_roles(Role.ADMIN, Role.AUDITOR)]

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get(
    "/notifications",
    response_model=DeliveryList,
    summary="Delivery log of one ticket (contacts masked)",
)
async def list_notifications(
    _: Staff,
    deliveries: DeliveriesDep,
    tracking_code: Annotated[str, Query(min_length=1, max_length=32)],
) -> DeliveryList:
    records = await deliveries.for_ticket(tracking_code.strip().upper())
    return DeliveryList.model_validate({"items": [service.public_record(r) for r in records]})
