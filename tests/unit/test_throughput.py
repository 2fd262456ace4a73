"""Officers' throughput rules: who may assign, and canned answers' placeholders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.routing import throughput
from shared.auth import Principal, Role
from shared.catalogue import packaged_catalogue
from shared.tickets import Ticket

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _ticket(assigned_to: str | None = None, opd: str = "DPUPR") -> Ticket:
    return Ticket.model_validate(
        {
            "tracking_code": "LP-ABCD-EFGH",
            "status": "verified",
            "kind": "complaint",
            "description": "Jembatan ambrol",
            "reply_token_hash": "x",
            "submitted_at": NOW,
            "updated_at": NOW,
            "correlation_id": "c",
            "opd": opd,
            "due_at": datetime(2026, 12, 15, 17, 30, tzinfo=UTC),  # 16-12 in Jakarta
            "assigned_to": assigned_to,
        }
    )


OFFICER = Principal(username="dpupr", role=Role.OFFICER, opd="DPUPR")
HEAD = Principal(username="dpupr-kepala", role=Role.SUPERVISOR, opd="DPUPR")


@pytest.mark.parametrize(
    ("who", "assigned", "to", "may"),
    [
        (OFFICER, None, "dpupr", True),  # takes a free ticket
        (OFFICER, "dpupr", None, True),  # gives back their own
        (OFFICER, "dpupr.budi", "dpupr", False),  # cannot take a colleague's
        (OFFICER, None, "dpupr.budi", False),  # cannot hand out tickets
        (HEAD, "dpupr.budi", "dpupr", True),  # the supervisor reassigns
        (Principal(username="dlh-kepala", role=Role.SUPERVISOR, opd="DLH"), None, "x", False),
        (Principal(username="admin", role=Role.ADMIN), "a", "b", True),
        (Principal(username="auditor", role=Role.AUDITOR), None, None, False),
    ],
)
def test_who_may_assign(who: Principal, assigned: str | None, to: str | None, may: bool) -> None:
    assert throughput.may_assign(who, _ticket(assigned), to) is may


def test_canned_answer_placeholders_are_filled_and_other_braces_kept() -> None:
    body = "Laporan {kode} ditangani {opd}, paling lambat {tenggat}. {lainnya}"
    text = throughput.fill(body, _ticket(), packaged_catalogue())
    assert text == (
        "Laporan LP-ABCD-EFGH ditangani Dinas Pekerjaan Umum dan Penataan Ruang, paling lambat "
        "16-12-2026. {lainnya}"
    )
    no_due = _ticket().model_copy(update={"due_at": None})
    assert throughput.fill("{tenggat}", no_due, packaged_catalogue()) == "-"
