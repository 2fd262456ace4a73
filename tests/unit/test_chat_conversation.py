"""The chat conversation's state machine over a table of realistic chats: typos, Sundanese and
Jawa Serang answers, a location pin, photos, retried webhooks, an abandoned draft, commands,
follow-ups, ratings, disputes and routing's choice question. Pure: no I/O, milliseconds."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest

from services.intake.chat import dialogue
from services.intake.chat.dialogue import (
    Ask,
    Channel,
    Conversation,
    Draft,
    Effect,
    Kind,
    Message,
    TicketState,
)
from services.intake.chat.lexicon import packaged_lexicon
from services.intake.chat.places import Gazetteer
from services.intake.chat.replies import SMS_SEGMENT, Reply, packaged_replies, sms_length
from shared.catalogue import packaged_catalogue
from shared.tickets import TicketStatus

S = TicketStatus
START = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)  # a Monday morning in Serang
CODE = "LP-7K4M-Q9XZ"
PLACES = Gazetteer(packaged_catalogue().regions, packaged_lexicon())
OPD_NAMES = {o.code: o.name for o in packaged_catalogue().opds}
_ids = count(1)


@dataclass(frozen=True)
class Say:
    kind: Kind
    text: str = ""
    choice: str | None = None
    media_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None
    id: str | None = None  # a fixed message id: the platform retrying the same message


def text(value: str, *, id: str | None = None) -> Say:
    return Say(Kind.TEXT, value, id=id)


def photo(media_id: str, caption: str = "", *, id: str | None = None) -> Say:
    return Say(Kind.IMAGE, caption, media_id=media_id, id=id)


def pin(lat: float, lon: float, place: str | None = None) -> Say:
    return Say(Kind.LOCATION, lat=lat, lon=lon, place=place)


def button(choice: str, title: str, *, id: str | None = None) -> Say:
    return Say(Kind.INTERACTIVE, title, choice=choice, id=id)


def sticker() -> Say:
    return Say(Kind.OTHER)


KEEP = TicketState(code="keep", status=S.SUBMITTED)  # marker: the latest ticket as it was


@dataclass(frozen=True)
class Turn:
    says: Say
    replies: tuple[str, ...] = ()
    effects: tuple[type[Effect], ...] = ()
    after: timedelta = timedelta(minutes=1)
    latest: TicketState | None = KEEP  # how the latest ticket stands at this message


@dataclass(frozen=True)
class Chat:
    name: str
    turns: tuple[Turn, ...]
    channel: Channel = Channel.WHATSAPP
    check: Callable[[Outcome], None] | None = None
    tickets: tuple[str, ...] = ()  # tickets the conversation filed before


@dataclass
class Outcome:
    conversation: Conversation
    filed: list[Draft] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)


def context(now: datetime, latest: TicketState | None) -> dialogue.Context:
    return dialogue.Context(
        now=now,
        places=PLACES,
        lexicon=packaged_lexicon(),
        replies=packaged_replies(),
        bounds=dialogue.Bounds((-6.50, -5.80), (105.80, 106.60)),
        latest=latest,
        opd_names=OPD_NAMES,
    )


def play(chat: Chat) -> Outcome:
    """Run a chat through the machine, doing what a service would do with a filing."""
    conversation = Conversation(channel=chat.channel)
    for code in chat.tickets:
        conversation = dialogue.filed(conversation, code=code, reply_token="t", at=START)
    outcome = Outcome(conversation)
    latest: TicketState | None = None
    now = START
    for number, turn in enumerate(chat.turns, 1):
        now += turn.after
        if turn.latest is not KEEP:
            latest = turn.latest
        said = turn.says
        message = Message(
            id=said.id or f"wamid.{next(_ids)}",
            at=now,
            kind=said.kind,
            text=said.text,
            choice=said.choice,
            media_id=said.media_id,
            lat=said.lat,
            lon=said.lon,
            place=said.place,
        )
        step = dialogue.step(outcome.conversation, message, context(now, latest))
        where = f"{chat.name}, turn {number} ({said.text or said.kind.value!r})"
        assert [r.key for r in step.replies] == list(turn.replies), where
        assert [type(e) for e in step.effects] == list(turn.effects), where
        outcome.conversation = step.conversation
        outcome.effects.extend(step.effects)
        outcome.replies.extend(step.replies)
        for effect in step.effects:
            if isinstance(effect, dialogue.FileComplaint):
                outcome.filed.append(effect.draft)
                outcome.conversation = dialogue.filed(
                    outcome.conversation, code=CODE, reply_token="token", at=now
                )
                latest = TicketState(code=CODE, status=S.SUBMITTED)
        for reply in step.replies:
            rendered = packaged_replies().one(reply, chat.channel.value)
            if chat.channel is Channel.SMS:
                assert sms_length(rendered.text) <= SMS_SEGMENT, (where, rendered.text)
    return outcome


def routed(status: S = S.ROUTED, **changes: object) -> TicketState:
    return TicketState(code=CODE, status=status, **changes)  # type: ignore[arg-type]


def _filed_once(**expected: object) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        assert len(outcome.filed) == 1, "filed once"
        draft = outcome.filed[0]
        for name, value in expected.items():
            assert getattr(draft, name) == value, (name, getattr(draft, name))
        assert outcome.conversation.draft is None
        assert outcome.conversation.latest is not None
        assert outcome.conversation.latest.code == CODE

    return check


def _effect(kind: type[Effect], **expected: object) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        found = [e for e in outcome.effects if isinstance(e, kind)]
        assert found, f"no {kind.__name__}"
        for name, value in expected.items():
            assert getattr(found[-1], name) == value, (name, getattr(found[-1], name))

    return check


def _draft_has(**expected: object) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        draft = outcome.conversation.draft
        assert draft is not None, "the draft is gone"
        for name, value in expected.items():
            assert getattr(draft, name) == value, (name, getattr(draft, name))

    return check


def _no_draft(outcome: Outcome) -> None:
    assert outcome.conversation.draft is None
    assert not outcome.filed


CHATS: list[Chat] = [
    Chat(
        "a greeting, then a complaint with typos, a misspelt kecamatan and a photo",
        (
            Turn(text("Assalamualaikum min"), ("welcome",)),
            Turn(
                text("jln berlobang parah depan SDN 2, udh 2 bln gk dibenerin"),
                ("ask_kecamatan",),
            ),
            Turn(text("ciruass"), ("ask_desa",)),
            Turn(text("kaserangan"), ("ask_photo",)),
            Turn(photo("media-1"), ("photo_saved", "ask_anonymous")),
            Turn(text("iya boleh"), ("summary",)),
            Turn(text("kirim"), (), (dialogue.FileComplaint,)),
        ),
        check=_filed_once(
            kecamatan="KEC-CIRUAS", desa="Kaserangan", photos=("media-1",), anonymous=False
        ),
    ),
    Chat(
        "Sundanese answers: the place named in the story, 'teu terang', 'teu aya', 'muhun'",
        (
            Turn(
                text("punten, runtah numpuk di sisi jalan caket pasar kragilan, bau pisan"),
                ("ask_desa",),
            ),
            Turn(text("teu terang"), ("ask_photo",)),
            Turn(text("teu aya"), ("ask_anonymous",)),
            Turn(text("muhun"), ("summary",)),
            Turn(text("muhun"), (), (dialogue.FileComplaint,)),
        ),
        check=_filed_once(kecamatan="KEC-KRAGILAN", desa=None, desa_skipped=True, photos=()),
    ),
    Chat(
        "Jawa Serang: 'ore ana' for the photo, 'ore' for showing the name: anonymous",
        (
            Turn(
                text("lampu pju ning gang mati kabeh wis seminggu, peteng banget kec. pontang"),
                ("ask_desa",),
            ),
            Turn(text("ds kelapian"), ("ask_photo",)),
            Turn(text("ore ana"), ("ask_anonymous",)),
            Turn(text("ore"), ("summary",)),
            Turn(button("kirim", "Kirim"), (), (dialogue.FileComplaint,)),
        ),
        check=_filed_once(kecamatan="KEC-PONTANG", desa="Kelapian", anonymous=True),
    ),
    Chat(
        "the place as a location pin whose address names the kecamatan",
        (
            Turn(
                text("lampu jalan mati sepanjang jalan raya, gelap kalau malam"), ("ask_kecamatan",)
            ),
            Turn(
                pin(-6.0561, 106.0877, "Jl. Raya Serang - Cilegon, Kramatwatu, Banten"),
                ("location_saved", "ask_desa"),
            ),
            Turn(text("lewati"), ("ask_photo",)),
            Turn(text("skip"), ("ask_anonymous",)),
            Turn(button("anonim", "Anonim"), ("summary",)),
            Turn(text("ok"), (), (dialogue.FileComplaint,)),
        ),
        check=_filed_once(kecamatan="KEC-KRAMATWATU", lat=-6.0561, lon=106.0877, anonymous=True),
    ),
    Chat(
        "a pin outside the kabupaten is not kept; the kecamatan is still asked",
        (
            Turn(text("jembatan gantung putus, anak sekolah harus muter jauh"), ("ask_kecamatan",)),
            Turn(pin(-6.2, 106.8, "Jakarta Pusat"), ("location_outside", "ask_kecamatan")),
            Turn(text("kec binuang"), ("ask_desa",)),
        ),
        check=_draft_has(lat=None, lon=None, kecamatan="KEC-BINUANG"),
    ),
    Chat(
        "a photo first, the story after it, then the kecamatan with a marker and a typo",
        (
            Turn(photo("media-9"), ("photo_saved", "ask_description")),
            Turn(
                text("saluran air mampet di kampung kami, kalo hujan air masuk rumah"),
                ("ask_kecamatan",),
            ),
            Turn(text("kecamatan cikandee"), ("ask_desa",)),
            Turn(text("desa koper"), ("ask_anonymous",)),
            Turn(text("anonim aja"), ("ask_anonymous",)),
            Turn(text("anonim"), ("summary",)),
            Turn(text("kirim aja"), (), (dialogue.FileComplaint,)),
        ),
        check=_filed_once(kecamatan="KEC-CIKANDE", desa="Koper", photos=("media-9",)),
    ),
    Chat(
        "the platform retries: the same story, photo and 'kirim' delivered twice",
        (
            Turn(
                text("banjir sampai lutut di perumahan, drainase tidak berfungsi", id="w-1"),
                ("ask_kecamatan",),
            ),
            Turn(text("tirtayasa", id="w-2"), ("ask_desa",)),
            Turn(text("lewati", id="w-3"), ("ask_photo",)),
            Turn(photo("media-5", id="w-4"), ("photo_saved", "ask_anonymous")),
            Turn(photo("media-5", id="w-4"), ("ask_anonymous",)),  # the same photo again
            Turn(text("ya", id="w-5"), ("summary",)),
            Turn(text("kirim", id="w-6"), (), (dialogue.FileComplaint,)),
            Turn(text("kirim", id="w-6"), ("already_sent",)),  # filed once, never twice
        ),
        check=_filed_once(photos=("media-5",), id=dialogue.new_draft_id("w-1")),
    ),
    Chat(
        "an abandoned draft is dropped after the timeout; the next story starts afresh",
        (
            Turn(text("tolong pak, pohon tumbang menutup jalan desa"), ("ask_kecamatan",)),
            Turn(text("halo"), ("draft_expired", "welcome"), after=timedelta(hours=3)),
            Turn(
                text("pohon tumbang nutup jalan di kec. mancak, belum ada yang bersihin"),
                ("ask_desa",),
            ),
        ),
        check=_draft_has(
            description="pohon tumbang nutup jalan di kec. mancak, belum ada yang bersihin",
            kecamatan="KEC-MANCAK",
        ),
    ),
    Chat(
        "'batal' abandons a draft; 'batal' again has nothing to cancel",
        (
            Turn(
                text("mau lapor pungli di kantor desa, diminta bayar buat surat"),
                ("ask_kecamatan",),
            ),
            Turn(text("batal"), ("draft_cancelled",)),
            Turn(text("gak jadi"), ("nothing_to_cancel",)),
        ),
        check=_no_draft,
    ),
    Chat(
        "an unknown kecamatan gets suggestions, then 'lewati'",
        (
            Turn(text("pasar becek dan kumuh, pedagang jualan di badan jalan"), ("ask_kecamatan",)),
            Turn(text("kragilam"), ("ask_desa",)),  # one letter off: accepted
            Turn(text("apa ya lupa"), ("desa_unknown_plain",)),
            Turn(text("lewati"), ("ask_photo",)),
        ),
    ),
    Chat(
        "a kecamatan outside the kabupaten is not guessed",
        (
            Turn(text("jalan rusak parah dan banyak lubang besar"), ("ask_kecamatan",)),
            Turn(text("cibinong"), ("kecamatan_unknown",)),  # suggestions, no guess
            Turn(text("serang"), ("kecamatan_unknown_plain",)),
            Turn(text("gatau"), ("ask_photo",)),
        ),
    ),
    Chat(
        "too short a story is asked for again; 'lapor' starts one",
        (
            Turn(text("lapor"), ("ask_description",)),
            Turn(text("rusak"), ("description_short",)),
            Turn(text("atap sekolah bocor di kelas 3"), ("ask_kecamatan",)),
        ),
    ),
    Chat(
        "at the summary, 'ubah' then 'lokasi' asks the place again",
        (
            Turn(text("kabel listrik PJU menjuntai di kec. baros, bahaya"), ("ask_desa",)),
            Turn(text("lewati"), ("ask_photo",)),
            Turn(text("lewati"), ("ask_anonymous",)),
            Turn(text("ya"), ("summary",)),
            Turn(button("ubah", "Ubah"), ("ask_edit",)),
            Turn(text("lokasi"), ("ask_kecamatan",)),
            Turn(text("petir"), ("ask_desa",)),
        ),
        check=_draft_has(kecamatan="KEC-PETIR"),
    ),
    Chat(
        "stickers and voice notes get help, never silence",
        (
            Turn(sticker(), ("unsupported",)),
            Turn(text("?"), ("help",)),
            Turn(text("P"), ("welcome",)),
        ),
        check=_no_draft,
    ),
    Chat(
        "status by code in any spelling; 'cek' alone asks for the code",
        (
            Turn(text("cek lp 7k4m q9xz"), (), (dialogue.CheckStatus,)),
            Turn(text("cek"), ("check_needs_code",)),
            Turn(text("Status LP-7K4M-Q9XZ"), (), (dialogue.CheckStatus,)),
            Turn(text("LP7K4MQ9XZ"), (), (dialogue.CheckStatus,)),
        ),
        check=_effect(dialogue.CheckStatus, code=CODE),
    ),
    Chat(
        "an open ticket takes follow-ups: a story, a photo, a pin; thanks get thanks",
        (
            Turn(
                text("lubangnya makin besar, tadi ada motor jatuh"),
                (),
                (dialogue.FollowUp,),
                latest=routed(),
            ),
            Turn(photo("media-7"), (), (dialogue.AttachPhoto,)),
            Turn(pin(-6.1, 106.2, "Ciruas"), (), (dialogue.FollowUp,)),
            Turn(text("makasih min"), ("thanks",)),
            Turn(text("cek"), (), (dialogue.CheckStatus,)),
        ),
        tickets=(CODE,),
        check=_effect(dialogue.FollowUp, code=CODE, action="info"),
    ),
    Chat(
        "after resolution: '5' rates it, a second rating is refused here already",
        (
            Turn(text("5"), (), (dialogue.Rate,), latest=routed(S.RESOLVED)),
            Turn(text("5"), ("already_rated",), latest=routed(S.RESOLVED, rated=True)),
        ),
        tickets=(CODE,),
        check=_effect(dialogue.Rate, score=5),
    ),
    Chat(
        "ratings as people write them: stars, 'nilai 4' with a comment",
        (Turn(text("\u2b50\u2b50\u2b50\u2b50"), (), (dialogue.Rate,), latest=routed(S.CLOSED)),),
        tickets=(CODE,),
        check=_effect(dialogue.Rate, score=4),
    ),
    Chat(
        "a rating with a comment keeps the comment",
        (Turn(text("4 mantap, cepat ditangani"), (), (dialogue.Rate,), latest=routed(S.RESOLVED)),),
        tickets=(CODE,),
        check=_effect(dialogue.Rate, score=4, comment="mantap, cepat ditangani"),
    ),
    Chat(
        "'blm selesai' disputes a resolution, with the citizen's words",
        (
            Turn(
                text("blm selesai pak, atapnya masih bocor kalau hujan"),
                (),
                (dialogue.FollowUp,),
                latest=routed(S.RESOLVED),
            ),
        ),
        tickets=(CODE,),
        check=_effect(dialogue.FollowUp, action="dispute"),
    ),
    Chat(
        "a closed ticket takes no more information: a new story is a new draft",
        (
            Turn(
                text("sekarang lampu jalan di gang sebelah yang mati, kec. kopo"),
                ("ask_desa",),
                latest=routed(S.CLOSED, rated=True),
            ),
        ),
        tickets=(CODE,),
    ),
    Chat(
        "routing's choice question answered by number, by button and with 'lainnya'",
        (
            Turn(
                text("2"),
                (),
                (dialogue.ChooseOpd,),
                latest=routed(S.SUBMITTED, candidates=("DLH", "DPUPR")),
            ),
        ),
        tickets=(CODE,),
        check=_effect(dialogue.ChooseOpd, opd="DPUPR"),
    ),
    Chat(
        "the choice by button",
        (
            Turn(
                button("pilih:lainnya", "3. Lainnya"),
                (),
                (dialogue.ChooseOpd,),
                latest=routed(S.SUBMITTED, candidates=("DLH", "DPUPR")),
            ),
        ),
        tickets=(CODE,),
        check=_effect(dialogue.ChooseOpd, opd=None),
    ),
    Chat(
        "an answer that is no choice gets the options again",
        (
            Turn(
                text("hah?"),
                ("choice_again",),
                latest=routed(S.SUBMITTED, candidates=("DLH", "DPUPR")),
            ),
            Turn(text("yang pertama aja deh"), (), (dialogue.FollowUp,)),
            Turn(text("1"), (), (dialogue.ChooseOpd,)),
        ),
        tickets=(CODE,),
        check=_effect(dialogue.ChooseOpd, opd="DLH"),
    ),
    Chat(
        "SMS: no photo question, plain short replies, the same draft",
        (
            Turn(
                text("Jalan desa rusak parah di Ds Citerep Kec Ciruas, mohon diperbaiki"),
                ("ask_anonymous",),
            ),
            Turn(text("YA"), ("summary",)),
            Turn(text("KIRIM"), (), (dialogue.FileComplaint,)),
            Turn(text("cek"), (), (dialogue.CheckStatus,)),
        ),
        channel=Channel.SMS,
        check=_filed_once(kecamatan="KEC-CIRUAS", desa="Citerep", photos=()),
    ),
    Chat(
        "SMS: an unknown kecamatan, help and a cancelled draft stay within one segment",
        (
            Turn(
                text("Sampah di sungai menumpuk sampai jembatan, baunya menyengat"),
                ("ask_kecamatan",),
            ),
            Turn(text("Kecamatan Serang Baru Kota"), ("kecamatan_unknown_plain",)),
            Turn(text("BANTUAN"), ("help",)),
            Turn(text("BATAL"), ("draft_cancelled",)),
        ),
        channel=Channel.SMS,
        check=_no_draft,
    ),
]


@pytest.mark.parametrize("chat", CHATS, ids=[c.name for c in CHATS])
def test_realistic_chats(chat: Chat) -> None:
    outcome = play(chat)
    if chat.check is not None:
        chat.check(outcome)


def test_the_table_covers_what_the_issue_names() -> None:
    kinds = {t.says.kind for c in CHATS for t in c.turns}
    assert {Kind.TEXT, Kind.IMAGE, Kind.LOCATION, Kind.INTERACTIVE, Kind.OTHER} <= kinds
    assert any(t.after > timedelta(hours=2) for c in CHATS for t in c.turns), "abandoned draft"
    retried = [t.says.id for c in CHATS for t in c.turns if t.says.id]
    assert len(retried) > len(set(retried)), "a retried webhook"
    assert {Channel.WHATSAPP, Channel.SMS} == {c.channel for c in CHATS}


def test_a_retried_first_message_opens_the_same_draft() -> None:
    """The draft's id (the filing's Idempotency-Key) follows from the message, not a clock."""
    message = Message(id="wamid.same", at=START, kind=Kind.TEXT, text="jalan rusak parah sekali")
    first = dialogue.step(Conversation(channel=Channel.WHATSAPP), message, context(START, None))
    again = dialogue.step(
        Conversation(channel=Channel.WHATSAPP), message, context(START + timedelta(hours=1), None)
    )
    assert first.conversation.draft and again.conversation.draft
    assert first.conversation.draft.id == again.conversation.draft.id


def test_the_draft_asks_only_what_it_lacks() -> None:
    full = Draft(
        id="d",
        started_at=START,
        updated_at=START,
        description="Jalan rusak di depan kantor desa",
        kecamatan="KEC-CIRUAS",
        desa="Citerep",
        photos=("m",),
        anonymous=False,
    )
    ctx = context(START, None)
    assert dialogue.next_question(full, Channel.WHATSAPP, ctx) is Ask.CONFIRM
    assert dialogue.next_question(full.model_copy(update={"desa": None}), Channel.SMS, ctx) is (
        Ask.DESA
    )
    no_photo = full.model_copy(update={"photos": ()})
    assert dialogue.next_question(no_photo, Channel.WHATSAPP, ctx) is Ask.PHOTO
    assert dialogue.next_question(no_photo, Channel.SMS, ctx) is Ask.CONFIRM


def test_at_most_three_photos_are_kept() -> None:
    conversation = Conversation(channel=Channel.WHATSAPP)
    ctx = context(START, None)
    said: list[str] = []
    for n in range(5):
        message = Message(id=f"p{n}", at=START, kind=Kind.IMAGE, media_id=f"m{n}")
        step = dialogue.step(conversation, message, ctx)
        conversation = step.conversation
        said += [r.key for r in step.replies]
    assert conversation.draft is not None
    assert conversation.draft.photos == ("m0", "m1", "m2")
    assert said.count("photo_limit") == 2


def test_a_story_longer_than_the_web_form_allows_is_not_appended() -> None:
    ctx = context(START, None)
    first = Message(id="a", at=START, kind=Kind.TEXT, text="jalan rusak " * 300)
    step = dialogue.step(Conversation(channel=Channel.WHATSAPP), first, ctx)
    more = Message(id="b", at=START, kind=Kind.TEXT, text="dan juga lampu jalan mati " * 60)
    step = dialogue.step(step.conversation, more, ctx)
    assert "description_long" in [r.key for r in step.replies]
    assert step.conversation.draft is not None
    assert len(step.conversation.draft.description) <= 4000


@pytest.mark.parametrize(
    ("answer", "kecamatan", "desa"),
    [
        ("kragilan", "KEC-KRAGILAN", None),
        ("Kec. Ciruass", "KEC-CIRUAS", None),
        ("kecamatan lebakwangi", "KEC-LEBAKWANGI", None),
        ("lebak wangi", "KEC-LEBAKWANGI", None),
        ("PULOAMPEL", "KEC-PULOAMPEL", None),
        ("kramat watu", "KEC-KRAMATWATU", None),
        ("waringin kurung", "KEC-WARINGINKURUNG", None),
        ("tunjung teja", "KEC-TUNJUNGTEJA", None),
        ("KEC-CIRUAS", "KEC-CIRUAS", None),
        ("desa citerep kec ciruas", "KEC-CIRUAS", "Citerep"),
        ("bugel", "KEC-PADARINCANG", "Bugel"),  # a desa of one kecamatan only
        ("kaserangan", None, None),  # a desa of two kecamatan: not guessed
        ("jakarta", None, None),
        ("kopi", None, None),  # short names allow no typo (kopo)
    ],
)
def test_kecamatan_answers_are_matched_forgivingly(
    answer: str, kecamatan: str | None, desa: str | None
) -> None:
    place = PLACES.kecamatan(answer)
    assert (place.kecamatan, place.desa) == (kecamatan, desa)


@pytest.mark.parametrize(
    ("story", "kecamatan"),
    [
        ("sampah numpuk dekat pasar kragilan", "KEC-KRAGILAN"),
        ("lampu mati di kec. anyar", "KEC-ANYAR"),
        ("jalan anyar di depan rumah sudah rusak lagi", None),  # 'anyar' is also 'new'
        ("pohon tumbang waktu hujan petir kemarin", None),  # 'petir' is also 'lightning'
        ("banjir lagi di kecamatan petir", "KEC-PETIR"),
    ],
)
def test_a_story_names_its_kecamatan_only_when_it_clearly_does(
    story: str, kecamatan: str | None
) -> None:
    assert PLACES.in_text(story).kecamatan == kecamatan


def test_every_reply_renders_on_both_channels_and_sms_fits_one_segment() -> None:
    replies = packaged_replies()
    long_values: dict[str, str | int] = {
        "org": "Kabupaten Serang",
        "answer": "kecamatan yang namanya panjang sekali",
        "suggestions": "Waringinkurung, Tunjung Teja atau Lebak Wangi",
        "kecamatan": "Waringinkurung",
        "max": 4000,
        "count": 3,
        "code": CODE,
        "description": "Jalan berlubang parah di depan SDN Ciruas 1 " * 8,
        "place": "Desa Singamerta, Kec. Ciruas, titik di peta",
        "photos": "3 foto",
        "identity": "Nama ditampilkan",
        "reason": "Batas 10 hari kerja untuk menolak penyelesaian sudah lewat.",
        "status": "sedang ditindaklanjuti",
        "opd": " Ditangani Dinas Pekerjaan Umum dan Penataan Ruang.",
        "due": " Batas: 10 Juni 2025.",
        "options": "1 untuk Dinas Lingkungan Hidup, 2 untuk DPUPR atau 3 untuk lainnya.",
        "score": 5,
        "url": "https://pengaduan.serangkab.go.id",
    }
    for key in replies.names():
        for channel in ("whatsapp", "sms"):
            rendered = replies.one(Reply(key, long_values), channel)
            assert rendered.text and "{" not in rendered.text, (key, channel)
        sms = replies.one(Reply(key, long_values), "sms").text
        if key not in ("status", "choice_again"):  # these carry the caller's own text
            assert sms_length(sms) <= SMS_SEGMENT, (key, sms_length(sms), sms)
        buttons = replies.one(Reply(key, long_values), "whatsapp").buttons
        assert len(buttons) <= 3 and all(len(b.title) <= 20 for b in buttons), key


def test_whatsapp_values_cannot_format_the_reply() -> None:
    rendered = packaged_replies().one(Reply("info_added", {"code": "*tebal* _miring_"}), "whatsapp")
    assert "*tebal*" not in rendered.text and "_miring_" not in rendered.text


PURE_MODULES = ("dialogue", "model", "draft", "lexicon", "places", "replies")
IO_PACKAGES = {"fastapi", "starlette", "pymongo", "gridfs", "aiokafka", "httpx", "uvicorn"}


IMPORT_LINE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.MULTILINE)


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_conversation_modules_import_no_io(module: str) -> None:
    # Read as text: ast.parse in a long test session has hit CPython 3.11's "AST constructor
    # recursion depth mismatch".
    source = (Path(dialogue.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    modules = {a or b for a, b in IMPORT_LINE.findall(source)}
    imported = {m.split(".")[0] for m in modules}
    assert not imported & IO_PACKAGES, imported & IO_PACKAGES
    chat_siblings = {m for m in modules if m.startswith("services.intake.chat")}
    assert {m.rsplit(".", 1)[1] for m in chat_siblings} <= set(PURE_MODULES)
