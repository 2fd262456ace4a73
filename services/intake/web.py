"""The citizens' web pages: the complaint form, the receipt and the tracking page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.staticfiles import StaticFiles

from services.intake.settings import IntakeSettings

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"
# Multipart form posts that may carry photos (the complaint form and the reporter's photo form).
WEB_UPLOAD_PATH = r"^/(kirim|lacak/[^/]+/foto)$"
MULTIPART_SLACK = 64 * 1024

router = APIRouter(include_in_schema=False)


def web_upload_limit(settings: IntakeSettings) -> int:
    """Body limit of the web's multipart posts: every photo allowed plus the form fields."""
    return settings.photo_max_count * settings.photo_max_bytes + MULTIPART_SLACK


def static_files() -> StaticFiles:
    """The pages' CSS and script, served with the same hardening headers as the pages."""
    return StaticFiles(directory=STATIC_DIR)
