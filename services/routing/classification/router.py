"""The routing decision: from text, category and location to a unit, with reasons.

`classify` weighs four kinds of evidence and explains each in Bahasa Indonesia:
- the text classifier (`model.LinearModel`), trained on the labelled corpus: a probability per
  unit, and the citizen's words that pointed to the winner;
- phrase rules with weights and negative cues (`rules`): the catalogue's keywords, the lexicon
  of programmes and documents, and `data/rules.json`; OPD names in the text; out-of-authority
  matters (`LUAR_KEWENANGAN` with the catalogue's referral advice);
- the category the citizen chose: a prior that clear text evidence can override;
- the location: kecamatan offices are one kind of matter, and the ticket's kecamatan (or its
  desa, or one named in the text) picks the office. Without one, the admin decides.
Below the confidence threshold, or with two candidates too close, the answer is `TRIASE` with
the top candidates as alternatives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, Protocol

from services.routing.classification import rules as rulebook
from services.routing.classification import text as nlp
from services.routing.classification.examples import KECAMATAN, Example, packaged_examples
from services.routing.classification.lexicon import Lexicon, packaged_lexicon
from services.routing.classification.model import (
    DEFAULT_SETTINGS,
    LinearModel,
    Settings,
    featurise,
    training_version,
)
from services.routing.classification.model import train as train_linear
from services.routing.classification.rules import Match, Penalty, RuleBook, rule_book
from services.routing.classification.scoring import Report, score
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, Catalogue

DEFAULT_MARGIN: Final = 0.1  # the top candidate must lead the runner-up by this much
# Evidence is combined log-linearly: a candidate's logit is the sum of its evidence, and the
# confidence is its softmax share. Rule weights are in "points"; each point is worth
# RULE_LOGIT nats. The category multiplies the odds of its OPD by e^CATEGORY_LOGIT.
MODEL_LOGIT: Final = 1.0  # exponent on the classifier's probability
RULE_LOGIT: Final = 0.6
CATEGORY_LOGIT: Final = 5.0
UNKNOWN_LOGIT: Final = 1.0  # "none of these" when no classifier speaks: 1 point of doubt
PROBABILITY_FLOOR: Final = 1e-4
UNKNOWN: Final = "?"
MAX_ALTERNATIVES: Final = 3
MIN_ALTERNATIVE: Final = 0.05


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
    model: str = "rules"
    # What decided it (a metric label): rules, classifier, category, location, citizen, triage.
    method: str = "rules"


def _no_words(label: str) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class Judgement:
    """What a text model says about one text."""

    probabilities: Mapping[str, float]  # empty when the model knows no word of the text
    explain: Callable[[str], Sequence[str]] = _no_words  # a class -> the words pointing there


class TextModel(Protocol):
    """A trained text classifier the router can consult."""

    @property
    def version(self) -> str: ...

    def judge(self, analysis: nlp.Analysis) -> Judgement:
        """Probabilities per class, and how to explain one of them."""
        ...


@dataclass(frozen=True)
class LinearTextModel:
    """The router's text model: the linear classifier and the lexicon it was trained with."""

    linear: LinearModel
    lexicon: Lexicon

    @property
    def version(self) -> str:
        return self.linear.version

    def judge(self, analysis: nlp.Analysis) -> Judgement:
        if self.linear.settings.stemmer != "rules":
            stemmer = nlp.sastrawi_stem
            analysis = nlp.Analysis(
                analysis.words, analysis.surface, tuple(stemmer(w) for w in analysis.surface)
            )
        features = featurise(analysis, self.lexicon)
        if not self.linear.knows(features):
            return Judgement({})
        return Judgement(
            self.linear.probabilities(features),
            lambda label: self.linear.evidence(analysis, features, label),
        )


# Training data and models.


