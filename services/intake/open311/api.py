"""Open311 GeoReport v2 under /open311/v2/: discovery, services, requests and tokens.

Every call answers in JSON or XML by its suffix (`services.json`, `services.xml`). Routes parse
the spec's arguments, call intake's use cases and map tickets to the spec's service requests with
the pure functions below; every failure leaves as the spec's list of `code`/`description` with
the matching HTTP status. docs/open311.md records the choices made where the spec leaves room.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pymongo.errors import ConnectionFailure

from services.intake import domain, service
from services.intake.api_keys import ApiKeyRepository, authenticate
from services.intake.deps import ClientDep, IntakeDep
from services.intake.open311 import xml
from services.intake.repository import TicketRepository
from services.intake.schemas import ComplaintIn
from services.intake.settings import IntakeSettings
from shared import publication
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, Catalogue, Category
from shared.errors import DATABASE_UNAVAILABLE, AppError
from shared.events import utcnow
from shared.lifecycle import statuses
from shared.tickets import Ticket, TicketStatus
from shared.workdays import JAKARTA

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's calls or service definitions last changed shape (discovery's changeset).
CHANGESET = "2026-11-27 00:00"
CLOSED_STATUSES = statuses.ANSWERED_STATUSES  # Open311's `closed`
OPEN_STATUSES = frozenset(statuses.OPEN_STATUSES)
TRIASE_AGENCY = "Admin koordinator Layanan Pengaduan"
OUTSIDE_AGENCY = "Di luar kewenangan Pemerintah Kabupaten (outside the kabupaten's authority)"


class Format(StrEnum):
    JSON = "json"
    XML = "xml"


MEDIA_TYPES = {
    Format.JSON: "application/json; charset=utf-8",
    Format.XML: "text/xml; charset=utf-8",
}


class Open311Error(Exception):
    """An answer in the spec's error shape: one or more descriptions under one HTTP status."""

    def __init__(
        self, status: int, *descriptions: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions
        self.headers = headers


# --- What the calls answer (the spec's fields, in the spec's order) --------------------------


class ServiceOut(BaseModel):
    service_code: str = Field(description="The catalogue's category code.")
    service_name: str
    description: str
    metadata: bool = Field(description="True: the service definition has (optional) attributes.")
    type: Literal["realtime", "batch", "blackbox"] = "realtime"
    keywords: str = Field(description="Comma separated.")
    group: str


class AttributeValueOut(BaseModel):
    key: str
    name: str


class AttributeOut(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValueOut]


class ServiceDefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut]


class ExtendedAttributesOut(BaseModel):
    reply_token: str = Field(
        description="The citizen's secret for follow-ups, photos and rating (v1 API); only with "
        "`extensions=true`, shown once."
    )


class CreatedOut(BaseModel):
    service_request_id: str = Field(description="The tracking code (the request is realtime).")
    service_notice: str | None
    account_id: str | None = None
    extended_attributes: ExtendedAttributesOut | None = Field(
        default=None, description="Only when the form had `extensions=true`."
    )


class TokenOut(BaseModel):
    service_request_id: str
    token: str


class ServiceRequestOut(BaseModel):
    """A ticket as the spec's service request; never the reporter's identity or contact."""

    service_request_id: str = Field(description="The tracking code.")
    status: Literal["open", "closed"] = Field(
        description="`closed` for resolved, closed and rejected tickets; `open` otherwise."
    )
    status_notes: str | None = Field(description="The latest public note on the ticket.")
    service_name: str | None
    service_code: str | None
    description: str | None = Field(
        description="The redacted text; null until an officer verified the request, and for "
        "rejected, confidential or hidden ones."
    )
    agency_responsible: str | None = Field(description="The assigned OPD.")
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None = Field(description="The current deadline (SLA).")
    address: str | None
    address_id: str | None = Field(description="The kecamatan code, with `/desa` when known.")
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None = Field(
        description="The first photo, once the content is public; null otherwise."
    )


class ErrorOut(BaseModel):
    code: int = Field(description="The HTTP status.")
    description: str


class EndpointOut(BaseModel):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointOut]


