"""Search over tickets without text indexes: an indexed array of normalised words per ticket."""

from __future__ import annotations

import re
import unicodedata

MIN_LENGTH = 3
MAX_TOKENS = 200
# FerretDB on PostgreSQL refuses index entries over 2,704 bytes: keep the array well below.
MAX_TOTAL_CHARS = 1800


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _fold(text)) if len(w) >= MIN_LENGTH]


def search_tokens(*texts: str | None) -> list[str]:
    """The distinct words of the texts (lower case, accents folded), for a multikey index."""
    seen: dict[str, None] = {}
    size = 0
    for text in texts:
        for word in words(text or "")[: MAX_TOKENS * 4]:
            if word in seen or len(seen) >= MAX_TOKENS or size + len(word) > MAX_TOTAL_CHARS:
                continue
            seen[word] = None
            size += len(word) + 1
    return list(seen)


def query_tokens(query: str) -> list[str]:
    """The words of a search box query; a ticket matches when it has all of them."""
    return list(dict.fromkeys(words(query)))
