"""Pure routing rules: from text, category and location to an OPD with reasons.

`classify` weighs four kinds of evidence and explains each in Bahasa Indonesia:
- the category the citizen chose (a strong prior that clear text evidence can override);
- phrase rules with weights and negative cues: the catalogue's keywords plus
  `data/rules.json`, where the longest matching phrase wins (`kis pbi` over `kis`);
- OPDs named in the text (`dlh`, `satpol pp`, `dinas sosial`) and out-of-authority matters
  (`LUAR_KEWENANGAN` with the catalogue's referral advice);
- a statistical classifier (`services.routing.classifier`) trained on labelled examples.
Kecamatan offices are one kind of matter; the ticket's kecamatan (or one named in the text)
picks the office. Below the confidence threshold, or with two candidates too close, the answer
is `TRIASE` with the top candidates as alternatives.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

from services.routing import nlp
from services.routing.classifier import KECAMATAN, Example, Model, Report, packaged_examples
from services.routing.classifier import score as score_outcomes
from services.routing.classifier import train as train_model
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, Catalogue, Referral
from shared.tickets import TicketStatus
from shared.workdays import WorkCalendar

RULES_FILE: Final = Path(__file__).parent / "data" / "rules.json"
FOLLOW_UP_WORKING_DAYS = 5  # the OPD's follow-up after assignment
TRIAGE_WORKING_DAYS = 3  # the admin side's routing after submission

DEFAULT_MARGIN: Final = 0.1  # the top candidate must lead the runner-up by this much
# Evidence is combined log-linearly: a candidate's logit is the sum of its evidence, and the
# confidence is its softmax share. Rule weights are in "points"; each point is worth
# RULE_LOGIT nats. The category multiplies the odds of its OPD by e^CATEGORY_LOGIT.
MODEL_LOGIT: Final = 0.7  # exponent on the classifier's probability (< 1: trust it a bit less)
RULE_LOGIT: Final = 1.2
CATEGORY_LOGIT: Final = 4.0
FURTHER_MATCHES: Final = 0.5  # a target's second and later phrases count half
LOCATIVE_FACTOR: Final = 0.5  # a phrase that only names the place ("depan sekolah") counts half
UNKNOWN_LOGIT: Final = 1.0  # "none of these" when no classifier speaks: 1 point of doubt
PROBABILITY_FLOOR: Final = 1e-4
UNKNOWN: Final = "?"
NAME_WEIGHT: Final = 2.0
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


# The rule book: phrases compiled to stem sequences.


@dataclass(frozen=True)
class Phrase:
    text: str
    stems: tuple[str, ...]
    target: str  # an OPD code, KECAMATAN or LUAR_KEWENANGAN
    weight: float
    kind: str  # "kata kunci", "nama", "rujukan", "kecamatan"
    referral: str | None = None
    unless: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Penalty:
    text: str
    stems: tuple[str, ...]
    target: str
    weight: float


@dataclass(frozen=True)
class Match:
    phrase: Phrase
    start: int
    end: int


def _contains(stems: Sequence[str], cue: tuple[str, ...]) -> bool:
    """Whether the stem sequence holds `cue` as consecutive stems."""
    if cue[0] not in stems:
        return False
    n = len(cue)
    return any(tuple(stems[i : i + n]) == cue for i in range(len(stems) - n + 1))


@dataclass(frozen=True)
class RuleBook:
    """Compiled phrase rules for one catalogue; `match` finds the non-overlapping evidence."""

    version: str
    by_first: Mapping[str, tuple[Phrase, ...]]
    penalties: tuple[Penalty, ...]
    kecamatan_names: Mapping[tuple[str, ...], str]
    referrals: Mapping[str, Referral]

    def match(self, stems: Sequence[str]) -> list[Match]:
        """Matches in text order; of overlapping ones the longest (then heaviest) wins."""
        found: list[Match] = []
        for i, first in enumerate(stems):
            for phrase in self.by_first.get(first, ()):
                end = i + len(phrase.stems)
                if tuple(stems[i:end]) == phrase.stems:
                    found.append(Match(phrase, i, end))
        found.sort(key=lambda m: (m.start - m.end, -m.phrase.weight, m.start))
        taken = [False] * len(stems)
        spans: set[tuple[int, int]] = set()
        kept: list[Match] = []
        for m in found:
            if any(_contains(stems, cue) for cue in m.phrase.unless):
                continue
            if (m.start, m.end) not in spans and any(taken[m.start : m.end]):
                continue
            spans.add((m.start, m.end))
            for k in range(m.start, m.end):
                taken[k] = True
            kept.append(m)
        kept.sort(key=lambda m: (m.start, -m.phrase.weight))
        return kept

    def penalties_in(self, stems: Sequence[str]) -> list[Penalty]:
        return [p for p in self.penalties if _contains(stems, p.stems)]


def _phrase_stems(text: str) -> tuple[str, ...]:
    return tuple(nlp.content_stems(text))


def _default_weight(stems: tuple[str, ...]) -> float:
    return min(2.0, 1.0 + 0.5 * (len(stems) - 1))


def compile_rules(catalogue: Catalogue, rules: Mapping[str, Any]) -> RuleBook:
    """Phrases from the catalogue's keywords and names plus `rules` (see data/rules.json)."""
    unless = {
        _phrase_stems(p): tuple(_phrase_stems(c) for c in cues)
        for p, cues in rules.get("unless", {}).items()
    }
    table: dict[tuple[tuple[str, ...], str], Phrase] = {}

    def add(
        text: str, target: str, weight: float | None, kind: str, referral: str | None = None
    ) -> None:
        stems = _phrase_stems(text)
        if not stems or (len(stems) == 1 and len(nlp.words(text)) > 1):
            return  # nothing left, or a phrase that lost its context to stopwords
        key = (stems, target)
        w = _default_weight(stems) if weight is None else weight
        old = table.get(key)
        if weight is None and old is not None:
            return  # an explicit weight from rules.json stays
        if kind == "nama" or old is None or weight is not None:
            table[key] = Phrase(text, stems, target, w, kind, referral, unless.get(stems, ()))

    def target_of(code: str) -> str:
        return KECAMATAN if code.startswith("KEC-") else code

    for opd in catalogue.opds:
        for keyword in opd.keywords:
            kind = "kecamatan" if opd.code.startswith("KEC-") else "kata kunci"
            add(keyword, target_of(opd.code), None, kind)
    for category in catalogue.categories:
        if category.opd != TRIASE:
            for keyword in category.keywords:
                add(keyword, target_of(category.opd), None, "kata kunci")
    for referral in catalogue.referrals:
        for keyword in referral.keywords:
            add(keyword, LUAR_KEWENANGAN, None, "rujukan", referral.code)
    known = {o.code for o in catalogue.opds} | {KECAMATAN}
    for code, phrases in rules.get("opds", {}).items():
        if code in known:
            for text, weight in phrases.items():
                kind = "kecamatan" if code == KECAMATAN else "kata kunci"
                add(text, code, float(weight), kind)
    referral_codes = {r.code for r in catalogue.referrals}
    for code, phrases in rules.get("referrals", {}).items():
        if code in referral_codes:
            for text, weight in phrases.items():
                add(text, LUAR_KEWENANGAN, float(weight), "rujukan", code)
    for opd in catalogue.opds:
        if not opd.code.startswith("KEC-"):
            add(opd.name, opd.code, NAME_WEIGHT, "nama")
    for code, names in rules.get("names", {}).items():
        if code in known:
            for name in names:
                add(name, code, NAME_WEIGHT, "nama")
    by_first: dict[str, list[Phrase]] = {}
    for phrase in table.values():
        if phrase.weight > 0:
            by_first.setdefault(phrase.stems[0], []).append(phrase)
    penalties = tuple(
        Penalty(p["cue"], _phrase_stems(p["cue"]), p["opd"], float(p["weight"]))
        for p in rules.get("penalties", [])
    )
    kecamatan_names: dict[tuple[str, ...], str] = {}
    for region in catalogue.regions:
        spoken = tuple(nlp.words(region.name))
        kecamatan_names[spoken] = region.code
        kecamatan_names[("".join(spoken),)] = region.code
    return RuleBook(
        version=str(rules.get("version", "rules")),
        by_first={k: tuple(sorted(v, key=lambda p: -len(p.stems))) for k, v in by_first.items()},
        penalties=penalties,
        kecamatan_names=kecamatan_names,
        referrals={r.code: r for r in catalogue.referrals},
    )


