"""The packaged router model, trained once per machine and kept as a file.

Training the classifier on the packaged corpus takes tens of seconds, so routing keeps the
trained model in a directory (setting `ROUTING_MODEL_CACHE_DIR`; by default
`~/.cache/layanan-pengaduan/models`, or `$LAYANAN_CACHE/models`). A file is named by the
model's version, a hash of its training data and settings: a new corpus, lexicon or setting
makes a new file, so a file is never stale. Without a writable directory the model is trained
in memory. The container image trains it at build time:

    python -m services.routing.model_cache [DIRECTORY]
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

from services.routing.classification import router
from services.routing.classification.examples import packaged_examples
from services.routing.classification.lexicon import packaged_lexicon
from services.routing.classification.model import LinearModel
from shared.catalogue import packaged_catalogue

log = logging.getLogger(__name__)


def default_directory() -> Path:
    base = os.environ.get("LAYANAN_CACHE") or str(Path.home() / ".cache" / "layanan-pengaduan")
    return Path(base) / "models"


def packaged_version() -> str:
    """The version the packaged model has, computed without training it."""
    return router.training_data_version(packaged_examples(), packaged_catalogue())


def _read(path: Path, version: str) -> LinearModel | None:
    try:
        model = LinearModel.from_bytes(path.read_bytes())
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable model file %s: %s", path.name, exc)
        return None
    return model if model.version == version else None


def _write(path: Path, model: LinearModel) -> None:
    """Write atomically: another process may be reading or writing the same file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            f.write(model.to_bytes())
        Path(f.name).replace(path)
    except OSError as exc:
        log.warning("cannot keep the trained model in %s: %s", path.parent, exc)


def cached(
    train: Callable[[], router.LinearTextModel], version: str, directory: Path | None
) -> router.LinearTextModel:
    """The model of this `version`: read from `directory` (default: `default_directory()`),
    else trained with `train` and written there."""
    path = (directory or default_directory()) / f"{version}.npz"
    found = _read(path, version) if path.exists() else None
    if found is not None:
        return router.LinearTextModel(found, packaged_lexicon())
    started = time.monotonic()
    model = train()
    log.info("trained routing model %s in %.1fs", model.version, time.monotonic() - started)
    _write(path, model.linear)
    return model


@cache
def packaged_model(directory: Path | None = None) -> router.LinearTextModel:
    """The packaged model, from the cache or trained (once per process)."""
    return cached(router.default_model, packaged_version(), directory)


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else None
    model = packaged_model(directory)
    print(f"routing model {model.version} in {directory or default_directory()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
