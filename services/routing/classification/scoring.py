"""How a router did on labelled texts it was not trained on, and when to promote a model.

An answer is right when it is one of the expected codes. The validation sets list every code
that counts (a region may split duties between two units), and `KECAMATAN` there means any
kecamatan office; the project's own examples name one office. `TRIASE` is always wrong unless
it is expected: the admin still has to route the complaint by hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.routing.classification.examples import KECAMATAN, label_of
from shared.catalogue import TRIASE


@dataclass(frozen=True)
class OpdScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """A router's answers on labelled examples: accuracy, triage and per-unit figures."""

    examples: int
    accuracy: float
    macro_f1: float
    triage_rate: float
    routed_accuracy: float  # the precision of what was routed (answers other than TRIASE)
    macro_recall: float = 0.0
    per_opd: dict[str, OpdScore] = field(default_factory=dict)
    confusions: dict[tuple[str, str], int] = field(default_factory=dict)

    def largest_confusions(self, n: int = 10) -> list[tuple[str, str, int]]:
        """The `n` most frequent (expected, answered) pairs that were wrong."""
        ranked = sorted(self.confusions.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(e, a, count) for (e, a), count in ranked[:n]]


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def is_right(expected: Sequence[str], answer: str) -> bool:
    """Whether `answer` is one of the expected codes (`KECAMATAN` accepts any office)."""
    return answer in expected or (answer.startswith("KEC-") and KECAMATAN in expected)


def score(outcomes: Iterable[tuple[Sequence[str], str]]) -> Report:
    """A report from (expected codes, answer) pairs. Kecamatan offices are one row."""
    pairs = [(tuple(expected), answer) for expected, answer in outcomes]
    n = len(pairs)
    right = [is_right(expected, answer) for expected, answer in pairs]
    routed = [ok for ok, (_, answer) in zip(right, pairs, strict=True) if answer != TRIASE]
    true_pos: Counter[str] = Counter()
    predicted_n: Counter[str] = Counter()
    support: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    for ok, (expected, answer) in zip(right, pairs, strict=True):
        truth = label_of(answer) if ok else label_of(expected[0])
        support[truth] += 1
        predicted_n[label_of(answer)] += 1
        if ok:
            true_pos[truth] += 1
        else:
            confusions[(label_of(expected[0]), label_of(answer))] += 1
    per_opd: dict[str, OpdScore] = {}
    for label in sorted(support):
        precision = _ratio(true_pos[label], predicted_n[label])
        recall = _ratio(true_pos[label], support[label])
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_opd[label] = OpdScore(precision, recall, f1, support[label])
    scored = [s for label, s in per_opd.items() if label != TRIASE] or list(per_opd.values())
    return Report(
        examples=n,
        accuracy=_ratio(sum(right), n),
        macro_f1=sum(s.f1 for s in per_opd.values()) / len(per_opd) if per_opd else 0.0,
        triage_rate=_ratio(n - len(routed), n),
        routed_accuracy=_ratio(sum(routed), len(routed)),
        macro_recall=sum(s.recall for s in scored) / len(scored) if scored else 0.0,
        per_opd=per_opd,
        confusions=dict(confusions),
    )


def should_promote(candidate: Report, current: Report, *, tolerance: float = 0.0) -> bool:
    """Promote only a candidate that is not worse on the same held-back examples.

    Not worse means: accuracy, macro-F1 and the accuracy of what it routes all at least the
    current model's (minus `tolerance`); reports over different example sets never compare.
    """
    if candidate.examples != current.examples or candidate.examples == 0:
        return False
    return (
        candidate.accuracy >= current.accuracy - tolerance
        and candidate.macro_f1 >= current.macro_f1 - tolerance
        and candidate.routed_accuracy >= current.routed_accuracy - tolerance
    )
