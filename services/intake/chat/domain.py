"""The chat conversation: a small pure state machine, one step per message a citizen sends.

`step(conversation, message, context)` returns the conversation as it is afterwards, what to
say (replies by key, rendered by `replies.py`) and what to do (file the complaint, add a
follow-up, rate, attach a photo, answer routing's question, look up a status). No I/O: the
service reads the context (the catalogue, the latest ticket) and carries out the effects.

A first message that describes a problem opens a draft. The draft asks only for what the
router needs and the citizen did not say (kecamatan and desa, matched forgivingly), then for a
photo (WhatsApp only) and whether to stay anonymous, then confirms in one summary. After
filing, messages go to the latest ticket: information while it is open, a rating ("1"-"5") or
"belum selesai" (a dispute) once it is resolved, the answer to routing's choice question while
it waits for one. Commands work everywhere: BANTUAN, BATAL, LAPOR, CEK <code>. A draft left
alone longer than the timeout is dropped at the next message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.intake.chat.lexicon import Lexicon, fold
from services.intake.chat.places import Gazetteer
from services.intake.chat.replies import Replies, Reply
from services.intake.domain import TRACKING_LENGTH, normalise_tracking_code
from shared.events import CHOICE_OTHER, CHOICE_PREFIX
from shared.tickets import TicketStatus

MAX_TICKETS = 5  # tickets a conversation remembers (the latest one takes follow-ups)
MAX_MISSES = 2  # answers not understood before a question is given up (it is optional)
SUMMARY_CHARS = 300
PROBLEM_WORDS = 3  # content words a first message needs to count as a complaint
STORY_WORDS = 5  # content words an answer needs to count as more of the story instead
RECENT = timedelta(minutes=30)  # "kirim" again this soon after filing: it was sent already
S = TicketStatus
FOLLOW_UP_STATUSES = frozenset({S.SUBMITTED, S.TRIAGE, S.ROUTED, S.VERIFIED, S.IN_PROGRESS})
RATEABLE = frozenset({S.RESOLVED, S.CLOSED})
OTHER_WORDS = frozenset({"lainnya", "lain", "yang lain", "lain lain", "bukan keduanya", "bukan"})
_SCORE_PREFIX = re.compile(
    r"^\s*(?:(?:nilai|nilainya|rating|skor|bintang|kasih)\s*)?[1-5]\s*(?:/\s*5|dari\s*5|bintang)?[\s,.:!-]*",
    re.IGNORECASE,
)
_STARS = re.compile(r"^[\s\u2b50\u2605]+$")
_SCORE = re.compile(
    r"^(?:(?:nilai|nilainya|rating|skor|bintang|kasih) )?([1-5])(?: (?:dari 5|5|bintang))?"
    r"(?: (.+))?$"
)


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"


class Kind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    LOCATION = "location"
    INTERACTIVE = "interactive"  # a pressed reply button or list row
    OTHER = "other"  # audio, video, sticker, document, contacts, ...


class Ask(StrEnum):
    DESCRIPTION = "description"
    KECAMATAN = "kecamatan"
    DESA = "desa"
    PHOTO = "photo"
    ANONYMOUS = "anonymous"
    CONFIRM = "confirm"
    EDIT = "edit"


@dataclass(frozen=True)
class Message:
    """One message from the citizen, as the channel adapters read it."""

    id: str
    at: datetime
    kind: Kind
    text: str = ""  # the text, a photo's caption, or a pressed button's title
    choice: str | None = None  # a pressed button's id
    media_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None  # a location pin's name and address


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Draft(_State):
    """A complaint being put together."""

    id: str
    started_at: AwareDatetime
    updated_at: AwareDatetime
    description: str = ""
    kecamatan: str | None = None  # region code
    kecamatan_skipped: bool = False
    desa: str | None = None
    desa_hint: str | None = None  # named before the kecamatan was known
    desa_skipped: bool = False
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    photos: tuple[str, ...] = ()  # the platform's media ids, fetched when filing
    photo_skipped: bool = False
    anonymous: bool | None = None
    asking: Ask = Ask.DESCRIPTION
    misses: int = 0  # answers to the current question not understood


class Filed(_State):
    """A ticket this conversation filed; the reply token stands for the chat's number."""

    code: str
    reply_token: str
    filed_at: AwareDatetime


class Conversation(_State):
    channel: Channel
    draft: Draft | None = None
    tickets: tuple[Filed, ...] = ()  # oldest first

    @property
    def latest(self) -> Filed | None:
        return self.tickets[-1] if self.tickets else None