class RequestForm(BaseModel):
    """POST requests.{format}: the spec's form fields (application/x-www-form-urlencoded)."""

    api_key: str | None = Field(default=None, description="The client application's key.")
    jurisdiction_id: str | None = Field(default=None, description="Optional; one jurisdiction.")
    service_code: str | None = Field(default=None, description="Required: from `services`.")
    lat: str | None = Field(default=None, description="WGS84; with `long`, inside the kabupaten.")
    long: str | None = Field(default=None, description="WGS84; with `lat`.")
    address_string: str | None = Field(default=None, description="Most specific part first.")
    address_id: str | None = Field(
        default=None, description="A kecamatan code, optionally with `/desa`: `KEC-CIRUAS/Ciruas`."
    )
    description: str | None = Field(default=None, description="Required: 10 to 4,000 characters.")
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = Field(default=None, description="Indonesian number (0812…, +62812…).")
    device_id: str | None = Field(default=None, description="Accepted and not stored.")
    account_id: str | None = Field(default=None, description="Accepted and not stored.")
    media_url: str | None = Field(default=None, description="Accepted and not fetched or stored.")
    attribute_kecamatan: str | None = Field(
        default=None, alias="attribute[kecamatan]", description="A kecamatan code or name."
    )
    attribute_desa: str | None = Field(default=None, alias="attribute[desa]")
    attribute_anonymous: str | None = Field(
        default=None, alias="attribute[anonymous]", description="`true` or `false`."
    )
    attribute_confidential: str | None = Field(
        default=None, alias="attribute[confidential]", description="`true` or `false`."
    )
    extensions: str | None = Field(
        default=None, description="`true`: the answer adds `extended_attributes.reply_token`."
    )

    model_config = ConfigDict(populate_by_name=True)


# --- Pure mapping ----------------------------------------------------------------------------


def blank_to_none(value: str | None) -> str | None:
    """The spec: an empty argument is the same as a missing one."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def w3_datetime(moment: datetime) -> str:
    """A time as the spec writes it (W3C profile of ISO 8601), in Asia/Jakarta with its offset."""
    return moment.astimezone(JAKARTA).isoformat(timespec="seconds")


def open311_status(status: TicketStatus) -> Literal["open", "closed"]:
    return "closed" if status in CLOSED_STATUSES else "open"


def agency_name(opd_code: str | None, catalogue: Catalogue) -> str | None:
    if opd_code is None:
        return None
    if opd_code == TRIASE:
        return TRIASE_AGENCY
    if opd_code == LUAR_KEWENANGAN:
        return OUTSIDE_AGENCY
    opd = catalogue.opd(opd_code)
    return opd.name if opd else None


def service_entry(category: Category, catalogue: Catalogue) -> ServiceOut:
    name = f"{category.name} ({category.name_en})" if category.name_en else category.name
    agency = agency_name(category.opd, catalogue)
    return ServiceOut(
        service_code=category.code,
        service_name=category.name,
        description=f"{name}. Ditangani oleh {agency}." if agency else f"{name}.",
        metadata=True,
        keywords=", ".join(category.keywords),
        group=category.group,
    )


YES_NO = [
    AttributeValueOut(key="true", name="Ya (yes)"),
    AttributeValueOut(key="false", name="Tidak (no)"),
]


def service_definition(category: Category, catalogue: Catalogue) -> ServiceDefinitionOut:
    """The same optional attributes for every service: where, and the reporter's two choices."""
    return ServiceDefinitionOut(
        service_code=category.code,
        attributes=[
            AttributeOut(
                variable=True,
                code="kecamatan",
                datatype="singlevaluelist",
                required=False,
                datatype_description=None,
                order=1,
                description="Kecamatan lokasi masalah. (The kecamatan where the problem is.)",
                values=[AttributeValueOut(key=r.code, name=r.name) for r in catalogue.regions],
            ),
            AttributeOut(
                variable=True,
                code="desa",
                datatype="string",
                required=False,
                datatype_description="Nama desa/kelurahan di kecamatan itu, seperti di "
                "/api/v1/regions. (A desa/kelurahan of that kecamatan.)",
                order=2,
                description="Desa atau kelurahan lokasi masalah. (The village.)",
                values=[],
            ),
            AttributeOut(
                variable=True,
                code="anonymous",
                datatype="singlevaluelist",
                required=False,
                datatype_description=None,
                order=3,
                description="Anonim: petugas dan publik tidak melihat siapa pelapornya. "
                "(Anonymous: officers and the public do not see who reported it.)",
                values=YES_NO,
            ),
            AttributeOut(
                variable=True,
                code="confidential",
                datatype="singlevaluelist",
                required=False,
                datatype_description=None,
                order=4,
                description="Rahasia: isi laporan tidak ditampilkan ke publik, hanya statusnya. "
                "(Confidential: only the status is public.)",
                values=YES_NO,
            ),
        ],
    )