@cache
def packaged_rules() -> Mapping[str, Any]:
    """The phrase rules shipped with the code (services/routing/data/rules.json)."""
    rules: Mapping[str, Any] = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return rules


class _Compiled:
    """Cache key for compiled rules: the very catalogue and rules objects (they are re-read,
    never mutated), so a lookup costs no hashing of their contents."""

    __slots__ = ("catalogue", "rules")

    def __init__(self, catalogue: Catalogue, rules: Mapping[str, Any]) -> None:
        self.catalogue = catalogue
        self.rules = rules

    def __hash__(self) -> int:
        return hash((id(self.catalogue), id(self.rules)))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Compiled)
            and other.catalogue is self.catalogue
            and other.rules is self.rules
        )


@lru_cache(maxsize=8)
def _compiled(key: _Compiled) -> RuleBook:
    return compile_rules(key.catalogue, key.rules)


def rule_book(catalogue: Catalogue, rules: Mapping[str, Any] | None = None) -> RuleBook:
    """The compiled rules for this catalogue object (cached while the object is in use)."""
    return _compiled(_Compiled(catalogue, packaged_rules() if rules is None else rules))


# The classifier's training data.


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


def train_router_model(examples: Iterable[Example], catalogue: Catalogue) -> Model:
    """The classifier trained on labelled examples plus the catalogue's own vocabulary."""
    return train_model([*examples, *catalogue_examples(catalogue)])