@dataclass(frozen=True)
class TicketState:
    """What the conversation needs to know of its latest ticket, read before each step."""

    code: str
    status: TicketStatus
    rated: bool = False
    candidates: tuple[str, ...] = ()  # routing's open choice question, best first


@dataclass(frozen=True)
class Bounds:
    lat: tuple[float, float]
    lon: tuple[float, float]

    def contain(self, lat: float, lon: float) -> bool:
        return self.lat[0] <= lat <= self.lat[1] and self.lon[0] <= lon <= self.lon[1]


@dataclass(frozen=True)
class Context:
    now: datetime
    places: Gazetteer
    lexicon: Lexicon
    replies: Replies
    bounds: Bounds
    tracking_prefix: str = "LP"
    organisation: str = "Kabupaten Serang"
    draft_timeout: timedelta = timedelta(hours=2)
    latest: TicketState | None = None
    opd_names: Mapping[str, str] = field(default_factory=dict)
    max_photos: int = 3
    min_description: int = 10
    max_description: int = 4000


# -- effects: what the service carries out ---------------------------------------------------


@dataclass(frozen=True)
class FileComplaint:
    draft: Draft


@dataclass(frozen=True)
class FollowUp:
    code: str
    action: str  # info | dispute
    message: str


@dataclass(frozen=True)
class Rate:
    code: str
    score: int
    comment: str | None = None


@dataclass(frozen=True)
class AttachPhoto:
    code: str
    media_id: str


@dataclass(frozen=True)
class ChooseOpd:
    code: str
    opd: str | None  # None: "lainnya"


@dataclass(frozen=True)
class CheckStatus:
    code: str


Effect = FileComplaint | FollowUp | Rate | AttachPhoto | ChooseOpd | CheckStatus


@dataclass(frozen=True)
class Step:
    conversation: Conversation
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


# -- the step -------------------------------------------------------------------------------


def step(conversation: Conversation, message: Message, ctx: Context) -> Step:
    """The conversation after one message from the citizen."""
    said: list[Reply] = []
    draft = conversation.draft
    if draft is not None and ctx.now - draft.updated_at > ctx.draft_timeout:
        conversation = conversation.model_copy(update={"draft": None})
        draft = None
        said.append(Reply("draft_expired"))
    if message.kind is Kind.OTHER:
        return Step(conversation, (*said, Reply("unsupported")))
    command = _command(conversation, message, ctx)
    if command is not None:
        done = command
        return Step(done.conversation, (*said, *done.replies), done.effects)
    if draft is not None:
        done = _continue(conversation, draft, message, ctx)
    else:
        done = _without_draft(conversation, message, ctx)
    return Step(done.conversation, (*said, *done.replies), done.effects)


def filed(conversation: Conversation, *, code: str, reply_token: str, at: datetime) -> Conversation:
    """The conversation once its draft became ticket `code`."""
    tickets = (*conversation.tickets, Filed(code=code, reply_token=reply_token, filed_at=at))
    return conversation.model_copy(update={"draft": None, "tickets": tickets[-MAX_TICKETS:]})


def reply_token(conversation: Conversation, code: str) -> str | None:
    """The reply token of a ticket this conversation filed (None for anyone else's)."""
    return next((t.reply_token for t in conversation.tickets if t.code == code), None)


def new_draft_id(message_id: str) -> str:
    """A draft's id follows from the message that opened it, so a retried webhook opens the
    same draft and files it under the same idempotency key."""
    return "d" + hashlib.sha256(message_id.encode()).hexdigest()[:15]


# -- commands -------------------------------------------------------------------------------


def _command(conversation: Conversation, message: Message, ctx: Context) -> Step | None:
    lex = ctx.lexicon
    text = message.text.strip()
    if message.kind not in (Kind.TEXT, Kind.INTERACTIVE):
        return None
    if lex.is_(lex.help, text):
        return Step(conversation, (Reply("help"),))
    if message.choice == "batal" or lex.is_(lex.cancel, text):
        if conversation.draft is None:
            return Step(conversation, (Reply("nothing_to_cancel"),))
        return Step(conversation.model_copy(update={"draft": None}), (Reply("draft_cancelled"),))
    wanted = _status_request(text, ctx)
    if wanted is not None:
        if wanted:
            return Step(conversation, effects=(CheckStatus(wanted),))
        latest = conversation.latest
        if latest is None:
            return Step(conversation, (Reply("check_needs_code"),))
        return Step(conversation, effects=(CheckStatus(latest.code),))
    if lex.is_(lex.new, text):
        draft = _new_draft(message, ctx)
        return Step(conversation.model_copy(update={"draft": draft}), (Reply("ask_description"),))
    return None