def discovery(settings: IntakeSettings) -> DiscoveryOut:
    return DiscoveryOut(
        changeset=CHANGESET,
        contact=settings.open311.contact,
        key_service=settings.open311.key_service,
        endpoints=[
            EndpointOut(
                specification=SPECIFICATION,
                url=settings.public_base_url.rstrip("/") + PREFIX,
                changeset=CHANGESET,
                type="production" if settings.is_production else "test",
                formats=["text/xml", "application/json"],
            )
        ],
    )


def latest_public_note(ticket: Ticket) -> str | None:
    return next((h.note for h in reversed(ticket.history) if h.public and h.note), None)


def updated_at(ticket: Ticket) -> datetime:
    """Last change; for a closed request, when it was closed (as the spec defines it)."""
    if ticket.status in CLOSED_STATUSES:
        closing = [h.at for h in ticket.history if h.to_status in CLOSED_STATUSES]
        if closing:
            return max(closing)
    return ticket.updated_at


def service_notice(status: TicketStatus, agency: str | None) -> str:
    """What happens next, in a sentence."""
    if status in (TicketStatus.SUBMITTED, TicketStatus.TRIAGE):
        return (
            "Laporan diterima dan sedang diteruskan ke OPD yang berwenang. "
            "(Received; being routed to the responsible agency.)"
        )
    if status is TicketStatus.RESOLVED:
        return (
            "Sudah diselesaikan; pelapor dapat menanggapi dalam 10 hari kerja. "
            "(Resolved; the reporter may respond within 10 working days.)"
        )
    if status is TicketStatus.CLOSED:
        return "Laporan selesai dan ditutup. (Closed.)"
    if status is TicketStatus.REJECTED:
        return "Laporan tidak dapat ditindaklanjuti. (Rejected.)"
    who = agency or TRIASE_AGENCY
    return f"Sedang ditindaklanjuti oleh {who}. (Being handled by {who}.)"


def created_notice(tracking_code: str) -> str:
    return (
        f"Laporan diterima dengan kode {tracking_code}. Laporan diteruskan ke OPD yang berwenang "
        "dalam 3 hari kerja dan ditindaklanjuti dalam 5 hari kerja berikutnya. "
        f"(Received as {tracking_code}; routed within 3 working days, followed up within 5 more.)"
    )


def address_text(ticket: Ticket, catalogue: Catalogue) -> str | None:
    """Most specific first: the free address, the desa, the kecamatan."""
    location = ticket.location
    region = catalogue.region(location.kecamatan) if location.kecamatan else None
    parts = [
        location.address,
        location.desa,
        f"Kecamatan {region.name}" if region else location.kecamatan,
    ]
    text = ", ".join(p for p in parts if p)
    return text or None


def address_id(ticket: Ticket) -> str | None:
    kecamatan, desa = ticket.location.kecamatan, ticket.location.desa
    if kecamatan is None:
        return None
    return f"{kecamatan}/{desa}" if desa else kecamatan


