"""A small statistical text classifier for complaints: TF-IDF weighted multinomial Naive Bayes.

Pure Python and deterministic: the same examples always give the same model, the same version
string and the same predictions. A model is a plain JSON-compatible dict away from storage
(`to_dict` / `from_dict`), so routing can keep trained models in MongoDB and show the version on
every decision. `evaluate` and `should_promote` are the pure halves of retraining: score a
candidate on held-back examples and promote it only when it is not worse.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

from services.routing import nlp
from shared.catalogue import TRIASE

ALGORITHM: Final = "tfidf-mnb-1"
KECAMATAN: Final = "KECAMATAN"  # one class for every kecamatan office; the location picks which
EXAMPLES_FILE: Final = Path(__file__).parent / "data" / "examples.jsonl"
ALPHA: Final = 0.3  # additive smoothing
SHARPNESS: Final = 2.5  # log-likelihoods to calibrated odds (tuned on held-out log-loss)
PRIOR_WEIGHT: Final = 0.0  # 0: uniform class prior (the examples are not a sample of real mail)


@dataclass(frozen=True)
class Example:
    """One labelled complaint: what the citizen wrote and chose, and where it belongs."""

    text: str
    opd: str
    category: str | None = None
    kecamatan: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "text": self.text,
            "opd": self.opd,
            "category": self.category,
            "kecamatan": self.kecamatan,
        }


def label_of(opd: str) -> str:
    """The class a code is learnt as: every `KEC-...` office is the one class `KECAMATAN`."""
    return KECAMATAN if opd.startswith("KEC-") else opd


def parse_examples(lines: Iterable[str]) -> list[Example]:
    """Examples from JSON lines (`{"text", "opd", "category", "kecamatan"}`); blanks skipped."""
    out: list[Example] = []
    for line in lines:
        if not line.strip():
            continue
        raw = json.loads(line)
        out.append(
            Example(
                text=str(raw["text"]),
                opd=str(raw["opd"]),
                category=raw.get("category"),
                kecamatan=raw.get("kecamatan"),
            )
        )
    return out


@cache
def packaged_examples() -> tuple[Example, ...]:
    """The labelled examples shipped with the code (services/routing/data/examples.jsonl)."""
    lines = EXAMPLES_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(parse_examples(lines))


def _weighted(features: Sequence[str], idf: Mapping[str, float]) -> dict[str, float]:
    """Sublinear TF times IDF, L2-normalised; features without an IDF are unknown and dropped."""
    counts = Counter(f for f in features if f in idf)
    vector = {f: (1.0 + math.log(n)) * idf[f] for f, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {f: v / norm for f, v in vector.items()} if norm else {}


@dataclass(frozen=True)
class Model:
    """A trained classifier. `weights[f]` lists (class index, log-odds gain) where f was seen."""

    version: str
    classes: tuple[str, ...]
    class_bias: tuple[float, ...]
    class_norm: tuple[float, ...]
    idf: Mapping[str, float]
    weights: Mapping[str, tuple[tuple[int, float], ...]]
    sharpness: float = SHARPNESS
    trained_on: int = 0

    def scores(self, features: Sequence[str]) -> tuple[float, ...]:
        """Per-class log-likelihood of the weighted features (up to a shared constant)."""
        vector = _weighted(features, self.idf)
        mass = sum(vector.values())
        totals = [
            bias - mass * norm for bias, norm in zip(self.class_bias, self.class_norm, strict=True)
        ]
        for feature, value in vector.items():
            for index, gain in self.weights.get(feature, ()):
                totals[index] += value * gain
        return tuple(totals)

    def predict_proba(self, features: Sequence[str]) -> dict[str, float]:
        """Class probabilities, summing to 1; uniform when no feature is known."""
        scores = self.scores(features)
        top = max(scores)
        exps = [math.exp((s - top) * self.sharpness) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def known(self, features: Sequence[str]) -> list[str]:
        """The features this model has seen in training."""
        return [f for f in features if f in self.idf]

    def to_dict(self) -> dict[str, Any]:
        """A JSON- and BSON-compatible form (no dots or dollars in keys: features go in lists)."""
        return {
            "version": self.version,
            "algorithm": ALGORITHM,
            "classes": list(self.classes),
            "class_bias": list(self.class_bias),
            "class_norm": list(self.class_norm),
            "sharpness": self.sharpness,
            "trained_on": self.trained_on,
            "features": [
                [f, self.idf[f], [[i, g] for i, g in self.weights.get(f, ())]]
                for f in sorted(self.idf)
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        if data.get("algorithm") != ALGORITHM:
            raise ValueError(f"unknown model algorithm {data.get('algorithm')!r}")
        idf: dict[str, float] = {}
        weights: dict[str, tuple[tuple[int, float], ...]] = {}
        for feature, feature_idf, gains in data["features"]:
            idf[str(feature)] = float(feature_idf)
            if gains:
                weights[str(feature)] = tuple((int(i), float(g)) for i, g in gains)
        return cls(
            version=str(data["version"]),
            classes=tuple(str(c) for c in data["classes"]),
            class_bias=tuple(float(b) for b in data["class_bias"]),
            class_norm=tuple(float(n) for n in data["class_norm"]),
            idf=idf,
            weights=weights,
            sharpness=float(data["sharpness"]),
            trained_on=int(data["trained_on"]),
        )


def training_version(examples: Sequence[Example]) -> str:
    """`nb-` and 8 hex digits of a hash over the algorithm and the (sorted) training data."""
    canonical = json.dumps(
        [ALGORITHM, ALPHA, SHARPNESS, PRIOR_WEIGHT, sorted((e.text, e.opd) for e in examples)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "nb-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


def train(examples: Iterable[Example]) -> Model:
    """Fit the classifier; deterministic (sorted classes and features, no randomness)."""
    data = sorted(examples, key=lambda e: (e.opd, e.text))
    if not data:
        raise ValueError("cannot train on no examples")
    docs = [(label_of(e.opd), nlp.features(e.text)) for e in data]
    classes = tuple(sorted({label for label, _ in docs}))
    index = {c: i for i, c in enumerate(classes)}
    document_frequency: Counter[str] = Counter()
    for _, features in docs:
        document_frequency.update(set(features))
    n_docs = len(docs)
    idf = {f: math.log((1 + n_docs) / (1 + df)) + 1.0 for f, df in document_frequency.items()}
    counts: dict[str, dict[int, float]] = defaultdict(dict)
    totals = [0.0] * len(classes)
    class_docs = [0] * len(classes)
    for label, features in docs:
        ci = index[label]
        class_docs[ci] += 1
        for feature, value in _weighted(features, idf).items():
            counts[feature][ci] = counts[feature].get(ci, 0.0) + value
            totals[ci] += value
    vocabulary = len(idf)
    log_alpha = math.log(ALPHA)
    weights = {
        f: tuple((ci, math.log(c + ALPHA) - log_alpha) for ci, c in sorted(per_class.items()))
        for f, per_class in sorted(counts.items())
    }
    bias = tuple(PRIOR_WEIGHT * math.log(class_docs[i] / n_docs) for i in range(len(classes)))
    norm = tuple(math.log(totals[i] + ALPHA * vocabulary) for i in range(len(classes)))
    return Model(
        version=training_version(data),
        classes=classes,
        class_bias=bias,
        class_norm=norm,
        idf=dict(sorted(idf.items())),
        weights=weights,
        trained_on=n_docs,
    )


def stratified_split(
    examples: Sequence[Example], *, seed: int, fraction: float = 0.7
) -> tuple[list[Example], list[Example]]:
    """A seeded split into (train, held back), `fraction` of each class to train on.

    Deterministic for the same examples in any order; every class keeps at least one example
    for training.
    """
    by_class: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_class[label_of(example.opd)].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    held_back: list[Example] = []
    for label in sorted(by_class):
        items = sorted(by_class[label], key=lambda e: (e.text, e.opd, e.category or ""))
        rng.shuffle(items)
        cut = max(1, round(len(items) * fraction))
        train.extend(items[:cut])
        held_back.extend(items[cut:])
    return train, held_back


# Evaluation and promotion.


@dataclass(frozen=True)
class OpdScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """How a router or model did on labelled examples it was not trained on."""

    examples: int
    accuracy: float
    macro_f1: float
    triage_rate: float
    routed_accuracy: float  # accuracy among the answers that were not TRIASE
    per_opd: dict[str, OpdScore] = field(default_factory=dict)


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def score(outcomes: Iterable[tuple[str, str]]) -> Report:
    """A report from (expected, predicted) codes. Kecamatan offices are one row, `KECAMATAN`."""
    pairs = list(outcomes)
    n = len(pairs)
    correct = sum(1 for expected, predicted in pairs if expected == predicted)
    routed = [(e, p) for e, p in pairs if p != TRIASE]
    routed_correct = sum(1 for e, p in routed if e == p)
    true_pos: Counter[str] = Counter()
    predicted_n: Counter[str] = Counter()
    support: Counter[str] = Counter()
    for expected, predicted in pairs:
        e, p = label_of(expected), label_of(predicted)
        support[e] += 1
        predicted_n[p] += 1
        if expected == predicted:
            true_pos[e] += 1
    per_opd: dict[str, OpdScore] = {}
    for label in sorted(support):
        precision = _ratio(true_pos[label], predicted_n[label])
        recall = _ratio(true_pos[label], support[label])
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_opd[label] = OpdScore(precision, recall, f1, support[label])
    macro_f1 = sum(s.f1 for s in per_opd.values()) / len(per_opd) if per_opd else 0.0
    return Report(
        examples=n,
        accuracy=_ratio(correct, n),
        macro_f1=macro_f1,
        triage_rate=_ratio(n - len(routed), n),
        routed_accuracy=_ratio(routed_correct, len(routed)),
        per_opd=per_opd,
    )


def decide(proba: Mapping[str, float], *, threshold: float, margin: float) -> str:
    """The top class, or TRIASE when it is below the threshold or too close to the runner-up."""
    ranked = sorted(proba.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked:
        return TRIASE
    best, p1 = ranked[0]
    p2 = ranked[1][1] if len(ranked) > 1 else 0.0
    return best if p1 >= threshold and p1 - p2 >= margin else TRIASE


def evaluate(
    model: Model, examples: Iterable[Example], *, threshold: float = 0.5, margin: float = 0.0
) -> Report:
    """The model on its own (no rules, no category): its answer against each example's label."""
    return score(
        (
            label_of(e.opd),
            decide(model.predict_proba(nlp.features(e.text)), threshold=threshold, margin=margin),
        )
        for e in examples
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
