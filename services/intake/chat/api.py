"""The chat channels' webhooks: WhatsApp Business Cloud API and a generic SMS gateway.

The routes check who is calling (the platform's signature, the gateway's secret), parse, and
hand each message to the conversation; replies leave later through notify.
"""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.intake.chat import service, whatsapp
from services.intake.chat.dialogue import Channel, Kind, Message
from services.intake.chat.service import ChatContext
from services.intake.settings import IntakeSettings
from shared.errors import Forbidden, InvalidField, NotFound, UnsupportedMediaType
from shared.events import utcnow

WEBHOOK_PATH = r"^/api/v1/channels/whatsapp/webhook$"
SMS_SECRET_HEADER = "x-sms-secret"
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Signature or secret missing or wrong"},
    404: {"description": "The channel is switched off"},
    422: {"description": "Not the channel's format"},
    503: {"description": "Database unreachable; nothing was changed (the platform retries)"},
}

router = APIRouter(prefix="/api/v1/channels", tags=["chat channels"])


async def _chat(request: Request) -> ChatContext:
    chat: ChatContext = request.state.chat
    return chat


ChatDep = Annotated[ChatContext, Depends(_chat)]


def _settings(chat: ChatContext) -> IntakeSettings:
    return chat.intake.settings


def _switched_on(enabled: bool, channel: str) -> None:
    """A channel switched off has no webhook (404)."""
    if not enabled:
        raise NotFound(f"Kanal {channel} tidak aktif. (The {channel} channel is off.)")


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@router.get(
    "/whatsapp/webhook",
    response_class=PlainTextResponse,
    responses={403: {"description": "Wrong verify token"}, 404: ERRORS[404]},
    summary="WhatsApp's subscription handshake: echo hub.challenge for the right verify token",
)
async def whatsapp_handshake(
    chat: ChatDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=512)] = None,
) -> PlainTextResponse:
    settings = _settings(chat).whatsapp
    _switched_on(settings.enabled, "WhatsApp")
    if mode != "subscribe" or not _same(token, settings.verify_token.get_secret_value()):
        raise Forbidden("Token verifikasi salah. (Wrong verify token.)")
    return PlainTextResponse(challenge or "")


@router.post(
    "/whatsapp/webhook",
    status_code=status.HTTP_200_OK,
    responses=ERRORS,
    summary="WhatsApp Cloud API notifications: messages (text, image, location, interactive) "
    "and delivery statuses; X-Hub-Signature-256 required",
)
async def whatsapp_webhook(request: Request, chat: ChatDep) -> dict[str, Any]:
    settings = _settings(chat).whatsapp
    _switched_on(settings.enabled, "WhatsApp")
    body = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    if not whatsapp.signature_valid(signature, body, settings.app_secret.get_secret_value()):
        raise Forbidden("Tanda tangan tidak sah. (Bad or missing X-Hub-Signature-256.)")
    try:
        payload = whatsapp.WebhookIn.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidField(("body",), "Bukan format webhook WhatsApp. (Not a webhook.)") from exc
    messages, statuses = whatsapp.read(payload)
    handled = 0
    for inbound in messages:
        if await service.receive(
            chat,
            channel=Channel.WHATSAPP,
            sender=inbound.sender,
            name=inbound.name,
            message=inbound.message,
        ):
            handled += 1
    recorded = await service.record_statuses(chat, statuses)
    return {"status": "ok", "messages": handled, "statuses": recorded}


Field32 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class SmsIn(BaseModel):
    """What an SMS gateway posts: the sender's number, the text and the gateway's message id."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    sender: Field32 = Field(alias="from")
    text: Annotated[str, StringConstraints(max_length=1600)]
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    secret: str | None = Field(default=None, max_length=512)


async def _sms_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            value = json.loads(await request.body())
        except ValueError as exc:
            raise InvalidField(("body",), "JSON tidak sah. (Malformed JSON.)") from exc
        if not isinstance(value, dict):
            raise InvalidField(("body",), "Harus objek JSON. (Expected an object.)")
        return value
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        async with request.form(max_files=0, max_fields=20) as form:
            return {k: v for k, v in form.items() if isinstance(v, str)}
    raise UnsupportedMediaType("Kirim JSON atau formulir. (Content-Type must be JSON or a form.)")


@router.post(
    "/sms/webhook",
    status_code=status.HTTP_200_OK,
    responses={**ERRORS, 415: {"description": "Neither JSON nor a form"}},
    summary="An SMS gateway's incoming message: `from`, `text`, `id` (form or JSON); "
    "the shared secret in X-Sms-Secret or `secret`",
)
async def sms_webhook(request: Request, chat: ChatDep) -> dict[str, Any]:
    settings = _settings(chat).sms
    _switched_on(settings.enabled, "SMS")
    raw = await _sms_body(request)
    given = request.headers.get(SMS_SECRET_HEADER) or raw.get("secret")
    if not _same(given if isinstance(given, str) else None, settings.secret.get_secret_value()):
        raise Forbidden("Rahasia gateway salah. (Wrong or missing secret.)")
    try:
        sms = SmsIn.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ("body", *(str(part) for part in error["loc"]))
        raise InvalidField(loc, str(error["msg"])) from exc
    message = Message(id=sms.id, at=utcnow(), kind=Kind.TEXT, text=sms.text)
    handled = await service.receive(
        chat, channel=Channel.SMS, sender=sms.sender, name=None, message=message
    )
    return {"status": "ok", "messages": int(handled)}
