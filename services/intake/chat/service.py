"""Chat use cases: one message from WhatsApp or SMS through the conversation, its effects carried
out by intake's own use cases (the rules of the web form), its reply stored and queued for
notify.

A message is handled once: under its conversation's lock, a message id already in the
conversation's `seen` list changes nothing. The conversation's new state, the id and the reply's
event are one write; filing uses the draft's id as its Idempotency-Key, so a step repeated after
a crash files nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from services.intake import metrics
from services.intake import service as intake
from services.intake.chat import dialogue
from services.intake.chat.dialogue import Channel, Conversation, Message, TicketState
from services.intake.chat.lexicon import packaged_lexicon
from services.intake.chat.media import MediaSource, MediaUnavailable
from services.intake.chat.places import Gazetteer
from services.intake.chat.replies import Reply, packaged_replies
from services.intake.chat.repository import Stored
from services.intake.chat.whatsapp import StatusUpdate
from services.intake.schemas import ComplaintIn, normalise_phone
from services.intake.service import IntakeContext
from services.intake.stores import Conversations
from shared.catalogue import Region
from shared.errors import AppError, Conflict, NotFound, ServiceUnavailable, TooManyRequests
from shared.events import ChatReply, utcnow
from shared.locks import LockTimeout
from shared.mongo import Document
from shared.outbox import outbox_entry
from shared.tickets import TicketStatus
from shared.workdays import JAKARTA

log = logging.getLogger(__name__)

PRODUCER = "intake"
FLOOD_WARNING_EVERY = timedelta(minutes=1)
_ENGLISH_PART = re.compile(r"\s*\([^()]*\)\s*$")
_KIND_LABELS = {
    dialogue.Kind.IMAGE: "[foto]",
    dialogue.Kind.LOCATION: "[lokasi]",
    dialogue.Kind.OTHER: "[pesan yang tidak dapat dibaca]",
}


@dataclass(frozen=True)
class ChatContext:
    """What the chat use cases work with; built once in app.py's lifespan."""

    intake: IntakeContext
    conversations: Conversations  # repository.ConversationRepository; a fake in unit tests
    media: MediaSource
    wake_relay: Callable[[], None]


class ConversationBusy(ServiceUnavailable):
    """The conversation stayed locked, or changed under the step: 503, the platform retries."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(
            "Percakapan sedang diproses; coba lagi. (Conversation busy; retry.)",
            headers={"Retry-After": "2"},
        )
        self.conversation_id = conversation_id


def _indonesian(detail: Any) -> str:
    """An error's Bahasa Indonesia part: `Laporan sudah ditutup. (The ticket is closed.)`."""
    if isinstance(detail, list):
        detail = detail[0].get("msg", "") if detail and isinstance(detail[0], dict) else ""
    return _ENGLISH_PART.sub("", str(detail)).strip()


def reply_id(inbound_id: str) -> str:
    """The reply to a message has an id that follows from the message: a retried step writes
    the same reply, and notify's delivery key (from it) sends it once."""
    return "r" + hashlib.sha256(inbound_id.encode()).hexdigest()[:24]


@lru_cache(maxsize=4)
def _gazetteer(regions: tuple[Region, ...]) -> Gazetteer:
    return Gazetteer(regions, packaged_lexicon())


async def _ticket_state(chat: ChatContext, state: Conversation) -> TicketState | None:
    latest = state.latest
    if latest is None:
        return None
    ticket = await chat.intake.tickets.get(latest.code)
    if ticket is None:
        return None
    question = ticket.routing_question
    waiting = (
        question is not None
        and ticket.routing_choice is None
        and ticket.status is TicketStatus.SUBMITTED
    )
    return TicketState(
        code=ticket.tracking_code,
        status=ticket.status,
        rated=ticket.rating is not None,
        candidates=tuple(c.opd for c in question.candidates) if question and waiting else (),
    )


