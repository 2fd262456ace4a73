"""The dev sink as the WhatsApp Cloud API: media it serves, the conversation page, and the phone
simulator's signed webhooks (checked here by a second sink standing in for intake)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from devstack.sink import Sink
from services.intake.chat import whatsapp
from services.intake.settings import DEV_WHATSAPP_APP_SECRET

pytestmark = pytest.mark.integration


@pytest.fixture
def sinks() -> Iterator[tuple[Sink, Sink]]:
    intake = Sink().start()
    sink = Sink(intake_url=intake.url, whatsapp_app_secret=DEV_WHATSAPP_APP_SECRET).start()
    yield sink, intake
    sink.stop()
    intake.stop()


def test_media_is_served_as_the_graph_api_does(sinks: tuple[Sink, Sink]) -> None:
    sink, _ = sinks
    media = httpx.post(
        f"{sink.url}/_media", content=b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"}
    )
    media_id = media.json()["id"]
    meta = httpx.get(f"{sink.url}/whatsapp/v21.0/{media_id}").json()
    assert meta["mime_type"] == "image/jpeg"
    assert httpx.get(meta["url"]).content == b"\xff\xd8jpeg"
    assert httpx.get(f"{sink.url}/whatsapp/v21.0/unknown").status_code == 404


def test_the_simulator_posts_signed_webhooks_and_the_page_shows_the_thread(
    sinks: tuple[Sink, Sink],
) -> None:
    sink, intake = sinks
    sent = httpx.post(
        f"{sink.url}/percakapan", data={"from": "6281234567890", "text": "jalan rusak di ciruas"}
    )
    assert sent.status_code in (200, 303)
    [webhook] = intake.messages()
    assert webhook["path"] == "/api/v1/channels/whatsapp/webhook"
    body = webhook["body"]
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    assert (message["from"], message["type"], message["text"]["body"]) == (
        "6281234567890",
        "text",
        "jalan rusak di ciruas",
    )
    signature = webhook["headers"]["X-Hub-Signature-256"]
    raw = json.dumps(body).encode()  # as the simulator encoded it
    assert whatsapp.signature_valid(signature, raw, DEV_WHATSAPP_APP_SECRET)
    inbound, _ = whatsapp.read(whatsapp.WebhookIn.model_validate(body))
    assert [i.message.text for i in inbound] == ["jalan rusak di ciruas"]
    reply = {"messaging_product": "whatsapp", "to": "6281234567890", "type": "text"}
    answer = httpx.post(
        f"{sink.url}/whatsapp/v21.0/dev/messages",
        json={**reply, "text": {"body": "Di kecamatan mana lokasinya?"}},
        headers={"Idempotency-Key": "k1"},
    )
    assert answer.json()["messages"][0]["id"].startswith("wamid.")
    page = httpx.get(f"{sink.url}/percakapan").text
    assert page.index("jalan rusak di ciruas") < page.index("Di kecamatan mana lokasinya?")
