"""Informal Indonesian complaint text to routing features: normalise, expand, stem.

Citizens write the way they chat: `jln rusak bgt sdh 2 bln gk dibenerin!!!`. This module turns
that into a sequence of word stems (`jalan rusak bulan tidak benar`) and word bigrams, so that
the rule layer and the classifier see one spelling per idea. It also removes what is not the
matter of a complaint: masked personal data (`[NIK]`), links, e-mail addresses, and the
identification fields people type before their story (`NIK: ...`, `No. KK ...`), so that a
citizen who gives their KTP number about a social-aid problem is not sent to Dukcapil.

Everything here is pure and deterministic. The word lists live in `data/text.json`. The stemmer
is a small rule-based affix stripper with a root lexicon that only decides between ambiguous
readings (`pemakaman` is `makam`, not `pakam`); `sastrawi_stem` is the maintained PySastrawi
stemmer, kept for comparison in `make eval-routing`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

DATA_FILE: Final = Path(__file__).resolve().parent.parent / "data" / "text.json"


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def _slang() -> dict[str, str]:
    return {k: v for group in _data()["slang"].values() for k, v in group.items()}


# The word lists of data/text.json, read once at import (a small packaged file).
SLANG: Final[dict[str, str]] = _slang()
LOCATIVES: Final[frozenset[str]] = frozenset(_data()["locatives"])
# Kept in the feature stream: negation changes what a complaint is about ("tidak diangkut").
NEGATIONS: Final[frozenset[str]] = frozenset(_data()["negations"])
STOPWORDS: Final[frozenset[str]] = frozenset(_data()["function_words"]) - NEGATIONS
STEM_EXCEPTIONS: Final[dict[str, str]] = dict(_data()["stem_exceptions"])
ROOT_WORDS: Final[frozenset[str]] = frozenset(_data()["root_words"])
LEGIT_DOUBLES: Final[frozenset[str]] = frozenset(_data()["legit_doubles"])
ADDRESS_WORDS: Final[frozenset[str]] = frozenset(_data()["address_words"])

PREFIX_GUARD: Final = 4  # a prefix is stripped only when at least this many letters remain
SUFFIX_GUARD: Final = 3
BARE_SUFFIX_GUARD: Final = 5  # "-an" without a prefix: "tagihan" -> "tagih", never "jalan"

_TOKEN = re.compile(r"[a-z0-9]+")
_REDUPLICATION = re.compile(r"\b([a-z]{3,})2\b")
_NUMBER_UNIT = re.compile(r"\b(\d+)([a-z]+)\b")
_RUN3 = re.compile(r"([a-z])\1{2,}")
_DOUBLE_END = re.compile(r"([a-z])\1$")
_VOWEL = re.compile(r"[aiueo]")
_PROTECTED_RUNS: Final[frozenset[str]] = frozenset({"pppk", "www"})


def _collapse_repeats(word: str) -> str:
    """`bangettt` -> `banget`, `saaaat` -> `saat`, `tolongg` -> `tolong`; `maaf`, `pbb` stay."""
    if word in _PROTECTED_RUNS or word in LEGIT_DOUBLES:
        return word
    if _RUN3.search(word):
        doubled = _RUN3.sub(r"\1\1", word)
        if doubled in LEGIT_DOUBLES:
            return doubled
        word = _RUN3.sub(r"\1", word)
    if len(word) >= 5 and _DOUBLE_END.search(word) and _VOWEL.search(word):
        word = word[:-1]
    return word


# What is not the matter of a complaint. Masks are how exports hide personal data ("[NIK]",
# "[NOMOR TELEPON DISENSOR]"); identification fields are a document word followed by a value
# ("NIK : 3604...", "no. KK [NIK]", "KTP: ..."): the citizen identifies, the document is not the
# matter. A title glued to its description ("BanjirSampai") is split at the case change.
_MASK = re.compile(r"\[[^\]\n]{1,40}\]")
_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|\b[\w.-]+\.go\.id\S*", re.IGNORECASE)
_ID_FIELD = re.compile(
    r"\b(?:no(?:mor)?\.?\s*)?(?:nik|ktp|e-?ktp|kk|nkk)\s*(?:[:=.]|\bno\.?)?[\s(]*"
    r"(?:\d[\d\s.-]{5,}\d|\u0000)",
    re.IGNORECASE,
)
_GLUED = re.compile(r"([a-z]{3,})([A-Z][a-z]{2,})")
# A citizen's own name, and the region around the place ("Kabupaten Bandung", "Kota
# Samarinda", "Provinsi Banten"), tell nothing about the matter: a capitalised name after an
# introduction or a region word goes. A provincial road ("jalan provinsi") stays.
_NAME = re.compile(
    r"(?P<intro>\b(?i:nama saya|atas nama|saya bernama|perkenalkan,? (?:nama )?saya|"
    r"nama(?: pelapor)?\s*:))\s*(?:[A-Z][\w'.]*\s*){1,4}"
)
_REGION = re.compile(
    r"(?<!jalan )(?<!jln )(?<!jl )\b(?i:kabupaten|kab\.?|kota|provinsi|prov\.?)\s*"
    r"(?:[A-Z][\w-]*\s*){1,3}"
)
_MASKED: Final = " \u0000 "


def _link(match: re.Match[str]) -> str:
    """A link to a government site is evidence (a defaced pemda website); others are noise."""
    return " situs pemerintah " if ".go.id" in match.group().lower() else " "


def clean(text: str) -> str:
    """The text without masked data, links, e-mail addresses and identification fields."""
    text = _GLUED.sub(r"\1 \2", text)
    text = _MASK.sub(_MASKED, text)
    text = _LINK.sub(_link, text)
    text = _NAME.sub(r"\g<intro> ", text)
    text = _REGION.sub(" ", text)
    return _ID_FIELD.sub(" ", text).replace("\u0000", " ")


def words(text: str) -> list[str]:
    """Lower-case words with punctuation and emoji gone, repeats collapsed, slang expanded."""
    folded = clean(text).lower()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _REDUPLICATION.sub(r"\1", folded)
    folded = _NUMBER_UNIT.sub(r"\1 \2", folded)
    out: list[str] = []
    for token in _TOKEN.findall(folded):
        token = _collapse_repeats(token)
        expansion = SLANG.get(token)
        if expansion is None:
            out.append(token)
        elif expansion:
            out.extend(expansion.split())
    return out


def normalise(text: str) -> str:
    """The normalised text as one string of words."""
    return " ".join(words(text))


# Stemming. A reading is one way of undoing one affix; the stemmer explores the readings of a
# word and returns the first that is a known root, or else the most likely reading.

_ONSETS: Final = tuple(
    sorted(["ng", "ny", "kh", "sy", "tr", "pr", "kr", "kl", "pl", "bl", "gr", "sp", "st", "sk"])
)
_VOWELS: Final = "aiueo"


def _plausible(root: str) -> bool:
    """An Indonesian root starts with a vowel, a consonant and a vowel, or a known cluster."""
    if len(root) < PREFIX_GUARD:
        return False
    return root[0] in _VOWELS or root[1] in _VOWELS or root.startswith(_ONSETS)


def _nasal_readings(rest: str, before: str, dropped: str, *, dropped_first: bool) -> list[str]:
    """Readings after a nasal prefix: kept consonant, restored dropped letter, or vowel root."""
    if rest[:1] and rest[0] in before:
        return [rest]
    if rest[:1] and rest[0] in _VOWELS:
        restored = [dropped + rest] if dropped else []
        return [*restored, rest] if dropped_first else [rest, *restored]
    return []


def _prefix_readings(word: str) -> tuple[str, list[str]]:
    """The prefix family of `word` and the possible remainders, most likely first."""
    for head, family in _PREFIXES:
        if not word.startswith(head):
            continue
        rest = word[len(head) :]
        readings = _readings_after(head, rest)
        plausible = [r for r in readings if _plausible(r)]
        if plausible:
            return family, plausible
    return "", []


def _readings_after(head: str, rest: str) -> list[str]:
    first = rest[:1]
    if head in ("meny", "peny"):
        return _nasal_readings(rest, "", "s", dropped_first=True)
    if head in ("meng", "peng"):
        return _nasal_readings(rest, "ghk", "k", dropped_first=False)
    if head in ("mem", "pem"):
        return _nasal_readings(rest, "bfpv", "p", dropped_first=True)
    if head in ("men", "pen"):
        return _nasal_readings(rest, "cdjtsz", "t", dropped_first=True)
    if head in ("per", "ber", "ter"):
        if first and first not in _VOWELS:
            return [rest]
        return ["r" + rest, rest] if head == "per" else [rest, "r" + rest]
    if head == "bel":
        return [rest] if rest.startswith("ajar") else []
    if head == "be":
        return [rest] if rest.startswith("kerja") else []
    if head == "me":
        return [rest] if first and first in "lmnrwy" else []
    if head == "pe":
        return [rest] if first and first in "lmnrwyt" else []
    if head == "se":
        return [rest] if rest in ROOT_WORDS else []
    if head == "ke":
        return [rest] if rest.endswith("an") or rest in ROOT_WORDS else []
    if head == "ng":
        return [rest] if first and first in _VOWELS else []
    return [rest]  # di-


# Longer spellings first; the second item is the family ("me", "pe", ...).
_PREFIXES: Final = (
    ("meny", "me"),
    ("peny", "pe"),
    ("meng", "me"),
    ("peng", "pe"),
    ("mem", "me"),
    ("pem", "pe"),
    ("men", "me"),
    ("pen", "pe"),
    ("per", "pe"),
    ("ber", "be"),
    ("ter", "te"),
    ("bel", "be"),
    ("me", "me"),
    ("pe", "pe"),
    ("be", "be"),
    ("di", "di"),
    ("ke", "ke"),
    ("se", "se"),
    ("ng", "me"),
)
_SUFFIXES: Final = ("kan", "an", "i")


def _suffix_readings(word: str, families: tuple[str, ...]) -> list[str]:
    """Remainders after one derivational suffix; `-i` and short `-an` only after a prefix."""
    prefixed = bool(families)
    order = ("an", "kan", "i") if prefixed and families[0] in ("pe", "ke") else _SUFFIXES
    out: list[str] = []
    for suffix in order:
        if not word.endswith(suffix):
            continue
        rest = word[: -len(suffix)]
        if len(rest) < SUFFIX_GUARD or (suffix == "i" and not prefixed):
            continue
        if suffix == "an" and not prefixed and len(rest) < BARE_SUFFIX_GUARD:
            continue
        out.append(rest)
    return out


def _known(word: str) -> str | None:
    if word in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[word]
    return word if word in ROOT_WORDS else None


def _search(word: str, families: tuple[str, ...], depth: int) -> str | None:
    """The first known root among the readings of `word` (suffix first, then each prefix)."""
    for reading in _suffix_readings(word, families):
        found = _known(reading)
        if found:
            return found
    if depth == 0:
        return None
    family, readings = _prefix_readings(word)
    if not family or family in families:
        return None
    for reading in readings:
        found = _known(reading) or _search(reading, (*families, family), depth - 1)
        if found:
            return found
    return None


def _greedy(word: str) -> str:
    """The most likely reading when no root is known: up to three prefixes, then a suffix."""
    families: tuple[str, ...] = ()
    current = word
    for _ in range(3):
        family, readings = _prefix_readings(current)
        if not family or family in families:
            break
        families = (*families, family)
        current = readings[0]
    if families and families[-1] == "se":
        return current
    options = _suffix_readings(current, families)
    return options[0] if options else current


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one normalised word by Indonesian affix rules; codes and short words stay."""
    known = _known(word)
    if known:
        return known
    if len(word) <= 4 or not word.isalpha():
        return word
    current = word
    for particle in ("lah", "kah", "pun", "tah", "nya"):
        if current.endswith(particle) and len(current) - len(particle) >= SUFFIX_GUARD:
            current = current[: -len(particle)]
            break
    return _known(current) or _search(current, (), 3) or _greedy(current)


