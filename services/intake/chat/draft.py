"""The draft of a complaint in a chat: what it still lacks, the question for it, and how each
answer changes it, up to the summary the citizen confirms. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from services.intake.chat.lexicon import fold
from services.intake.chat.model import (
    Ask,
    Channel,
    Context,
    Conversation,
    Draft,
    FileComplaint,
    Kind,
    Message,
    Step,
)
from services.intake.chat.replies import Reply

MAX_MISSES = 2  # answers not understood before a question is given up (it is optional)
SUMMARY_CHARS = 300
PROBLEM_WORDS = 3  # content words a first message needs to count as a complaint
STORY_WORDS = 5  # content words an answer needs to count as more of the story instead


def new_draft_id(message_id: str) -> str:
    """A draft's id follows from the message that opened it, so a retried webhook opens the
    same draft and files it under the same idempotency key."""
    return "d" + hashlib.sha256(message_id.encode()).hexdigest()[:15]


def describes_problem(text: str, ctx: Context) -> bool:
    """Enough words besides greetings to be a complaint rather than a hello."""
    words = ctx.lexicon.content_words(text)
    return len(words) >= PROBLEM_WORDS and len(" ".join(words)) >= 10


def new_draft(message: Message, ctx: Context) -> Draft:
    """An empty draft opened by this message."""
    return Draft(id=new_draft_id(message.id), started_at=ctx.now, updated_at=ctx.now)


def continue_draft(
    conversation: Conversation, draft: Draft, message: Message, ctx: Context
) -> Step:
    said: list[Reply] = []
    if message.kind is Kind.IMAGE:
        draft, said = with_photo(draft, message, ctx)
        if message.text and (
            draft.asking in (Ask.DESCRIPTION, Ask.CONFIRM) or describes_problem(message.text, ctx)
        ):
            draft, more = with_text(draft, message.text, ctx)
            said += more
        return ask_next(conversation, draft, said, ctx)
    if message.kind is Kind.LOCATION:
        draft, said = with_pin(draft, message, ctx)
        return ask_next(conversation, draft, said, ctx)
    answer = message.text.strip()
    match draft.asking:
        case Ask.DESCRIPTION:
            draft, said = with_text(draft, answer, ctx)
        case Ask.KECAMATAN:
            return _answer_kecamatan(conversation, draft, answer, ctx)
        case Ask.DESA:
            return _answer_desa(conversation, draft, answer, ctx)
        case Ask.PHOTO:
            return _answer_photo(conversation, draft, message, ctx)
        case Ask.ANONYMOUS:
            return _answer_anonymous(conversation, draft, message, ctx)
        case Ask.CONFIRM:
            return _answer_confirm(conversation, draft, message, ctx)
        case Ask.EDIT:
            return _answer_edit(conversation, draft, answer, ctx)
    return ask_next(conversation, draft, said, ctx)


def _more_story(draft: Draft, answer: str, ctx: Context) -> bool:
    """An answer that is no answer but more of the complaint (a sentence, not a name)."""
    return len(ctx.lexicon.content_words(answer)) >= STORY_WORDS


def _answer_kecamatan(conversation: Conversation, draft: Draft, answer: str, ctx: Context) -> Step:
    lex = ctx.lexicon
    if lex.is_(lex.skip, answer):
        return ask_next(conversation, draft.model_copy(update={"kecamatan_skipped": True}), [], ctx)
    place = ctx.places.kecamatan(answer)
    if place.kecamatan:
        draft = draft.model_copy(
            update={
                "kecamatan": place.kecamatan,
                "desa": place.desa,
                "desa_hint": place.desa_hint or draft.desa_hint,
            }
        )
        return ask_next(conversation, _settle_desa_hint(draft, ctx), [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = with_text(draft, answer, ctx)
        return ask_next(conversation, draft, said, ctx)
    if draft.misses >= MAX_MISSES:
        draft = draft.model_copy(update={"kecamatan_skipped": True, "address": answer[:500]})
        return ask_next(conversation, draft, [], ctx)
    suggestions = ctx.places.suggest_kecamatan(answer)
    reply = _unknown("kecamatan_unknown", answer, suggestions, ctx)
    return _again(conversation, draft, reply, ctx)


def _answer_desa(conversation: Conversation, draft: Draft, answer: str, ctx: Context) -> Step:
    lex = ctx.lexicon
    kecamatan = draft.kecamatan or ""
    if lex.is_(lex.skip, answer):
        return ask_next(conversation, draft.model_copy(update={"desa_skipped": True}), [], ctx)
    desa = ctx.places.desa(answer, kecamatan)
    if desa:
        return ask_next(conversation, draft.model_copy(update={"desa": desa}), [], ctx)
    moved = ctx.places.in_text(answer)
    if moved.kecamatan and moved.kecamatan != kecamatan:  # "oh, kec. kragilan"
        draft = draft.model_copy(
            update={"kecamatan": moved.kecamatan, "desa": moved.desa, "misses": 0}
        )
        return ask_next(conversation, draft, [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = with_text(draft, answer, ctx)
        return ask_next(conversation, draft, said, ctx)
    if draft.misses >= MAX_MISSES:
        draft = draft.model_copy(update={"desa_skipped": True, "address": answer[:500]})
        return ask_next(conversation, draft, [], ctx)
    suggestions = ctx.places.suggest_desa(answer, kecamatan)
    reply = _unknown("desa_unknown", answer, suggestions, ctx, kecamatan=ctx.places.name(kecamatan))
    return _again(conversation, draft, reply, ctx)


def _answer_photo(conversation: Conversation, draft: Draft, message: Message, ctx: Context) -> Step:
    lex = ctx.lexicon
    answer = message.text.strip()
    if message.choice == "lewati" or lex.is_(lex.skip, answer) or lex.is_(lex.no, answer):
        return ask_next(conversation, draft.model_copy(update={"photo_skipped": True}), [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = with_text(draft, answer, ctx)
        return ask_next(conversation, draft, said, ctx)
    if draft.misses >= MAX_MISSES:
        return ask_next(conversation, draft.model_copy(update={"photo_skipped": True}), [], ctx)
    return _again(conversation, draft, Reply("ask_photo", {"max": ctx.max_photos}), ctx)


def _answer_anonymous(
    conversation: Conversation, draft: Draft, message: Message, ctx: Context
) -> Step:
    lex = ctx.lexicon
    answer = message.text.strip()
    anonymous: bool | None = None
    if message.choice == "anonim" or lex.is_(lex.anonymous, answer) or lex.is_(lex.no, answer):
        anonymous = True
    elif message.choice == "nama" or lex.is_(lex.yes, answer):
        anonymous = False
    if anonymous is not None:
        return ask_next(conversation, draft.model_copy(update={"anonymous": anonymous}), [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = with_text(draft, answer, ctx)
        return ask_next(conversation, draft, said, ctx)
    return _again(conversation, draft, Reply("ask_anonymous"), ctx)


def _answer_confirm(
    conversation: Conversation, draft: Draft, message: Message, ctx: Context
) -> Step:
    lex = ctx.lexicon
    answer = message.text.strip()
    if message.choice == "kirim" or lex.is_(lex.send, answer) or lex.is_(lex.yes, answer):
        return Step(conversation.model_copy(update={"draft": draft}), (), (FileComplaint(draft),))
    target = lex.edit_target(answer) if not lex.is_(lex.edit, answer) else None
    if target is not None and len(fold(answer).split()) <= 3:
        return _edit(conversation, draft, target, ctx)
    if message.choice == "ubah" or lex.is_(lex.edit, answer) or lex.is_(lex.no, answer):
        draft = draft.model_copy(update={"asking": Ask.EDIT, "updated_at": ctx.now})
        return Step(conversation.model_copy(update={"draft": draft}), (Reply("ask_edit"),))
    if _more_story(draft, answer, ctx):
        draft, said = with_text(draft, answer, ctx)
        return ask_next(conversation, draft, said, ctx)
    return _again(conversation, draft, Reply("confirm_again"), ctx)


def _answer_edit(conversation: Conversation, draft: Draft, answer: str, ctx: Context) -> Step:
    target = ctx.lexicon.edit_target(answer)
    if target is not None:
        return _edit(conversation, draft, target, ctx)
    if _more_story(draft, answer, ctx):  # the citizen simply wrote the story again
        draft = draft.model_copy(update={"description": ""})
        draft, said = with_text(draft, answer, ctx)
        return ask_next(conversation, draft, said, ctx)
    return _again(conversation, draft, Reply("ask_edit"), ctx)


def _edit(conversation: Conversation, draft: Draft, target: str, ctx: Context) -> Step:
    changes: dict[str, object] = {"misses": 0}
    said: list[Reply] = []
    if target == "description":
        changes["description"] = ""
        said.append(Reply("ask_new_description"))
    elif target == "location":
        changes.update(
            kecamatan=None,
            kecamatan_skipped=False,
            desa=None,
            desa_hint=None,
            desa_skipped=False,
            address=None,
            lat=None,
            lon=None,
        )
    elif target == "photo":
        changes.update(photos=(), photo_skipped=False)
    else:
        changes["anonymous"] = None
    draft = draft.model_copy(update=changes)
    if said:
        draft = draft.model_copy(update={"asking": Ask.DESCRIPTION, "updated_at": ctx.now})
        return Step(conversation.model_copy(update={"draft": draft}), tuple(said))
    return ask_next(conversation, draft, said, ctx)


def _unknown(
    key: str, answer: str, suggestions: Sequence[str], ctx: Context, **params: str
) -> Reply:
    shown = answer[:40]
    if not suggestions:
        return Reply(f"{key}_plain", {"answer": shown, **params})
    listed = ", ".join(suggestions[:-1])
    names = f"{listed} {ctx.replies.word('or')} {suggestions[-1]}" if listed else suggestions[0]
    return Reply(key, {"answer": shown, "suggestions": names, **params})


def _again(conversation: Conversation, draft: Draft, reply: Reply, ctx: Context) -> Step:
    """The same question once more, counting the miss."""
    draft = draft.model_copy(update={"misses": draft.misses + 1, "updated_at": ctx.now})
    return Step(conversation.model_copy(update={"draft": draft}), (reply,))


def with_text(draft: Draft, text: str, ctx: Context) -> tuple[Draft, list[Reply]]:
    """More of the complaint's story, and whatever place it names."""
    text = text.strip()
    if not text:
        return draft, []
    story = f"{draft.description}\n{text}" if draft.description else text
    if len(story) > ctx.max_description:
        return draft, [Reply("description_long", {"max": ctx.max_description})]
    place = ctx.places.in_text(text)
    changes: dict[str, object] = {"description": story}
    kecamatan = draft.kecamatan or place.kecamatan
    if draft.kecamatan is None and place.kecamatan:
        changes["kecamatan"] = place.kecamatan
    if draft.desa is None:
        if place.desa and place.kecamatan == kecamatan:
            changes["desa"] = place.desa
        elif place.desa or place.desa_hint:
            changes["desa_hint"] = place.desa or place.desa_hint
    draft = draft.model_copy(update=changes)
    return _settle_desa_hint(draft, ctx), []


