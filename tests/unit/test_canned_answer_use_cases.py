"""Canned answers (services/routing/throughput.py: `canned_answers`, `save_canned_answer`,
`delete_canned_answer`, `canned_for_ticket`) on the in-memory stores of tests/fakes.py: an
OPD's answers by title, kept by its supervisor or an admin, refused to officers and auditors,
and filled for a ticket in the caller's scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.routing import throughput
from services.routing.views import CannedAnswer, FilledAnswer
from shared.errors import Forbidden, NotFound
from shared.principals import Principal, Role
from shared.tickets import TicketStatus
from tests.fakes import (
    ADMIN,
    AUDITOR,
    CODE,
    HEAD,
    OFFICER,
    InMemoryCannedAnswers,
    InMemoryTickets,
    a_ticket,
    routing_context,
)

S = TicketStatus
DLH_HEAD = Principal(username="dlh-kepala", role=Role.SUPERVISOR, opd="DLH")
BODY = "Laporan {kode} ditangani {opd}, selesai paling lambat {tenggat}. {lainnya}"


async def _saved(store: InMemoryCannedAnswers) -> None:
    await throughput.save_canned_answer(
        store, HEAD, "dpupr", "survei", title="survei lokasi", body=BODY
    )
    await throughput.save_canned_answer(
        store, ADMIN, "DPUPR", "alat", title="Alat berat", body="Alat berat dikirim ke {kode}."
    )


async def test_an_opds_answers_are_listed_by_title_for_its_staff() -> None:
    store = InMemoryCannedAnswers()
    await _saved(store)
    mine = await throughput.canned_answers(store, OFFICER, None)
    assert mine.opd == "DPUPR"
    assert [(a.id, a.title, a.updated_by) for a in mine.items] == [
        ("alat", "Alat berat", "admin"),
        ("survei", "survei lokasi", "dpupr-kepala"),
    ]
    assert isinstance(mine.items[0], CannedAnswer)
    audited = await throughput.canned_answers(store, AUDITOR, "dpupr")
    assert audited == mine
    assert (await throughput.canned_answers(store, DLH_HEAD, None)).items == ()


async def test_a_supervisor_changes_an_answer_in_place_and_deletes_it() -> None:
    store = InMemoryCannedAnswers()
    await _saved(store)
    changed = await throughput.save_canned_answer(
        store, HEAD, "DPUPR", "survei", title="Survei lokasi", body="Tim survei ke {kode}."
    )
    assert (changed.id, changed.title, changed.updated_by) == (
        "survei",
        "Survei lokasi",
        HEAD.username,
    )
    assert changed.updated_at.tzinfo is not None
    assert len(store.answers["DPUPR"]) == 2
    await throughput.delete_canned_answer(store, HEAD, "dpupr", "survei")
    assert [a["id"] for a in store.answers["DPUPR"]] == ["alat"]
    with pytest.raises(NotFound):
        await throughput.delete_canned_answer(store, HEAD, "dpupr", "survei")


async def test_an_answers_id_is_cut_to_forty_characters() -> None:
    store = InMemoryCannedAnswers()
    saved = await throughput.save_canned_answer(store, ADMIN, "dlh", "x" * 60, title="t", body="b")
    assert saved.id == "x" * 40 and store.answers["DLH"][0]["id"] == "x" * 40


@pytest.mark.parametrize(
    ("who", "opd", "refused"),
    [
        (OFFICER, "dpupr", Forbidden),  # officers use them, supervisors keep them
        (AUDITOR, "dpupr", Forbidden),  # auditors change nothing
        (DLH_HEAD, "dpupr", NotFound),  # another OPD's do not exist for them
    ],
)
async def test_answers_are_kept_by_their_opds_supervisor_or_an_admin_only(
    who: Principal, opd: str, refused: type[Exception]
) -> None:
    store = InMemoryCannedAnswers()
    await _saved(store)
    before = await store.of("DPUPR")
    with pytest.raises(refused):
        await throughput.save_canned_answer(store, who, opd, "baru", title="t", body="b")
    with pytest.raises(refused):
        await throughput.delete_canned_answer(store, who, opd, "survei")
    assert await store.of("DPUPR") == before


async def test_a_tickets_answers_are_filled_for_it() -> None:
    store = InMemoryCannedAnswers()
    await _saved(store)
    due = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # 4 December in Jakarta
    tickets = InMemoryTickets(a_ticket(S.VERIFIED, due_at=due))
    filled = await throughput.canned_for_ticket(routing_context(tickets), OFFICER, CODE, store)
    assert [f.answer.id for f in filled] == ["alat", "survei"]
    assert isinstance(filled[0], FilledAnswer)
    assert filled[1].text == (
        f"Laporan {CODE} ditangani Dinas Pekerjaan Umum dan Penataan Ruang, selesai paling "
        "lambat 04-12-2026. {lainnya}"
    )
    assert filled[1].answer.body == BODY  # the answer itself is unchanged


async def test_a_ticket_without_an_opd_or_a_deadline_or_outside_the_scope() -> None:
    store = InMemoryCannedAnswers()
    await _saved(store)
    tickets = InMemoryTickets(a_ticket(S.TRIAGE), a_ticket(S.ROUTED, "LP-BBBB-BBBB"))
    ctx = routing_context(tickets)
    assert await throughput.canned_for_ticket(ctx, ADMIN, CODE, store) == ()
    [_, survey] = await throughput.canned_for_ticket(ctx, HEAD, "LP-BBBB-BBBB", store)
    assert "paling lambat -." in survey.text  # no deadline yet
    with pytest.raises(NotFound):
        await throughput.canned_for_ticket(ctx, DLH_HEAD, "LP-BBBB-BBBB", store)
