"""The end-to-end suites' figures, printed at the end of the session (`make test` too), and
the real-browser tests' `browser` fixture (tests/e2e/browser.py)."""

from __future__ import annotations

import pytest

from tests.e2e.browser import browser  # noqa: F401 (a fixture for the browser tests)

FIGURES = pytest.StashKey[list[str]]()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
