"""Search over tickets without text indexes: an indexed array of normalised words per ticket."""

from __future__ import annotations

import re
import unicodedata

MIN_LENGTH = 3
MAX_TOKENS = 200


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _fold(text)) if len(w) >= MIN_LENGTH]


def search_tokens(*texts: str | None) -> list[str]:
    """The distinct words of the texts (lower case, accents folded), for a multikey index."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in words(text or ""):
            seen.setdefault(word, None)
    return list(seen)[:MAX_TOKENS]


def query_tokens(query: str) -> list[str]:
    """The words of a search box query; a ticket matches when it has all of them."""
    return list(dict.fromkeys(words(query)))
