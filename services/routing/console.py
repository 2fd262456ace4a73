"""The staff's web console under /konsol (server-rendered; see docs/console.md)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.staticfiles import StaticFiles

PREFIX = "/konsol"
STATIC_PATH = f"{PREFIX}/static"
STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def static_files() -> StaticFiles:
    """The console's stylesheet and script."""
    return StaticFiles(directory=STATIC_DIR)