def catalogue_examples(catalogue: Catalogue) -> list[Example]:
    """Extra training documents from the catalogue: each keyword and description, labelled."""
    out: list[Example] = []
    seen_kecamatan = False
    for opd in catalogue.opds:
        if opd.code.startswith("KEC-"):
            if seen_kecamatan:
                continue
            seen_kecamatan = True
        label = KECAMATAN if opd.code.startswith("KEC-") else opd.code
        out.append(Example(opd.description, label))
        out.extend(Example(k, label) for k in opd.keywords)
    for category in catalogue.categories:
        if category.opd != TRIASE:
            out.append(Example(". ".join([category.name, *category.keywords]), category.opd))
    for referral in catalogue.referrals:
        out.extend(Example(k, LUAR_KEWENANGAN) for k in referral.keywords)
    return out


def complaint_text(title: str | None, description: str) -> str:
    """The text the router reads: title and description, as live routing joins them."""
    return " ".join(filter(None, [title, description]))


def training_example(
    *,
    title: str | None,
    description: str,
    category: str | None,
    kecamatan: str | None,
    opd: str,
) -> Example:
    """A labelled example from a ticket and the unit it belongs to (e.g. after a transfer)."""
    return Example(complaint_text(title, description), opd, category, kecamatan)


def train_router_model(
    examples: Iterable[Example],
    catalogue: Catalogue,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    lexicon: Lexicon | None = None,
) -> LinearTextModel:
    """The classifier trained on labelled examples plus the catalogue's own vocabulary."""
    lex = lexicon or packaged_lexicon()
    data = [*examples, *catalogue_examples(catalogue)]
    return LinearTextModel(train_linear(data, lex, settings), lex)


def training_data_version(
    examples: Iterable[Example],
    catalogue: Catalogue,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    lexicon: Lexicon | None = None,
) -> str:
    """The version `train_router_model` would give these examples, without training."""
    data = [*examples, *catalogue_examples(catalogue)]
    return training_version(data, settings, lexicon or packaged_lexicon())


@cache
def default_model() -> LinearTextModel:
    """The model trained on the packaged corpus and catalogue (built once per process).

    Routing loads a trained copy from its model cache instead when it has one
    (`services.routing.model_cache`); this is the same model, trained here.
    """
    from shared.catalogue import packaged_catalogue

    return train_router_model(packaged_examples(), packaged_catalogue())


# Classification.


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def _quoted(phrases: Iterable[str]) -> str:
    return ", ".join(f"'{p}'" for p in phrases)


def _resolve_kecamatan(
    kecamatan: str | None,
    desa: str | None,
    words: Sequence[str],
    catalogue: Catalogue,
    book: RuleBook,
) -> tuple[str | None, str]:
    """The KEC- code of the office: the ticket's kecamatan, else its desa, else the text."""
    if kecamatan:
        region = catalogue.region(kecamatan)
        if region is not None:
            return region.code, f"lokasi laporan: Kecamatan {region.name}"
    if desa:
        code = book.desa_names.get(tuple(nlp.words(desa)))
        region = catalogue.region(code) if code else None
        if region is not None:
            return region.code, f"desa laporan {desa} di Kecamatan {region.name}"
    found = rulebook.kecamatan_in_text(words, book)
    if found is not None:
        code, how = found
        region = catalogue.region(code)
        name = region.name if region else code
        return code, f"disebut dalam teks: {how} (Kecamatan {name})"
    return None, ""


