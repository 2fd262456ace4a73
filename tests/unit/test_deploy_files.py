"""The deployment files agree with each other and with the code (no Docker needed)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from shared.topics import ALL_TOPICS

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"

APP_PORTS = {"intake": 8001, "routing": 8002, "notify": 8003}
INFRA_SERVICES = {"kafka", "mongo", "prometheus"}


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE_FILE)


def service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    definition = services[name]
    assert isinstance(definition, dict)
    return definition


def environment(definition: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, whether written as a mapping or as a KEY=value list."""
    raw = definition.get("environment", {})
    if isinstance(raw, list):
        return dict(str(item).split("=", 1) for item in raw)
    return {str(key): str(value) for key, value in raw.items()}


def command_text(definition: dict[str, Any]) -> str:
    raw = definition.get("command", "")
    return " ".join(raw) if isinstance(raw, list) else str(raw)


def healthcheck_text(definition: dict[str, Any]) -> str:
    test = definition["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def published_container_ports(definition: dict[str, Any]) -> set[int]:
    ports: set[int] = set()
    for entry in definition.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).rsplit(":", 1)[-1].split("/")[0]))
    return ports


def test_compose_has_every_service() -> None:
    assert set(compose()["services"]) >= INFRA_SERVICES | set(APP_PORTS)


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_waits_for_healthy_kafka_and_mongo(name: str) -> None:
    depends_on = service(name)["depends_on"]
    assert isinstance(depends_on, dict), "depends_on needs the long form to carry conditions"
    assert depends_on["kafka"]["condition"] == "service_healthy"
    assert depends_on["mongo"]["condition"] == "service_healthy"
    for dependency in depends_on:
        assert dependency in compose()["services"]


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_points_at_the_compose_brokers(name: str) -> None:
    env = environment(service(name))
    mongo_url = urlsplit(env["MONGODB_URL"])
    assert mongo_url.scheme == "mongodb"
    assert mongo_url.hostname == "mongo"
    assert (mongo_url.port or 27017) == 27017
    assert parse_qs(mongo_url.query).get("replicaSet") == ["rs0"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["ENVIRONMENT"] == "production"
    assert env["AUTH_SECRET"].startswith("${AUTH_SECRET:?")
    assert env["AUTH_PUBLIC_KEY"].startswith("${AUTH_PUBLIC_KEY:?")
    assert "AUTH_PRIVATE_KEY" not in str(env), "the signing key is routing's alone"


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_only_routing_reads_the_signing_key_file(name: str) -> None:
    files = [f["path"] if isinstance(f, dict) else f for f in service(name)["env_file"]]
    assert ("routing.env" in files) is (name == "routing"), files


@pytest.mark.parametrize(("name", "port"), sorted(APP_PORTS.items()))
def test_app_listens_on_all_interfaces_and_publishes_its_port(name: str, port: int) -> None:
    definition = service(name)
    env = environment(definition)
    prefix = name.upper()
    assert env[f"{prefix}_HOST"] == "0.0.0.0"
    assert int(env[f"{prefix}_PORT"]) == port
    assert port in published_container_ports(definition)
    assert definition["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_is_built_from_the_deploy_dockerfile_for_itself(name: str) -> None:
    build = service(name)["build"]
    assert build["dockerfile"] == "deploy/Dockerfile"
    assert build["args"]["SERVICE"] == name
    assert (REPO_ROOT / "services" / name).is_dir()


def test_kafka_advertises_the_address_the_apps_use() -> None:
    env = environment(service("kafka"))
    assert "broker" in env["KAFKA_PROCESS_ROLES"] and "controller" in env["KAFKA_PROCESS_ROLES"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"


def test_kafka_init_creates_every_topic_the_code_declares() -> None:
    script = command_text(service("kafka-init"))
    for topic in ALL_TOPICS:
        creations = [
            shlex.split(line)
            for line in script.splitlines()
            if "--create" in line and f"--topic {topic.name} " in f"{line} "
        ]
        assert len(creations) == 1, f"{topic.name} is not created exactly once"
        args = creations[0]
        assert args[args.index("--partitions") + 1] == str(topic.partitions)


def test_mongo_runs_and_initiates_replica_set_rs0() -> None:
    mongo = service("mongo")
    assert re.search(r"--replSet\s+rs0\b", command_text(mongo))
    check = healthcheck_text(mongo)
    assert "rs.initiate" in check
    assert "'rs0'" in check and "mongo:27017" in check


def test_every_mounted_or_built_path_exists() -> None:
    spec = compose()
    named_volumes = set(spec.get("volumes") or {})
    for name, definition in spec["services"].items():
        build = definition.get("build")
        if build is not None:
            context = REPO_ROOT / (build if isinstance(build, str) else build.get("context", "."))
            assert context.is_dir(), f"{name}: build context {context} is missing"
            dockerfile = (
                "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            )
            assert (context / dockerfile).is_file(), f"{name}: {dockerfile} is missing"
        for volume in definition.get("volumes", []):
            if isinstance(volume, dict):
                source, is_bind = str(volume.get("source", "")), volume.get("type") == "bind"
            else:
                source = str(volume).split(":", 1)[0]
                is_bind = source.startswith((".", "/", "~"))
            if is_bind:
                assert (REPO_ROOT / source).exists(), f"{name}: {source} is missing"
            elif source:
                assert source in named_volumes, f"{name}: volume {source} is not declared"


def test_prometheus_scrapes_the_three_services() -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    scraped: set[str] = set()
    for job in config["scrape_configs"]:
        if job.get("metrics_path", "/metrics") != "/metrics":
            continue
        for static in job.get("static_configs", []):
            scraped.update(static["targets"])
    assert {f"{name}:{port}" for name, port in APP_PORTS.items()} <= scraped


def test_prometheus_rule_files_exist_and_are_mounted() -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    mounts = " ".join(str(volume) for volume in service("prometheus").get("volumes", []))
    for rule_file in config["rule_files"]:
        assert (PROMETHEUS_DIR / rule_file).is_file()
        assert f"./deploy/prometheus/{rule_file}:/etc/prometheus/{rule_file}" in mounts
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in mounts


def test_alert_rules_are_complete() -> None:
    rules = [
        rule
        for group in load_yaml(PROMETHEUS_DIR / "alerts.yml")["groups"]
        for rule in group["rules"]
        if "alert" in rule  # recording rules have no alert, labels or annotations
    ]
    assert rules
    for rule in rules:
        assert rule["alert"] and rule["expr"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
    expressions = " ".join(str(rule["expr"]) for rule in rules)
    for metric in (
        "up",
        "pengaduan_outbox_pending",
        "pengaduan_dead_letters_total",
        "pengaduan_consumer_errors_total",
    ):
        assert re.search(rf"\b{metric}\b", expressions), f"no alert on {metric}"


def test_notify_chooses_real_channels_in_production() -> None:
    env = environment(service("notify"))
    assert env["NOTIFY_EMAIL__TRANSPORT"].startswith("${NOTIFY_EMAIL__TRANSPORT:?")
    assert env["NOTIFY_WHATSAPP__TRANSPORT"] == "${NOTIFY_WHATSAPP__TRANSPORT:-off}"
