"""Debian's Chromium driven by Playwright: the launch options, the module-scoped `browser`
fixture every real-browser test uses (import the fixture into the test module) and the
`browser_context` each test opens its pages in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ViewportSize, sync_playwright

from devstack.tools import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def browser_context(
    browser: Browser, viewport: ViewportSize, *, timeout_ms: float = 10_000, **options: Any
) -> Iterator[BrowserContext]:
    """A fresh context (cookies, storage) of `browser` on a screen of `viewport`; closed after."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(timeout_ms)
    try:
        yield context
    finally:
        context.close()