async def _context(chat: ChatContext, state: Conversation, now: datetime) -> dialogue.Context:
    settings = chat.intake.settings
    cat = await chat.intake.catalogue.get()
    return dialogue.Context(
        now=now,
        places=_gazetteer(cat.regions),
        lexicon=packaged_lexicon(),
        replies=packaged_replies(),
        bounds=dialogue.Bounds(settings.bounds_lat, settings.bounds_lon),
        tracking_prefix=settings.tracking_prefix,
        organisation=settings.chat.organisation,
        draft_timeout=timedelta(minutes=settings.chat.draft_timeout_minutes),
        latest=await _ticket_state(chat, state),
        opd_names={o.code: o.name for o in cat.opds},
        max_photos=settings.photo_max_count,
    )


def _address(sender: str) -> tuple[str, bool]:
    """The number as stored (+62…), and whether it is Indonesian (only those may file)."""
    try:
        return normalise_phone(sender), True
    except ValueError:
        digits = re.sub(r"[^0-9]", "", sender)
        return "+" + digits, False


async def receive(
    chat: ChatContext, *, channel: Channel, sender: str, name: str | None, message: Message
) -> bool:
    """Handle one message from a citizen once; False when it was handled before."""
    phone, indonesian = _address(sender)
    now = utcnow()
    repo = chat.conversations
    conversation_id = await repo.open(channel, phone, now)
    try:
        return await _receive(chat, conversation_id, channel, name, message, indonesian, now)
    except LockTimeout as exc:
        raise ConversationBusy(conversation_id) from exc


async def _receive(
    chat: ChatContext,
    conversation_id: str,
    channel: Channel,
    name: str | None,
    message: Message,
    indonesian: bool,
    now: datetime,
) -> bool:
    repo = chat.conversations
    async with repo.locks.hold(conversation_id):
        stored = await repo.get(conversation_id)
        if stored is None:
            raise ConversationBusy(conversation_id)
        if message.id in stored.seen:
            metrics.CHAT_MESSAGES.labels(channel.value, "duplicate").inc()
            return False
        fields: Document = {"updated_at": now, "last_inbound_at": now}
        state = stored.state
        replies: list[Reply] = []
        touched: str | None = None
        try:
            intake.check_rate(chat.intake, f"chat:{conversation_id}")
            throttled = False
        except TooManyRequests:
            throttled = True
        if throttled:
            metrics.CHAT_MESSAGES.labels(channel.value, "throttled").inc()
            last = stored.flood_warned_at
            if last is None or now - last > FLOOD_WARNING_EVERY:
                replies.append(Reply("flood"))
                fields["flood_warned_at"] = now
        elif not indonesian:
            replies.append(Reply("not_indonesian", {"url": chat.intake.settings.public_base_url}))
        else:
            ctx = await _context(chat, state, now)
            step = dialogue.step(state, message, ctx)
            state, replies = step.conversation, list(step.replies)
            for effect in step.effects:
                state, said, touched = await _carry_out(
                    chat, state, effect, stored=stored, name=name, now=now
                )
                replies += said
            metrics.CHAT_MESSAGES.labels(channel.value, "handled").inc()
        draft = state.draft or stored.state.draft
        if touched is None and state.draft is None and state.latest is not None:
            touched = state.latest.code
        inbound_id = f"{channel.value}:{message.id}"
        transcript = [_inbound_doc(inbound_id, stored, message, now, draft, touched)]
        outbox: list[Document] = []
        if replies:
            rendered = packaged_replies().render(replies, channel.value)
            rid = reply_id(inbound_id)
            transcript.append(
                {
                    "_id": rid,
                    "conversation": stored.id,
                    "channel": channel.value,
                    "direction": "out",
                    "kind": "text",
                    "text": rendered.text,
                    "buttons": [{"id": b.id, "title": b.title} for b in rendered.buttons],
                    "at": now,
                    "draft": draft.id if draft else None,
                    "tracking_code": touched,
                }
            )
            event = ChatReply(message_id=rid, channel=channel.value, tracking_code=touched)
            envelope = event.envelope(
                ticket_id=stored.id, producer=PRODUCER, correlation_id=stored.id
            ).model_copy(update={"event_id": rid})
            outbox.append(outbox_entry(envelope))
        await repo.add_messages(transcript)
        if touched and stored.state.draft and state.draft is None and state.latest:
            await repo.tag_draft(stored.id, stored.state.draft.id, state.latest.code)
        if not await repo.save(
            stored, state=state, handled=message.id, outbox=outbox, fields=fields
        ):
            raise ConversationBusy(conversation_id)
    chat.wake_relay()
    return True


