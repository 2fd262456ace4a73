"""The stored form of a document, as the driver hands it over (no driver import needed)."""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]
