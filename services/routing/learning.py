"""Learning from corrections: every transfer or triage decision is a labelled example.

A background loop retrains the classifier on the packaged examples plus the corrections,
bounded in size and time, versions the candidate, and promotes it only if it is not worse than
the active model on the same held-back examples. Live routing and the dry run use the active
model; its version is shown on every routing decision. Models are stored in GridFS (bucket
`routing_model_files`, one file per version) with a record in `routing_models`; a promoted model
trained on an older packaged corpus is set aside when the code brings a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.routing import model_cache
from services.routing.classification import router
from services.routing.classification.examples import (
    Example,
    packaged_examples,
    stratified_split,
)
from services.routing.classification.lexicon import packaged_lexicon
from services.routing.classification.model import LinearModel
from services.routing.classification.scoring import Report, should_promote
from shared.catalogue import Catalogue, CatalogueStore
from shared.events import utcnow
from shared.locks import DocumentLocks, LockTimeout
from shared.mongo import Document
from shared.supervise import raise_if_stopping
from shared.tickets import Ticket

log = logging.getLogger(__name__)
EXAMPLES = "routing_examples"
MODELS = "routing_models"
MODEL_FILES = "routing_model_files"
SPLIT_SEED = 20261127
MAX_CORRECTIONS = 20_000  # the newest ones; bounds training time and memory
CORRECTION_WEIGHT = 2  # a correction from an officer counts more than a packaged example
PACKAGED_TOLERANCE = 0.01  # how much worse a candidate may do on the packaged held-back examples


def _held_back(example_id: str) -> bool:
    """A fixed 30% of corrections is never trained on, so candidates are compared fairly."""
    return int(hashlib.sha256(example_id.encode()).hexdigest(), 16) % 10 < 3


def split(corrections: Sequence[tuple[str, Example]]) -> tuple[list[Example], list[Example]]:
    """(train, held back): the packaged examples' seeded split plus the corrections' split
    (the held-back corrections come last)."""
    train, held = stratified_split(list(packaged_examples()), seed=SPLIT_SEED)
    for example_id, example in corrections:
        if _held_back(example_id):
            held.append(example)
        else:
            train.extend([example] * CORRECTION_WEIGHT)
    return train, held


class ModelStore:
    """Corrections and trained models in MongoDB; the active model cached in memory."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        refresh_s: float = 30.0,
        cache_dir: Path | None = None,
    ) -> None:
        self._examples = db[EXAMPLES]
        self._models = db[MODELS]
        self._files = AsyncGridFSBucket(db, bucket_name=MODEL_FILES)
        self._lock = DocumentLocks(db["routing_locks"], lease_s=600, wait_s=0.5)
        self._refresh_s = refresh_s
        self._cache_dir = cache_dir
        self._active: router.LinearTextModel | None = None
        self._loaded_at = -1e9

    def packaged(self) -> router.LinearTextModel:
        """The model of the packaged corpus (from the model cache, else trained); blocking."""
        return model_cache.packaged_model(self._cache_dir)

    async def add_correction(self, ticket: Ticket, opd: str, *, source: str, actor: str) -> None:
        example = router.training_example(
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
        """The promoted model's record, unless it was trained on another packaged corpus."""
        base = await asyncio.to_thread(self.packaged)
        return await self._models.find_one({"active": True, "base": base.version})

    async def active_model(self) -> router.LinearTextModel:
        """The promoted model (re-read every `refresh_s`), else the packaged default."""
        now = time.monotonic()
        if now - self._loaded_at > self._refresh_s:
            self._loaded_at = now
            doc = await self.active_record()
            if doc is None:
                self._active = None
            elif self._active is None or self._active.version != doc["_id"]:
                self._active = await self._load(str(doc["_id"]))
        if self._active is not None:
            return self._active
        return await asyncio.to_thread(self.packaged)

    async def _load(self, version: str) -> router.LinearTextModel | None:
        try:
            stream = await self._files.open_download_stream(version)
        except NoFile:
            log.warning("routing model %s has no stored file; using the packaged model", version)
            return None
        data: bytes = await stream.read()
        linear = await asyncio.to_thread(LinearModel.from_bytes, data)
        return router.LinearTextModel(linear, packaged_lexicon())

    async def save(
        self,
        model: router.LinearTextModel,
        *,
        report: dict[str, Any],
        baseline: dict[str, Any],
        corrections: int,
        promote: bool,
    ) -> None:
        data = await asyncio.to_thread(model.linear.to_bytes)
        base = await asyncio.to_thread(self.packaged)
        with contextlib.suppress(NoFile):
            await self._files.delete(model.version)
        await self._files.upload_from_stream_with_id(model.version, model.version, data)
        record = {
            "_id": model.version,
            "created_at": utcnow(),
            "report": report,
            "baseline": baseline,
            "corrections": corrections,
            "base": base.version,
            "size_bytes": len(data),
            "active": False,
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
                    _train_and_compare, corrections, current, catalogue, threshold, self._cache_dir
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


def _train_and_compare(
    corrections: Sequence[tuple[str, Example]],
    current: router.LinearTextModel | None,
    catalogue: Catalogue,
    threshold: float,
    cache_dir: Path | None,
) -> tuple[router.LinearTextModel, dict[str, Any], dict[str, Any], bool]:
    """Train a candidate and compare it with `current` on the held-back examples.

    Promoted when it is not worse on the held-back corrections (what officers taught) and at
    most `PACKAGED_TOLERANCE` worse on the held-back packaged examples: retraining a linear
    model moves every weight a little, so a tie there is not to be expected.
    """
    train, held = split(corrections)
    taught = [e for i, e in corrections if _held_back(i)]
    packaged = held[: len(held) - len(taught)]
    if current is None:
        current = split_model(catalogue, cache_dir)
    candidate = router.train_router_model(train, catalogue)

    def scores(model: router.LinearTextModel, examples: Sequence[Example]) -> Report:
        return router.evaluate_router(
            examples, catalogue=catalogue, model=model, threshold=threshold
        )

    report, baseline = scores(candidate, held), scores(current, held)
    keeps_packaged = should_promote(
        scores(candidate, packaged), scores(current, packaged), tolerance=PACKAGED_TOLERANCE
    )
    learns = not taught or should_promote(scores(candidate, taught), scores(current, taught))
    promote = candidate.version != current.version and keeps_packaged and learns
    return candidate, _summary(report), _summary(baseline), promote


def split_model(catalogue: Catalogue, cache_dir: Path | None) -> router.LinearTextModel:
    """The packaged examples' own model trained on the same split as candidates: the fair
    comparison when nothing was promoted yet (the packaged model has seen the held-back
    examples). Kept in the model cache like the packaged model."""
    return model_cache.cached(
        lambda: router.train_router_model(split([])[0], catalogue),
        router.training_data_version(split([])[0], catalogue),
        cache_dir,
    )


def _summary(report: Any) -> dict[str, Any]:
    data = asdict(report)
    data.pop("per_opd", None)
    data.pop("confusions", None)
    return data


async def retrain_loop(
    store: ModelStore, catalogue: CatalogueStore, *, threshold: float, interval: timedelta
) -> None:
    """Retrain when corrections arrived, at most once per interval."""
    while True:
        raise_if_stopping()  # a call may have swallowed the request to stop
        await asyncio.sleep(interval.total_seconds())
        await store.retrain(await catalogue.get(), threshold=threshold)