def _status_request(text: str, ctx: Context) -> str | None:
    """`cek LP-7K4M-Q9XZ` (or a bare code): the code; `cek` alone: ""; otherwise None."""
    folded = fold(text)
    code_pattern = rf"{ctx.tracking_prefix.lower()} ?[a-z0-9]{{4}} ?[a-z0-9]{{4}}"
    if re.fullmatch(code_pattern, folded):
        return normalise_tracking_code(folded)
    for phrase in sorted(ctx.lexicon.check, key=len, reverse=True):
        if folded == phrase:
            return ""
        if folded.startswith(phrase + " "):
            compact = folded[len(phrase) :].replace(" ", "")
            if re.fullmatch(rf"[a-z]{{1,4}}[a-z0-9]{{{TRACKING_LENGTH}}}", compact):
                return normalise_tracking_code(compact)
            if re.fullmatch(rf"[a-z0-9]{{{TRACKING_LENGTH}}}", compact):
                return normalise_tracking_code(ctx.tracking_prefix + compact)
            return None
    return None


# -- without a draft: the latest ticket, or a new complaint ---------------------------------


def _without_draft(conversation: Conversation, message: Message, ctx: Context) -> Step:
    lex = ctx.lexicon
    text = message.text.strip()
    latest = ctx.latest
    if latest is not None:
        done = _about_ticket(conversation, message, latest, ctx)
        if done is not None:
            return done
    if message.kind is Kind.IMAGE:
        draft, said = _with_photo(_new_draft(message, ctx), message, ctx)
        if message.text:
            draft = _with_text(draft, message.text, ctx)[0]
        return _ask_next(conversation, draft, said, ctx)
    if message.kind is Kind.LOCATION:
        draft, said = _with_pin(_new_draft(message, ctx), message, ctx)
        return _ask_next(conversation, draft, said, ctx)
    if lex.is_(lex.thanks, text):
        return Step(conversation, (Reply("thanks"),))
    recent = conversation.latest
    if (
        recent is not None
        and ctx.now - recent.filed_at < RECENT
        and (lex.is_(lex.send, text) or lex.is_(lex.yes, text) or message.choice == "kirim")
    ):
        return Step(conversation, (Reply("already_sent", {"code": recent.code}),))
    if _describes_problem(text, lex):
        draft, said = _with_text(_new_draft(message, ctx), text, ctx)
        return _ask_next(conversation, draft, said, ctx)
    return Step(conversation, (Reply("welcome", {"org": ctx.organisation}),))


def _about_ticket(
    conversation: Conversation, message: Message, latest: TicketState, ctx: Context
) -> Step | None:
    """A message meant for the latest ticket, or None when it is not one."""
    lex = ctx.lexicon
    text = message.text.strip()
    code = latest.code
    if latest.candidates:
        chosen = _choice(message, latest.candidates, lex)
        if chosen is not None:
            opd = None if chosen == CHOICE_OTHER else chosen
            return Step(conversation, effects=(ChooseOpd(code, opd),))
        if message.kind is Kind.INTERACTIVE or not _meaningful(text, lex):
            options = _choice_options(latest.candidates, ctx)
            return Step(conversation, (Reply("choice_again", {"code": code, "options": options}),))
    elif message.choice and message.choice.startswith(CHOICE_PREFIX):
        return Step(conversation, (Reply("choice_closed", {"code": code}),))
    score = _score(text, lex) if message.kind is Kind.TEXT else None
    if score is not None and latest.rated:
        return Step(conversation, (Reply("already_rated", {"code": code}),))
    if score is not None and (latest.status in RATEABLE or len(text) <= 2):
        # Rated before the resolution: the web's rule answers why not yet.
        comment = _SCORE_PREFIX.sub("", text).strip() or None
        return Step(conversation, effects=(Rate(code, score, comment),))
    if latest.status in RATEABLE and message.kind is Kind.TEXT and lex.disputes(text):
        return Step(conversation, effects=(FollowUp(code, "dispute", text),))
    if latest.status not in FOLLOW_UP_STATUSES | {S.RESOLVED}:
        return None  # closed or rejected: a new message is a new matter
    if message.kind is Kind.IMAGE:
        effects: list[Effect] = [AttachPhoto(code, message.media_id or "")]
        if message.text:
            effects.append(FollowUp(code, "info", message.text.strip()))
        return Step(conversation, effects=tuple(effects))
    if message.kind is Kind.LOCATION and message.lat is not None and message.lon is not None:
        note = ctx.replies.word("pin_note").format(lat=message.lat, lon=message.lon)
        if message.place:
            note = f"{message.place}. {note}"
        return Step(conversation, effects=(FollowUp(code, "info", note),))
    if lex.is_(lex.thanks, text):
        return Step(conversation, (Reply("thanks"),))
    if _meaningful(text, lex):
        return Step(conversation, effects=(FollowUp(code, "info", text),))
    recent = conversation.latest
    if recent is not None and (
        lex.is_(lex.send, text) or lex.is_(lex.yes, text) or message.choice == "kirim"
    ):
        return Step(conversation, (Reply("already_sent", {"code": recent.code}),))
    return Step(conversation, (Reply("help"),))


