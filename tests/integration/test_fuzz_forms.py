"""Fuzzing of what the OpenAPI schemas do not describe: the web forms (complaint, tracking)
and the chat webhooks (signed WhatsApp Cloud API posts, SMS gateway posts), against the real
database and broker. No answer may be a 5xx, and no markup sent may come back unescaped.

Cases per target: `FUZZ_CASES` / 10 (at least 12); `make test-fuzz` runs 100 per target.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from services.intake.app import create_app
from services.intake.chat import whatsapp
from services.intake.settings import DEV_SMS_SECRET, DEV_WHATSAPP_APP_SECRET, IntakeSettings
from tests.conftest import Infra
from tests.fuzzing import cases_per_service
from tests.integration.conftest import settings_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

MARKER = "<x-fuzz onclick=alert(1)>"
# Text as citizens type it, with markup, quotes, entities, controls and non-Latin scripts.
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("<>&\"'/=;{}$.% \n\tabc\u200b\u202e😀")), max_size=80),
    st.sampled_from(["", " ", "\x00", "%00", "{{7*7}}", "${7*7}", "<script>", "&lt;", "\r\n"]),
).map(lambda text: f"{text}{MARKER}")
OPTIONAL = st.one_of(st.none(), TEXT)
Check = TypeVar("Check", bound=Callable[..., None])


def examples() -> int:
    return max(12, cases_per_service() // 10)


def fuzzed(test: Check) -> Check:
    """The hypothesis settings of every form fuzzed here: a fixed seed, `examples()` cases,
    no deadline and no example database."""
    return seed(15)(
        settings(
            max_examples=examples(),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(test)
    )


@pytest.fixture(scope="module")
def client(infra: Infra, module_stored: Any) -> Iterator[TestClient]:
    settings = settings_for(
        IntakeSettings,
        infra,
        module_stored.name,
        rate_limit_per_minute=1_000_000,
        whatsapp={"graph_url": "http://127.0.0.1:1/v21.0", "access_token": "dev-token"},
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def _csrf(client: TestClient, page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', client.get(page).text)
    assert found
    return found.group(1)


def _assert_safe(response: Any, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    assert "<x-fuzz" not in response.text, (where, "markup reflected unescaped")
    assert "Traceback" not in response.text


def test_fuzz_the_complaint_form(client: TestClient) -> None:
    token = _csrf(client, "/")
    fields = st.fixed_dictionaries(
        {"csrf": st.just(token), "description": TEXT},
        optional={
            name: TEXT
            for name in (
                "title",
                "kind",
                "category",
                "kecamatan",
                "desa",
                "address",
                "name",
                "email",
                "phone",
                "anonymous",
                "confidential",
                "lang",
            )
        },
    )

    @fuzzed
    @given(form=fields)
    def post(form: dict[str, str]) -> None:
        _assert_safe(client.post("/kirim", data=form), "/kirim")

    post()


def test_fuzz_the_tracking_form(client: TestClient) -> None:
    token = _csrf(client, "/")  # the same signed cookie serves every form

    @fuzzed
    @given(code=TEXT, reply=OPTIONAL)
    def track(code: str, reply: str | None) -> None:
        form = {"csrf": token, "kode": code, **({"token": reply} if reply else {})}
        _assert_safe(client.post("/lacak", data=form), "POST /lacak")
        params = {"kode": code, **({"t": reply} if reply else {})}
        _assert_safe(client.get("/lacak", params=params), "GET /lacak")

    track()


def test_fuzz_the_whatsapp_webhook(client: TestClient) -> None:
    message = st.fixed_dictionaries(
        {
            "from": st.sampled_from(["6281234567890", "628", ""]) | st.text(max_size=20),
            "id": st.text(min_size=1, max_size=40),
            "timestamp": st.sampled_from(["1700000000", "", "x"]) | st.text(max_size=12),
            "type": st.sampled_from(["text", "image", "interactive", "location", "sticker"]),
            "text": st.fixed_dictionaries({"body": TEXT}),
        }
    )

    @fuzzed
    @given(message=message, name=TEXT)
    def post(message: dict[str, Any], name: str) -> None:
        sender = str(message["from"]) or "6281234567890"
        body = json.dumps(whatsapp.envelope(sender=sender, name=name, message=message)).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": whatsapp.sign(body, DEV_WHATSAPP_APP_SECRET),
        }
        _assert_safe(
            client.post("/api/v1/channels/whatsapp/webhook", content=body, headers=headers),
            "whatsapp",
        )

    post()


def test_fuzz_the_sms_webhook(client: TestClient) -> None:
    @fuzzed
    @given(sender=TEXT | st.sampled_from(["0812-9999-8888", "+6281299998888"]), text=TEXT)
    def post(sender: str, text: str) -> None:
        form = {"from": sender, "text": text, "id": uuid.uuid4().hex}
        answer = client.post(
            "/api/v1/channels/sms/webhook", data=form, headers={"X-Sms-Secret": DEV_SMS_SECRET}
        )
        _assert_safe(answer, "sms")

    post()
