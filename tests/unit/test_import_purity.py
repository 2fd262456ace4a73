"""The domain and the lifecycle are pure: importing them loads no driver and no web framework.

Each module is imported in a fresh interpreter, which then lists the modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = frozenset({"pymongo", "bson", "gridfs", "aiokafka", "kafka", "fastapi", "starlette"})
# The models the domain works with, whose adapters live in other modules.
MODELS = ["shared.tickets", "shared.catalogue", "shared.principals", "shared.events"]


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


# Each service's pure modules, named by what they hold (docs/architecture.md, "Files and their
# names"): a new pure module joins this list.
DOMAIN = [
    "services.intake.complaints",
    *(
        f"services.intake.chat.{m}"
        for m in ("dialogue", "model", "draft", "lexicon", "places", "replies")
    ),
    *(f"services.intake.open311.{m}" for m in ("mapping", "schemas", "errors", "xml")),
    "services.routing.decisions",
    "services.notify.recipients",
]
PURE = sorted(
    {
        *DOMAIN,
        *(_module(p) for p in (ROOT / "shared" / "lifecycle").glob("*.py")),
        "services.routing.workflow",
        "services.routing.pauses",
        "services.intake.stores",
        "services.routing.stores",
        "services.notify.stores",
        "services.notify.views",
        "services.intake.views",
        "services.routing.views",
        *MODELS,
    }
)
PROBE = (
    "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
)


def loaded_by(module: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after importing `module`."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_the_lists_cover_every_domain_and_lifecycle_module() -> None:
    assert not list(ROOT.glob("services/**/domain.py")), "a pure module is named by what it holds"
    assert all((ROOT / Path(*m.split("."))).with_suffix(".py").is_file() for m in DOMAIN)
    assert {"shared.lifecycle.table", "shared.lifecycle.sla", "shared.lifecycle.changes"} <= set(
        PURE
    )


@pytest.mark.parametrize("module", PURE)
def test_importing_loads_no_driver_or_web_framework(module: str) -> None:
    assert loaded_by(module) & FORBIDDEN == set()


def test_the_probe_sees_a_driver_when_one_is_loaded() -> None:
    """The check itself can fail: an adapter module does load the driver."""
    assert {"pymongo", "aiokafka"} <= loaded_by("shared.outbox")
    assert "fastapi" in loaded_by("shared.auth")