def service_request(ticket: Ticket, catalogue: Catalogue, *, base_url: str) -> ServiceRequestOut:
    """A ticket as a service request, under the publication policy (shared.publication): until
    its content is public (verified, neither rejected, confidential nor hidden) only its status,
    agency and dates; its texts redacted, its point rounded."""
    category = catalogue.category(ticket.category) if ticket.category else None
    agency = agency_name(ticket.opd, catalogue)
    hidden = not publication.shows_content(ticket)
    point = None if hidden else publication.public_point(ticket.location.lat, ticket.location.lon)
    photo = ticket.photos[0] if ticket.photos and not hidden else None
    media_url = (
        f"{base_url.rstrip('/')}/api/v1/complaints/{ticket.tracking_code}/photos/{photo.id}"
        if photo
        else None
    )
    return ServiceRequestOut(
        service_request_id=ticket.tracking_code,
        status=open311_status(ticket.status),
        status_notes=None if hidden else publication.public_note(latest_public_note(ticket)),
        service_name=category.name if category and not hidden else None,
        service_code=ticket.category if not hidden else None,
        description=publication.public_text(ticket),
        agency_responsible=agency,
        service_notice=service_notice(ticket.status, agency),
        requested_datetime=w3_datetime(ticket.submitted_at),
        updated_datetime=w3_datetime(updated_at(ticket)),
        expected_datetime=w3_datetime(ticket.due_at) if ticket.due_at else None,
        address=None if hidden else publication.public_note(address_text(ticket, catalogue)),
        address_id=None if hidden else address_id(ticket),
        zipcode=None,
        lat=point[0] if point else None,
        long=point[1] if point else None,
        media_url=media_url,
    )


# Where ComplaintIn's fields come from in the spec's form, to name them in errors.
FORM_FIELDS: dict[tuple[str | int, ...], str] = {
    ("category",): "service_code",
    ("location", "lat"): "lat",
    ("location", "lon"): "long",
    ("location", "address"): "address_string",
    ("location", "kecamatan"): "attribute[kecamatan]",
    ("location", "desa"): "attribute[desa]",
    ("reporter", "name"): "first_name/last_name",
    ("reporter", "email"): "email",
    ("reporter", "phone"): "phone",
    ("anonymous",): "attribute[anonymous]",
    ("confidential",): "attribute[confidential]",
}
_LOC_SOURCES = {"body", "query", "path", "header"}


def form_field(loc: Sequence[str | int]) -> str:
    """The spec's name for a field a validation error points at."""
    parts = tuple(p for p in loc if p not in _LOC_SOURCES)
    return FORM_FIELDS.get(parts, ".".join(str(p) for p in parts))


def describe_errors(errors: Sequence[Any]) -> list[str]:
    """pydantic's/FastAPI's error entries (`loc`, `msg`) as `field: message` lines."""
    return [f"{form_field(e['loc'])}: {e['msg']}" for e in errors]


def _coordinate(name: str, raw: str | None, problems: list[str]) -> float | None:
    value = blank_to_none(raw)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        problems.append(f"{name}: harus berupa angka. (Must be a number.)")
        return None
    return number


def _flag(name: str, raw: str | None, problems: list[str]) -> bool | None:
    value = blank_to_none(raw)
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    problems.append(f"attribute[{name}]: harus true atau false. (Must be true or false.)")
    return None


def _region(
    form: RequestForm, catalogue: Catalogue, problems: list[str]
) -> tuple[str | None, str | None]:
    """The kecamatan and desa, from the attributes or from address_id (`KEC-CIRUAS/Ciruas`)."""
    kecamatan = blank_to_none(form.attribute_kecamatan)
    desa = blank_to_none(form.attribute_desa)
    given = blank_to_none(form.address_id)
    if given is None:
        return kecamatan, desa
    if kecamatan is not None or desa is not None:
        problems.append(
            "address_id: beri wilayah lewat address_id atau attribute[kecamatan]/[desa], "
            "jangan keduanya. (Give the region either as address_id or as attributes.)"
        )
        return None, None
    code, _, id_desa = given.partition("/")
    region = catalogue.region(code.strip())
    if region is None:
        problems.append(
            "address_id: kode kecamatan tidak dikenal; lihat /api/v1/regions. (Unknown kecamatan.)"
        )
        return None, None
    wanted = id_desa.strip() or None
    if wanted is not None and region.desa:
        match = next((d for d in region.desa if d.lower() == wanted.lower()), None)
        if match is None:
            problems.append(
                f"address_id: desa tidak ada di Kecamatan {region.name}. (Unknown desa.)"
            )
            return None, None
        wanted = match
    return region.code, wanted


