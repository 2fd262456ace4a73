"""Open311's pure mapping: tickets as service requests, the form as a complaint, the query's
arguments checked. No I/O: the use cases (service.py) read and write, the routes (api.py) answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from services.intake import complaints
from services.intake.open311.errors import Open311Error, describe_errors
from services.intake.open311.schemas import (
    AttributeOut,
    AttributeValueOut,
    DiscoveryOut,
    EndpointOut,
    RequestForm,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
)
from services.intake.schemas import ComplaintIn
from shared import publication
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, Catalogue, Category
from shared.lifecycle import statuses
from shared.tickets import Ticket, TicketStatus
from shared.workdays import JAKARTA

if TYPE_CHECKING:  # settings load the Kafka client; the mapping only reads their values
    from services.intake.settings import IntakeSettings

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's calls or service definitions last changed shape (discovery's changeset).
CHANGESET = "2026-11-27 00:00"
CLOSED_STATUSES = statuses.ANSWERED_STATUSES  # Open311's `closed`
OPEN_STATUSES = frozenset(statuses.OPEN_STATUSES)
TRIASE_AGENCY = "Admin koordinator Layanan Pengaduan"
OUTSIDE_AGENCY = "Di luar kewenangan Pemerintah Kabupaten (outside the kabupaten's authority)"


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
        codes = list(dict.fromkeys(complaints.normalise_tracking_code(i) for i in ids))
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
