"""Pure routing rules: from text, category and location to an OPD with reasons.

This is the first, keyword-based rule set of the walking skeleton; the learning router replaces
`classify` without changing its signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from services.routing.calendar import add_working_days
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, Catalogue
from shared.tickets import TicketStatus

MODEL_NAME = "rules-v0"
CATEGORY_CONFIDENCE = 0.85
FOLLOW_UP_WORKING_DAYS = 5  # the OPD's follow-up after assignment
TRIAGE_WORKING_DAYS = 3  # the admin side's routing after submission


@dataclass(frozen=True)
class Candidate:
    opd: str
    confidence: float


@dataclass(frozen=True)
class Classification:
    opd: str
    confidence: float
    reasons: list[str]
    alternatives: list[Candidate] = field(default_factory=list)
    referral: str | None = None
    model: str = MODEL_NAME


def normalise(text: str) -> str:
    """Lower case, letters and digits only, single spaces, padded for whole-word matching."""
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    return " " + " ".join(words) + " "


def _hits(text: str, keywords: tuple[str, ...]) -> list[str]:
    return [k for k in keywords if normalise(k) in text]


def classify(
    *, text: str, category: str | None, catalogue: Catalogue, threshold: float
) -> Classification:
    """Choose an OPD: the chosen category first, then keyword evidence; unsure means TRIASE."""
    chosen = catalogue.category(category) if category else None
    if chosen is not None and chosen.opd != TRIASE:
        return Classification(
            opd=chosen.opd,
            confidence=CATEGORY_CONFIDENCE,
            reasons=[f"Kategori yang dipilih pelapor: {chosen.name}"],
        )
    normalised = normalise(text)
    for referral in catalogue.referrals:
        hits = _hits(normalised, referral.keywords)
        if hits:
            return Classification(
                opd=LUAR_KEWENANGAN,
                confidence=0.8,
                reasons=[f"Kata kunci di luar kewenangan daerah: {', '.join(hits[:3])}"],
                referral=f"{referral.name}: {referral.advice}",
            )
    evidence: dict[str, list[str]] = {}
    for opd in catalogue.opds:
        evidence.setdefault(opd.code, []).extend(_hits(normalised, opd.keywords))
    for cat in catalogue.categories:
        if cat.opd != TRIASE:
            evidence.setdefault(cat.opd, []).extend(_hits(normalised, cat.keywords))
    # A phrase is stronger evidence than a single word: weigh each hit by its word count.
    scores = sorted(
        (
            (sum(len(k.split()) for k in set(words)), code)
            for code, words in evidence.items()
            if words
        ),
        reverse=True,
    )
    if not scores:
        return Classification(
            opd=TRIASE, confidence=0.0, reasons=["Tidak ada kata kunci yang dikenali"]
        )
    total = sum(score for score, _ in scores) + 1
    candidates = [Candidate(code, round(score / total, 3)) for score, code in scores[:3]]
    best = candidates[0]
    reasons = [f"Kata kunci {best.opd}: {', '.join(sorted(set(evidence[best.opd]))[:5])}"]
    if best.confidence < threshold:
        return Classification(
            opd=TRIASE,
            confidence=best.confidence,
            reasons=[*reasons, "Keyakinan di bawah ambang; perlu triase admin"],
            alternatives=candidates,
        )
    return Classification(
        opd=best.opd, confidence=best.confidence, reasons=reasons, alternatives=candidates[1:]
    )


def status_after_routing(result: Classification) -> TicketStatus:
    return TicketStatus.TRIAGE if result.opd in (TRIASE, LUAR_KEWENANGAN) else TicketStatus.ROUTED


def due_after_routing(
    status: TicketStatus, *, submitted_at: datetime, routed_at: datetime, holidays: set[date]
) -> datetime:
    """Routed: the OPD's follow-up deadline; in triage: the admin side's routing deadline."""
    if status is TicketStatus.ROUTED:
        return add_working_days(routed_at, FOLLOW_UP_WORKING_DAYS, holidays)
    return add_working_days(submitted_at, TRIAGE_WORKING_DAYS, holidays)
