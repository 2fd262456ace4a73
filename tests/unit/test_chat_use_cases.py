"""The chat's use cases (services/intake/chat/service.py `receive`, `record_statuses`) on the
in-memory stores of tests/fakes.py: a WhatsApp conversation that files a complaint with its
photo, a message the platform retries, numbers that may not file, a flood, a lost race, and
the platform's delivery statuses, each kept once."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta

import pytest
from PIL import Image

from services.intake.chat import service as chat_service
from services.intake.chat.dialogue import Channel, Kind, Message
from services.intake.chat.replies import Reply, packaged_replies
from services.intake.chat.service import ChatContext, ConversationBusy
from services.intake.chat.whatsapp import StatusUpdate
from services.intake.ratelimit import AddressLimiter
from shared.events import EventType, utcnow
from tests.fakes import (
    InMemoryConversations,
    InMemoryMedia,
    InMemoryPhotos,
    InMemoryTickets,
    intake_context,
)

PHONE = "+6281234567890"
_ids = itertools.count(1)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(out, "JPEG")
    return out.getvalue()


class Phone:
    """A citizen's WhatsApp and what the use cases keep of the conversation; `woken` counts
    the times the chat's outbox relay was woken."""

    def __init__(self, *, per_minute: int = 60, sender: str = "081234567890") -> None:
        self.tickets, self.photos = InMemoryTickets(), InMemoryPhotos()
        self.conversations = InMemoryConversations()
        self.woken = 0
        self.sender = sender

        def wake() -> None:
            self.woken += 1

        self.chat = ChatContext(
            intake=intake_context(
                self.tickets,
                photos=self.photos,
                rate_limiter=AddressLimiter(per_minute=per_minute),
            ),
            conversations=self.conversations,
            media=InMemoryMedia(**{"media-1": _jpeg()}),
            wake_relay=wake,
        )

    async def says(
        self, text: str = "", *, kind: Kind = Kind.TEXT, media_id: str | None = None, id: str = ""
    ) -> bool:
        message = Message(
            id=id or f"wamid.{next(_ids)}",
            at=utcnow(),
            kind=kind,
            text=text,
            media_id=media_id,
        )
        return await chat_service.receive(
            self.chat, channel=Channel.WHATSAPP, sender=self.sender, name="Siti", message=message
        )

    def answers(self) -> list[str]:
        """The texts sent back, oldest first."""
        out = [m for m in self.conversations.messages.values() if m["direction"] == "out"]
        return [m["text"] for m in sorted(out, key=lambda m: (m["at"], m["_id"]))]


def _said(key: str, **values: str) -> str:
    return packaged_replies().render([Reply(key, values)], Channel.WHATSAPP.value).text


async def test_a_whatsapp_conversation_files_a_complaint_with_its_photo() -> None:
    phone = Phone()
    for text in (
        "Assalamualaikum min",
        "jln berlobang parah depan SDN 2, udh 2 bln gk dibenerin",
        "ciruass",
        "kaserangan",
    ):
        assert await phone.says(text)
    assert await phone.says(kind=Kind.IMAGE, media_id="media-1")
    assert await phone.says("iya boleh")
    assert await phone.says("kirim")
    [code] = phone.tickets.docs
    ticket = phone.tickets.stored(code)
    conversation = phone.conversations.of(PHONE)
    assert (ticket["source"], ticket["conversation_id"]) == ("whatsapp", conversation["_id"])
    assert ticket["location"]["kecamatan"] == "KEC-CIRUAS"
    assert ticket["reporter"]["phone"] == PHONE
    assert len(ticket["photos"]) == 1 and len(phone.photos.files) == 1
    assert [t["code"] for t in conversation["state"]["tickets"]] == [code]
    # Each message handled once and answered in the same write as its state, except the last:
    # the receipt with the tracking code is notify's, on the ticket's own event.
    assert len(conversation["seen"]) == 7 and phone.woken == 7
    assert [e["event_type"] for e in conversation["outbox"]] == [EventType.CHAT_REPLY] * 6
    assert "jln berlobang parah depan SDN 2" in phone.answers()[-1]  # the summary
    assert [e["event_type"] for e in ticket["outbox"]] == [EventType.TICKET_SUBMITTED]
    # The draft's messages belong to the ticket it became (the console shows them with it);
    # the greeting before the draft belongs to none.
    tagged = [m["tracking_code"] for m in phone.conversations.messages.values()]
    assert tagged == [None, None, *[code] * 11]


async def test_a_message_the_platform_sends_again_is_handled_once() -> None:
    phone = Phone()
    assert await phone.says("Assalamualaikum min", id="wamid.same")
    assert not await phone.says("Assalamualaikum min", id="wamid.same")
    conversation = phone.conversations.of(PHONE)
    assert conversation["seen"] == ["wamid.same"] and len(conversation["outbox"]) == 1
    assert len(phone.answers()) == 1


async def test_a_number_outside_indonesia_is_pointed_to_the_web_form_and_files_nothing() -> None:
    phone = Phone(sender="+447700900123")
    assert await phone.says("jalan rusak parah di depan rumah saya sudah lama sekali")
    url = phone.chat.intake.settings.public_base_url
    assert phone.answers() == [_said("not_indonesian", url=url)]
    assert phone.tickets.docs == {}


async def test_a_flood_is_warned_once_and_not_read() -> None:
    phone = Phone(per_minute=1)
    assert await phone.says("Assalamualaikum min")
    for _ in range(3):
        assert await phone.says("jalan rusak parah di depan SDN 2 Ciruas tolong")
    flood = _said("flood")
    assert phone.answers()[1:] == [flood]  # one warning for the burst, the rest unanswered
    conversation = phone.conversations.of(PHONE)
    assert len(conversation["seen"]) == 4 and conversation["state"]["draft"] is None
    assert conversation["flood_warned_at"] is not None


async def test_a_step_that_lost_its_race_is_refused_for_the_platform_to_retry() -> None:
    phone = Phone()
    assert await phone.says("Assalamualaikum min")
    conversation_id = phone.conversations.of(PHONE)["_id"]
    phone.conversations.interfere(conversation_id)
    with pytest.raises(ConversationBusy) as caught:
        await phone.says("jln berlobang parah depan SDN 2", id="wamid.retry")
    assert caught.value.status_code == 503 and caught.value.headers == {"Retry-After": "2"}
    assert "wamid.retry" not in phone.conversations.of(PHONE)["seen"]
    assert await phone.says("jln berlobang parah depan SDN 2", id="wamid.retry")  # the retry
    assert "wamid.retry" in phone.conversations.of(PHONE)["seen"]


async def test_delivery_statuses_are_kept_once_each() -> None:
    phone = Phone()
    at = utcnow()
    statuses = [
        StatusUpdate("wamid.out-1", "sent", at, "k1", None),
        StatusUpdate("wamid.out-1", "delivered", at + timedelta(seconds=2), "k1", None),
        StatusUpdate("wamid.out-2", "failed", at, "k2", 131026),
    ]
    assert await chat_service.record_statuses(phone.chat, statuses) == 3
    assert await chat_service.record_statuses(phone.chat, statuses[:2]) == 0  # a retried hook
    assert set(phone.conversations.statuses) == {
        "wamid.out-1:sent",
        "wamid.out-1:delivered",
        "wamid.out-2:failed",
    }
    assert phone.conversations.statuses["wamid.out-2:failed"]["error_code"] == 131026
