"""Phrase rules: weighted phrases per unit, matched on word stems, with negative cues.

The catalogue's keywords (OPDs, categories, referrals) and OPD names, the lexicon of
programmes, documents and institutions (`data/lexicon.json`) and `data/rules.json` are compiled
into one rule book per catalogue. Of overlapping matches the longest phrase wins (`kis pbi`
over `kis`); per unit the strongest phrase counts fully and each further one half; a phrase
right after a locative (`depan rumah sakit`) names the place, not the matter, and counts half.
Pairs (`rules.json` "pairs") find an object and its state a few words apart: citizens put the
place between them (`jalan depan SMA negeri yang rusak`), which no adjacent phrase sees.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

from services.routing.classification import text as nlp
from services.routing.classification.examples import KECAMATAN
from services.routing.classification.lexicon import Lexicon, packaged_lexicon
from shared.catalogue import LUAR_KEWENANGAN, TRIASE, Catalogue, Referral

RULES_FILE: Final = Path(__file__).resolve().parent.parent / "data" / "rules.json"
FURTHER_MATCHES: Final = 0.5  # a target's second and later phrases count half
LOCATIVE_FACTOR: Final = 0.5  # a phrase that only names the place ("depan sekolah") counts half
NAME_WEIGHT: Final = 2.0


@dataclass(frozen=True)
class Phrase:
    text: str
    stems: tuple[str, ...]
    target: str  # an OPD code, KECAMATAN or LUAR_KEWENANGAN
    weight: float
    kind: str  # "kata kunci", "nama", "rujukan", "kecamatan"
    referral: str | None = None
    unless: tuple[tuple[str, ...], ...] = ()
    # A one-word phrase written as a derived word ("pengadaan", "perumahan", "kekerasan")
    # matches that word only (with particles), not every word of its stem ("ada", "rumah",
    # "keras"): the derivation is the evidence, the root is a common word.
    form: str | None = None


PARTICLES: Final = ("nya", "lah", "kah", "pun")


def light_form(word: str) -> str:
    """A normalised word without a trailing particle (`perizinannya` -> `perizinan`)."""
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 3:
            return word[: -len(particle)]
    return word


def derived_form(text: str, stems: tuple[str, ...]) -> str | None:
    """The derived word a one-word phrase must match as written, or None to match its stem."""
    content = nlp.content_words(nlp.words(text))
    if len(stems) != 1 or len(content) != 1:
        return None
    word = light_form(content[0])
    return word if word != stems[0] else None


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


@dataclass(frozen=True)
class Pair:
    """An object and its state within `window` stems (`jalan ... rusak`), for one target; a
    stem of `unless` near them means another matter (`lampu jalan ... rusak` is street light)."""

    target: str
    objects: frozenset[str]
    states: frozenset[str]
    weight: float
    window: int
    unless: frozenset[str] = frozenset()

    def find(self, stems: Sequence[str]) -> tuple[int, int] | None:
        """The first (object, state) positions, object first, or None."""
        for i, stem in enumerate(stems):
            if stem not in self.objects:
                continue
            for j in range(i + 1, min(len(stems), i + 1 + self.window)):
                if stems[j] in self.states:
                    if not self.unless.intersection(stems[max(0, i - 2) : j]):
                        return i, j
                    break
        return None


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
    desa_names: Mapping[tuple[str, ...], str]  # desa names found in one kecamatan only
    referrals: Mapping[str, Referral]
    pairs: tuple[Pair, ...] = ()

    def match(self, stems: Sequence[str], surface: Sequence[str] | None = None) -> list[Match]:
        """Matches in text order; of overlapping ones the longest (then heaviest) wins.

        `surface` (the words before stemming, one per stem) lets a derived one-word phrase
        match only its own form; without it every phrase matches on stems alone.
        """
        found: list[Match] = []
        for i, first in enumerate(stems):
            for phrase in self.by_first.get(first, ()):
                end = i + len(phrase.stems)
                if tuple(stems[i:end]) != phrase.stems:
                    continue
                if phrase.form and surface is not None and light_form(surface[i]) != phrase.form:
                    continue
                found.append(Match(phrase, i, end))
        found.sort(key=lambda m: (m.start - m.end, -m.phrase.weight, m.start))
        taken = [False] * len(stems)
        spans: set[tuple[int, int]] = set()
        counted: set[tuple[int, int, str]] = set()  # one phrase per span and target
        kept: list[Match] = []
        for m in found:
            if any(_contains(stems, cue) for cue in m.phrase.unless):
                continue
            if (m.start, m.end) not in spans and any(taken[m.start : m.end]):
                continue
            if (m.start, m.end, m.phrase.target) in counted:
                continue
            counted.add((m.start, m.end, m.phrase.target))
            spans.add((m.start, m.end))
            for k in range(m.start, m.end):
                taken[k] = True
            kept.append(m)
        kept.extend(self._pair_matches(stems, kept))
        kept.sort(key=lambda m: (m.start, -m.phrase.weight))
        return kept

    def _pair_matches(self, stems: Sequence[str], phrases: Sequence[Match]) -> list[Match]:
        """Pairs found apart, not where one phrase of their target already holds both."""
        found: list[Match] = []
        for pair in self.pairs:
            where = pair.find(stems)
            if where is None:
                continue
            i, j = where
            if any(m.phrase.target == pair.target and m.start <= i and j < m.end for m in phrases):
                continue
            text = f"{stems[i]} … {stems[j]}"
            phrase = Phrase(text, (stems[i], stems[j]), pair.target, pair.weight, "kata kunci")
            found.append(Match(phrase, i, j + 1))
        return found

    def penalties_in(self, stems: Sequence[str]) -> list[Penalty]:
        return [p for p in self.penalties if _contains(stems, p.stems)]


def _phrase_stems(text: str) -> tuple[str, ...]:
    return tuple(nlp.content_stems(text))


def _default_weight(stems: tuple[str, ...]) -> float:
    return min(2.0, 1.0 + 0.5 * (len(stems) - 1))


LEXICON_WEIGHTS: Final = {"program": 2.5, "dokumen": 2.0, "layanan": 2.0, "lembaga": NAME_WEIGHT}


def compile_rules(
    catalogue: Catalogue, rules: Mapping[str, Any], lexicon: Lexicon | None = None
) -> RuleBook:
    """Phrases from the catalogue's keywords and names, the lexicon, and `rules` (see
    data/rules.json, whose explicit weights win)."""
    unless = {
        _phrase_stems(p): tuple(_phrase_stems(c) for c in cues)
        for p, cues in rules.get("unless", {}).items()
    }
    table: dict[tuple[tuple[str, ...], str, str | None], Phrase] = {}

    def add(
        text: str, target: str, weight: float | None, kind: str, referral: str | None = None
    ) -> None:
        stems = _phrase_stems(text)
        if not stems or (len(stems) == 1 and len(nlp.words(text)) > 1):
            return  # nothing left, or a phrase that lost its context to stopwords
        if all(w in nlp.NEGATIONS for w in nlp.words(text)):
            return  # an acronym chat shorthand reads as a negation ("bkn" is "bukan")
        form = derived_form(text, stems)
        key = (stems, target, form)
        w = _default_weight(stems) if weight is None else weight
        old = table.get(key)
        if weight is None and old is not None:
            return  # an explicit weight from rules.json stays
        if kind == "nama" or old is None or weight is not None:
            table[key] = Phrase(
                text,
                stems,
                target,
                w,
                kind,
                referral,
                unless.get(stems, ()),
                form,
            )

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
    for entry in (lexicon or packaged_lexicon()).entries:
        if entry.opd in known:
            kind = "nama" if entry.kind == "lembaga" else "kata kunci"
            add(entry.term, entry.opd, LEXICON_WEIGHTS[entry.kind], kind)
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
    known_pairs = tuple(
        Pair(
            target=code,
            objects=frozenset(s for w in p["objects"] for s in _phrase_stems(w)),
            states=frozenset(s for w in p["states"] for s in _phrase_stems(w)),
            weight=float(p["weight"]),
            window=int(p["window"]),
            unless=frozenset(s for w in p.get("unless", []) for s in _phrase_stems(w)),
        )
        for code, pairs in rules.get("pairs", {}).items()
        if code in known
        for p in pairs
    )
    kecamatan_names: dict[tuple[str, ...], str] = {}
    desa: dict[tuple[str, ...], set[str]] = {}
    for region in catalogue.regions:
        spoken = tuple(nlp.words(region.name))
        kecamatan_names[spoken] = region.code
        kecamatan_names[("".join(spoken),)] = region.code
        for name in region.desa:
            desa.setdefault(tuple(nlp.words(name)), set()).add(region.code)
    return RuleBook(
        version=str(rules.get("version", "rules")),
        by_first={k: tuple(sorted(v, key=lambda p: -len(p.stems))) for k, v in by_first.items()},
        penalties=penalties,
        kecamatan_names=kecamatan_names,
        desa_names={name: next(iter(codes)) for name, codes in desa.items() if len(codes) == 1},
        referrals={r.code: r for r in catalogue.referrals},
        pairs=known_pairs,
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


def kecamatan_in_text(words: Sequence[str], rules: RuleBook) -> tuple[str, str] | None:
    """A kecamatan named in the text, and how: after `kecamatan`/`camat` (`kec. ciruas`,
    `camat kopo`), or a desa of one kecamatan only after `desa`/`kelurahan` (`ds. bugel`)."""
    for i, word in enumerate(words):
        if word in ("kecamatan", "camat"):
            names, how = rules.kecamatan_names, "kecamatan"
        elif word in ("desa", "kelurahan"):
            names, how = rules.desa_names, "desa"
        else:
            continue
        for name, code in names.items():
            if tuple(words[i + 1 : i + 1 + len(name)]) == name:
                return code, f"{how} {' '.join(name)}"
    return None


def best_referral(matches: Sequence[Match], stems: Sequence[str], rules: RuleBook) -> str | None:
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


def points(
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
