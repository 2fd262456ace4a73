"""Intake's typed views serialise through the routes' response models to the very JSON the
use cases' dicts gave before (the public contract stays byte for byte)."""

from __future__ import annotations

import dataclasses

from pydantic import BaseModel, TypeAdapter

from services.intake.schemas import FollowUpOut, PhotoOut, SupportOut
from services.intake.views import FollowUpDone, PhotoAdded, SupportCounted
from shared.tickets import TicketStatus
from tests.fakes import NOW

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
