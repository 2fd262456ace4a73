"""The console's form posts, and use-case errors as messages beside their form fields."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from starlette.datastructures import FormData

from shared.pages.forms import form_errors, form_text
from shared.pages.i18n import Translator
from shared.workdays import JAKARTA

MAX_FORM_FIELDS = 20
# Where a field's error shows on the ticket page: the form field of the action that was posted.
ACTION_FIELDS = ("note", "to_opd", "reason")
PROFILE_FIELDS = ("full_name", "email", "whatsapp", "notify_mode")


def text(form: FormData, name: str, limit: int = 5000) -> str:
    """A text field, trimmed and cut to `limit`."""
    return form_text(form, name, limit)


def messages(
    t: Translator, errors: Sequence[Mapping[str, Any]], prefix: str = ""
) -> dict[str, str]:
    """Errors as {`prefix` + form field: message}; one without a field belongs to the note."""
    return form_errors(t, errors, default="note", prefix=prefix)


def day(value: str, *, end: bool) -> datetime:
    """A `YYYY-MM-DD` day in Jakarta time: its first moment, or with `end` its last."""
    day = date.fromisoformat(value)
    return datetime.combine(day, time.max if end else time.min, tzinfo=JAKARTA)


def whatsapp(value: str) -> str:
    """A number as people write it (`0812-3456 7890`) in the stored form `+6281234567890`."""
    digits = re.sub(r"[\s().-]", "", value)
    return "+62" + digits[1:] if digits.startswith("0") else digits
