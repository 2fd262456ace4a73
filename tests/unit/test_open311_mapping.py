"""Open311's pure mapping: statuses, dates and windows, the form, tickets as service requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pymongo.errors import ServerSelectionTimeoutError

from services.intake.open311 import api, mapping, schemas
from services.intake.open311.errors import Open311Error
from services.intake.open311.schemas import RequestForm
from services.intake.settings import IntakeSettings, Open311Settings
from shared.catalogue import packaged_catalogue
from shared.errors import InvalidField, NotFound, TooManyRequests
from shared.tickets import Ticket, TicketStatus

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CATALOGUE = packaged_catalogue()
BASE = "https://pengaduan.example"


def _ticket(**changes: Any) -> Ticket:
    doc: dict[str, Any] = {
        "tracking_code": "LP-ABCD-EFGH",
        "status": "submitted",
        "kind": "complaint",
        "description": "Lampu jalan mati sudah seminggu di depan pasar",
        "category": "jalan-rusak",
        "location": {
            "kecamatan": "KEC-CIRUAS",
            "desa": "Ciruas",
            "address": "Jl. Raya Ciruas 5",
            "lat": -6.12,
            "lon": 106.25,
        },
        "reporter": {"name": "Siti", "email": "siti@example.com", "phone": "+6281234567890"},
        "reply_token_hash": "x",
        "submitted_at": NOW,
        "updated_at": NOW,
        "correlation_id": "c1",
        "history": [_entry(NOW, "submitted", "Laporan diterima.")],
        "photos": [
            {"id": "p1", "content_type": "image/png", "size": 10, "uploaded_at": NOW},
            {"id": "p2", "content_type": "image/png", "size": 10, "uploaded_at": NOW},
        ],
    }
    doc.update(changes)
    return Ticket.model_validate(doc)


def _entry(at: datetime, to: str, note: str | None, *, public: bool = True) -> dict[str, Any]:
    entry = {"at": at, "actor": "x", "action": "a", "from": None, "to": to, "note": note}
    return {**entry, "public": public}


# --- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (TicketStatus.SUBMITTED, "open"),
        (TicketStatus.TRIAGE, "open"),
        (TicketStatus.ROUTED, "open"),
        (TicketStatus.VERIFIED, "open"),
        (TicketStatus.IN_PROGRESS, "open"),
        (TicketStatus.RESOLVED, "closed"),
        (TicketStatus.CLOSED, "closed"),
        (TicketStatus.REJECTED, "closed"),
    ],
)
def test_open311_status_is_closed_once_resolved(status: TicketStatus, expected: str) -> None:
    assert mapping.open311_status(status) == expected


def test_status_filter_selects_the_ticket_statuses_behind_open_and_closed() -> None:
    assert mapping.ticket_statuses(["closed"]) == ["closed", "rejected", "resolved"]
    assert mapping.ticket_statuses(["OPEN"]) == [
        "in_progress",
        "routed",
        "submitted",
        "triage",
        "verified",
        "waiting_citizen",
        "waiting_third_party",
    ]
    assert mapping.ticket_statuses(["open", "closed"]) is None
    assert mapping.ticket_statuses([]) is None
    with pytest.raises(Open311Error) as caught:
        mapping.ticket_statuses(["pending"])
    assert caught.value.status == 400


def test_comma_lists_and_repeated_arguments_are_one_list() -> None:
    assert mapping.split_values(["a, b", "c", " , "]) == ["a", "b", "c"]
    assert mapping.split_values(None) == []


# --- dates and the search window -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2010-01-01T00:00:00Z", datetime(2010, 1, 1, tzinfo=UTC)),
        ("2010-01-01T07:00:00+07:00", datetime(2010, 1, 1, tzinfo=UTC)),
        ("2010-01-01T07:00:00 07:00", datetime(2010, 1, 1, tzinfo=UTC)),
        ("2010-01-01T00:00Z", datetime(2010, 1, 1, tzinfo=UTC)),
        ("2010-01-01T00:00:00.250Z", datetime(2010, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)),
        ("2010-01-02", datetime(2010, 1, 1, 17, 0, tzinfo=UTC)),  # midnight in Jakarta
        ("  ", None),
        (None, None),
    ],
)
def test_w3_dates_are_read_with_their_time_zone(raw: str | None, expected: datetime) -> None:
    assert mapping.parse_w3_datetime("start_date", raw) == expected


def test_a_date_as_end_date_covers_that_whole_day_in_jakarta() -> None:
    end = mapping.parse_w3_datetime("end_date", "2010-01-01", end=True)
    assert end is not None
    assert end.astimezone(UTC) == datetime(2010, 1, 1, 16, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    ["kemarin", "2010-01-01T00:00:00", "2010-02-30", "2010-01-01T24:30:00Z", "20100101T0000Z"],
)
def test_dates_that_are_not_w3_with_a_zone_are_400(raw: str) -> None:
    with pytest.raises(Open311Error) as caught:
        mapping.parse_w3_datetime("start_date", raw)
    assert caught.value.status == 400
    assert caught.value.descriptions[0].startswith("start_date:")


def test_search_window_defaults_to_the_last_days_and_is_never_longer() -> None:
    day = timedelta(days=1)
    assert mapping.search_window(None, None, now=NOW, days=90) == (NOW - 90 * day, NOW)
    assert mapping.search_window(NOW, None, now=NOW, days=90) == (NOW, NOW + 90 * day)
    assert mapping.search_window(None, NOW, now=NOW, days=90) == (NOW - 90 * day, NOW)
    exactly = mapping.search_window(NOW - 90 * day, NOW, now=NOW, days=90)
    assert exactly == (NOW - 90 * day, NOW)
    with pytest.raises(Open311Error, match="90"):
        mapping.search_window(NOW - 91 * day, NOW, now=NOW, days=90)
    with pytest.raises(Open311Error, match="start_date"):
        mapping.search_window(NOW, NOW - day, now=NOW, days=90)


def test_times_are_written_in_jakarta_with_the_offset() -> None:
    assert mapping.w3_datetime(NOW) == "2026-11-27T16:00:00+07:00"


def test_ids_override_every_other_argument() -> None:
    query = mapping.request_query(
        service_request_id=["lp-abcd-efgh,LP-ABCD-EFGH", "LPWXYZ2345"],
        service_code=["tidak-ada"],
        start_date="garbage",
        end_date=None,
        status=["whatever"],
        catalogue=CATALOGUE,
        now=NOW,
        settings=IntakeSettings(),
    )
    assert query.ids == ["LP-ABCD-EFGH", "LP-WXYZ-2345"]
    assert query.start is None and query.statuses is None


def test_filters_are_checked_and_bounded() -> None:
    settings = IntakeSettings(open311=Open311Settings(window_days=30, max_requests=50))
    query = mapping.request_query(
        service_request_id=None,
        service_code=["drainase,jalan-rusak", "drainase"],
        start_date=None,
        end_date=None,
        status=["open"],
        catalogue=CATALOGUE,
        now=NOW,
        settings=settings,
    )
    assert query.categories == ["drainase", "jalan-rusak"]
    assert (query.start, query.end, query.limit) == (NOW - timedelta(days=30), NOW, 50)
    with pytest.raises(Open311Error, match="tidak-ada"):
        mapping.request_query(
            service_request_id=None,
            service_code=["tidak-ada"],
            start_date=None,
            end_date=None,
            status=None,
            catalogue=CATALOGUE,
            now=NOW,
            settings=settings,
        )


# --- services and jurisdiction ---------------------------------------------------------------


def test_a_service_is_a_category_with_its_group_keywords_and_agency() -> None:
    category = CATALOGUE.category("jalan-rusak")
    assert category is not None
    service = mapping.service_entry(category, CATALOGUE)
    assert service.service_code == "jalan-rusak"
    assert service.group == "Infrastruktur"
    assert service.keywords.startswith("jalan rusak, jalan berlubang")
    assert service.metadata is True and service.type == "realtime"
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in service.description


def test_service_code_missing_is_400_and_unknown_is_404() -> None:
    with pytest.raises(Open311Error) as missing:
        mapping.service_for(" ", CATALOGUE)
    assert missing.value.status == 400
    with pytest.raises(Open311Error) as unknown:
        mapping.service_for("tidak-ada", CATALOGUE)
    assert unknown.value.status == 404


def test_jurisdiction_id_may_be_left_out_but_not_be_another() -> None:
    settings = IntakeSettings()
    mapping.check_jurisdiction(None, settings)
    mapping.check_jurisdiction("", settings)
    mapping.check_jurisdiction("SerangKab.go.id", settings)
    with pytest.raises(Open311Error) as caught:
        mapping.check_jurisdiction("kotaserang.go.id", settings)
    assert caught.value.status == 404


# --- tickets as service requests -------------------------------------------------------------


def test_a_verified_ticket_becomes_a_redacted_service_request_without_its_reporter() -> None:
    due = NOW + timedelta(days=7)
    ticket = _ticket(
        status="verified",
        opd="DPUPR",
        due_at=due,
        description="Saya Siti (0812 3456 7890): lampu jalan mati sudah seminggu di depan pasar",
        location={
            "kecamatan": "KEC-CIRUAS",
            "desa": "Ciruas",
            "address": "Jl. Raya Ciruas 5",
            "lat": -6.123456,
            "lon": 106.251234,
        },
    )
    request = mapping.service_request(ticket, CATALOGUE, base_url=BASE + "/")
    assert request.model_dump() == {
        "service_request_id": "LP-ABCD-EFGH",
        "status": "open",
        "status_notes": "Laporan diterima.",
        "service_name": "Jalan rusak atau berlubang",
        "service_code": "jalan-rusak",
        "description": "Saya [nama] ([nomor telepon]): lampu jalan mati sudah seminggu di depan "
        "pasar",
        "agency_responsible": "Dinas Pekerjaan Umum dan Penataan Ruang",
        "service_notice": "Sedang ditindaklanjuti oleh Dinas Pekerjaan Umum dan Penataan Ruang. "
        "(Being handled by Dinas Pekerjaan Umum dan Penataan Ruang.)",
        "requested_datetime": "2026-11-27T16:00:00+07:00",
        "updated_datetime": "2026-11-27T16:00:00+07:00",
        "expected_datetime": "2026-12-04T16:00:00+07:00",
        "address": "Jl. Raya Ciruas 5, Ciruas, Kecamatan Ciruas",
        "address_id": "KEC-CIRUAS/Ciruas",
        "zipcode": None,
        "lat": -6.123,
        "long": 106.251,
        "media_url": f"{BASE}/api/v1/complaints/LP-ABCD-EFGH/photos/p1",
    }
    assert "Siti" not in str(request.model_dump())


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "in_progress", "confidential": True},
        {"status": "routed"},
        {"status": "submitted"},
        {"status": "rejected"},
        {"status": "resolved", "publication": {"hidden": True, "reason": "menyebut anak"}},
    ],
)
def test_an_unpublished_ticket_shows_only_status_agency_and_dates(changes: dict[str, Any]) -> None:
    request = mapping.service_request(_ticket(opd="DPUPR", **changes), CATALOGUE, base_url=BASE)
    shown = {k for k, v in request.model_dump().items() if v is not None}
    assert shown == {
        "service_request_id",
        "status",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
    }


def test_status_notes_are_the_latest_public_note() -> None:
    later = NOW + timedelta(hours=1)
    history = [
        _entry(NOW, "submitted", "Laporan diterima."),
        _entry(later, "routed", "Diteruskan ke DPUPR."),
        _entry(later, "routed", None),
        _entry(later, "routed", "Catatan internal.", public=False),
    ]
    assert mapping.latest_public_note(_ticket(history=history)) == "Diteruskan ke DPUPR."
    assert mapping.latest_public_note(_ticket(history=[])) is None


def test_a_closed_request_was_updated_when_it_was_closed() -> None:
    closed_at = NOW + timedelta(days=3)
    history = [_entry(NOW, "submitted", None), _entry(closed_at, "rejected", "Duplikat.")]
    ticket = _ticket(status="rejected", history=history, updated_at=closed_at + timedelta(days=1))
    assert mapping.updated_at(ticket) == closed_at
    assert mapping.updated_at(_ticket(updated_at=closed_at)) == closed_at


def test_agency_is_the_opd_name_and_triase_is_the_coordinator() -> None:
    assert mapping.agency_name("DLH", CATALOGUE) == "Dinas Lingkungan Hidup"
    assert mapping.agency_name("TRIASE", CATALOGUE) == mapping.TRIASE_AGENCY
    assert mapping.agency_name("LUAR_KEWENANGAN", CATALOGUE) == mapping.OUTSIDE_AGENCY
    assert mapping.agency_name("NOPE", CATALOGUE) is None
    assert mapping.agency_name(None, CATALOGUE) is None


def test_without_region_there_is_no_address_id() -> None:
    ticket = _ticket(status="closed", location={"address": "Pasar Ciruas"}, photos=[])
    request = mapping.service_request(ticket, CATALOGUE, base_url=BASE)
    assert (request.address, request.address_id, request.lat, request.media_url) == (
        "Pasar Ciruas",
        None,
        None,
        None,
    )


# --- the POST form ---------------------------------------------------------------------------

FORM: dict[str, str] = {
    "service_code": "jalan-rusak",
    "lat": "-6.12",
    "long": "106.25",
    "description": "  Jalan berlubang di depan SDN 1 Ciruas  ",
    "first_name": "Siti",
    "last_name": "Aminah",
    "email": "Siti@Example.com",
    "phone": "0812 3456 7890",
}


def _form(**changes: str | None) -> RequestForm:
    return RequestForm.model_validate({**FORM, **changes})


def _problems(**changes: str | None) -> tuple[str, ...]:
    with pytest.raises(Open311Error) as caught:
        mapping.complaint_from_form(_form(**changes), CATALOGUE)
    assert caught.value.status == 400
    return caught.value.descriptions


def test_the_form_becomes_a_complaint() -> None:
    complaint = mapping.complaint_from_form(_form(), CATALOGUE)
    assert complaint.description == "Jalan berlubang di depan SDN 1 Ciruas"
    assert complaint.category == "jalan-rusak"
    assert complaint.location is not None
    assert (complaint.location.lat, complaint.location.lon) == (-6.12, 106.25)
    assert complaint.reporter is not None
    assert complaint.reporter.model_dump() == {
        "name": "Siti Aminah",
        "email": "siti@example.com",
        "phone": "+6281234567890",
    }
    assert complaint.anonymous is False
    assert complaint.confidential is None, "no choice: the publication policy decides"


def test_empty_arguments_are_the_same_as_missing_ones() -> None:
    complaint = mapping.complaint_from_form(
        _form(first_name="", last_name=" ", email="", phone="", address_string=""), CATALOGUE
    )
    assert complaint.reporter is None
    assert complaint.model_dump(exclude_unset=True).keys() == {
        "description",
        "category",
        "location",
    }


def test_address_id_is_a_kecamatan_code_with_an_optional_desa() -> None:
    complaint = mapping.complaint_from_form(
        _form(lat=None, long=None, address_id="kec-ciruas / CIRUAS"), CATALOGUE
    )
    assert complaint.location is not None
    assert (complaint.location.kecamatan, complaint.location.desa) == ("KEC-CIRUAS", "Ciruas")


def test_attributes_give_the_region_and_the_reporters_choices() -> None:
    complaint = mapping.complaint_from_form(
        RequestForm.model_validate(
            {
                **FORM,
                "attribute[kecamatan]": "Ciruas",
                "attribute[desa]": "Ciruas",
                "attribute[anonymous]": "True",
                "attribute[confidential]": "false",
            }
        ),
        CATALOGUE,
    )
    assert complaint.location is not None
    assert (complaint.location.kecamatan, complaint.location.desa) == ("Ciruas", "Ciruas")
    assert complaint.anonymous is True and complaint.confidential is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lat": None, "long": None}, "location"),
        ({"long": None}, "lat, long"),
        ({"lat": "abc"}, "lat"),
        ({"lat": "nan"}, "lat"),
        ({"long": "inf"}, "long"),
        ({"lat": "-91"}, "lat"),
        ({"description": None}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"email": "siti"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"first_name": "x" * 201}, "first_name/last_name"),
        ({"address_id": "KEC-ATLANTIS"}, "address_id"),
        ({"address_id": "KEC-CIRUAS/Atlantis"}, "address_id"),
    ],
)
def test_bad_form_fields_are_named_as_the_spec_names_them(
    changes: dict[str, str | None], field: str
) -> None:
    problems = _problems(**changes)
    assert any(p.startswith(f"{field}:") for p in problems), problems


def test_all_problems_are_reported_together() -> None:
    problems = _problems(lat=None, long=None, description="pendek", email="siti")
    assert [p.split(":")[0] for p in problems] == ["location", "description", "email"]


# --- errors ----------------------------------------------------------------------------------


def test_use_case_errors_become_the_specs_errors() -> None:
    invalid = api.open311_error(InvalidField(("body", "location", "lon"), "Di luar wilayah."))
    assert (invalid.status, invalid.descriptions) == (400, ("long: Di luar wilayah.",))
    limited = api.open311_error(TooManyRequests("Terlalu banyak.", headers={"Retry-After": "7"}))
    assert (limited.status, limited.headers) == (429, {"Retry-After": "7"})
    assert api.open311_error(NotFound("Tidak ada.")).status == 404
    down = api.open311_error(ServerSelectionTimeoutError("no server"))
    assert down.status == 503 and down.headers == {"Retry-After": "5"}


def test_an_unknown_format_is_404_and_other_argument_errors_400() -> None:
    bad_format = RequestValidationError(
        [{"loc": ("path", "format"), "msg": "Input should be 'json' or 'xml'", "type": "enum"}]
    )
    assert api.open311_error(bad_format).status == 404
    other = RequestValidationError([{"loc": ("query", "status"), "msg": "bad", "type": "x"}])
    assert api.open311_error(other).descriptions == ("status: bad",)


def test_answers_are_xml_unless_json_is_asked_for() -> None:
    assert api.request_format("/open311/v2/services.json") is schemas.Format.JSON
    assert api.request_format("/open311/v2/services.xml") is schemas.Format.XML
    assert api.request_format("/open311/v2/services") is schemas.Format.XML
