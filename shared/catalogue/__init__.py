"""The catalogue: OPDs, categories, kecamatan/desa and out-of-authority referrals.

Versioned JSON files in `data/` are the seed; routing loads them into MongoDB on first start
and owns those collections afterwards. Everyone else reads them through `CatalogueStore`.
"""

from __future__ import annotations

import json
import re
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from shared.documents import Document

if TYPE_CHECKING:  # the store functions take a database handle; importing needs no driver
    from pymongo.asynchronous.database import AsyncDatabase

TRIASE = "TRIASE"
LUAR_KEWENANGAN = "LUAR_KEWENANGAN"
TRIASE_NAME = "Admin koordinator (triase)"
DATA_DIR = Path(__file__).parent / "data"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Opd(_Entry):
    code: str
    name: str
    kind: str
    description: str = ""
    keywords: tuple[str, ...] = ()


class Category(_Entry):
    code: str
    name: str
    name_en: str = ""
    group: str = ""
    opd: str
    keywords: tuple[str, ...] = ()
    # The resolution deadline for this category, if not the default 14 working days.
    resolution_working_days: int | None = Field(default=None, ge=1, le=60)


class Region(_Entry):
    code: str
    name: str
    desa: tuple[str, ...] = ()


class Referral(_Entry):
    code: str
    name: str
    advice: str
    advice_en: str = ""
    keywords: tuple[str, ...] = ()


def _squash(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


class Catalogue(_Entry):
    opds: tuple[Opd, ...]
    categories: tuple[Category, ...]
    regions: tuple[Region, ...]
    referrals: tuple[Referral, ...]

    def opd(self, code: str) -> Opd | None:
        return next((o for o in self.opds if o.code == code), None)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def region(self, value: str) -> Region | None:
        """A kecamatan by code (`KEC-CIRUAS`) or by name (`Ciruas`, `ciruas`)."""
        wanted = _squash(value.removeprefix("KEC-").removeprefix("kec-"))
        return next((r for r in self.regions if _squash(r.name) == wanted), None)

    def opd_name(self, code: str) -> str:
        """The name to show for an OPD code (`TRIASE`: the admin koordinator's queue)."""
        if code == TRIASE:
            return TRIASE_NAME
        opd = self.opd(code)
        return opd.name if opd else code

    def category_name(self, code: str | None) -> str | None:
        category = self.category(code) if code else None
        return category.name if category else code

    def kecamatan_name(self, code: str | None) -> str | None:
        region = self.region(code) if code else None
        return region.name if region else code


COLLECTIONS: dict[str, type[_Entry]] = {
    "opds": Opd,
    "categories": Category,
    "regions": Region,
    "referrals": Referral,
}


@cache
def packaged_catalogue() -> Catalogue:
    """The seed catalogue shipped with the code."""
    parts = {
        name: json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
        for name in COLLECTIONS
    }
    return Catalogue.model_validate(parts)


async def seed_catalogue(db: AsyncDatabase[Document]) -> int:
    """Insert seed entries that are missing; never overwrite an admin's edits. Returns inserts."""
    seed = packaged_catalogue()
    inserted = 0
    for name in COLLECTIONS:
        entries: tuple[_Entry, ...] = getattr(seed, name)
        existing = {doc["_id"] async for doc in db[name].find({}, {"_id": 1})}
        for entry in entries:
            code = entry.code  # type: ignore[attr-defined]
            if code in existing:
                continue
            await db[name].insert_one({"_id": code, **entry.model_dump(mode="json")})
            inserted += 1
    return inserted


async def load_catalogue(db: AsyncDatabase[Document]) -> Catalogue:
    """The catalogue as stored; the packaged seed when nothing is stored yet."""
    parts: dict[str, list[Document]] = {}
    for name in COLLECTIONS:
        parts[name] = await db[name].find({}, {"_id": 0}).sort("code", 1).to_list()
    if not all(parts.values()):
        return packaged_catalogue()
    return Catalogue.model_validate(parts)


class CatalogueStore:
    """The stored catalogue, re-read at most once per `ttl_s`."""

    def __init__(self, db: AsyncDatabase[Document], *, ttl_s: float = 60.0) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._cached: Catalogue | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        """Re-read on the next use (after an edit in this process)."""
        self._cached = None

    async def get(self) -> Catalogue:
        if self._cached is None or time.monotonic() - self._loaded_at > self._ttl_s:
            self._cached = await load_catalogue(self._db)
            self._loaded_at = time.monotonic()
        return self._cached
