"""Admins edit the catalogue through the API; every change is kept in an audit trail.

The versioned files in shared/catalogue/data seed the collections on first start; after that the
stored catalogue is the truth, and intake and routing re-read it within a minute.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.views import CatalogueChange
from shared.auth import Principal
from shared.catalogue import COLLECTIONS, TRIASE, Catalogue
from shared.errors import InvalidField, NotFound
from shared.events import utcnow
from shared.mongo import Document

AUDIT = "catalogue_audit"


class CatalogueAdmin:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._audit = db[AUDIT]

    async def put(
        self,
        *,
        kind: str,
        code: str,
        body: dict[str, Any],
        principal: Principal,
        catalogue: Catalogue,
    ) -> BaseModel:
        """Create or replace one entry; the change and the previous value are audited. Returns
        the entry as its kind's model validated it."""
        model = COLLECTIONS.get(kind)
        if model is None:
            raise NotFound(f"Tidak ada katalog '{kind}'. (Unknown catalogue '{kind}'.)")
        try:
            entry = model.model_validate({**body, "code": code})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidField(("body", *map(str, first["loc"])), first["msg"]) from exc
        if kind == "categories":
            opd = getattr(entry, "opd", None)
            if opd != TRIASE and catalogue.opd(str(opd)) is None:
                raise InvalidField(("body", "opd"), "OPD tidak dikenal. (Unknown OPD.)")
        after = entry.model_dump(mode="json")
        before = await self._db[kind].find_one({"_id": code}, {"_id": 0})
        await self._db[kind].replace_one({"_id": code}, {"_id": code, **after}, upsert=True)
        await self._audit.insert_one(
            {
                "at": utcnow(),
                "actor": principal.username,
                "kind": kind,
                "code": code,
                "before": before,
                "after": after,
            }
        )
        return entry

    async def trail(self, *, limit: int) -> list[CatalogueChange]:
        """The latest changes, newest first."""
        docs = await self._audit.find({}, {"_id": 0}).sort("at", DESCENDING).limit(limit).to_list()
        return [
            CatalogueChange(
                at=doc["at"],
                actor=doc["actor"],
                kind=doc["kind"],
                code=doc["code"],
                before=doc.get("before"),
                after=doc["after"],
            )
            for doc in docs
        ]
