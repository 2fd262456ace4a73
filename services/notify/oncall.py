"""Alerts that reach someone: Alertmanager's webhook, sent on to the on-call group through
notify's own channels, once per alert group and state (a repeat of the webhook sends nothing
new; a failed send is retried like every message)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from services.notify.dispatch import Dispatcher
from services.notify.recipients import Status
from services.notify.repository import DeliveryRepository
from services.notify.settings import OncallSettings
from shared import correlation
from shared.errors import Forbidden, NotFound, Unauthorized
from shared.mongo import Document

RUNBOOK = "docs/operations.md#runbook"
TEMPLATE = "oncall_alert"
SEVERITY_ID = {"critical": "KRITIS", "warning": "PERINGATAN", "info": "INFO"}


class AlertIn(BaseModel):
    """One alert of Alertmanager's webhook (version 4); unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")
    status: str = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str = ""
    fingerprint: str = ""


class AlertmanagerWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: str = "4"
    groupKey: str = Field(max_length=2000)
    status: str = Field(pattern="^(firing|resolved)$")
    receiver: str = ""
    alerts: list[AlertIn] = Field(default_factory=list, max_length=1000)
    externalURL: str = ""


def delivery_key(hook: AlertmanagerWebhook) -> str:
    """The same notification (group, state and alerts) always gets the same key."""
    alerts = sorted(f"{a.fingerprint}@{a.startsAt}:{a.status}" for a in hook.alerts)
    raw = "\n".join([hook.groupKey, hook.status, *alerts])
    return "oncall:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def alert_text(hook: AlertmanagerWebhook, *, max_listed: int) -> tuple[str, str]:
    """The subject and text for the on-call group, in Bahasa Indonesia."""
    firing = [a for a in hook.alerts if a.status == "firing"]
    shown = firing if hook.status == "firing" else hook.alerts
    names = sorted({a.labels.get("alertname", "?") for a in shown})
    severity = max(
        (a.labels.get("severity", "info") for a in shown),
        key=lambda s: ("info", "warning", "critical").index(s) if s in SEVERITY_ID else 0,
        default="info",
    )
    if hook.status == "firing":
        head = (
            f"[{SEVERITY_ID.get(severity, 'INFO')}] {len(firing)} alert aktif: {', '.join(names)}"
        )
    else:
        head = f"[PULIH] Sudah normal kembali: {', '.join(names)}"
    lines = [head]
    for alert in shown[:max_listed]:
        summary = alert.annotations.get("summary") or alert.labels.get("alertname", "?")
        lines.append(f"- {summary}")
    if len(shown) > max_listed:
        lines.append(f"- ... dan {len(shown) - max_listed} lainnya")
    lines.append(f"Panduan: {RUNBOOK}")
    return head, "\n".join(lines)


class OncallRelay:
    """Turns one webhook into one delivery record and sends it (the dispatcher retries)."""

    def __init__(
        self,
        *,
        settings: OncallSettings,
        deliveries: DeliveryRepository,
        dispatcher: Dispatcher,
        clock: Any,
    ) -> None:
        self.settings = settings
        self._deliveries = deliveries
        self._dispatcher = dispatcher
        self._clock = clock

    def record(self, hook: AlertmanagerWebhook, now: datetime) -> Document:
        key = delivery_key(hook)
        subject, text = alert_text(hook, max_listed=self.settings.max_alerts_listed)
        lease_id, lease_until = self._dispatcher.lease(now)
        return {
            "_id": key,
            "event_id": key,
            "event_type": f"alert.{hook.status}",
            "tracking_code": "",
            "template": TEMPLATE,
            "transition": None,
            "lang": "id",
            "recipient_kind": "oncall",
            "recipient_key": "oncall",
            "recipient": self.settings.address,
            "channel": self.settings.channel,
            "status": Status.PENDING.value,
            "attempts": 1,
            "created_at": now,
            "updated_at": now,
            "next_attempt_at": now,
            "lease_id": lease_id,
            "lease_until": lease_until,
            "message": {"subject": subject, "text": text},
            "correlation_id": correlation.current(),
        }

    async def relay(self, hook: AlertmanagerWebhook) -> tuple[str, bool]:
        """(the delivery's status, whether this webhook was new)."""
        stored, new = await self._deliveries.claim(self.record(hook, self._clock()))
        if not new:
            return str(stored["status"]), False
        return (await self._dispatcher.first_attempt(stored)).value, True


def require_alertmanager(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> OncallRelay:
    relay: OncallRelay = request.state.oncall
    token = relay.settings.token
    if token is None or not relay.settings.address:
        # Switched off, the webhook does not exist (as a chat channel switched off has none).
        raise NotFound(
            "Penerusan alert tidak aktif. (The alert relay is switched off: NOTIFY_ONCALL__*.)"
        )
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("Token diperlukan. (A bearer token is required.)")
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Forbidden("Token salah. (Wrong token.)")
    return relay


router = APIRouter(prefix="/api/v1/alerts", tags=["ops"])


class RelayOut(BaseModel):
    key: str
    status: str
    duplicate: bool


@router.post("/alertmanager", summary="Alertmanager's webhook, sent on to the on-call group")
async def alertmanager_webhook(
    hook: AlertmanagerWebhook, relay: Annotated[OncallRelay, Depends(require_alertmanager)]
) -> RelayOut:
    status, new = await relay.relay(hook)
    return RelayOut(key=delivery_key(hook), status=status, duplicate=not new)
