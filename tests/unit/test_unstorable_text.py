"""The guard against text no store can keep: NUL and lone surrogates, however encoded."""

from __future__ import annotations

import pytest

from shared.http import _ENCODED_UNSTORABLE, _JSON_UNSTORABLE


@pytest.mark.parametrize(
    "body",
    [
        rb'{"d": "a\u0000b"}',
        rb'{"d": "\\\u0000"}',  # an escaped backslash, then NUL
        rb'{"d": "\ud800"}',
        rb'{"d": "\uD83D x"}',
        rb'{"d": "\ude00"}',
        rb'{"d": "x\uDC00"}',
    ],
)
def test_json_with_nul_or_a_lone_surrogate_is_caught(body: bytes) -> None:
    assert _JSON_UNSTORABLE.search(body)


@pytest.mark.parametrize(
    "body",
    [
        rb'{"d": "\ud83d\ude00 senyum"}',  # a surrogate pair: one emoji
        rb'{"d": "\uD83D\uDE00"}',
        rb'{"d": "\\u0000 as text"}',  # a backslash, then the letters u0000
        rb'{"d": "\u00e9t\u00e9"}',
        '{"d": "jalan rusak 😀"}'.encode(),
    ],
)
def test_ordinary_json_passes(body: bytes) -> None:
    assert not _JSON_UNSTORABLE.search(body)


def test_encoded_nul_and_surrogates_are_caught_in_forms_and_queries() -> None:
    assert _ENCODED_UNSTORABLE.search(b"description=a%00b")
    assert _ENCODED_UNSTORABLE.search(b"q=%ed%a0%80")
    assert not _ENCODED_UNSTORABLE.search(b"q=jalan%20rusak&x=%E2%82%AC")