def _choice(message: Message, candidates: Sequence[str], lex: Lexicon) -> str | None:
    """The answer to routing's question: a candidate, CHOICE_OTHER, or None (not an answer)."""
    if message.choice and message.choice.startswith(CHOICE_PREFIX):
        picked = message.choice.removeprefix(CHOICE_PREFIX)
        return picked if picked in candidates or picked == CHOICE_OTHER else None
    folded = fold(message.text)
    if folded.isdigit():
        number = int(folded)
        if 1 <= number <= len(candidates):
            return candidates[number - 1]
        return CHOICE_OTHER if number == len(candidates) + 1 else None
    if folded in OTHER_WORDS:
        return CHOICE_OTHER
    return next(
        (c for c in candidates if fold(c) == folded or fold(c).replace(" ", "") == folded), None
    )


def _choice_options(candidates: Sequence[str], ctx: Context) -> str:
    words = ctx.replies
    parts = [
        words.word("choice_option").format(n=i, name=ctx.opd_names.get(code, code))
        for i, code in enumerate(candidates, 1)
    ]
    parts.append(words.word("choice_other").format(n=len(candidates) + 1))
    return ", ".join(parts[:-1]) + f" {words.word('or')} " + parts[-1] + "."


def _score(text: str, lex: Lexicon) -> int | None:
    if text and _STARS.fullmatch(text):
        stars = sum(1 for c in text if c in "\u2b50\u2605")
        return stars if 1 <= stars <= 5 else None
    found = _SCORE.fullmatch(fold(text))
    if found is None:
        return None
    rest = found.group(2) or ""
    if rest and len(rest.split()) > 12:
        return None  # a long text that starts with a number is not a rating
    return int(found.group(1))


def _meaningful(text: str, lex: Lexicon) -> bool:
    """Enough to pass on to an officer: not a greeting, not a lone word or number."""
    words = lex.content_words(text)
    return len(words) >= 2 and len("".join(words)) >= 6


def _describes_problem(text: str, lex: Lexicon) -> bool:
    words = lex.content_words(text)
    return len(words) >= PROBLEM_WORDS and len(" ".join(words)) >= 10


# -- the draft ------------------------------------------------------------------------------


def _new_draft(message: Message, ctx: Context) -> Draft:
    return Draft(id=new_draft_id(message.id), started_at=ctx.now, updated_at=ctx.now)


def _continue(conversation: Conversation, draft: Draft, message: Message, ctx: Context) -> Step:
    said: list[Reply] = []
    if message.kind is Kind.IMAGE:
        draft, said = _with_photo(draft, message, ctx)
        if message.text and (
            draft.asking in (Ask.DESCRIPTION, Ask.CONFIRM)
            or _describes_problem(message.text, ctx.lexicon)
        ):
            draft, more = _with_text(draft, message.text, ctx)
            said += more
        return _ask_next(conversation, draft, said, ctx)
    if message.kind is Kind.LOCATION:
        draft, said = _with_pin(draft, message, ctx)
        return _ask_next(conversation, draft, said, ctx)
    answer = message.text.strip()
    match draft.asking:
        case Ask.DESCRIPTION:
            draft, said = _with_text(draft, answer, ctx)
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
    return _ask_next(conversation, draft, said, ctx)


def _more_story(draft: Draft, answer: str, ctx: Context) -> bool:
    """An answer that is no answer but more of the complaint (a sentence, not a name)."""
    return len(ctx.lexicon.content_words(answer)) >= STORY_WORDS