def _settle_desa_hint(draft: Draft, ctx: Context) -> Draft:
    """A desa named before its kecamatan was known counts once it is known and matches."""
    if draft.desa is None and draft.desa_hint and draft.kecamatan:
        desa = ctx.places.desa(draft.desa_hint, draft.kecamatan)
        if desa:
            return draft.model_copy(update={"desa": desa, "desa_hint": None})
    return draft


def with_photo(draft: Draft, message: Message, ctx: Context) -> tuple[Draft, list[Reply]]:
    if not message.media_id:
        return draft, []
    if message.media_id in draft.photos:
        return draft, []
    if len(draft.photos) >= ctx.max_photos:
        return draft, [Reply("photo_limit", {"max": ctx.max_photos})]
    photos = (*draft.photos, message.media_id)
    draft = draft.model_copy(update={"photos": photos})
    return draft, [Reply("photo_saved", {"count": len(photos), "max": ctx.max_photos})]


def with_pin(draft: Draft, message: Message, ctx: Context) -> tuple[Draft, list[Reply]]:
    if message.lat is None or message.lon is None:
        return draft, []
    if not ctx.bounds.contain(message.lat, message.lon):
        return draft, [Reply("location_outside")]
    changes: dict[str, object] = {"lat": message.lat, "lon": message.lon}
    if message.place:
        changes["address"] = message.place[:500]
        place = ctx.places.in_text(message.place)
        if draft.kecamatan is None and place.kecamatan:
            changes["kecamatan"] = place.kecamatan
            changes["desa"] = place.desa
    return draft.model_copy(update=changes), [Reply("location_saved")]


