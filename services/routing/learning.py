"""Learning from corrections: every transfer or triage decision is a labelled example.

A background loop retrains the classifier on the packaged examples plus the corrections,
bounded in size and time, versions the candidate, and promotes it only if it is not worse than
the active model on the same held-back examples. Live routing and the dry run use the active
model; its version is shown on every routing decision.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.routing import domain
from services.routing.classifier import (
    Example,
    Model,
    packaged_examples,
    should_promote,
    stratified_split,
)
from shared.catalogue import Catalogue, CatalogueStore
from shared.events import utcnow
from shared.locks import DocumentLocks, LockTimeout
from shared.mongo import Document
from shared.tickets import Ticket

log = logging.getLogger(__name__)
EXAMPLES = "routing_examples"
MODELS = "routing_models"
SPLIT_SEED = 20261127
MAX_CORRECTIONS = 20_000  # the newest ones; bounds training time and memory
CORRECTION_WEIGHT = 2  # a correction from an officer counts more than a packaged example


def _held_back(example_id: str) -> bool:
    """A fixed 30% of corrections is never trained on, so candidates are compared fairly."""
    return int(hashlib.sha256(example_id.encode()).hexdigest(), 16) % 10 < 3


def split(corrections: Sequence[tuple[str, Example]]) -> tuple[list[Example], list[Example]]:
    """(train, held back): the packaged examples' seeded split plus the corrections' split."""
    train, held = stratified_split(list(packaged_examples()), seed=SPLIT_SEED)
    for example_id, example in corrections:
        if _held_back(example_id):
            held.append(example)
        else:
            train.extend([example] * CORRECTION_WEIGHT)
    return train, held


class ModelStore:
    """Corrections and trained models in MongoDB; the active model cached in memory."""

    def __init__(self, db: AsyncDatabase[Document], *, refresh_s: float = 30.0) -> None:
        self._examples = db[EXAMPLES]
        self._models = db[MODELS]
        self._lock = DocumentLocks(db["routing_locks"], lease_s=600, wait_s=0.5)
        self._refresh_s = refresh_s
        self._active: Model | None = None
        self._loaded_at = -1e9

    async def add_correction(self, ticket: Ticket, opd: str, *, source: str, actor: str) -> None:
        example = domain.training_example(
            title=ticket.title,
            description=ticket.description,
            category=ticket.category,
            kecamatan=ticket.location.kecamatan,
            opd=opd,
        )
        await self._examples.insert_one(
            {
                "_id": uuid.uuid4().hex,
                **example.to_dict(),
                "source": source,
                "actor": actor,
                "tracking_code": ticket.tracking_code,
                "at": utcnow(),
            }
        )

    async def corrections(self) -> list[tuple[str, Example]]:
        docs = await self._examples.find({}).sort("at", DESCENDING).limit(MAX_CORRECTIONS).to_list()
        return [
            (d["_id"], Example(d["text"], d["opd"], d.get("category"), d.get("kecamatan")))
            for d in docs
        ]

    async def correction_count(self) -> int:
        return await self._examples.count_documents({})

    async def active_record(self) -> Document | None:
        return await self._models.find_one({"active": True}, {"model": 0})

    async def active_model(self) -> Model:
        """The promoted model (re-read every `refresh_s`), else the packaged default."""
        now = time.monotonic()
        if now - self._loaded_at > self._refresh_s:
            self._loaded_at = now
            doc = await self._models.find_one({"active": True})
            if doc is not None and (self._active is None or self._active.version != doc["_id"]):
                self._active = await asyncio.to_thread(_unpack, doc["model"])
        return self._active or domain.default_model()

    async def save(
        self,
        model: Model,
        *,
        report: dict[str, Any],
        baseline: dict[str, Any],
        corrections: int,
        promote: bool,
    ) -> None:
        record = {
            "_id": model.version,
            "created_at": utcnow(),
            "report": report,
            "baseline": baseline,
            "corrections": corrections,
            "active": False,
            "model": await asyncio.to_thread(_pack, model),
        }
        await self._models.replace_one({"_id": model.version}, record, upsert=True)
        if promote:
            await self._models.update_many(
                {"active": True, "_id": {"$ne": model.version}}, {"$set": {"active": False}}
            )
            await self._models.update_one({"_id": model.version}, {"$set": {"active": True}})
            self._loaded_at = -1e9

    async def retrain(self, catalogue: Catalogue, *, threshold: float) -> dict[str, Any] | None:
        """Train a candidate and promote it if not worse; None when another instance is at it
        or there is nothing new."""
        try:
            async with self._lock.hold("retrain"):
                active = await self.active_record()
                corrections = await self.corrections()
                if not corrections or (active and active.get("corrections") == len(corrections)):
                    return None
                # Without a promoted model, compare with the packaged examples' own model trained on
                # the same split (the packaged default has seen the held-back examples).
                current = await self.active_model() if active else None
                candidate, report, baseline, promote = await asyncio.to_thread(
                    _train_and_compare, corrections, current, catalogue, threshold
                )
                await self.save(
                    candidate,
                    report=report,
                    baseline=baseline,
                    corrections=len(corrections),
                    promote=promote,
                )
                log.info(
                    "retrained routing model %s on %d corrections: %s",
                    candidate.version,
                    len(corrections),
                    "promoted" if promote else "kept the active model",
                )
                return {
                    "version": candidate.version,
                    "promoted": promote,
                    "report": report,
                    "baseline": baseline,
                }
        except LockTimeout:
            return None


def _pack(model: Model) -> bytes:
    """Models are stored compressed JSON: FerretDB refuses nested arrays in documents."""
    return zlib.compress(json.dumps(model.to_dict(), separators=(",", ":")).encode())


def _unpack(data: bytes) -> Model:
    return Model.from_dict(json.loads(zlib.decompress(data)))


def _train_and_compare(
    corrections: Sequence[tuple[str, Example]],
    current: Model | None,
    catalogue: Catalogue,
    threshold: float,
) -> tuple[Model, dict[str, Any], dict[str, Any], bool]:
    train, held = split(corrections)
    if current is None:
        current = domain.train_router_model(split([])[0], catalogue)
    candidate = domain.train_router_model(train, catalogue)
    report = domain.evaluate_router(held, catalogue=catalogue, model=candidate, threshold=threshold)
    baseline = domain.evaluate_router(held, catalogue=catalogue, model=current, threshold=threshold)
    promote = candidate.version != current.version and should_promote(report, baseline)
    return candidate, _summary(report), _summary(baseline), promote


def _summary(report: Any) -> dict[str, Any]:
    data = asdict(report)
    data.pop("per_opd", None)
    return data


async def retrain_loop(
    store: ModelStore, catalogue: CatalogueStore, *, threshold: float, interval: timedelta
) -> None:
    """Retrain when corrections arrived, at most once per interval."""
    while True:
        await asyncio.sleep(interval.total_seconds())
        await store.retrain(await catalogue.get(), threshold=threshold)
