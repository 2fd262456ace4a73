"""Open311 GeoReport v2 conformance: every call in JSON and XML, errors included, against the
real MongoDB-compatible server (Kafka left unreachable).

Field names and their order are the ones in the spec's examples (open311/open311.github.io,
GeoReport_v2 and Service_Discovery); XML is parsed with ElementTree and its element names compared
with them, and JSON follows the spec's Spark convention (lists where XML has containers).
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from services.intake import api_keys
from services.intake.app import create_app
from services.intake.settings import IntakeSettings, Open311Settings
from shared.catalogue import packaged_catalogue
from shared.settings import Environment
from tests.conftest import Infra, start_of_a_rate_window
from tests.integration.conftest import settings_for

pytestmark = pytest.mark.integration

BASE_URL = "https://pengaduan.serangkab.example"
V2 = "/open311/v2"
KEY = "dev-open311-key"
FORMATS = ["json", "xml"]
DESCRIPTION = "Jalan berlubang besar di depan SDN 1 Ciruas, sudah sebulan belum diperbaiki."
ID_PATTERN = re.compile(r"^LP-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$")

# The spec's field names, in the order of its examples.
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
DEFINITION_FIELDS = ["service_code", "attributes"]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
VALUE_FIELDS = ["key", "name"]
CREATED_FIELDS = ["service_request_id", "service_notice", "account_id"]
TOKEN_FIELDS = ["service_request_id", "token"]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
ERROR_FIELDS = ["code", "description"]
DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]
# XML containers whose children JSON holds as a list (the Spark convention).
CONTAINERS = {
    "services",
    "service_requests",
    "errors",
    "attributes",
    "values",
    "endpoints",
    "formats",
}
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


@pytest.fixture
def client(infra: Infra, db_name: str) -> Iterator[TestClient]:
    app = create_app(settings_for(IntakeSettings, infra, db_name, public_base_url=BASE_URL))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# --- reading answers in either format ------------------------------------------------------


def _spark(element: ET.Element) -> Any:
    """XML back to the spec's JSON shape: containers as lists, leaves as text (None if empty)."""
    if element.tag in CONTAINERS:
        assert all(child.tag == ITEMS[element.tag] for child in element), element.tag
        return [_spark(child) for child in element]
    children = list(element)
    if not children:
        return element.text
    return {child.tag: _spark(child) for child in children}