def _softmax(logits: Mapping[str, float]) -> list[tuple[float, str]]:
    top = max(logits.values())
    exps = {t: math.exp(v - top) for t, v in logits.items()}
    total = sum(exps.values())
    return sorted(((e / total, t) for t, e in exps.items()), key=lambda item: (-item[0], item[1]))


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence counts (see the module's notes)."""

    model: float = MODEL_LOGIT
    rule: float = RULE_LOGIT
    category: float = CATEGORY_LOGIT


# Without a text model the rules carry the decision alone, with the weights they were tuned
# with before the classifier existed.
RULES_ONLY: Final = Weights(model=0.0, rule=1.2, category=4.0)


def classify(
    *,
    text: str,
    category: str | None,
    kecamatan: str | None,
    catalogue: Catalogue,
    threshold: float,
    model: TextModel | None,
    margin: float = DEFAULT_MARGIN,
    rules: Mapping[str, Any] | None = None,
    desa: str | None = None,
    weights: Weights | None = None,
) -> Classification:
    """Choose the responsible unit for a complaint, with a confidence and reasons.

    `kecamatan` and `desa` are the ticket's location (code or name), `model` the text
    classifier (None: rules, category and location only), `rules` the phrase rules (None:
    data/rules.json), `weights` how the evidence combines (None: the defaults, or `RULES_ONLY`
    without a model).
    """
    if weights is None:
        weights = Weights() if model is not None else RULES_ONLY
    book = rule_book(catalogue, rules)
    analysis = nlp.analyse(text)
    stems = list(analysis.stems)
    matches = book.match(stems, analysis.surface)
    penalties = book.penalties_in(stems)
    points = rulebook.points(matches, penalties, stems)
    judgement = model.judge(analysis) if model is not None else Judgement({})
    proba = judgement.probabilities
    informed = bool(proba)
    chosen = catalogue.category(category) if category else None
    prior = chosen.opd if chosen is not None and chosen.opd != TRIASE else None
    name = _model_name(book, model)

    if not matches and not penalties and not informed and prior is None:
        return Classification(
            opd=TRIASE,
            confidence=0.0,
            reasons=["Tidak ada petunjuk yang dikenali; perlu triase admin"],
            model=name,
            method="triage",
        )
    targets = set(points) | set(proba) | ({prior} if prior else set())
    if prior is not None:
        targets.discard(TRIASE)  # "too vague to route" is what the chosen category settles
    logits = {
        t: weights.model * math.log(proba.get(t, 0.0) + PROBABILITY_FLOOR) * informed
        + weights.rule * points.get(t, 0.0)
        + (weights.category if t == prior else 0.0)
        for t in targets
    }
    if not informed:
        logits[UNKNOWN] = UNKNOWN_LOGIT * weights.rule
    ranked = _softmax(logits)

    office, office_reason = (None, "")
    if any(target == KECAMATAN for _, target in ranked[: MAX_ALTERNATIVES + 1]):
        office, office_reason = _resolve_kecamatan(kecamatan, desa, analysis.words, catalogue, book)

    def shown(target: str) -> str | None:
        if target == KECAMATAN:
            return office
        return None if target in (UNKNOWN, TRIASE) else target

    best_conf, best = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    words_for_best: Sequence[str] = ()
    if model is not None and informed and best not in (UNKNOWN, TRIASE):
        words_for_best = judgement.explain(best)
    reasons = _reasons(
        best=best,
        chosen_name=chosen.name if chosen is not None else None,
        prior=prior,
        matches=matches,
        surface=analysis.surface,
        penalties=penalties,
        proba=proba,
        model=model,
        words=words_for_best,
    )
    referral: str | None = None
    answer = best
    if best == KECAMATAN:
        if office is None:
            reasons.append("Urusan kantor kecamatan, tetapi kecamatannya tidak diketahui")
            answer = TRIASE
        else:
            reasons.append(f"Urusan administrasi kantor kecamatan; {office_reason} → {office}")
            answer = office
    elif best == LUAR_KEWENANGAN:
        code = rulebook.best_referral(matches, stems, book)
        if code is None:
            reasons.append(
                "Tampak di luar kewenangan daerah, tetapi instansi rujukannya tidak jelas"
            )
            answer = TRIASE
        else:
            ref = book.referrals[code]
            referral = f"{ref.name}: {ref.advice}"
            reasons.append(f"Di luar kewenangan Pemerintah Kabupaten: rujukan ke {ref.name}")
    elif best == TRIASE:
        reasons.append("Isi laporan terlalu umum untuk ditentukan OPD-nya; perlu triase admin")
        answer = TRIASE
    elif best == UNKNOWN:
        reasons.append("Petunjuk terlalu lemah untuk menentukan OPD; perlu triase admin")
        answer = TRIASE

    if answer != TRIASE and best_conf < threshold:
        reasons.append(
            f"Keyakinan {_percent(best_conf)} di bawah ambang {_percent(threshold)}; "
            "perlu triase admin"
        )
        answer, referral = TRIASE, None
    elif answer != TRIASE and best_conf - runner_up < margin:
        second = shown(ranked[1][1]) or "tidak diketahui"
        reasons.append(
            f"Dua kandidat terlalu dekat: {answer} {_percent(best_conf)} dan "
            f"{second} {_percent(runner_up)}; perlu triase admin"
        )
        answer, referral = TRIASE, None

    if answer == TRIASE:
        method = "triage"
    elif best == KECAMATAN:
        method = "location"
    elif best == prior:
        method = "category"
    elif points.get(best, 0.0) > 0:
        method = "rules"
    else:
        method = "classifier" if informed else "rules"
    alternatives = [
        Candidate(code, round(conf, 3))
        for conf, target in ranked
        if (code := shown(target)) is not None and code != answer and conf >= MIN_ALTERNATIVE
    ][:MAX_ALTERNATIVES]
    return Classification(
        opd=answer,
        confidence=round(best_conf, 3),
        reasons=reasons,
        alternatives=alternatives,
        referral=referral,
        model=name,
        method=method,
    )


def _model_name(book: RuleBook, model: TextModel | None) -> str:
    return f"{book.version}+{model.version}" if model is not None else book.version


def _quote(match: Match, surface: Sequence[str]) -> str:
    """The citizen's words of a match; a pair found apart as 'object … state'."""
    words = surface[match.start : match.end]
    if len(words) > len(match.phrase.stems) == 2:
        return f"{words[0]} … {words[-1]}"
    return " ".join(words)


def _reasons(
    *,
    best: str,
    chosen_name: str | None,
    prior: str | None,
    matches: Sequence[Match],
    surface: Sequence[str],
    penalties: Sequence[Penalty],
    proba: Mapping[str, float],
    model: TextModel | None,
    words: Sequence[str],
) -> list[str]:
    """Human-readable evidence for the top candidate, in Bahasa Indonesia."""
    reasons: list[str] = []
    label = "kantor kecamatan" if best == KECAMATAN else best
    if prior is not None and chosen_name is not None:
        if prior == best:
            reasons.append(f"Kategori dipilih: {chosen_name} → {prior}")
        else:
            reasons.append(
                f"Kategori dipilih ({chosen_name} → {prior}) dikesampingkan: "
                f"isi laporan lebih kuat menunjuk {label}"
            )
    supporting = [m for m in matches if m.phrase.target == best]
    names = [" ".join(surface[m.start : m.end]) for m in supporting if m.phrase.kind == "nama"]
    keywords = [_quote(m, surface) for m in supporting if m.phrase.kind != "nama"]
    if names:
        reasons.append(f"OPD disebut dalam teks: {_quoted(dict.fromkeys(names))} → {label}")
    if keywords:
        shown = list(dict.fromkeys(keywords))[:4]
        if best == LUAR_KEWENANGAN:
            reasons.append(f"Kata kunci di luar kewenangan daerah: {_quoted(shown)}")
        else:
            reasons.append(f"Kata kunci: {_quoted(shown)} → {label}")
    for p in penalties:
        if p.target == best:
            reasons.append(f"Petunjuk negatif: '{p.text}' melemahkan {p.target}")
    if model is not None and proba:
        p_best = proba.get(best, 0.0)
        because = f" (kata penentu: {_quoted(words)})" if words else ""
        reasons.append(f"Model statistik {model.version}: {label} {_percent(p_best)}{because}")
    return reasons


def evaluate_router(
    examples: Iterable[Example],
    *,
    catalogue: Catalogue,
    model: TextModel | None,
    threshold: float,
    margin: float = DEFAULT_MARGIN,
) -> Report:
    """The whole router (rules, category, location, model) against labelled examples."""
    return score(
        (
            (e.opd,),
            classify(
                text=e.text,
                category=e.category,
                kecamatan=e.kecamatan,
                catalogue=catalogue,
                threshold=threshold,
                model=model,
                margin=margin,
            ).opd,
        )
        for e in examples
    )
