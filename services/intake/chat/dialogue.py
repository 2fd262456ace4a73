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

The state and the step's inputs and outputs are `model.py`; the draft's questions and answers
are `draft.py`; this module routes each message: a command, the draft, or the latest ticket.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.intake.chat.draft import (
    ask_next,
    continue_draft,
    describes_problem,
    new_draft,
    new_draft_id,
    next_question,
    summary,
    with_photo,
    with_pin,
    with_text,
)
from services.intake.chat.lexicon import Lexicon, fold
from services.intake.chat.model import (
    Ask,
    AttachPhoto,
    Bounds,
    Channel,
    CheckStatus,
    ChooseOpd,
    Context,
    Conversation,
    Draft,
    Effect,
    FileComplaint,
    Filed,
    FollowUp,
    Kind,
    Message,
    Rate,
    Step,
    TicketState,
)
from services.intake.chat.replies import Reply
from services.intake.complaints import TRACKING_LENGTH, normalise_tracking_code
from shared.events import CHOICE_OTHER, CHOICE_PREFIX
from shared.tickets import TicketStatus

__all__ = [
    "Ask",
    "AttachPhoto",
    "Bounds",
    "Channel",
    "CheckStatus",
    "ChooseOpd",
    "Context",
    "Conversation",
    "Draft",
    "Effect",
    "FileComplaint",
    "Filed",
    "FollowUp",
    "Kind",
    "Message",
    "Rate",
    "Step",
    "TicketState",
    "filed",
    "new_draft_id",
    "next_question",
    "reply_token",
    "step",
    "summary",
]

MAX_TICKETS = 5  # tickets a conversation remembers (the latest one takes follow-ups)
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
        done = continue_draft(conversation, draft, message, ctx)
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
        draft = new_draft(message, ctx)
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
        draft, said = with_photo(new_draft(message, ctx), message, ctx)
        if message.text:
            draft = with_text(draft, message.text, ctx)[0]
        return ask_next(conversation, draft, said, ctx)
    if message.kind is Kind.LOCATION:
        draft, said = with_pin(new_draft(message, ctx), message, ctx)
        return ask_next(conversation, draft, said, ctx)
    if lex.is_(lex.thanks, text):
        return Step(conversation, (Reply("thanks"),))
    recent = conversation.latest
    if (
        recent is not None
        and ctx.now - recent.filed_at < RECENT
        and (lex.is_(lex.send, text) or lex.is_(lex.yes, text) or message.choice == "kirim")
    ):
        return Step(conversation, (Reply("already_sent", {"code": recent.code}),))
    if describes_problem(text, ctx):
        draft, said = with_text(new_draft(message, ctx), text, ctx)
        return ask_next(conversation, draft, said, ctx)
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
