"""Open311 API keys: what is kept of a key, and which keys are worth looking up."""

from __future__ import annotations

import hashlib

from services.intake import api_keys
from shared.settings import DEV_OPEN311_API_KEY


def test_a_key_is_kept_only_as_its_sha256() -> None:
    key = api_keys.new_key()
    assert api_keys.hash_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert key not in api_keys.hash_key(key)


def test_new_keys_are_long_and_never_repeat() -> None:
    keys = {api_keys.new_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(len(key) >= 40 for key in keys)


def test_the_dev_key_is_refused_in_production_only() -> None:
    assert api_keys.key_acceptable(DEV_OPEN311_API_KEY, production=False)
    assert not api_keys.key_acceptable(DEV_OPEN311_API_KEY, production=True)
    assert api_keys.key_acceptable("issued-key", production=True)
    assert not api_keys.key_acceptable("", production=False)
    assert not api_keys.key_acceptable(None, production=False)