def content_words(normalised: list[str]) -> list[str]:
    """The meaningful words among normalised ones: stopwords, numbers and single letters go."""
    return [w for w in normalised if w not in STOPWORDS and not w.isdigit() and len(w) > 1]


def stems_of(normalised: list[str]) -> list[str]:
    """Stems of the meaningful words among normalised ones, in order."""
    return [stem(w) for w in content_words(normalised)]


def content_stems(text: str) -> list[str]:
    """Stems of the meaningful words of a text, in order."""
    return stems_of(words(text))


def bigrams(stems: list[str]) -> list[str]:
    """Adjacent stem pairs, joined with `_`."""
    return [f"{a}_{b}" for a, b in pairwise(stems)]


def features(text: str) -> list[str]:
    """Unigram and bigram features of a text, in order of appearance."""
    stems = content_stems(text)
    return stems + bigrams(stems)


@lru_cache(maxsize=65536)
def sastrawi_stem(word: str) -> str:
    """The stem by PySastrawi (the maintained Indonesian stemmer), for comparison."""
    return _sastrawi().stem(word) or word


@cache
def _sastrawi() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@dataclass(frozen=True)
class Analysis:
    """A text read once for every layer of the router: words, content words and stems."""

    words: tuple[str, ...]  # normalised, slang expanded
    surface: tuple[str, ...]  # the content words among them, before stemming
    stems: tuple[str, ...]  # one per surface word

    @property
    def features(self) -> list[str]:
        return [*self.stems, *bigrams(list(self.stems))]


def analyse(text: str, *, stemmer: Callable[[str], str] = stem) -> Analysis:
    """Normalise, pick the content words and stem them."""
    normalised = words(text)
    surface = content_words(normalised)
    return Analysis(tuple(normalised), tuple(surface), tuple(stemmer(w) for w in surface))
