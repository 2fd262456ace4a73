"""Intake's typed views serialise through the routes' response models to the very JSON the
use cases' dicts gave before (the public contract stays byte for byte)."""

from __future__ import annotations

import dataclasses

from pydantic import BaseModel, TypeAdapter

from services.intake import complaints
from services.intake.schemas import (
    ComplaintCreated,
    FollowUpOut,
    PhotoOut,
    PublicComplaint,
    SupportOut,
)
from services.intake.views import (
    ComplaintTaken,
    FollowUpDone,
    PhotoAdded,
    SupportCounted,
    TrackedComplaint,
)
from shared.catalogue import packaged_catalogue
from shared.tickets import Reporter, Ticket, TicketStatus
from tests.fakes import CODE, NOW, a_ticket

VIEWS: list[tuple[type[BaseModel], object]] = [
    (FollowUpOut, FollowUpDone("LP-ABCD-EFGH", TicketStatus.CLOSED, "confirm", NOW)),
    (PhotoOut, PhotoAdded("p1", "image/jpeg", 1234, "/api/v1/complaints/LP-ABCD-EFGH/photos/p1")),
    (SupportOut, SupportCounted("LP-ABCD-EFGH", 3, True)),
]


def test_each_view_serialises_as_its_dict_did() -> None:
    for model, view in VIEWS:
        adapter = TypeAdapter(model)
        as_dict = {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}  # type: ignore[arg-type]
        assert adapter.dump_json(adapter.validate_python(view)) == adapter.dump_json(
            adapter.validate_python(as_dict)
        ), model.__name__


def _json(view: TrackedComplaint) -> dict[str, object]:
    """The route's body: GET /complaints/{code} answers `PublicComplaint.of(view)` with
    `response_model_exclude_unset`."""
    body: dict[str, object] = PublicComplaint.of(view).model_dump(mode="json", exclude_unset=True)
    return body


def _resolved() -> Ticket:
    history = [
        {"at": NOW, "actor": "dpupr", "action": "verify", "from": "routed", "to": "verified",
         "note": "Diterima", "public": True},
        {"at": NOW, "actor": "dpupr", "action": "note", "from": "verified", "to": "verified",
         "note": "internal", "public": False},
        {"at": NOW, "actor": "dpupr", "action": "resolve", "from": "verified", "to": "resolved",
         "note": "Sudah ditambal, hubungi 0812-3456-7890", "public": True},
    ]  # fmt: skip
    photo = {"id": "p1", "content_type": "image/jpeg", "size": 10, "uploaded_at": NOW}
    return a_ticket(
        TicketStatus.RESOLVED,
        history=history,
        photos=[photo],
        resolved_at=NOW,
        reporter=Reporter(name="Siti", phone="+6281234567890"),
    )


STATUS_ONLY = {"tracking_code", "status", "opd", "submitted_at", "updated_at", "due_at"}
CONTENT = {"kind", "category", "public_text", "timeline", "replies", "photos"}
OWN = {"title", "description", "location", "reporter", "rating", "publication"}


def test_the_public_json_names_only_what_the_view_shows() -> None:
    catalogue = packaged_catalogue()
    routed = complaints.public_view(a_ticket(TicketStatus.ROUTED), catalogue, is_reporter=False)
    assert set(_json(routed)) == STATUS_ONLY
    assert _json(routed)["due_at"] is None  # a null, not left out
    public = complaints.public_view(_resolved(), catalogue, is_reporter=False)
    assert set(_json(dataclasses.replace(public, supporters=2))) == STATUS_ONLY | CONTENT | {
        "supporters"
    }
    assert set(_json(public)) == STATUS_ONLY | CONTENT  # not counted: left out, not 0
    own = complaints.public_view(_resolved(), catalogue, is_reporter=True)
    assert set(_json(own)) == STATUS_ONLY | CONTENT | OWN


def test_the_reporters_json_is_the_contracts() -> None:
    own = complaints.public_view(_resolved(), packaged_catalogue(), is_reporter=True)
    at = "2026-11-26T03:00:00Z"
    assert _json(dataclasses.replace(own, supporters=0)) == {
        "tracking_code": CODE,
        "status": "resolved",
        "opd": {"code": "DPUPR", "name": "Dinas Pekerjaan Umum dan Penataan Ruang"},
        "submitted_at": "2026-10-27T03:00:00Z",
        "updated_at": "2026-11-06T03:00:00Z",
        "due_at": None,
        "supporters": 0,
        "kind": "complaint",
        "category": "jalan-rusak",
        "public_text": "Jalan rusak berlubang besar di depan sekolah, sudah tiga bulan",
        "timeline": [
            {"at": at, "status": "verified", "note": "Diterima"},
            {"at": at, "status": "verified", "note": "internal"},
            {"at": at, "status": "resolved", "note": "Sudah ditambal, hubungi 0812-3456-7890"},
        ],
        "replies": [
            {
                "at": at,
                "by": "Dinas Pekerjaan Umum dan Penataan Ruang",
                "message": "Sudah ditambal, hubungi 0812-3456-7890",
            }
        ],
        "photos": [
            {
                "id": "p1",
                "content_type": "image/jpeg",
                "size": 10,
                "url": f"/api/v1/complaints/{CODE}/photos/p1",
            }
        ],
        "title": "Jalan rusak",
        "description": "Jalan rusak berlubang besar di depan sekolah, sudah tiga bulan",
        "location": {"kecamatan": None, "desa": None, "address": None, "lat": None, "lon": None},
        "reporter": {"name": "Siti", "email": None, "phone": "+6281234567890"},
        "rating": None,
        "publication": {
            "exposure": "public",
            "text": "Jalan rusak berlubang besar di depan sekolah, sudah tiga bulan",
        },
    }


def test_the_public_sees_public_entries_redacted() -> None:
    public = complaints.public_view(_resolved(), packaged_catalogue(), is_reporter=False)
    body = _json(public)
    assert body["timeline"] == [
        {"at": "2026-11-26T03:00:00Z", "status": "verified", "note": "Diterima"},
        {
            "at": "2026-11-26T03:00:00Z",
            "status": "resolved",
            "note": "Sudah ditambal, hubungi [nomor telepon]",
        },
    ]
    assert "0812" not in str(body) and "Siti" not in str(body)


def test_a_complaint_taken_serialises_as_the_201_body() -> None:
    taken = ComplaintTaken(CODE, TicketStatus.SUBMITTED, NOW, "rahasia")
    assert ComplaintCreated.model_validate(taken).model_dump(mode="json") == {
        "tracking_code": CODE,
        "status": "submitted",
        "submitted_at": "2026-11-26T03:00:00Z",
        "reply_token": "rahasia",
    }
