"""Open311's use cases (services/intake/open311/service.py) on the in-memory stores of
tests/fakes.py: API keys, a request filed and what is stored of it, the public list's filters
and limit, requests by id and token, the services, and each refusal in the spec's shape."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

import pytest

from services.intake.open311 import service as open311
from services.intake.open311.errors import Open311Error
from services.intake.open311.schemas import CreatedOut, RequestForm
from services.intake.ratelimit import AddressLimiter
from services.intake.settings import IntakeSettings, Open311Settings
from shared.catalogue import packaged_catalogue
from shared.errors import TooManyRequests
from shared.settings import DEV_OPEN311_API_KEY
from shared.tickets import Publication, TicketStatus
from tests.fakes import NOW, InMemoryApiKeys, InMemoryTickets, a_ticket, intake_context

S = TicketStatus
KEY = "kunci-aplikasi-lapor-serang-0123456789"
FORM = {
    "service_code": "jalan-rusak",
    "description": "Jalan di depan SDN 2 Ciruas berlubang besar, sudah tiga bulan tidak ditambal",
    "address_id": "KEC-CIRUAS",
}


def _form(**fields: str) -> RequestForm:
    return RequestForm.model_validate({"api_key": KEY, **FORM, **fields})


async def _submit(
    tickets: InMemoryTickets,
    form: RequestForm,
    *,
    keys: InMemoryApiKeys | None = None,
    limiter: AddressLimiter | None = None,
) -> CreatedOut:
    ctx = intake_context(tickets, rate_limiter=limiter or AddressLimiter(per_minute=60))
    return await open311.submit_request(
        ctx,
        form,
        keys=keys if keys is not None else InMemoryApiKeys(**{KEY: "Aplikasi Warga"}),
        client="10.1.2.3",
        idempotency_key=None,
    )


async def test_a_client_files_a_request_and_gets_its_tracking_code_at_once() -> None:
    tickets = InMemoryTickets()
    created = await _submit(tickets, _form())
    stored = tickets.stored(created.service_request_id)
    assert (stored["status"], stored["source"], stored["category"]) == (
        "submitted",
        "open311",
        "jalan-rusak",
    )
    assert stored["location"]["kecamatan"] == "KEC-CIRUAS"
    assert created.service_request_id in (created.service_notice or "")
    assert created.extended_attributes is None  # the reply token only when asked for
    [event] = stored["outbox"]
    assert event["event_type"] == "ticket.submitted"


async def test_asked_for_extensions_the_answer_carries_the_reporters_reply_token() -> None:
    tickets = InMemoryTickets()
    created = await _submit(tickets, _form(extensions="true"))
    assert created.extended_attributes is not None
    token = created.extended_attributes.reply_token
    stored = tickets.stored(created.service_request_id)
    assert stored["reply_token_hash"] == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize("api_key", [None, "", "kunci-yang-salah", "revoked"])
async def test_without_a_valid_api_key_nothing_is_filed(api_key: str | None) -> None:
    keys = InMemoryApiKeys(**{KEY: "Aplikasi Warga", "revoked": "Aplikasi Lama"})
    keys.revoke("revoked")
    tickets = InMemoryTickets()
    form = RequestForm.model_validate({**FORM, "api_key": api_key})
    with pytest.raises(Open311Error) as caught:
        await _submit(tickets, form, keys=keys)
    assert caught.value.status == 403
    assert tickets.docs == {}


async def test_the_dev_key_is_seeded_on_first_use_but_a_revoked_one_stays_revoked() -> None:
    keys = InMemoryApiKeys()  # the database was down when the service started
    tickets = InMemoryTickets()
    await _submit(tickets, _form(api_key=DEV_OPEN311_API_KEY), keys=keys)
    assert len(tickets.docs) == 1 and await keys.find(DEV_OPEN311_API_KEY) is not None
    keys.revoke(DEV_OPEN311_API_KEY)
    with pytest.raises(Open311Error) as caught:
        await _submit(tickets, _form(api_key=DEV_OPEN311_API_KEY), keys=keys)
    assert caught.value.status == 403 and len(tickets.docs) == 1


async def test_past_the_address_limit_the_client_waits_before_its_key_is_looked_at() -> None:
    tickets = InMemoryTickets()
    limiter = AddressLimiter(per_minute=1)
    await _submit(tickets, _form(), limiter=limiter)
    with pytest.raises(TooManyRequests) as caught:
        await _submit(tickets, _form(api_key="kunci-yang-salah"), limiter=limiter)
    assert caught.value.headers is not None and int(caught.value.headers["Retry-After"]) >= 1
    assert len(tickets.docs) == 1


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"service_code": "tidak-ada"}, 404),
        ({"service_code": ""}, 400),
        ({"jurisdiction_id": "jakarta.go.id"}, 404),
        ({"description": "pendek"}, 400),
    ],
)
async def test_a_request_the_spec_refuses_is_answered_in_its_shape_and_not_filed(
    fields: dict[str, str], status: int
) -> None:
    tickets = InMemoryTickets()
    with pytest.raises(Open311Error) as caught:
        await _submit(tickets, _form(**fields))
    assert caught.value.status == status and caught.value.descriptions
    assert tickets.docs == {}


def _code(n: int) -> str:
    return f"LP-OPEN-{n:04d}"


def _public_desk() -> InMemoryTickets:
    """Public requests 1-4 (newest first: 1), and five that public lists leave out."""
    day = timedelta(days=1)
    return InMemoryTickets(
        a_ticket(S.VERIFIED, _code(1), submitted_at=NOW - 1 * day),
        a_ticket(S.RESOLVED, _code(2), submitted_at=NOW - 2 * day, category="sampah", opd="DLH"),
        a_ticket(S.IN_PROGRESS, _code(3), submitted_at=NOW - 3 * day),
        a_ticket(S.CLOSED, _code(4), submitted_at=NOW - 40 * day),
        a_ticket(S.ROUTED, _code(5), submitted_at=NOW - 1 * day),  # not verified yet
        a_ticket(S.REJECTED, _code(6), submitted_at=NOW - 1 * day),
        a_ticket(S.VERIFIED, _code(7), submitted_at=NOW - 1 * day, confidential=True),
        a_ticket(
            S.VERIFIED,
            _code(8),
            submitted_at=NOW - 1 * day,
            publication=Publication(hidden=True, reason="data pribadi", by="dpupr", at=NOW),
        ),
        a_ticket(S.VERIFIED, _code(9), submitted_at=NOW - 200 * day),  # outside the window
    )


async def _requests(
    tickets: InMemoryTickets,
    *,
    settings: IntakeSettings | None = None,
    ids: Sequence[str] | None = None,
    service_code: Sequence[str] | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: Sequence[str] | None = None,
) -> list[str]:
    found = await open311.list_requests(
        intake_context(tickets, settings=settings),
        jurisdiction_id=None,
        service_request_id=ids,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        now=NOW,
    )
    return [r.service_request_id for r in found]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [1, 2, 3, 4]),  # the last 90 days, public content only, newest first
        ({"service_code": ["sampah"]}, [2]),
        ({"service_code": ["jalan-rusak,sampah"]}, [1, 2, 3, 4]),  # comma delimited
        ({"status": ["open"]}, [1, 3]),
        ({"status": ["closed"]}, [2, 4]),
        ({"start_date": (NOW - timedelta(days=2, hours=1)).isoformat()}, [1, 2]),
        ({"end_date": (NOW - timedelta(days=30)).isoformat()}, [4]),
    ],
)
async def test_the_public_list_holds_verified_visible_requests_the_filters_select(
    filters: dict[str, object], expected: list[int]
) -> None:
    found = await _requests(_public_desk(), **filters)  # type: ignore[arg-type]
    assert found == [_code(n) for n in expected]


async def test_the_list_is_bounded_by_the_limit_newest_first() -> None:
    settings = IntakeSettings(open311=Open311Settings(max_requests=2))
    found = await _requests(_public_desk(), settings=settings)
    assert found == [_code(1), _code(2)]


async def test_by_id_any_request_is_found_but_shown_only_as_the_policy_allows() -> None:
    tickets = _public_desk()
    ids = [f"{_code(7).lower()},{_code(1)}", _code(6), "LP-NONE-0000"]
    found = await open311.list_requests(
        intake_context(tickets),
        jurisdiction_id=None,
        service_request_id=ids,
        service_code=None,
        start_date=None,
        end_date=None,
        status=None,
        now=NOW,
    )
    shown = {r.service_request_id: r for r in found}
    assert set(shown) == {_code(1), _code(6), _code(7)}  # the unknown one is simply absent
    assert shown[_code(1)].description is not None
    assert shown[_code(7)].description is None  # confidential: status and dates only
    assert shown[_code(6)].description is None and shown[_code(6)].status == "closed"


@pytest.mark.parametrize(
    "filters",
    [
        {"service_code": ["tidak-ada"]},
        {"status": ["pending"]},
        {"start_date": "kemarin"},
        {"start_date": "2026-01-01", "end_date": "2026-11-01"},  # longer than 90 days
    ],
)
async def test_filters_the_spec_does_not_allow_are_a_400(filters: dict[str, object]) -> None:
    with pytest.raises(Open311Error) as caught:
        await _requests(_public_desk(), **filters)  # type: ignore[arg-type]
    assert caught.value.status == 400


async def test_one_request_by_id_or_token_and_a_404_for_an_unknown_one() -> None:
    ctx = intake_context(_public_desk())
    shown = await open311.show_request(
        ctx, service_request_id=f" {_code(3).lower()} ", jurisdiction_id=None
    )
    assert (shown.service_request_id, shown.status) == (_code(3), "open")
    assert shown.agency_responsible == "Dinas Pekerjaan Umum dan Penataan Ruang"
    token = await open311.resolve_token(ctx, token=_code(3), jurisdiction_id=None)
    assert (token.service_request_id, token.token) == (_code(3), _code(3))
    for lookup in (
        open311.show_request(ctx, service_request_id="LP-NONE-0000", jurisdiction_id=None),
        open311.resolve_token(ctx, token="LP-NONE-0000", jurisdiction_id=None),
    ):
        with pytest.raises(Open311Error) as caught:
            await lookup
        assert caught.value.status == 404


async def test_the_services_are_the_catalogues_categories() -> None:
    ctx = intake_context(InMemoryTickets())
    services = await open311.list_services(ctx, jurisdiction_id="SerangKab.go.id")
    assert [s.service_code for s in services] == [c.code for c in packaged_catalogue().categories]
    definition = await open311.describe_service(
        ctx, service_code="jalan-rusak", jurisdiction_id=None
    )
    assert definition.service_code == "jalan-rusak" and definition.attributes
    with pytest.raises(Open311Error) as caught:
        await open311.describe_service(ctx, service_code="tidak-ada", jurisdiction_id=None)
    assert caught.value.status == 404
    with pytest.raises(Open311Error):
        await open311.list_services(ctx, jurisdiction_id="jakarta.go.id")
