"""The alert rules pass their `promtool test rules` unit tests, every alert has one and a
runbook entry, and Prometheus's and Alertmanager's configurations are valid (Debian's
promtool and amtool, which `make test` installs with the dev stack's tools)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from devstack.tools import AMTOOL, PROMTOOL

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
OPERATIONS = ROOT / "docs" / "operations.md"


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def alerts() -> list[dict[str, Any]]:
    spec = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in spec["groups"] for rule in group["rules"] if "alert" in rule]


def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    result = run(str(PROMTOOL), "test", "rules", "alerts.test.yml", cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_unit_test_that_sees_it_fire() -> None:
    spec = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())
    fired = {
        case["alertname"]
        for test in spec["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in alerts()} <= fired


def test_the_issue_s_alerts_are_all_there() -> None:
    names = {rule["alert"] for rule in alerts()}
    assert names >= {
        "ServiceDown",
        "HighServerErrorRate",
        "ConsumerLagGrowing",
        "OutboxOldestEntryTooOld",
        "DeadLettersProduced",
        "JourneySloFastBurn",
        "JourneySloSlowBurn",
        "OpdOverdueRising",
        "OpdUnreachable",
        "TriageRateJump",
    }


def test_every_alert_has_a_runbook_entry() -> None:
    text = OPERATIONS.read_text()
    headings = {m.group(1) for m in re.finditer(r"^#### (\w+)$", text, flags=re.MULTILINE)}
    for rule in alerts():
        assert rule["alert"] in headings, f"no runbook entry for {rule['alert']}"
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"


def test_prometheus_configuration_and_rules_are_valid() -> None:
    result = run(str(PROMTOOL), "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_configuration_is_valid_and_reaches_email_and_notify() -> None:
    result = run(str(AMTOOL), "check-config", str(ALERTMANAGER))
    assert result.returncode == 0, result.stdout + result.stderr
    spec = yaml.safe_load(ALERTMANAGER.read_text())
    receivers = {r["name"]: r for r in spec["receivers"]}
    emailed = [r for r in receivers.values() if r.get("email_configs")]
    hooked = [
        hook
        for r in receivers.values()
        for hook in r.get("webhook_configs", [])
        if hook["url"].endswith("/api/v1/alerts/alertmanager")
    ]
    assert emailed and hooked
    assert all(hook["http_config"]["authorization"]["type"] == "Bearer" for hook in hooked)
    assert spec["route"]["receiver"] in receivers