def complaint_from_form(form: RequestForm, catalogue: Catalogue) -> ComplaintIn:
    """The spec's form as a complaint; every problem found is reported at once (400).

    The service code must be known already (see `service_for`).
    """
    problems: list[str] = []
    lat = _coordinate("lat", form.lat, problems)
    lon = _coordinate("long", form.long, problems)
    if (blank_to_none(form.lat) is None) != (blank_to_none(form.long) is None):
        problems.append("lat, long: keduanya harus diisi. (Send both lat and long.)")
    kecamatan, desa = _region(form, catalogue, problems)
    address = blank_to_none(form.address_string)
    has_point = blank_to_none(form.lat) is not None and blank_to_none(form.long) is not None
    if not has_point and address is None and blank_to_none(form.address_id) is None:
        problems.append(
            "location: kirim lat dan long, address_string atau address_id. "
            "(A location is required: lat and long, address_string or address_id.)"
        )
    anonymous = _flag("anonymous", form.attribute_anonymous, problems)
    confidential = _flag("confidential", form.attribute_confidential, problems)
    names = [n for n in (blank_to_none(form.first_name), blank_to_none(form.last_name)) if n]
    reporter = {
        "name": " ".join(names) or None,
        "email": blank_to_none(form.email),
        "phone": blank_to_none(form.phone),
    }
    location = {"lat": lat, "lon": lon, "address": address, "kecamatan": kecamatan, "desa": desa}
    data: dict[str, Any] = {
        "description": blank_to_none(form.description),
        "category": blank_to_none(form.service_code),
        "location": {k: v for k, v in location.items() if v is not None} or None,
        "reporter": {k: v for k, v in reporter.items() if v is not None} or None,
        "anonymous": anonymous,
        "confidential": confidential,
    }
    complaint = None
    try:
        complaint = ComplaintIn.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problems += describe_errors(exc.errors())
    if problems or complaint is None:
        raise Open311Error(400, *problems)
    return complaint


def service_for(code: str | None, catalogue: Catalogue) -> Category:
    """The category a service_code names: 400 without one, 404 for an unknown one."""
    wanted = blank_to_none(code)
    if wanted is None:
        raise Open311Error(400, "service_code: wajib diisi. (service_code is required.)")
    category = catalogue.category(wanted)
    if category is None:
        raise Open311Error(
            404, f"service_code {wanted} tidak ditemukan. (service_code {wanted} not found.)"
        )
    return category


def check_jurisdiction(given: str | None, settings: IntakeSettings) -> None:
    """Optional on a one-jurisdiction endpoint; naming another jurisdiction is a 404."""
    value = blank_to_none(given)
    if value is not None and value.lower() != settings.open311.jurisdiction_id.lower():
        raise Open311Error(
            404,
            f"jurisdiction_id {value} tidak ditemukan; endpoint ini melayani "
            f"{settings.open311.jurisdiction_id}. (jurisdiction_id not found.)",
        )


def split_values(values: Sequence[str] | None) -> list[str]:
    """Arguments the spec allows comma delimited and repeated, as one list."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


_W3_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_W3_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


def parse_w3_datetime(name: str, raw: str | None, *, end: bool = False) -> datetime | None:
    """A W3C date-time with its time zone (`2010-01-01T00:00:00Z`), or a date: a whole day in
    Asia/Jakarta (from its start, or to its end for `end`)."""
    value = blank_to_none(raw)
    if value is None:
        return None
    value = re.sub(r" (\d{2}:\d{2})$", r"+\1", value)  # an unencoded `+` arrives as a space
    try:
        if _W3_DATE.fullmatch(value):
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end else time.min, JAKARTA)
        if _W3_DATETIME.fullmatch(value):
            return datetime.fromisoformat(value)
    except ValueError:
        pass
    raise Open311Error(
        400,
        f"{name}: tanggal tidak sah; pakai format W3C dengan zona waktu, mis. "
        "2010-01-01T00:00:00Z. (Invalid date: use the W3C format with a time zone.)",
    )


def search_window(
    start: datetime | None, end: datetime | None, *, now: datetime, days: int
) -> tuple[datetime, datetime]:
    """The spec's range: the last `days` by default, and never longer than `days`."""
    span = timedelta(days=days)
    if start is None and end is None:
        return now - span, now
    if start is None:
        assert end is not None
        return end - span, end
    if end is None:
        return start, start + span
    if start > end:
        raise Open311Error(400, "start_date: sesudah end_date. (start_date is after end_date.)")
    if end - start > span:
        raise Open311Error(
            400,
            f"start_date, end_date: rentang paling lama {days} hari. "
            f"(The range may not span more than {days} days.)",
        )
    return start, end