def _inbound_doc(
    inbound_id: str,
    stored: Stored,
    message: Message,
    now: datetime,
    draft: dialogue.Draft | None,
    touched: str | None,
) -> Document:
    label = _KIND_LABELS.get(message.kind, "")
    text = message.text.strip()
    if message.kind is dialogue.Kind.LOCATION:
        text = " ".join(p for p in (message.place or "", f"{message.lat}, {message.lon}") if p)
    return {
        "_id": inbound_id,
        "conversation": stored.id,
        "channel": stored.state.channel.value,
        "direction": "in",
        "kind": message.kind.value,
        "text": " ".join(p for p in (label, text) if p),
        "at": now,
        "sent_at": message.at,
        "draft": draft.id if draft else None,
        "tracking_code": touched,
    }


async def _carry_out(
    chat: ChatContext,
    state: Conversation,
    effect: dialogue.Effect,
    *,
    stored: Stored,
    name: str | None,
    now: datetime,
) -> tuple[Conversation, list[Reply], str | None]:
    """Do what a step asked for with intake's use cases; the state, what to say, the ticket."""
    ctx = chat.intake
    if isinstance(effect, dialogue.FileComplaint):
        return await _file(chat, state, effect.draft, stored=stored, name=name, now=now)
    if isinstance(effect, dialogue.CheckStatus):
        return state, [await _status(chat, state, effect.code)], None
    code = effect.code
    token = dialogue.reply_token(state, code)
    try:
        match effect:
            case dialogue.FollowUp(action="dispute", message=text):
                await intake.citizen_reply(
                    ctx, code, reply_token=token, action="dispute", message=text[:4000]
                )
                return state, [Reply("disputed", {"code": code})], code
            case dialogue.FollowUp(message=text):
                await intake.citizen_reply(
                    ctx, code, reply_token=token, action="info", message=text[:4000]
                )
                return state, [Reply("info_added", {"code": code})], code
            case dialogue.Rate(score=score, comment=comment):
                await intake.rate(
                    ctx,
                    code,
                    reply_token=token,
                    score=score,
                    comment=comment[:4000] if comment else None,
                )
                return state, [Reply("rated", {"code": code, "score": score})], code
            case dialogue.AttachPhoto(media_id=media_id):
                return state, [await _attach(chat, code, token, media_id)], code
            case dialogue.ChooseOpd(opd=opd):
                await intake.choose_opd(ctx, code, reply_token=token, opd=opd)
                return state, [Reply("choice_noted", {"code": code})], code
    except Conflict as exc:
        key = "dispute_refused" if isinstance(effect, dialogue.FollowUp) else "refused"
        if isinstance(effect, dialogue.ChooseOpd):
            return state, [Reply("choice_closed", {"code": code})], code
        if isinstance(effect, dialogue.FollowUp) and effect.action == "info":
            return state, [Reply("ticket_closed", {"code": code})], code
        return state, [Reply(key, {"code": code, "reason": _indonesian(exc.detail)})], code
    except AppError as exc:
        return state, [Reply("refused", {"reason": _indonesian(exc.detail)})], code
    raise AssertionError(f"unhandled effect {effect!r}")


