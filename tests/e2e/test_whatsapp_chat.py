"""End to end over WhatsApp: the three services as processes, the sink as the WhatsApp Cloud API.

A citizen files a complaint by chat (Cloud-API-shaped, signed webhooks, some of them retried),
the tracking code and then the OPD with its deadline arrive at the sink, an officer resolves
the ticket in the console, the answer reaches the chat, the citizen rates it by chat; in the
end there is one ticket, one rating and no message twice.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from PIL import Image
from pymongo import MongoClient

from devstack.sink import Sink
from devstack.stack import Ports
from services.intake.chat import whatsapp
from services.intake.settings import DEV_WHATSAPP_APP_SECRET
from services.routing.web.page import CSRF_COOKIE
from tests.conftest import Infra, running_services, stack_database

pytestmark = pytest.mark.e2e

NUMBER = "6281298765432"
PHONE_ID = "e2e-phone-number-id"
CODE = re.compile(r"\bLP-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
T = TypeVar("T")


@dataclass(frozen=True)
class System:
    ports: Ports
    sink: Sink
    database: str
    mongodb_url: str

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, service)}"


@pytest.fixture(scope="module")
def system(infra: Infra) -> Iterator[System]:
    sink = Sink().start()
    graph = f"{sink.url}/whatsapp/v21.0"
    env = {
        "NOTIFY_EMAIL__TRANSPORT": "off",
        "NOTIFY_SMS__TRANSPORT": "off",
        "NOTIFY_WHATSAPP__TRANSPORT": "cloud",
        "NOTIFY_WHATSAPP__API_URL": graph,
        "NOTIFY_WHATSAPP__PHONE_NUMBER_ID": PHONE_ID,
        "NOTIFY_WHATSAPP__ACCESS_TOKEN": "e2e-token",
        "INTAKE_WHATSAPP__GRAPH_URL": graph,
        "INTAKE_WHATSAPP__ACCESS_TOKEN": "e2e-token",
    }
    try:
        with running_services(infra, "chat", **env) as stack:
            yield System(stack.ports, sink, stack_database(stack), infra.mongodb_url)
    finally:
        sink.stop()


def eventually(check: Callable[[], T | None], what: str, timeout_s: float = 45.0) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


class Phone:
    """The citizen's WhatsApp: each message as the platform posts it, signed."""

    def __init__(self, system: System) -> None:
        self._system = system
        self._n = 0

    def send(self, kind: str, content: dict[str, Any], *, id: str | None = None) -> str:
        self._n += 1
        message_id = id or f"wamid.e2e-{uuid.uuid4().hex}"
        message = {
            "from": NUMBER,
            "id": message_id,
            "timestamp": str(int(time.time())),
            "type": kind,
            kind: content,
        }
        body = json.dumps(whatsapp.envelope(sender=NUMBER, name="Rina", message=message)).encode()
        response = httpx.post(
            f"{self._system.url('intake')}/api/v1/channels/whatsapp/webhook",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": whatsapp.sign(body, DEV_WHATSAPP_APP_SECRET),
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return message_id

    def text(self, body: str, *, id: str | None = None) -> str:
        return self.send("text", {"body": body}, id=id)

    def button(self, reply_id: str, title: str, *, id: str | None = None) -> str:
        reply = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
        return self.send("interactive", reply, id=id)


def to_citizen(sink: Sink) -> list[dict[str, Any]]:
    """Every post to the Cloud API for the citizen's number, oldest first."""
    return [
        m
        for m in sink.messages()
        if m["path"].endswith(f"/{PHONE_ID}/messages")
        and isinstance(m["body"], dict)
        and m["body"].get("to") == NUMBER
    ]


def text_of(post: dict[str, Any]) -> str:
    body = post["body"]
    if body["type"] == "text":
        return str(body["text"]["body"])
    if body["type"] == "interactive":
        return str(body["interactive"]["body"]["text"])
    return " ".join(
        p["text"] for c in body["template"]["components"] for p in c.get("parameters", [])
    )


def seen_at_sink(sink: Sink, wanted: Callable[[str], bool]) -> str | None:
    return next((text_of(m) for m in to_citizen(sink) if wanted(text_of(m))), None)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no field {name}"
    return found.group(1)


def test_a_complaint_filed_resolved_and_rated_over_whatsapp(system: System) -> None:
    sink, phone = system.sink, Phone(system)

    # The citizen writes: a greeting, the story, then answers what the conversation asks.
    phone.text("Assalamualaikum min")
    story = phone.text("sampah numpuk di pinggir jalan dekat pasar, bau bgt sdh seminggu")
    phone.text("sampah numpuk di pinggir jalan dekat pasar, bau bgt sdh seminggu", id=story)
    phone.text("kragilan")
    phone.text("desa sentul")
    photo = io.BytesIO()
    Image.new("RGB", (80, 60), "brown").save(photo, "JPEG")
    media = sink.add_media(photo.getvalue(), "image/jpeg")
    phone.send("image", {"id": media, "mime_type": "image/jpeg"})
    phone.text("iya boleh")
    summary = eventually(lambda: seen_at_sink(sink, lambda t: "Ringkasan" in t), "the summary")
    assert "Kec. Kragilan" in summary and "Desa Sentul" in summary and "1 foto" in summary
    send = phone.button("kirim", "Kirim")
    phone.button("kirim", "Kirim", id=send)  # the platform delivers the webhook again

    # The tracking code, then the OPD and the deadline, arrive in the chat.
    received = eventually(lambda: seen_at_sink(sink, lambda t: "diterima dengan kode" in t), "code")
    found = CODE.search(received)
    assert found, received
    code = found.group(0)
    routed = eventually(
        lambda: seen_at_sink(sink, lambda t: "diteruskan ke" in t and code in t), "routed"
    )
    assert "Dinas Lingkungan Hidup" in routed and "paling lambat" in routed

    # An officer of DLH resolves it in the console, where the conversation is shown.
    with httpx.Client(base_url=system.url("routing"), timeout=30) as console:
        sign_in = console.get("/konsol/masuk").text
        signed = console.post(
            "/konsol/masuk",
            data={
                "csrf": hidden(sign_in, "csrf"),
                "username": "dlh",
                "password": "officer",
                "next": "/konsol",
            },
        )
        assert signed.status_code in (200, 303), signed.text
        page = console.get(f"/konsol/tiket/{code}").text
        assert "Percakapan WhatsApp" in page and "desa sentul" in page
        answer = "Sampah sudah diangkut petugas kebersihan pagi ini. Terima kasih."
        for action, note in (("verify", ""), ("resolve", answer)):
            page = console.get(f"/konsol/tiket/{code}").text
            done = console.post(
                f"/konsol/tiket/{code}/tindakan",
                data={
                    "csrf": str(console.cookies.get(CSRF_COOKIE)),
                    "action": action,
                    "version": hidden(page, "version"),
                    "note": note,
                },
            )
            assert done.status_code in (200, 303), done.text[:500]

    resolved = eventually(
        lambda: seen_at_sink(sink, lambda t: "Sampah sudah diangkut" in t), "answer"
    )
    assert "1 sampai 5" in resolved

    # The citizen rates it by chat (and the platform retries that webhook too).
    rating = phone.text("5 terima kasih, cepat sekali")
    phone.text("5 terima kasih, cepat sekali", id=rating)
    thanked = eventually(lambda: seen_at_sink(sink, lambda t: "penilaian 5" in t), "the thanks")
    assert code in thanked

    # One ticket, one rating, no message twice.
    mongo: MongoClient[dict[str, Any]] = MongoClient(system.mongodb_url)
    try:
        db = mongo[system.database]
        tickets = list(db.tickets.find({"reporter.phone": f"+{NUMBER}"}))
        assert len(tickets) == 1
        ticket = tickets[0]
        assert ticket["_id"] == code and ticket["source"] == "whatsapp"
        assert ticket["status"] == "resolved" and ticket["rating"]["score"] == 5
        assert len(ticket["photos"]) == 1
        assert db.chat_messages.count_documents({"direction": "in"}) == 8  # retries not counted
    finally:
        mongo.close()
    time.sleep(2)  # let any late duplicate show itself
    posts = to_citizen(sink)
    keys = [m["key"] for m in posts]
    assert len(keys) == len(set(keys)), "a delivery key was posted twice"
    assert not [m for m in posts if m["duplicate"]]
    texts = [text_of(m) for m in posts]
    assert len(texts) == len(set(texts)), "the citizen got the same message twice"
    assert all(m["body"]["type"] in ("text", "interactive") for m in posts)  # inside 24 hours