def ticket_statuses(values: Sequence[str]) -> list[str] | None:
    """The ticket statuses behind Open311's `open`/`closed`; None for all of them."""
    wanted = {v.lower() for v in values}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise Open311Error(400, "status: pakai open atau closed. (status must be open or closed.)")
    if not wanted or wanted == {"open", "closed"}:
        return None
    chosen = OPEN_STATUSES if wanted == {"open"} else CLOSED_STATUSES
    return sorted(s.value for s in chosen)


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' arguments, checked: ids (which override the rest), or the filters."""

    limit: int
    ids: list[str] | None = None
    categories: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None


def request_query(
    *,
    service_request_id: Sequence[str] | None,
    service_code: Sequence[str] | None,
    start_date: str | None,
    end_date: str | None,
    status: Sequence[str] | None,
    catalogue: Catalogue,
    now: datetime,
    settings: IntakeSettings,
) -> RequestQuery:
    limit = settings.open311.max_requests
    ids = split_values(service_request_id)
    if ids:
        codes = list(dict.fromkeys(domain.normalise_tracking_code(i) for i in ids))
        return RequestQuery(limit=limit, ids=codes[:limit])
    categories = split_values(service_code)
    unknown = [c for c in categories if catalogue.category(c) is None]
    if unknown:
        raise Open311Error(
            400, f"service_code: tidak dikenal: {', '.join(unknown)}. (Unknown service_code.)"
        )
    start, end = search_window(
        parse_w3_datetime("start_date", start_date),
        parse_w3_datetime("end_date", end_date, end=True),
        now=now,
        days=settings.open311.window_days,
    )
    return RequestQuery(
        limit=limit,
        categories=list(dict.fromkeys(categories)) or None,
        start=start,
        end=end,
        statuses=ticket_statuses(split_values(status)),
    )


async def find_requests(tickets: TicketRepository, query: RequestQuery) -> list[Ticket]:
    """Tickets by id (any: `service_request` shows what the policy allows), or by the filters:
    only tickets whose content is public (shared.publication)."""
    if query.ids is not None:
        return await tickets.search(codes=query.ids, include_confidential=True, limit=query.limit)
    # One query whatever the number of categories: the limit bounds what is read in all.
    found = await tickets.search(
        categories=query.categories,
        start=query.start,
        end=query.end,
        statuses=publication.listed_statuses(query.statuses),
        limit=query.limit,
    )
    return [t for t in found if publication.shows_content(t)]


# --- HTTP ------------------------------------------------------------------------------------


def request_format(path: str) -> Format:
    """XML is the spec's required format and the answer to anything not asking for JSON."""
    return Format.JSON if path.endswith(".json") else Format.XML


def respond(
    fmt: Format,
    root: str,
    data: BaseModel | Sequence[BaseModel],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    exclude_unset: bool = False,
) -> Response:
    """The answer in the asked format: JSON as the spec's arrays/objects, or the spec's XML."""
    if isinstance(data, BaseModel):
        body: Any = data.model_dump(mode="json", exclude_unset=exclude_unset)
    else:
        body = [item.model_dump(mode="json", exclude_unset=exclude_unset) for item in data]
    text = json.dumps(body, ensure_ascii=False) if fmt is Format.JSON else xml.render(root, body)
    return Response(
        text.encode(), status_code=status_code, media_type=MEDIA_TYPES[fmt], headers=headers
    )


Failure = Open311Error | RequestValidationError | AppError | ConnectionFailure


def open311_error(exc: Failure) -> Open311Error:
    """A failure of a call as the spec's error: its status, and each problem described."""
    if isinstance(exc, Open311Error):
        return exc
    if isinstance(exc, RequestValidationError):
        errors = list(exc.errors())
        if any(tuple(e["loc"]) == ("path", "format") for e in errors):
            return Open311Error(
                404, "Format tidak dikenal; pakai .json atau .xml. (Use .json or .xml.)"
            )
        return Open311Error(400, *describe_errors(errors))
    if isinstance(exc, AppError):
        if isinstance(exc.detail, list):  # InvalidField: a 422 elsewhere, the spec's 400 here
            return Open311Error(400, *describe_errors(exc.detail))
        status = 400 if exc.status_code == 422 else exc.status_code
        return Open311Error(status, str(exc.detail), headers=exc.headers)
    return Open311Error(503, DATABASE_UNAVAILABLE, headers={"Retry-After": "5"})