async def _file(
    chat: ChatContext,
    state: Conversation,
    draft: dialogue.Draft,
    *,
    stored: Stored,
    name: str | None,
    now: datetime,
) -> tuple[Conversation, list[Reply], str | None]:
    """File the draft through intake's use case; then fetch and attach its photos."""
    location = {
        "kecamatan": draft.kecamatan,
        "desa": draft.desa,
        "address": draft.address,
        "lat": draft.lat,
        "lon": draft.lon,
    }
    reporter: dict[str, str] = {"phone": stored.phone}
    if name and name.strip() and not draft.anonymous:
        reporter["name"] = name.strip()[:200]
    try:
        complaint = ComplaintIn.model_validate(
            {
                "description": draft.description[:4000],
                "location": {k: v for k, v in location.items() if v is not None} or None,
                "reporter": reporter,
                "anonymous": bool(draft.anonymous),
            }
        )
        # The draft's id and its content: a repeated step files once, an edited draft anew.
        content = complaint.model_dump_json(exclude_unset=True).encode()
        key = f"chat:{draft.id}:{hashlib.sha256(content).hexdigest()[:16]}"
        answer = await intake.submit_complaint(
            chat.intake,
            complaint,
            idempotency_key=key,
            client=f"chat:{stored.id}",
            source=state.channel.value,
            conversation_id=stored.id,
        )
    except ValidationError as exc:
        reason = _indonesian(exc.errors()[0].get("msg", ""))
        return _not_filed(state, draft, reason, now)
    except AppError as exc:
        return _not_filed(state, draft, _indonesian(exc.detail), now)
    code, token = answer.tracking_code, answer.reply_token
    state = dialogue.filed(state, code=code, reply_token=token, at=now)
    said: list[Reply] = []
    ticket = await chat.intake.tickets.get(code)
    attached = len(ticket.photos) if ticket else 0
    for media_id in draft.photos[attached:]:  # a repeated step attaches none twice
        reply = await _attach(chat, code, token, media_id)
        if reply.key != "photo_added":
            said.append(reply)
    return state, said, code


def _not_filed(
    state: Conversation, draft: dialogue.Draft, reason: str, now: datetime
) -> tuple[Conversation, list[Reply], str | None]:
    kept = draft.model_copy(update={"asking": dialogue.Ask.CONFIRM, "updated_at": now})
    return (
        state.model_copy(update={"draft": kept}),
        [Reply("filing_failed", {"reason": reason})],
        None,
    )


async def _attach(chat: ChatContext, code: str, token: str | None, media_id: str) -> Reply:
    try:
        data = await chat.media.fetch(media_id)
        await intake.add_photo(chat.intake, code, reply_token=token, data=data)
    except MediaUnavailable as exc:
        log.warning("photo of a chat message for %s not fetched: %s", code, exc)
        reason = "foto tidak dapat diunduh dari WhatsApp."
        return Reply("photo_not_added", {"code": code, "reason": reason})
    except AppError as exc:
        return Reply("photo_not_added", {"code": code, "reason": _indonesian(exc.detail)})
    return Reply("photo_added", {"code": code})


async def _status(chat: ChatContext, state: Conversation, code: str) -> Reply:
    words = packaged_replies()
    try:
        view = await intake.public_complaint(
            chat.intake, code, dialogue.reply_token(state, code) or None
        )
    except NotFound:
        return Reply("status_unknown", {"code": code[:20]})
    opd, due = view.opd, view.due_at
    tz = JAKARTA
    channel = state.channel.value
    opd_part = words.one(Reply("status_opd", {"opd": opd.name}), channel).text if opd else ""
    due_part = (
        words.one(Reply("status_due", {"due": words.date(due, tz)}), channel).text if due else ""
    )
    return Reply(
        "status",
        {
            "code": view.tracking_code,
            "status": words.status(view.status.value),
            "opd": opd_part,
            "due": due_part,
        },
    )


async def record_statuses(chat: ChatContext, statuses: Sequence[StatusUpdate]) -> int:
    """Keep the platform's delivery statuses (each once); a failure is logged by its key."""
    recorded = 0
    for status in statuses:
        new = await chat.conversations.record_status(
            {
                "_id": f"{status.message_id}:{status.status}",
                "message_id": status.message_id,
                "status": status.status,
                "delivery_key": status.delivery_key,
                "error_code": status.error_code,
                "at": status.at,
            }
        )
        if not new:
            continue
        recorded += 1
        metrics.CHAT_STATUSES.labels(status.status).inc()
        if status.status == "failed":
            log.warning(
                "WhatsApp could not deliver %s (error %s)", status.delivery_key, status.error_code
            )
    return recorded