def _xml_root(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own server's answer)


def body(response: httpx.Response, fmt: str, root: str) -> Any:
    """The answer as data, checking the format's content type (and the XML root element)."""
    if fmt == "json":
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        return response.json()
    element = _xml_root(response)
    assert element.tag == root
    return _spark(element)


def names(response: httpx.Response, fmt: str, path: str) -> list[list[str]]:
    """The field names of each item at `path` (e.g. `service_requests/request`), as sent."""
    if fmt == "json":
        data = response.json()
        items = data if isinstance(data, list) else [data]
        return [list(item) for item in items]
    root = _xml_root(response)
    container, _, item = path.partition("/")
    assert root.tag == container
    found = root.findall(item) if item else [root]
    return [[child.tag for child in entry] for entry in found]


def text(value: Any) -> str | None:
    """A JSON value as XML carries it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_error(response: httpx.Response, fmt: str, status: int, mentions: str = "") -> None:
    assert response.status_code == status, response.text
    assert names(response, fmt, "errors/error") == [ERROR_FIELDS] * len(
        body(response, fmt, "errors")
    )
    errors = body(response, fmt, "errors")
    assert errors and all(text(e["code"]) == str(status) for e in errors), errors
    assert any(mentions in e["description"] for e in errors), errors


# --- writing ---------------------------------------------------------------------------------

VALID_FORM = {
    "api_key": KEY,
    "service_code": "jalan-rusak",
    "lat": "-6.12",
    "long": "106.25",
    "address_string": "Jl. Raya Ciruas No. 5",
    "description": DESCRIPTION,
    "email": "siti@example.com",
    "first_name": "Siti",
    "last_name": "Aminah",
    "phone": "0812-3456-7890",
    "device_id": "device-123",
}


def post(client: TestClient, fmt: str = "json", /, **fields: str | None) -> httpx.Response:
    form = {k: v for k, v in {**VALID_FORM, **fields}.items() if v is not None}
    return client.post(f"{V2}/requests.{fmt}", data=form)


def created_id(client: TestClient, /, **fields: str | None) -> str:
    response = post(client, **fields)
    assert response.status_code == 201, response.text
    code: str = response.json()[0]["service_request_id"]
    return code


def verify(stored: Any, *codes: str) -> None:
    """What routing stores when an officer verifies a ticket: from then on its content is
    public (shared.publication)."""
    for code in codes:
        stored.tickets.update_one({"_id": code}, {"$set": {"status": "verified"}})


def published_id(client: TestClient, stored: Any, /, **fields: str | None) -> str:
    code = created_id(client, **fields)
    verify(stored, code)
    return code


def history(at: datetime, to: str, note: str, *, public: bool = True) -> dict[str, Any]:
    """A history entry as routing stores it."""
    entry = {"at": at, "actor": "petugas", "action": "note", "from": None, "to": to}
    return {**entry, "note": note, "public": public}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- discovery and services ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_this_endpoint_and_both_formats(client: TestClient, fmt: str) -> None:
    response = client.get(f"{V2}/discovery.{fmt}")
    assert response.status_code == 200
    assert names(response, fmt, "discovery") == [DISCOVERY_FIELDS]
    if fmt == "xml":
        endpoint = _xml_root(response).find("endpoints/endpoint")
        assert endpoint is not None
        assert [child.tag for child in endpoint] == ENDPOINT_FIELDS
    data = body(response, fmt, "discovery")
    [endpoint_data] = data["endpoints"]
    assert endpoint_data["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint_data["url"] == f"{BASE_URL}/open311/v2"
    assert endpoint_data["type"] == "test"  # development settings
    assert endpoint_data["formats"] == ["text/xml", "application/json"]
    assert data["key_service"] and data["contact"] and data["changeset"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_catalogue_categories_with_group_and_keywords(
    client: TestClient, fmt: str
) -> None:
    response = client.get(f"{V2}/services.{fmt}")
    assert response.status_code == 200
    categories = packaged_catalogue().categories
    assert names(response, fmt, "services/service") == [SERVICE_FIELDS] * len(categories)
    services = {s["service_code"]: s for s in body(response, fmt, "services")}
    assert set(services) == {c.code for c in categories}
    road = services["jalan-rusak"]
    assert road["service_name"] == "Jalan rusak atau berlubang"
    assert road["group"] == "Infrastruktur"
    assert "jalan berlubang" in road["keywords"].split(", ")
    assert text(road["metadata"]) == "true"
    assert road["type"] == "realtime"
    assert "Dinas Pekerjaan Umum" in road["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_offers_the_kecamatan_list_and_the_reporter_choices(
    client: TestClient, fmt: str
) -> None:
    response = client.get(f"{V2}/services/jalan-rusak.{fmt}")
    assert response.status_code == 200
    assert names(response, fmt, "service_definition") == [DEFINITION_FIELDS]
    if fmt == "xml":
        root = _xml_root(response)
        for attribute in root.findall("attributes/attribute"):
            assert [child.tag for child in attribute] == ATTRIBUTE_FIELDS
        for value in root.findall("attributes/attribute/values/value"):
            assert [child.tag for child in value] == VALUE_FIELDS
    data = body(response, fmt, "service_definition")
    assert data["service_code"] == "jalan-rusak"
    attributes = {a["code"]: a for a in data["attributes"]}
    assert list(attributes) == ["kecamatan", "desa", "anonymous", "confidential"]
    assert [text(a["order"]) for a in attributes.values()] == ["1", "2", "3", "4"]
    assert all(text(a["required"]) == "false" for a in attributes.values())
    kecamatan = attributes["kecamatan"]
    assert kecamatan["datatype"] == "singlevaluelist"
    assert len(kecamatan["values"]) == 29
    assert {"key": "KEC-CIRUAS", "name": "Ciruas"} in kecamatan["values"]
    if fmt == "json":
        assert list(kecamatan) == ATTRIBUTE_FIELDS
        assert list(kecamatan["values"][0]) == VALUE_FIELDS


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_is_404(client: TestClient, fmt: str) -> None:
    assert_error(client.get(f"{V2}/services/tidak-ada.{fmt}"), fmt, 404, "tidak-ada")


# --- POST requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_answers_with_the_tracking_code_at_once(
    client: TestClient, stored: Any, fmt: str
) -> None:
    response = post(client, fmt)
    assert response.status_code == 201, response.text
    assert names(response, fmt, "service_requests/request") == [CREATED_FIELDS]
    [created] = body(response, fmt, "service_requests")
    code = created["service_request_id"]
    assert ID_PATTERN.match(code)
    assert code in created["service_notice"]
    assert created["account_id"] is None
    doc = stored.tickets.find_one({"_id": code})
    assert doc["source"] == "open311"
    assert doc["category"] == "jalan-rusak"
    assert doc["description"] == DESCRIPTION
    assert doc["location"] == {
        "kecamatan": None,
        "desa": None,
        "address": "Jl. Raya Ciruas No. 5",
        "lat": -6.12,
        "lon": 106.25,
    }
    assert doc["reporter"] == {
        "name": "Siti Aminah",
        "email": "siti@example.com",
        "phone": "+6281234567890",
    }
    assert "device-123" not in str(doc)
    assert [e["event_type"] for e in doc["outbox"]] == ["ticket.submitted"]


def test_post_with_extensions_gives_the_reply_token_for_the_v1_follow_ups(
    client: TestClient,
) -> None:
    plain = post(client).json()[0]
    assert "extended_attributes" not in plain
    response = post(client, "xml", extensions="true")
    assert response.status_code == 201
    request = _xml_root(response).find("request")
    assert request is not None
    assert [child.tag for child in request] == [*CREATED_FIELDS, "extended_attributes"]
    code = request.findtext("service_request_id")
    token = request.findtext("extended_attributes/reply_token")
    assert code and token
    own = client.get(f"/api/v1/complaints/{code}", headers={"X-Reply-Token": token})
    assert own.json()["reporter"]["email"] == "siti@example.com"


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        (
            {"lat": None, "long": None},
            {"address": "Jl. Raya Ciruas No. 5"},
        ),
        (
            {"lat": None, "long": None, "address_string": None, "address_id": "KEC-CIRUAS/ciruas"},
            {"kecamatan": "KEC-CIRUAS", "desa": "Ciruas"},
        ),
        (
            {"attribute[kecamatan]": "Kragilan", "attribute[desa]": ""},
            {
                "kecamatan": "KEC-KRAGILAN",
                "lat": -6.12,
                "lon": 106.25,
                "address": "Jl. Raya Ciruas No. 5",
            },
        ),
    ],
)
def test_address_string_address_id_or_attributes_place_the_request(
    client: TestClient, stored: Any, fields: dict[str, str | None], location: dict[str, Any]
) -> None:
    stored_location = stored.tickets.find_one({"_id": created_id(client, **fields)})["location"]
    assert {k: v for k, v in stored_location.items() if v is not None} == location


def test_reporter_choices_come_from_the_attributes(client: TestClient, stored: Any) -> None:
    code = created_id(client, **{"attribute[anonymous]": "true", "attribute[confidential]": "TRUE"})
    doc = stored.tickets.find_one({"_id": code})
    assert doc["anonymous"] is True and doc["confidential"] is True


BAD_POSTS: list[tuple[dict[str, str | None], int, str]] = [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": ""}, 403, "api_key"),
    ({"api_key": "not-a-key"}, 403, "api_key"),
    ({"jurisdiction_id": "kotaserang.go.id"}, 404, "jurisdiction_id"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "tidak-ada"}, 404, "service_code"),
    ({"lat": None, "long": None, "address_string": None}, 400, "location"),
    ({"long": None, "address_string": None}, 400, "long"),
    ({"lat": "enam", "address_string": None}, 400, "lat"),
    ({"lat": "-7.5"}, 400, "lat"),
    ({"long": "110.4"}, 400, "long"),
    ({"description": None}, 400, "description"),
    ({"description": "   "}, 400, "description"),
    ({"description": "pendek"}, 400, "description"),
    ({"description": "x" * 4001}, 400, "description"),
    ({"email": "bukan-email"}, 400, "email"),
    ({"phone": "telepon saya"}, 400, "phone"),
    ({"attribute[kecamatan]": "Atlantis"}, 400, "attribute[kecamatan]"),
    ({"attribute[kecamatan]": "Ciruas", "attribute[desa]": "Atlantis"}, 400, "attribute[desa]"),
    ({"address_id": "KEC-ATLANTIS"}, 400, "address_id"),
    ({"address_id": "KEC-CIRUAS", "attribute[kecamatan]": "Ciruas"}, 400, "address_id"),
    ({"attribute[confidential]": "mungkin"}, 400, "attribute[confidential]"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("fields", "status", "field"), BAD_POSTS)
def test_bad_post_gets_the_spec_error_naming_the_field_and_stores_nothing(
    client: TestClient,
    stored: Any,
    fmt: str,
    fields: dict[str, str | None],
    status: int,
    field: str,
) -> None:
    assert_error(post(client, fmt, **fields), fmt, status, field)
    assert stored.tickets.count_documents({}) == 0


def test_every_problem_of_a_post_is_reported_at_once(client: TestClient) -> None:
    response = post(client, lat=None, long=None, address_string=None, description="pendek")
    assert response.status_code == 400
    described = " ".join(e["description"] for e in response.json())
    assert "location" in described and "description" in described


def test_post_that_is_not_form_encoded_is_415(client: TestClient, stored: Any) -> None:
    response = client.post(f"{V2}/requests.json", json=VALID_FORM)
    assert_error(response, "json", 415, "form")
    assert stored.tickets.count_documents({}) == 0


def test_post_is_rate_limited_per_address(infra: Infra, db_name: str, stored: Any) -> None:
    start_of_a_rate_window()
    app = create_app(
        settings_for(
            IntakeSettings, infra, db_name, public_base_url=BASE_URL, rate_limit_per_minute=2
        )
    )
    with TestClient(app, raise_server_exceptions=False) as limited:
        assert post(limited).status_code == 201
        assert post(limited, api_key="wrong").status_code == 403  # counted too
        response = post(limited, "xml")
    assert_error(response, "xml", 429, "")
    assert int(response.headers["Retry-After"]) >= 1
    assert stored.tickets.count_documents({}) == 1


def test_post_with_an_idempotency_key_is_safe_to_retry(client: TestClient, stored: Any) -> None:
    headers = {"Idempotency-Key": "app-1234"}
    first = client.post(f"{V2}/requests.json", data=VALID_FORM, headers=headers)
    again = client.post(f"{V2}/requests.json", data=VALID_FORM, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert stored.tickets.count_documents({}) == 1
    other = client.post(
        f"{V2}/requests.json",
        data={**VALID_FORM, "description": DESCRIPTION + "!"},
        headers=headers,
    )
    assert_error(other, "json", 409, "Idempotency-Key")


# --- GET requests, one request, tokens -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_by_id_has_the_spec_fields(client: TestClient, stored: Any, fmt: str) -> None:
    code = created_id(client, **{"attribute[kecamatan]": "KEC-CIRUAS", "attribute[desa]": "Ciruas"})
    before = client.get(f"{V2}/requests/{code}.{fmt}")
    [unverified] = body(before, fmt, "service_requests")
    assert unverified["description"] is None and unverified["lat"] is None, "not verified yet"
    assert DESCRIPTION not in before.text
    verify(stored, code)
    response = client.get(f"{V2}/requests/{code.lower()}.{fmt}")
    assert response.status_code == 200
    assert names(response, fmt, "service_requests/request") == [REQUEST_FIELDS]
    [request] = body(response, fmt, "service_requests")
    assert request["service_request_id"] == code
    assert request["status"] == "open"
    assert request["status_notes"] == "Laporan diterima."
    assert request["service_code"] == "jalan-rusak"
    assert request["service_name"] == "Jalan rusak atau berlubang"
    assert request["description"] == DESCRIPTION
    assert request["agency_responsible"] is None  # not routed yet
    assert request["service_notice"]
    requested = datetime.fromisoformat(request["requested_datetime"])
    assert request["requested_datetime"].endswith("+07:00")
    assert abs(datetime.now(UTC) - requested) < timedelta(minutes=1)
    assert request["expected_datetime"] is None
    assert request["address"] == "Jl. Raya Ciruas No. 5, Ciruas, Kecamatan Ciruas"
    assert request["address_id"] == "KEC-CIRUAS/Ciruas"
    assert request["zipcode"] is None
    assert text(request["lat"]) == "-6.12" and text(request["long"]) == "106.25"
    assert request["media_url"] is None
    shown = response.text
    assert "Siti" not in shown and "siti@example.com" not in shown and "3456" not in shown


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_request_and_token_are_404(client: TestClient, fmt: str) -> None:
    assert_error(client.get(f"{V2}/requests/LP-2222-2222.{fmt}"), fmt, 404, "LP-2222-2222")
    assert_error(client.get(f"{V2}/tokens/LP-2222-2222.{fmt}"), fmt, 404, "LP-2222-2222")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_token_is_the_tracking_code_and_maps_to_it(client: TestClient, fmt: str) -> None:
    code = created_id(client)
    response = client.get(f"{V2}/tokens/{code}.{fmt}")
    assert response.status_code == 200
    assert names(response, fmt, "service_requests/request") == [TOKEN_FIELDS]
    assert body(response, fmt, "service_requests") == [{"service_request_id": code, "token": code}]


def test_agency_deadline_public_note_and_photo_are_shown(client: TestClient, stored: Any) -> None:
    answer = post(client, extensions="true").json()[0]
    code, token = answer["service_request_id"], answer["extended_attributes"]["reply_token"]
    due = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    now = datetime.now(UTC)
    notes = [
        history(now, "routed", "Diteruskan ke DPUPR."),
        history(now, "routed", "Catatan internal petugas.", public=False),
    ]
    stored.tickets.update_one(
        {"_id": code},
        {
            "$set": {"status": "routed", "opd": "DPUPR", "due_at": due},
            "$push": {"history": {"$each": notes}},
        },
    )
    photo = client.post(
        f"/api/v1/complaints/{code}/photos",
        files={"file": ("foto.png", png(), "image/png")},
        headers={"X-Reply-Token": token},
    )
    assert photo.status_code == 201, photo.text
    path = f"/api/v1/complaints/{code}/photos/{photo.json()['id']}"
    [unverified] = client.get(f"{V2}/requests/{code}.json").json()
    assert unverified["media_url"] is None and client.get(path).status_code == 404
    verify(stored, code)
    [request] = client.get(f"{V2}/requests/{code}.json").json()
    assert request["agency_responsible"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert datetime.fromisoformat(request["expected_datetime"]) == due
    assert request["status_notes"] == "Diteruskan ke DPUPR."
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in request["service_notice"]
    assert request["media_url"] == BASE_URL + path
    assert client.get(path).headers["content-type"] == "image/png"


STATUSES = {
    "submitted": "open",
    "triage": "open",
    "routed": "open",
    "verified": "open",
    "in_progress": "open",
    "resolved": "closed",
    "closed": "closed",
    "rejected": "closed",
}


def _with_statuses(client: TestClient, stored: Any) -> dict[str, str]:
    """One request per ticket status, the status set directly in the database: {id: status}."""
    codes = {}
    for status in STATUSES:
        code = created_id(client)
        stored.tickets.update_one({"_id": code}, {"$set": {"status": status}})
        codes[code] = status
    return codes


@pytest.mark.parametrize("fmt", FORMATS)
def test_lists_hold_only_verified_requests_and_status_filters_them(
    client: TestClient, stored: Any, fmt: str
) -> None:
    codes = _with_statuses(client, stored)
    listed_statuses = {"verified", "in_progress", "resolved", "closed"}
    listed = body(client.get(f"{V2}/requests.{fmt}"), fmt, "service_requests")
    assert {r["service_request_id"]: r["status"] for r in listed} == {
        code: STATUSES[status] for code, status in codes.items() if status in listed_statuses
    }
    for wanted in ("open", "closed"):
        response = client.get(f"{V2}/requests.{fmt}", params={"status": wanted})
        found = body(response, fmt, "service_requests")
        assert {r["service_request_id"] for r in found} == {
            code
            for code, status in codes.items()
            if STATUSES[status] == wanted and status in listed_statuses
        }
    both = client.get(f"{V2}/requests.{fmt}", params={"status": "open,closed"})
    assert len(body(both, fmt, "service_requests")) == len(listed_statuses)
    for code, status in codes.items():  # by id every one answers, as its status allows
        [one] = body(client.get(f"{V2}/requests/{code}.{fmt}"), fmt, "service_requests")
        assert one["status"] == STATUSES[status]
        assert (one["description"] is not None) is (status in listed_statuses)
    assert_error(client.get(f"{V2}/requests.{fmt}", params={"status": "done"}), fmt, 400, "status")


def test_closed_request_is_updated_when_it_was_closed(client: TestClient, stored: Any) -> None:
    code = created_id(client)
    closed_at = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    closing = history(closed_at, "closed", "Selesai.")
    stored.tickets.update_one(
        {"_id": code},
        {
            "$set": {"status": "closed", "updated_at": closed_at + timedelta(days=1)},
            "$push": {"history": closing},
        },
    )
    [request] = client.get(f"{V2}/requests/{code}.json").json()
    assert request["status"] == "closed"
    assert datetime.fromisoformat(request["updated_datetime"]) == closed_at


@pytest.mark.parametrize("fmt", FORMATS)
def test_confidential_request_is_left_out_of_lists_and_shown_by_id_without_content(
    client: TestClient, stored: Any, fmt: str
) -> None:
    public = published_id(client, stored)
    secret = published_id(client, stored, **{"attribute[confidential]": "true"})
    stored.tickets.update_one({"_id": secret}, {"$set": {"opd": "DPUPR"}})
    listed = body(client.get(f"{V2}/requests.{fmt}"), fmt, "service_requests")
    assert [r["service_request_id"] for r in listed] == [public]
    response = client.get(f"{V2}/requests/{secret}.{fmt}")
    assert names(response, fmt, "service_requests/request") == [REQUEST_FIELDS]
    [shown] = body(response, fmt, "service_requests")
    assert shown["status"] == "open"
    assert shown["agency_responsible"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert shown["requested_datetime"]
    hidden = ("description", "status_notes", "service_code", "service_name", "address", "lat")
    assert all(shown[field] is None for field in (*hidden, "long", "address_id", "media_url"))
    assert DESCRIPTION not in response.text and "Ciruas" not in response.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_id_list_overrides_the_other_arguments(
    client: TestClient, stored: Any, fmt: str
) -> None:
    first, second, _ = created_id(client), created_id(client), created_id(client)
    secret = created_id(client, **{"attribute[confidential]": "true"})
    old = datetime.now(UTC) - timedelta(days=200)
    stored.tickets.update_one({"_id": first}, {"$set": {"submitted_at": old}})
    params = {
        "service_request_id": f"{first}, {second.lower()},{secret}",
        "status": "closed",
        "service_code": "drainase",
    }
    found = body(client.get(f"{V2}/requests.{fmt}", params=params), fmt, "service_requests")
    assert {r["service_request_id"] for r in found} == {first, second, secret}
    assert next(r for r in found if r["service_request_id"] == secret)["description"] is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_code_filter_takes_a_comma_list(client: TestClient, stored: Any, fmt: str) -> None:
    road = published_id(client, stored)
    drain = published_id(client, stored, service_code="drainase")
    published_id(client, stored, service_code="irigasi")
    response = client.get(f"{V2}/requests.{fmt}", params={"service_code": "jalan-rusak,drainase"})
    found = body(response, fmt, "service_requests")
    assert [r["service_request_id"] for r in found] == [drain, road]  # newest first
    unknown = client.get(f"{V2}/requests.{fmt}", params={"service_code": "tidak-ada"})
    assert_error(unknown, fmt, 400, "service_code")


def test_default_window_is_the_last_90_days_and_dates_choose_another(
    client: TestClient, stored: Any
) -> None:
    recent = published_id(client, stored)
    old = published_id(client, stored)
    when = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
    stored.tickets.update_one({"_id": old}, {"$set": {"submitted_at": when}})

    def ids(**params: str) -> list[str]:
        response = client.get(f"{V2}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert ids() == [recent]
    assert ids(start_date="2026-06-01T00:00:00Z", end_date="2026-07-01T00:00:00+07:00") == [old]
    assert ids(start_date="2026-06-15") == [old]  # a date: from that day, for 90 days
    assert ids(end_date="2026-06-15") == [old]  # up to the end of that day (Asia/Jakarta)
    assert ids(end_date="2026-06-14") == []
    # 10:00 UTC is 17:00 in Jakarta; an unencoded + in the offset arrives as a space
    assert ids(start_date="2026-06-15T17:00:00 07:00") == [old]
    assert ids(start_date="2026-06-15T17:00:01 07:00") == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "kemarin"}, "start_date"),
        ({"start_date": "2026-06-01T00:00:00"}, "start_date"),  # no time zone
        ({"end_date": "2026-02-30"}, "end_date"),
        ({"end_date": "2026-06-01T25:00:00Z"}, "end_date"),
        ({"start_date": "2026-07-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "start_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90"),
    ],
)
def test_bad_dates_are_400(
    client: TestClient, fmt: str, params: dict[str, str], field: str
) -> None:
    assert_error(client.get(f"{V2}/requests.{fmt}", params=params), fmt, 400, field)


def _small_lists(infra: Infra, db_name: str) -> TestClient:
    """Intake whose Open311 lists hold at most two requests."""
    settings = settings_for(
        IntakeSettings,
        infra,
        db_name,
        public_base_url=BASE_URL,
        open311=Open311Settings(max_requests=2),
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_lists_stop_at_the_configured_limit(infra: Infra, db_name: str, stored: Any) -> None:
    with _small_lists(infra, db_name) as small:
        codes = [published_id(small, stored) for _ in range(3)]
        found = [r["service_request_id"] for r in small.get(f"{V2}/requests.json").json()]
    assert found == codes[:0:-1]


def test_the_limit_applies_across_categories(infra: Infra, db_name: str, stored: Any) -> None:
    with _small_lists(infra, db_name) as small:
        codes = [
            published_id(small, stored, service_code=code)
            for code in ("jalan-rusak", "sampah", "jalan-rusak", "sampah")
        ]
        found = small.get(f"{V2}/requests.json", params={"service_code": "jalan-rusak,sampah"})
    assert [r["service_request_id"] for r in found.json()] == codes[:1:-1]


def test_xml_escapes_markup_and_drops_what_xml_cannot_carry(
    client: TestClient, stored: Any
) -> None:
    described = "<b>Jalan & got</b> rusak\x01 parah sekali, \"sudah\" lama 'sekali'"
    code = published_id(client, stored, description=described)
    response = client.get(f"{V2}/requests/{code}.xml")
    request = _xml_root(response).find("request")
    assert request is not None
    assert request.findtext("description") == described.replace("\x01", "")
    assert "<b>" not in response.text
    assert client.get(f"{V2}/requests/{code}.json").json()[0]["description"] == described


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdiction_id_is_optional_and_must_be_this_one(client: TestClient, fmt: str) -> None:
    for call in ("services", "requests", "services/jalan-rusak"):
        ours = client.get(f"{V2}/{call}.{fmt}", params={"jurisdiction_id": "serangkab.go.id"})
        assert ours.status_code == 200
        other = client.get(f"{V2}/{call}.{fmt}", params={"jurisdiction_id": "kotaserang.go.id"})
        assert_error(other, fmt, 404, "jurisdiction_id")


def test_unknown_resources_and_formats_are_404_in_the_spec_shape(client: TestClient) -> None:
    assert_error(client.get(f"{V2}/complaints.json"), "json", 404, "complaints")
    assert_error(client.get(f"{V2}/services.html"), "xml", 404, ".xml")
    assert_error(client.get(f"{V2}/services"), "xml", 404, "services")


def test_openapi_documents_every_call_and_its_errors(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    calls = {
        f"{V2}/discovery.{{format}}": ["get"],
        f"{V2}/services.{{format}}": ["get"],
        f"{V2}/services/{{service_code}}.{{format}}": ["get"],
        f"{V2}/requests.{{format}}": ["post", "get"],
        f"{V2}/requests/{{service_request_id}}.{{format}}": ["get"],
        f"{V2}/tokens/{{token}}.{{format}}": ["get"],
    }
    for path, methods in calls.items():
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"]
            success = operation["responses"]["201" if method == "post" else "200"]
            assert set(success["content"]) == {"application/json", "text/xml"}
    post_responses = paths[f"{V2}/requests.{{format}}"]["post"]["responses"]
    assert {"400", "403", "404", "429"} <= set(post_responses)
    form = paths[f"{V2}/requests.{{format}}"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in form


# --- API keys --------------------------------------------------------------------------------


def test_issued_key_is_stored_hashed_works_and_can_be_revoked(
    infra: Infra, db_name: str, client: TestClient, stored: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(IntakeSettings, infra, db_name, public_base_url=BASE_URL)
    assert (
        api_keys.main(["create", "--name", "Aplikasi Lapor", "--contact", "a@b.id"], settings) == 0
    )
    key = capsys.readouterr().out.strip().splitlines()[-1]
    doc = stored.open311_api_keys.find_one({"name": "Aplikasi Lapor"})
    assert doc["_id"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(doc)
    assert post(client, api_key=key).status_code == 201

    assert api_keys.main(["list"], settings) == 0
    listing = capsys.readouterr().out
    assert "Aplikasi Lapor" in listing and key not in listing
    assert api_keys.main(["revoke", doc["_id"][:12]], settings) == 0
    assert_error(post(client, api_key=key), "json", 403, "api_key")
    assert post(client).status_code == 201  # the dev key is untouched


def test_dev_key_is_seeded_in_development_and_refused_in_production(
    infra: Infra, db_name: str, client: TestClient, stored: Any
) -> None:
    seeded = stored.open311_api_keys.find_one({"_id": hashlib.sha256(KEY.encode()).hexdigest()})
    assert seeded is not None, "dev key not seeded"
    assert seeded["name"] and seeded.get("revoked_at") is None
    production = settings_for(IntakeSettings, infra, db_name, public_base_url=BASE_URL).model_copy(
        update={"environment": Environment.PRODUCTION}
    )
    assert production.is_production
    app = create_app(production)
    with TestClient(app, raise_server_exceptions=False) as live:
        assert_error(post(live), "json", 403, "api_key")
        discovered = live.get(f"{V2}/discovery.json").json()
    assert discovered["endpoints"][0]["type"] == "production"
