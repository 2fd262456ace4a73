"""The router's text classifier: a linear model over word and character n-grams.

A text (a `text.Analysis`) becomes three groups of features:
- `w`: the stems and the bigrams of adjacent stems (`jalan`, `lubang`, `jalan_lubang`);
- `c`: character 3- to 5-grams inside each content word before stemming (` ber`, `lobang `),
  which carry misspellings and derivations never seen in training (`berlobang`, `dibenerin`)
  towards the words they resemble;
- `x`: the lexicon's entries found in the text (`program:DINSOS`, `dokumen:DISDUKCAPIL`), so
  that a programme named by an acronym the corpus rarely uses still counts for its unit.
Each group is TF-IDF weighted (sublinear TF, smoothed IDF), L2-normalised and scaled by its
group weight. scikit-learn's multinomial logistic regression learns the weights; inference is a
numpy dot product over the features present, so a stored model needs only numpy to score.

Deterministic: the same examples and settings give the same model and the same version
(`lr-` + 8 hex digits of a hash over both). `to_bytes`/`from_bytes` store a model as a numpy
archive without pickled objects, small enough for GridFS.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from services.routing.classification import text as nlp
from services.routing.classification.examples import Example, label_of
from services.routing.classification.lexicon import Lexicon

ALGORITHM: Final = "tfidf-logreg-1"
GROUPS: Final = ("w", "c", "x")
CHAR_SIZES: Final = (3, 4, 5)
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Settings:
    """What a model is trained with; part of its version."""

    c: float = 10.0  # inverse L2 regularisation strength
    class_weight: str | None = "balanced"  # the corpus is not a sample of real mail
    group_weights: tuple[float, float, float] = (1.0, 1.0, 0.5)  # w, c, x
    char_min_df: int = 2  # a character n-gram must occur in this many texts
    word_min_df: int = 1
    stemmer: str = "rules"  # "rules" (text.stem) or "sastrawi"
    max_iter: int = 300
    tol: float = 1e-3  # the solver's stopping tolerance (1e-4 doubles training time)


DEFAULT_SETTINGS: Final = Settings()


def stemmer_of(settings: Settings) -> Callable[[str], str]:
    return nlp.sastrawi_stem if settings.stemmer == "sastrawi" else nlp.stem


def char_grams(word: str) -> list[str]:
    """The character 3- to 5-grams of one word, with a space marking each end."""
    padded = f" {word} "
    out: list[str] = []
    for n in CHAR_SIZES:
        if len(padded) <= n:
            out.append(padded)
            break
        out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def _address(word: str) -> bool:
    """A word of an address ("RT 06 RW 09 Desa Sukamaju"): nearly every real complaint carries
    one, so alone it says nothing about the matter, only beside another word ("kantor desa")."""
    return word in nlp.ADDRESS_WORDS or word.isdigit()


def featurise(analysis: nlp.Analysis, lexicon: Lexicon) -> dict[str, list[str]]:
    """The features of an analysed text, per group (address words only in pairs)."""
    stems = analysis.stems
    words = [s for s in stems if not _address(s)]
    pairs = [f"{a}_{b}" for a, b in pairwise(stems) if not (_address(a) and _address(b))]
    chars = [g for word in analysis.surface if not _address(word) for g in char_grams(word)]
    return {
        "w": [*words, *pairs],
        "c": chars,
        "x": [f"{hit.kind}:{hit.opd}" for hit in lexicon.find(analysis.words)],
    }


@dataclass(frozen=True)
class LinearModel:
    """A trained classifier: per feature a column, per class a row of weights."""

    version: str
    classes: tuple[str, ...]
    columns: Mapping[str, int]  # "<group>|<feature>" -> column
    idf: Floats
    coef: Floats  # (classes, columns)
    intercept: Floats
    settings: Settings = field(default_factory=Settings)
    trained_on: int = 0

    def _vector(self, features: Mapping[str, Sequence[str]]) -> tuple[list[int], Floats]:
        cols: list[int] = []
        vals: list[float] = []
        for group, weight in zip(GROUPS, self.settings.group_weights, strict=True):
            counts = Counter(self.columns.get(f"{group}|{f}", -1) for f in features.get(group, ()))
            counts.pop(-1, None)
            if not counts:
                continue
            block = [(col, (1.0 + math.log(n)) * float(self.idf[col])) for col, n in counts.items()]
            norm = math.sqrt(sum(v * v for _, v in block))
            for col, v in block:
                cols.append(col)
                vals.append(weight * v / norm)
        return cols, np.asarray(vals, dtype=np.float32)

    def scores(self, features: Mapping[str, Sequence[str]]) -> Floats:
        cols, vals = self._vector(features)
        if not cols:
            return self.intercept.copy()
        result: Floats = self.intercept + self.coef[:, cols] @ vals
        return result

    def knows(self, features: Mapping[str, Sequence[str]]) -> bool:
        """Whether any word feature of the text was seen in training."""
        return any(f"w|{f}" in self.columns for f in features.get("w", ()))

    def probabilities(self, features: Mapping[str, Sequence[str]]) -> dict[str, float]:
        """Class probabilities (softmax of the linear scores), summing to 1."""
        s = self.scores(features).astype(np.float64)
        e = np.exp(s - s.max())
        p = e / e.sum()
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}

    def evidence(
        self, analysis: nlp.Analysis, features: Mapping[str, Sequence[str]], label: str, n: int = 4
    ) -> list[str]:
        """The citizen's words that pushed most towards `label`, strongest first.

        A word's push is the weight of its stem and bigrams plus that of its character n-grams,
        so an officer sees "'bansos', 'cair'" rather than n-grams.
        """
        if label not in self.classes:
            return []
        row = self.coef[self.classes.index(label)]
        cols, vals = self._vector(features)
        contribution = dict(zip(cols, (row[cols] * vals).tolist(), strict=True))
        push: Counter[str] = Counter()
        for word, stem in zip(analysis.surface, analysis.stems, strict=True):
            push[word] += contribution.get(self.columns.get(f"w|{stem}", -1), 0.0)
            grams = char_grams(word)
            push[word] += sum(contribution.get(self.columns.get(f"c|{g}", -1), 0.0) for g in grams)
        return [w for w, v in push.most_common(n) if v > 0]

    def to_bytes(self) -> bytes:
        """The model as a compressed numpy archive (no pickled objects)."""
        buffer = io.BytesIO()
        names = sorted(self.columns, key=self.columns.__getitem__)
        meta = {
            "algorithm": ALGORITHM,
            "version": self.version,
            "trained_on": self.trained_on,
            "settings": asdict(self.settings),
        }
        np.savez_compressed(
            buffer,
            meta=np.array(json.dumps(meta)),
            classes=np.array(self.classes),
            features=np.array(names),
            idf=self.idf,
            coef=self.coef,
            intercept=self.intercept,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            if meta.get("algorithm") != ALGORITHM:
                raise ValueError(f"unknown model algorithm {meta.get('algorithm')!r}")
            raw = meta["settings"]
            settings = Settings(**{**raw, "group_weights": tuple(raw["group_weights"])})
            return cls(
                version=str(meta["version"]),
                classes=tuple(str(c) for c in archive["classes"]),
                columns={str(f): i for i, f in enumerate(archive["features"])},
                idf=archive["idf"].astype(np.float32),
                coef=archive["coef"].astype(np.float32),
                intercept=archive["intercept"].astype(np.float32),
                settings=settings,
                trained_on=int(meta["trained_on"]),
            )


def training_version(examples: Sequence[Example], settings: Settings, lexicon: Lexicon) -> str:
    """`lr-` and 8 hex digits of a hash over the algorithm, settings, lexicon and data."""
    canonical = json.dumps(
        [
            ALGORITHM,
            asdict(settings),
            lexicon.version,
            sorted((e.text, label_of(e.opd)) for e in examples),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "lr-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


def train(
    examples: Iterable[Example], lexicon: Lexicon, settings: Settings = DEFAULT_SETTINGS
) -> LinearModel:
    """Fit the classifier (deterministic: sorted data, a deterministic solver)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    data = sorted(examples, key=lambda e: (label_of(e.opd), e.text))
    if not data:
        raise ValueError("cannot train on no examples")
    stemmer = stemmer_of(settings)
    docs = [featurise(nlp.analyse(e.text, stemmer=stemmer), lexicon) for e in data]
    labels = [label_of(e.opd) for e in data]
    min_df = {"w": settings.word_min_df, "c": settings.char_min_df, "x": 1}
    columns: dict[str, int] = {}
    df: list[int] = []
    for group in GROUPS:
        counts: Counter[str] = Counter()
        for doc in docs:
            counts.update(set(doc[group]))
        for feature in sorted(f for f, n in counts.items() if n >= min_df[group]):
            columns[f"{group}|{feature}"] = len(df)
            df.append(counts[feature])
    n_docs = len(docs)
    idf = np.asarray([math.log((1 + n_docs) / (1 + d)) + 1.0 for d in df], dtype=np.float32)
    empty = np.zeros(0, dtype=np.float32)
    model = LinearModel("", (), columns, idf, np.zeros((0, len(df)), np.float32), empty, settings)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, doc in enumerate(docs):
        c, v = model._vector(doc)
        rows.extend([i] * len(c))
        cols.extend(c)
        vals.extend(v.tolist())
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n_docs, len(df)), dtype=np.float64)
    classifier = LogisticRegression(
        C=settings.c,
        class_weight=settings.class_weight,
        max_iter=settings.max_iter,
        tol=settings.tol,
    )
    classifier.fit(matrix, labels)
    return LinearModel(
        version=training_version(data, settings, lexicon),
        classes=tuple(str(c) for c in classifier.classes_),
        columns=columns,
        idf=idf,
        coef=classifier.coef_.astype(np.float32),
        intercept=classifier.intercept_.astype(np.float32),
        settings=settings,
        trained_on=n_docs,
    )


def settings_from(values: Mapping[str, Any]) -> Settings:
    """Settings from a plain mapping (an evaluation's grid), the defaults for the rest."""
    merged = {**asdict(DEFAULT_SETTINGS), **values}
    merged["group_weights"] = tuple(merged["group_weights"])
    return Settings(**merged)