@cache
def default_model() -> Model:
    """The model trained on the packaged examples and catalogue (built once per process)."""
    from shared.catalogue import packaged_catalogue

    return train_router_model(packaged_examples(), packaged_catalogue())


# Classification.


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def _quoted(phrases: Iterable[str]) -> str:
    return ", ".join(f"'{p}'" for p in phrases)


def _kecamatan_in_text(words: Sequence[str], rules: RuleBook) -> str | None:
    """A kecamatan named after `kecamatan`/`camat` in the text (`kec. ciruas`, `camat kopo`)."""
    for i, word in enumerate(words):
        if word not in ("kecamatan", "camat"):
            continue
        for name, code in rules.kecamatan_names.items():
            if tuple(words[i + 1 : i + 1 + len(name)]) == name:
                return code
    return None


def _resolve_kecamatan(
    kecamatan: str | None, words: Sequence[str], catalogue: Catalogue, rules: RuleBook
) -> tuple[str | None, str]:
    """The KEC- code of the office: the ticket's kecamatan first, else one named in the text."""
    if kecamatan:
        region = catalogue.region(kecamatan)
        if region is not None:
            return region.code, f"lokasi laporan: Kecamatan {region.name}"
    code = _kecamatan_in_text(words, rules)
    if code is not None:
        region = catalogue.region(code)
        name = region.name if region else code
        return code, f"disebut dalam teks: Kecamatan {name}"
    return None, ""


def _best_referral(matches: Sequence[Match], stems: Sequence[str], rules: RuleBook) -> str | None:
    """The referral code with the heaviest matched phrases; else the best keyword overlap."""
    weights: dict[str, float] = {}
    for m in matches:
        if m.phrase.referral:
            weights[m.phrase.referral] = weights.get(m.phrase.referral, 0.0) + m.phrase.weight
    if weights:
        return max(sorted(weights), key=lambda code: weights[code])
    present = set(stems)
    overlap = {
        code: sum(1 for k in ref.keywords if set(_phrase_stems(k)) <= present)
        for code, ref in rules.referrals.items()
    }
    best = max(sorted(overlap), key=lambda code: overlap[code], default=None)
    return best if best is not None and overlap[best] > 0 else None


def _rule_scores(
    matches: Sequence[Match], penalties: Sequence[Penalty], stems: Sequence[str]
) -> dict[str, float]:
    """Points per target: the strongest phrase, half of each further one, minus penalties.

    A phrase right after a locative ("depan rumah sakit", "dekat sekolah") names the place of
    the complaint rather than its matter, and counts half.
    """
    weights: dict[str, list[float]] = {}
    seen: set[tuple[str, str]] = set()
    for m in matches:
        key = (m.phrase.target, m.phrase.text)
        if key not in seen:
            seen.add(key)
            place = m.start > 0 and stems[m.start - 1] in nlp.LOCATIVES
            weight = m.phrase.weight * (LOCATIVE_FACTOR if place else 1.0)
            weights.setdefault(m.phrase.target, []).append(weight)
    scores = {
        target: ws[0] + FURTHER_MATCHES * sum(ws[1:])
        for target, ws in ((t, sorted(w, reverse=True)) for t, w in weights.items())
    }
    for p in penalties:
        scores[p.target] = scores.get(p.target, 0.0) - p.weight
    return scores


