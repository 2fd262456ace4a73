"""MongoDB's query semantics for the in-memory fakes, over documents in their stored form.

The fakes of the list and search stores (tests/fakes.py) filter with the very query documents
the MongoDB adapters send (`services.routing.queries.build_clauses`, `after_cursor`,
`services.intake.repository.search_query`), so a use-case test on a fake selects what the
database would. Only what those queries use: equality (None also matches a missing field; a
value also matches an array holding it), `$in`, `$nin`, `$ne`, `$lt`, `$lte`, `$gt`, `$gte`,
`$all`, `$or`, `$and`, dotted paths; and MongoDB's order, in which null sorts lowest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.documents import Document

MISSING = object()


def _value(doc: Document, path: str) -> Any:
    current: Any = doc
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def _equals(found: Any, wanted: Any) -> bool:
    if wanted is None:
        return found is MISSING or found is None
    if found is MISSING:
        return False
    if isinstance(found, list) and not isinstance(wanted, list):
        return wanted in found
    return bool(found == wanted)


def _compare(found: Any, wanted: Any, test: Callable[[Any, Any], bool]) -> bool:
    """A range test matches only values of the same kind (MongoDB's type brackets)."""
    if found is MISSING or found is None or wanted is None:
        return False
    try:
        return test(found, wanted)
    except TypeError:
        return False


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "$in": lambda found, wanted: any(_equals(found, w) for w in wanted),
    "$nin": lambda found, wanted: not any(_equals(found, w) for w in wanted),
    "$ne": lambda found, wanted: not _equals(found, wanted),
    "$lt": lambda found, wanted: _compare(found, wanted, lambda a, b: a < b),
    "$lte": lambda found, wanted: _compare(found, wanted, lambda a, b: a <= b),
    "$gt": lambda found, wanted: _compare(found, wanted, lambda a, b: a > b),
    "$gte": lambda found, wanted: _compare(found, wanted, lambda a, b: a >= b),
    "$all": lambda found, wanted: isinstance(found, list) and all(w in found for w in wanted),
}


def _field_matches(found: Any, condition: Any) -> bool:
    if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
        unknown = set(condition) - set(OPERATORS)
        if unknown:
            raise NotImplementedError(f"operators {sorted(unknown)}")
        return all(OPERATORS[op](found, wanted) for op, wanted in condition.items())
    return _equals(found, condition)


def matches(doc: Document, query: Document) -> bool:
    """Whether a stored document satisfies a MongoDB query document."""
    for key, condition in query.items():
        if key == "$or":
            if not any(matches(doc, part) for part in condition):
                return False
        elif key == "$and":
            if not all(matches(doc, part) for part in condition):
                return False
        elif key.startswith("$"):
            raise NotImplementedError(key)
        elif not _field_matches(_value(doc, key), condition):
            return False
    return True


def sort_key(doc: Document, field: str) -> tuple[bool, Any]:
    """MongoDB's order of one field: a missing or null value before any other."""
    value = _value(doc, field)
    return (False, 0) if value is MISSING or value is None else (True, value)


def ordered(docs: list[Document], field: str, *, descending: bool) -> list[Document]:
    """Sorted by `field` and then `_id`, both in the same direction (as the stores sort)."""
    return sorted(docs, key=lambda d: (sort_key(d, field), str(d["_id"])), reverse=descending)
