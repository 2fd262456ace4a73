"""A token signing pair made for this test run, for settings that must pass production's checks
(which refuse the built-in development pair)."""

from __future__ import annotations

from shared.signing import generate

TEST_PRIVATE_KEY, TEST_PUBLIC_KEY = generate()