def _softmax(logits: Mapping[str, float]) -> list[tuple[float, str]]:
    top = max(logits.values())
    exps = {t: math.exp(v - top) for t, v in logits.items()}
    total = sum(exps.values())
    return sorted(((e / total, t) for t, e in exps.items()), key=lambda item: (-item[0], item[1]))


def classify(
    *,
    text: str,
    category: str | None,
    kecamatan: str | None,
    catalogue: Catalogue,
    threshold: float,
    model: Model | None,
    margin: float = DEFAULT_MARGIN,
    rules: Mapping[str, Any] | None = None,
) -> Classification:
    """Choose the responsible unit for a complaint, with a confidence and reasons.

    `kecamatan` is the ticket's location (code or name), `model` the text classifier (None:
    rules, category and location only), `rules` the phrase rules (None: data/rules.json).
    """
    book = rule_book(catalogue, rules)
    words = nlp.words(text)
    surface = nlp.content_words(words)
    stems = [nlp.stem(w) for w in surface]
    matches = book.match(stems)
    penalties = book.penalties_in(stems)
    points = _rule_scores(matches, penalties, stems)
    informed = model is not None and bool(model.known(stems))
    proba = model.predict_proba(stems + nlp.bigrams(stems)) if model and informed else {}
    chosen = catalogue.category(category) if category else None
    prior = chosen.opd if chosen is not None and chosen.opd != TRIASE else None
    name = _model_name(book, model)

    if not matches and not penalties and not informed and prior is None:
        return Classification(
            opd=TRIASE,
            confidence=0.0,
            reasons=["Tidak ada petunjuk yang dikenali; perlu triase admin"],
            model=name,
        )
    targets = set(points) | set(proba) | ({prior} if prior else set())
    logits = {
        t: MODEL_LOGIT * math.log(proba.get(t, 0.0) + PROBABILITY_FLOOR) * informed
        + RULE_LOGIT * points.get(t, 0.0)
        + (CATEGORY_LOGIT if t == prior else 0.0)
        for t in targets
    }
    if not informed:
        logits[UNKNOWN] = UNKNOWN_LOGIT * RULE_LOGIT
    ranked = _softmax(logits)

    office, office_reason = (None, "")
    if any(target == KECAMATAN for _, target in ranked[: MAX_ALTERNATIVES + 1]):
        office, office_reason = _resolve_kecamatan(kecamatan, words, catalogue, book)

    def shown(target: str) -> str | None:
        if target == KECAMATAN:
            return office
        return None if target in (UNKNOWN, TRIASE) else target

    best_conf, best = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    reasons = _reasons(
        best=best,
        chosen_name=chosen.name if chosen is not None else None,
        prior=prior,
        matches=matches,
        surface=surface,
        penalties=penalties,
        proba=proba,
        model=model,
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
        code = _best_referral(matches, stems, book)
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
    )


def _model_name(book: RuleBook, model: Model | None) -> str:
    return f"{book.version}+{model.version}" if model is not None else book.version


def _reasons(
    *,
    best: str,
    chosen_name: str | None,
    prior: str | None,
    matches: Sequence[Match],
    surface: Sequence[str],
    penalties: Sequence[Penalty],
    proba: Mapping[str, float],
    model: Model | None,
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
    keywords = [" ".join(surface[m.start : m.end]) for m in supporting if m.phrase.kind != "nama"]
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
        reasons.append(f"Model statistik {model.version}: {label} {_percent(p_best)}")
    return reasons


def evaluate_router(
    examples: Iterable[Example],
    *,
    catalogue: Catalogue,
    model: Model | None,
    threshold: float,
    margin: float = DEFAULT_MARGIN,
) -> Report:
    """The whole router (rules, category, location, model) against labelled examples."""
    return score_outcomes(
        (
            e.opd,
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


def status_after_routing(result: Classification) -> TicketStatus:
    return TicketStatus.TRIAGE if result.opd in (TRIASE, LUAR_KEWENANGAN) else TicketStatus.ROUTED


def due_after_routing(
    status: TicketStatus, *, submitted_at: datetime, routed_at: datetime, calendar: WorkCalendar
) -> datetime:
    """Routed: the OPD's follow-up deadline; in triage: the admin side's routing deadline."""
    if status is TicketStatus.ROUTED:
        return calendar.add_working_days(routed_at, FOLLOW_UP_WORKING_DAYS)
    return calendar.add_working_days(submitted_at, TRIAGE_WORKING_DAYS)