def error_response(fmt: Format, error: Open311Error) -> Response:
    errors = [ErrorOut(code=error.status, description=d) for d in error.descriptions]
    return respond(fmt, "errors", errors, status_code=error.status, headers=error.headers)


class Open311Route(APIRoute):
    """Answers every failure of an Open311 call in the spec's error shape and the call's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (Open311Error, RequestValidationError, AppError, ConnectionFailure) as exc:
                return error_response(request_format(request.url.path), open311_error(exc))

        return guarded


async def _api_keys(request: Request) -> ApiKeyRepository:
    return ApiKeyRepository(request.state.db)


ApiKeysDep = Annotated[ApiKeyRepository, Depends(_api_keys)]
FormatPath = Annotated[Format, Path(description="`json` or `xml`.")]
Jurisdiction = Annotated[
    str | None, Query(description="Optional: this endpoint serves one jurisdiction.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=255,
        description="Optional: a retry with the same key and form within 24 h gets the same id.",
    ),
]


def _doc(model: Any, description: str) -> dict[str, Any]:
    """An OpenAPI response: the JSON schema of `model`, and the same as XML."""
    return {
        "model": model,
        "description": description,
        "content": {"text/xml": {"schema": {"type": "string", "description": "The spec's XML"}}},
    }


ERRORS_400: dict[int | str, dict[str, Any]] = {
    400: _doc(list[ErrorOut], "Invalid argument (each named in `description`)")
}
ERRORS_404: dict[int | str, dict[str, Any]] = {
    404: _doc(list[ErrorOut], "Unknown resource, jurisdiction_id or format")
}
ERRORS_503: dict[int | str, dict[str, Any]] = {
    503: _doc(list[ErrorOut], "Database unreachable (see Retry-After)")
}

router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)


@router.get(
    "/discovery.{format}",
    summary="Service discovery: the endpoint, its formats and how to get an API key",
    response_class=Response,
    responses={200: _doc(DiscoveryOut, "The discovery document")},
)
async def get_discovery(format: FormatPath, ctx: IntakeDep) -> Response:
    return respond(format, "discovery", discovery(ctx.settings))


@router.get(
    "/services.{format}",
    summary="Service list: one service per complaint category",
    response_class=Response,
    responses={
        200: _doc(list[ServiceOut], "The services"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_services(
    format: FormatPath, ctx: IntakeDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    check_jurisdiction(jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    return respond(format, "services", [service_entry(c, cat) for c in cat.categories])


@router.get(
    "/services/{service_code}.{format}",
    summary="Service definition: the optional attributes a request may carry",
    response_class=Response,
    responses={
        200: _doc(ServiceDefinitionOut, "The service definition"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_service_definition(
    service_code: str, format: FormatPath, ctx: IntakeDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    check_jurisdiction(jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    category = service_for(service_code, cat)
    return respond(format, "service_definition", service_definition(category, cat))


@router.post(
    "/requests.{format}",
    status_code=201,
    summary="Submit a service request (a complaint) on a citizen's behalf; needs an api_key",
    description="Form-encoded. Answers at once with `service_request_id`, the tracking code. "
    "The per-address rate limit of the public write endpoints applies.",
    response_class=Response,
    responses={
        201: _doc(list[CreatedOut], "Stored; the id is the tracking code"),
        **ERRORS_400,
        403: _doc(list[ErrorOut], "api_key missing or wrong"),
        **ERRORS_404,
        409: _doc(list[ErrorOut], "Idempotency-Key reused with another form"),
        413: {"description": "Body over 64 KiB"},
        415: _doc(list[ErrorOut], "Not application/x-www-form-urlencoded"),
        429: _doc(list[ErrorOut], "Too many requests from this address (see Retry-After)"),
        **ERRORS_503,
    },
)
async def post_request(
    format: FormatPath,
    form: Annotated[RequestForm, Form()],
    request: Request,
    ctx: IntakeDep,
    client: ClientDep,
    keys: ApiKeysDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Open311Error(
            415,
            "Content-Type harus application/x-www-form-urlencoded. "
            "(Send the request form-encoded.)",
        )
    service.check_rate(ctx, client)
    if await authenticate(keys, blank_to_none(form.api_key), ctx.settings) is None:
        raise Open311Error(403, "api_key tidak ada atau salah. (Missing or invalid api_key.)")
    check_jurisdiction(form.jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    service_for(form.service_code, cat)
    complaint = complaint_from_form(form, cat)
    answer = await service.submit_complaint(
        ctx, complaint, idempotency_key=idempotency_key, client=client, source="open311"
    )
    code = answer["tracking_code"]
    created = CreatedOut(
        service_request_id=code, service_notice=created_notice(code), account_id=None
    )
    if (blank_to_none(form.extensions) or "").lower() == "true":
        extended = ExtendedAttributesOut(reply_token=answer["reply_token"])
        created = created.model_copy(update={"extended_attributes": extended})
    return respond(format, "service_requests", [created], status_code=201, exclude_unset=True)


@router.get(
    "/requests.{format}",
    summary="Service requests: by id, or filtered (last 90 days and 1,000 requests by default)",
    description="Lists hold only requests an officer has verified (never rejected, confidential "
    "or hidden ones), their texts redacted and points rounded; asked for by id, any other "
    "request shows only status, agency and dates.",
    response_class=Response,
    responses={
        200: _doc(list[ServiceRequestOut], "The requests, newest first"),
        **ERRORS_400,
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_requests(
    format: FormatPath,
    ctx: IntakeDep,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[
        list[str] | None, Query(description="Comma delimited; overrides the other arguments.")
    ] = None,
    service_code: Annotated[list[str] | None, Query(description="Comma delimited.")] = None,
    start_date: Annotated[str | None, Query(description="W3C, e.g. 2026-01-01T00:00:00Z")] = None,
    end_date: Annotated[str | None, Query(description="W3C; at most 90 days after start")] = None,
    status: Annotated[list[str] | None, Query(description="`open`, `closed`, or both")] = None,
) -> Response:
    check_jurisdiction(jurisdiction_id, ctx.settings)
    cat = await ctx.catalogue.get()
    query = request_query(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        catalogue=cat,
        now=utcnow(),
        settings=ctx.settings,
    )
    tickets = await find_requests(ctx.tickets, query)
    base = ctx.settings.public_base_url
    return respond(
        format, "service_requests", [service_request(t, cat, base_url=base) for t in tickets]
    )


@router.get(
    "/requests/{service_request_id}.{format}",
    summary="One service request by its id (the tracking code)",
    response_class=Response,
    responses={
        200: _doc(list[ServiceRequestOut], "The request (a list of one)"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_request(
    service_request_id: str,
    format: FormatPath,
    ctx: IntakeDep,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    check_jurisdiction(jurisdiction_id, ctx.settings)
    ticket = await _ticket(ctx.tickets, service_request_id)
    cat = await ctx.catalogue.get()
    base = ctx.settings.public_base_url
    return respond(format, "service_requests", [service_request(ticket, cat, base_url=base)])


@router.get(
    "/tokens/{token}.{format}",
    summary="The service_request_id behind a token (the token is the tracking code itself)",
    description="Requests are realtime: POST answers with the id, never a token. For clients "
    "that still ask, a token is the tracking code and maps to itself.",
    response_class=Response,
    responses={
        200: _doc(list[TokenOut], "The id (a list of one)"),
        **ERRORS_404,
        **ERRORS_503,
    },
)
async def get_token(
    token: str, format: FormatPath, ctx: IntakeDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    check_jurisdiction(jurisdiction_id, ctx.settings)
    ticket = await _ticket(ctx.tickets, token)
    return respond(
        format,
        "service_requests",
        [TokenOut(service_request_id=ticket.tracking_code, token=token)],
    )


async def _ticket(tickets: TicketRepository, raw_id: str) -> Ticket:
    ticket = await tickets.get(domain.normalise_tracking_code(raw_id))
    if ticket is None:
        raise Open311Error(
            404, f"service_request_id {raw_id} tidak ditemukan. (Request not found.)"
        )
    return ticket


@router.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def unknown_resource(path: str) -> Response:
    raise Open311Error(
        404,
        f"Sumber {path} tidak ada; lihat discovery.xml. (No such resource; see discovery.xml.)",
    )
