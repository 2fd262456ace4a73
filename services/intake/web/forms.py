"""The citizens' form posts as the API's input, and use-case errors as messages by field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.datastructures import FormData, UploadFile

from services.intake.settings import IntakeSettings
from shared.errors import AppError
from shared.pages.forms import form_errors, form_text
from shared.pages.i18n import Translator
from shared.tickets import Kind

MAX_FORM_FIELDS = 40
COMPLAINT_FIELDS = (
    "kind",
    "title",
    "description",
    "category",
    "kecamatan",
    "desa",
    "address",
    "lat",
    "lon",
    "name",
    "email",
    "phone",
    "anonymous",
    "confidential",
)
# Where each use case names a field (`loc`), and the form field that shows its message.
LOCATION_FIELDS = ("kecamatan", "desa", "address", "lat", "lon")
REPORTER_FIELDS = ("name", "email", "phone")
REPLY_FIELD = {"info": "info-message", "dispute": "dispute-message", "confirm": "info-message"}


async def uploads(form: FormData, name: str, settings: IntakeSettings) -> list[bytes]:
    """The chosen files (empty file inputs are skipped), each read to one byte past the limit."""
    photos = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and item.filename:
            photos.append(await item.read(settings.photo_max_bytes + 1))
    return photos


def complaint_values(form: FormData) -> dict[str, str]:
    """The complaint form's fields as sent (trimmed; the kind defaults to a complaint)."""
    values = {name: form_text(form, name) for name in COMPLAINT_FIELDS}
    values["kind"] = values["kind"] or Kind.COMPLAINT.value
    return values


def complaint_data(values: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body the API would get for these form values (empty fields left out)."""
    kecamatan_of_desa, _, desa = values["desa"].rpartition("|")
    location = {
        "kecamatan": values["kecamatan"] or kecamatan_of_desa,
        "desa": desa,
        "address": values["address"],
        # Indonesian phones write decimals with a comma.
        "lat": values["lat"].replace(",", "."),
        "lon": values["lon"].replace(",", "."),
    }
    reporter = {name: values[name] for name in REPORTER_FIELDS}
    data: dict[str, Any] = {
        "kind": values["kind"],
        "description": values["description"],
        "anonymous": values["anonymous"] == "1",
    }
    if values["confidential"] in ("1", "0"):  # empty: no choice, the publication policy decides
        data["confidential"] = values["confidential"] == "1"
    for name in ("title", "category"):
        if values[name]:
            data[name] = values[name]
    if any(location.values()):
        data["location"] = {k: v for k, v in location.items() if v}
    if any(reporter.values()):
        data["reporter"] = {k: v for k, v in reporter.items() if v}
    return data


def messages(
    t: Translator, errors: Sequence[Mapping[str, Any]], rename: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Errors as {form field: message}; one without a field belongs to the description."""
    return form_errors(t, errors, default="description", rename=rename)


def retry_after(exc: AppError) -> str:
    return (exc.headers or {}).get("Retry-After", "60")
