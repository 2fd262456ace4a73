"""docs/operations.md stays true: its configuration reference is what the settings classes
generate, and its metrics table lists exactly the metric families the code defines."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from devstack import config_reference

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
METRIC_MODULES = (
    "shared.metrics",
    "services.intake.metrics",
    "services.routing.metrics",
    "services.notify.metrics",
)


def defined_metrics() -> dict[str, str]:
    """Exposed family name -> type, of every metric object in the metric modules."""
    found: dict[str, str] = {}
    for name in METRIC_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, MetricWrapperBase):
                for family in value.describe():
                    suffix = "_total" if family.type == "counter" else ""
                    found[family.name + suffix] = family.type
    return found


def documented_metrics() -> dict[str, str]:
    rows = re.findall(r"^\| `(pengaduan_\w+)` \| (\w+) \|", OPERATIONS.read_text(), re.MULTILINE)
    return dict(rows)


def test_the_configuration_reference_is_generated_from_the_settings() -> None:
    text = OPERATIONS.read_text()
    assert config_reference.updated(text) == text, (
        "docs/operations.md is out of date: run `python -m devstack.config_reference`"
    )


def test_the_reference_names_every_setting_of_every_service() -> None:
    text = OPERATIONS.read_text()
    for env in (
        "INTAKE_RATE_LIMIT_PER_MINUTE",
        "ROUTING_OPS_COUNT_INTERVAL_S",
        "NOTIFY_ONCALL__TOKEN",
    ):
        assert f"`{env}`" in text
    for _, cls in config_reference.SERVICES:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name in cls.model_fields:
            assert f"`{prefix}{name.upper()}" in text, f"{prefix}{name.upper()} is not documented"


def test_the_metrics_table_lists_every_family_the_code_defines() -> None:
    defined, documented = defined_metrics(), documented_metrics()
    assert len(defined) >= 25
    assert defined == documented
