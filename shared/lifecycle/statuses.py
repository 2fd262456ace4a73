"""The status groups: one definition of each, named for what it means."""

from __future__ import annotations

from shared.tickets import TicketStatus

S = TicketStatus

# The OPD waits (for the citizen or a third party): the deadline is paused.
PAUSED_STATUSES = (S.WAITING_CITIZEN, S.WAITING_THIRD_PARTY)
# Work is pending on the staff's side: a deadline may run, escalate or make it overdue.
OPEN_STATUSES = (S.SUBMITTED, S.TRIAGE, S.ROUTED, S.VERIFIED, S.IN_PROGRESS, *PAUSED_STATUSES)
# Answered: resolved, closed or rejected (Open311's `closed`).
ANSWERED_STATUSES = frozenset({S.RESOLVED, S.CLOSED, S.REJECTED})
# Nothing more is expected of anyone (a closed ticket may still be disputed in time).
FINAL_STATUSES = frozenset({S.CLOSED, S.REJECTED})
# Not final: the citizen may still add information.
NOT_FINAL_STATUSES = frozenset(TicketStatus) - FINAL_STATUSES