def _answer_kecamatan(conversation: Conversation, draft: Draft, answer: str, ctx: Context) -> Step:
    lex = ctx.lexicon
    if lex.is_(lex.skip, answer):
        return _ask_next(
            conversation, draft.model_copy(update={"kecamatan_skipped": True}), [], ctx
        )
    place = ctx.places.kecamatan(answer)
    if place.kecamatan:
        draft = draft.model_copy(
            update={
                "kecamatan": place.kecamatan,
                "desa": place.desa,
                "desa_hint": place.desa_hint or draft.desa_hint,
            }
        )
        return _ask_next(conversation, _settle_desa_hint(draft, ctx), [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = _with_text(draft, answer, ctx)
        return _ask_next(conversation, draft, said, ctx)
    if draft.misses >= MAX_MISSES:
        draft = draft.model_copy(update={"kecamatan_skipped": True, "address": answer[:500]})
        return _ask_next(conversation, draft, [], ctx)
    suggestions = ctx.places.suggest_kecamatan(answer)
    reply = _unknown("kecamatan_unknown", answer, suggestions, ctx)
    return _again(conversation, draft, reply, ctx)


def _answer_desa(conversation: Conversation, draft: Draft, answer: str, ctx: Context) -> Step:
    lex = ctx.lexicon
    kecamatan = draft.kecamatan or ""
    if lex.is_(lex.skip, answer):
        return _ask_next(conversation, draft.model_copy(update={"desa_skipped": True}), [], ctx)
    desa = ctx.places.desa(answer, kecamatan)
    if desa:
        return _ask_next(conversation, draft.model_copy(update={"desa": desa}), [], ctx)
    moved = ctx.places.in_text(answer)
    if moved.kecamatan and moved.kecamatan != kecamatan:  # "oh, kec. kragilan"
        draft = draft.model_copy(
            update={"kecamatan": moved.kecamatan, "desa": moved.desa, "misses": 0}
        )
        return _ask_next(conversation, draft, [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = _with_text(draft, answer, ctx)
        return _ask_next(conversation, draft, said, ctx)
    if draft.misses >= MAX_MISSES:
        draft = draft.model_copy(update={"desa_skipped": True, "address": answer[:500]})
        return _ask_next(conversation, draft, [], ctx)
    suggestions = ctx.places.suggest_desa(answer, kecamatan)
    reply = _unknown("desa_unknown", answer, suggestions, ctx, kecamatan=ctx.places.name(kecamatan))
    return _again(conversation, draft, reply, ctx)


def _answer_photo(conversation: Conversation, draft: Draft, message: Message, ctx: Context) -> Step:
    lex = ctx.lexicon
    answer = message.text.strip()
    if message.choice == "lewati" or lex.is_(lex.skip, answer) or lex.is_(lex.no, answer):
        return _ask_next(conversation, draft.model_copy(update={"photo_skipped": True}), [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = _with_text(draft, answer, ctx)
        return _ask_next(conversation, draft, said, ctx)
    if draft.misses >= MAX_MISSES:
        return _ask_next(conversation, draft.model_copy(update={"photo_skipped": True}), [], ctx)
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
        return _ask_next(conversation, draft.model_copy(update={"anonymous": anonymous}), [], ctx)
    if _more_story(draft, answer, ctx):
        draft, said = _with_text(draft, answer, ctx)
        return _ask_next(conversation, draft, said, ctx)
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
        draft, said = _with_text(draft, answer, ctx)
        return _ask_next(conversation, draft, said, ctx)
    return _again(conversation, draft, Reply("confirm_again"), ctx)


def _answer_edit(conversation: Conversation, draft: Draft, answer: str, ctx: Context) -> Step:
    target = ctx.lexicon.edit_target(answer)
    if target is not None:
        return _edit(conversation, draft, target, ctx)
    if _more_story(draft, answer, ctx):  # the citizen simply wrote the story again
        draft = draft.model_copy(update={"description": ""})
        draft, said = _with_text(draft, answer, ctx)
        return _ask_next(conversation, draft, said, ctx)
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
    return _ask_next(conversation, draft, said, ctx)


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


def _with_text(draft: Draft, text: str, ctx: Context) -> tuple[Draft, list[Reply]]:
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


def _with_photo(draft: Draft, message: Message, ctx: Context) -> tuple[Draft, list[Reply]]:
    if not message.media_id:
        return draft, []
    if message.media_id in draft.photos:
        return draft, []
    if len(draft.photos) >= ctx.max_photos:
        return draft, [Reply("photo_limit", {"max": ctx.max_photos})]
    photos = (*draft.photos, message.media_id)
    draft = draft.model_copy(update={"photos": photos})
    return draft, [Reply("photo_saved", {"count": len(photos), "max": ctx.max_photos})]


def _with_pin(draft: Draft, message: Message, ctx: Context) -> tuple[Draft, list[Reply]]:
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


def _ask_next(
    conversation: Conversation, draft: Draft, said: Sequence[Reply], ctx: Context
) -> Step:
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
