"""What a routing decision does to a ticket: its status and its next deadline.

The decision itself is `services.routing.classification.router.classify`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from services.routing.classification.router import Candidate, Classification
from shared.catalogue import LUAR_KEWENANGAN, TRIASE
from shared.chat import CHAT_SOURCES
from shared.tickets import RoutingChoice, RoutingQuestion, Ticket, TicketStatus

CHOICES = 2  # candidates a chat's citizen chooses from (besides "lainnya")


def status_after_routing(result: Classification) -> TicketStatus:
    return TicketStatus.TRIAGE if result.opd in (TRIASE, LUAR_KEWENANGAN) else TicketStatus.ROUTED


def choice_candidates(result: Classification, ticket: Ticket) -> list[Candidate]:
    """Whom to offer the citizen when the router is unsure of a chat ticket: the best real
    OPDs among the alternatives (none when sure, not a chat ticket, or asked already)."""
    if result.opd != TRIASE or ticket.source not in CHAT_SOURCES or not ticket.conversation_id:
        return []
    if ticket.routing_question is not None:
        return []
    real = [c for c in result.alternatives if c.opd not in (TRIASE, LUAR_KEWENANGAN)]
    return real[:CHOICES]


def choice_pending(ticket: Ticket, now: datetime, *, timeout: timedelta) -> bool:
    """A question was asked and the citizen may still answer it: routing waits."""
    question = ticket.routing_question
    return (
        question is not None and ticket.routing_choice is None and now - question.asked_at < timeout
    )


def decision_after_choice(
    question: RoutingQuestion,
    choice: RoutingChoice | None,
    *,
    names: Mapping[str, str],
    timeout: timedelta,
) -> Classification:
    """The routing decision once the citizen chose (or let the question time out)."""
    if choice is not None and choice.opd is not None:
        offered = {c.opd: c.confidence for c in question.candidates}
        reason = f"Pelapor memilih {names.get(choice.opd, choice.opd)} dari pilihan yang diberikan"
        return Classification(
            opd=choice.opd,
            confidence=offered.get(choice.opd, question.confidence),
            reasons=[*question.reasons, reason],
            model=question.model,
            method="citizen",
        )
    if choice is not None:
        reason = "Pelapor memilih 'lainnya'; perlu triase admin"
    else:
        minutes = int(timeout.total_seconds() // 60)
        reason = f"Pelapor tidak memilih tujuan dalam {minutes} menit; perlu triase admin"
    return Classification(
        opd=TRIASE,
        confidence=question.confidence,
        reasons=[*question.reasons, reason],
        alternatives=[Candidate(c.opd, c.confidence) for c in question.candidates],
        model=question.model,
        method="triage",
    )