def next_question(draft: Draft, channel: Channel, ctx: Context) -> Ask:
    """The first thing the draft still lacks; CONFIRM when nothing does."""
    if len(draft.description.strip()) < ctx.min_description:
        return Ask.DESCRIPTION
    if draft.kecamatan is None and not draft.kecamatan_skipped:
        return Ask.KECAMATAN
    if (
        draft.kecamatan
        and draft.desa is None
        and not draft.desa_skipped
        and ctx.places.has_desa(draft.kecamatan)
    ):
        return Ask.DESA
    if channel is Channel.WHATSAPP and not draft.photos and not draft.photo_skipped:
        return Ask.PHOTO
    if draft.anonymous is None:
        return Ask.ANONYMOUS
    return Ask.CONFIRM


def ask_next(conversation: Conversation, draft: Draft, said: Sequence[Reply], ctx: Context) -> Step:
    ask = next_question(draft, conversation.channel, ctx)
    misses = draft.misses if ask is draft.asking else 0
    draft = draft.model_copy(update={"asking": ask, "misses": misses, "updated_at": ctx.now})
    question = _question(draft, conversation.channel, ctx)
    return Step(conversation.model_copy(update={"draft": draft}), (*said, question))


def _question(draft: Draft, channel: Channel, ctx: Context) -> Reply:
    match draft.asking:
        case Ask.DESCRIPTION:
            return Reply("description_short" if draft.description else "ask_description")
        case Ask.KECAMATAN:
            return Reply("ask_kecamatan")
        case Ask.DESA:
            return Reply("ask_desa", {"kecamatan": ctx.places.name(draft.kecamatan or "")})
        case Ask.PHOTO:
            return Reply("ask_photo", {"max": ctx.max_photos})
        case Ask.ANONYMOUS:
            return Reply("ask_anonymous")
        case _:
            return Reply("summary", summary(draft, channel, ctx))


def summary(draft: Draft, channel: Channel, ctx: Context) -> dict[str, str | int]:
    """The values of the confirmation: story, place, photos and identity."""
    words = ctx.replies
    story = " ".join(draft.description.split())
    if len(story) > SUMMARY_CHARS:
        story = story[: SUMMARY_CHARS - 2].rstrip() + ".."
    parts = []
    if draft.desa:
        parts.append(words.word("place_desa").format(desa=draft.desa))
    if draft.kecamatan:
        parts.append(
            words.word("place_kecamatan").format(kecamatan=ctx.places.name(draft.kecamatan))
        )
    if draft.address and not draft.desa:
        parts.append(draft.address[:80])
    if draft.lat is not None:
        parts.append(words.word("pin"))
    photos = (
        words.word("photo_count").format(count=len(draft.photos))
        if draft.photos
        else words.word("no_photo")
    )
    return {
        "description": story,
        "place": ", ".join(parts) or words.word("no_place"),
        "photos": photos,
        "identity": words.identity(bool(draft.anonymous), channel.value),
    }
