"""The router's first classifier, TF-IDF weighted multinomial naive Bayes, kept as a baseline.

Pure Python and deterministic. `make eval-routing` scores the router as it was before the
linear model (phrase rules plus this classifier trained on data/examples.jsonl) beside the
router that ships, on the same texts. Live routing does not use it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from services.routing.classification import text as nlp
from services.routing.classification.examples import Example, label_of
from services.routing.classification.router import Judgement
from services.routing.classification.scoring import Report, score
from shared.catalogue import TRIASE

ALGORITHM: Final = "tfidf-mnb-1"
ALPHA: Final = 0.3  # additive smoothing
SHARPNESS: Final = 2.5  # log-likelihoods to calibrated odds (tuned on held-out log-loss)
PRIOR_WEIGHT: Final = 0.0  # 0: uniform class prior (the examples are not a sample of real mail)


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
            (label_of(e.opd),),
            decide(model.predict_proba(nlp.features(e.text)), threshold=threshold, margin=margin),
        )
        for e in examples
    )


@dataclass(frozen=True)
class NaiveBayesTextModel:
    """The baseline as a router text model (`router.TextModel`)."""

    model: Model

    @property
    def version(self) -> str:
        return self.model.version

    def judge(self, analysis: nlp.Analysis) -> Judgement:
        if not self.model.known(list(analysis.stems)):
            return Judgement({})
        return Judgement(self.model.predict_proba(analysis.features))
