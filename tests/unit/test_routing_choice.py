"""Routing's choice question for chat tickets it is unsure of: whom to offer, when to wait, and
the decision after the citizen's answer (or silence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake import complaints
from services.routing import decisions
from services.routing.classification.router import Candidate, Classification
from shared.tickets import (
    ChoiceCandidate,
    Kind,
    Location,
    RoutingChoice,
    RoutingQuestion,
    Ticket,
)

NOW = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=60)
UNSURE = Classification(
    opd="TRIASE",
    confidence=0.41,
    reasons=["Dua kandidat terlalu dekat"],
    alternatives=[
        Candidate("DLH", 0.41),
        Candidate("LUAR_KEWENANGAN", 0.3),
        Candidate("SATPOLPP", 0.2),
        Candidate("DISHUB", 0.1),
    ],
    model="rules-2",
)
QUESTION = RoutingQuestion(
    candidates=[
        ChoiceCandidate(opd="DLH", confidence=0.41),
        ChoiceCandidate(opd="SATPOLPP", confidence=0.2),
    ],
    asked_at=NOW,
    confidence=0.41,
    reasons=["Dua kandidat terlalu dekat"],
    model="rules-2",
)
NAMES = {"DLH": "Dinas Lingkungan Hidup", "SATPOLPP": "Satuan Polisi Pamong Praja"}


def ticket(source: str = "whatsapp", **fields: object) -> Ticket:
    stored, _ = complaints.new_ticket(
        tracking_code="LP-AAAA-BBBB",
        reply_token="t",
        now=NOW,
        correlation_id="c",
        kind=Kind.COMPLAINT,
        description="pedagang jualan di trotoar dan sampahnya numpuk",
        title=None,
        category=None,
        location=Location(),
        reporter=None,
        anonymous=False,
        confidential=False,
    )
    conversation = "c1" if source in ("whatsapp", "sms") else None
    return stored.model_copy(update={"source": source, "conversation_id": conversation, **fields})


def test_an_unsure_chat_ticket_offers_the_two_best_real_opds() -> None:
    offered = decisions.choice_candidates(UNSURE, ticket())
    assert [c.opd for c in offered] == ["DLH", "SATPOLPP"]
    assert [c.opd for c in decisions.choice_candidates(UNSURE, ticket("sms"))] == [
        "DLH",
        "SATPOLPP",
    ]


@pytest.mark.parametrize(
    "case",
    ["web ticket", "sure", "asked already"],
)
def test_no_question_when_sure_not_a_chat_or_asked_already(case: str) -> None:
    result, subject = UNSURE, ticket()
    if case == "web ticket":
        subject = ticket("web")
    elif case == "sure":
        result = Classification(opd="DLH", confidence=0.9, reasons=[], model="m")
    else:
        subject = ticket(routing_question=QUESTION)
    assert decisions.choice_candidates(result, subject) == []


def test_routing_waits_for_the_answer_until_the_timeout() -> None:
    asked = ticket(routing_question=QUESTION)
    assert decisions.choice_pending(asked, NOW + timedelta(minutes=59), timeout=TIMEOUT)
    assert not decisions.choice_pending(asked, NOW + timedelta(minutes=61), timeout=TIMEOUT)
    answered = asked.model_copy(update={"routing_choice": RoutingChoice(opd="DLH", at=NOW)})
    assert not decisions.choice_pending(answered, NOW, timeout=TIMEOUT)


def test_the_chosen_opd_is_the_decision_with_the_reason() -> None:
    decided = decisions.decision_after_choice(
        QUESTION, RoutingChoice(opd="SATPOLPP", at=NOW), names=NAMES, timeout=TIMEOUT
    )
    assert (decided.opd, decided.confidence, decided.model) == ("SATPOLPP", 0.2, "rules-2")
    assert decided.reasons[-1] == (
        "Pelapor memilih Satuan Polisi Pamong Praja dari pilihan yang diberikan"
    )
    assert decisions.status_after_routing(decided).value == "routed"


@pytest.mark.parametrize(
    ("choice", "reason"),
    [
        (RoutingChoice(opd=None, at=NOW), "Pelapor memilih 'lainnya'"),
        (None, "Pelapor tidak memilih tujuan dalam 60 menit"),
    ],
)
def test_lainnya_or_silence_goes_to_triage_with_the_candidates(
    choice: RoutingChoice | None, reason: str
) -> None:
    decided = decisions.decision_after_choice(QUESTION, choice, names=NAMES, timeout=TIMEOUT)
    assert decided.opd == "TRIASE"
    assert decided.reasons[-1].startswith(reason)
    assert [a.opd for a in decided.alternatives] == ["DLH", "SATPOLPP"]
    assert decisions.status_after_routing(decided).value == "triage"
