"""The Kubernetes manifests and the Grafana dashboard agree with each other and with the code.

No cluster needed: the manifests are parsed with yaml.safe_load_all, the dashboard with json,
and both are checked against the services' settings, routes, ports and metric definitions.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.intake.web.page import web_upload_limit
from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings
from shared.settings import SHARED_FIELDS, Environment, ServiceSettings
from tests.signing_keys import TEST_PRIVATE_KEY, TEST_PUBLIC_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
DASHBOARD_FILE = REPO_ROOT / "deploy" / "grafana" / "dashboard.json"
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SECRET_EXAMPLE = "secret.example.yaml"
SIGNING_KEY_EXAMPLE = "signing-key.example.yaml"
SIGNING_KEY_SECRET = "pengaduan-signing-key"

NAMESPACE = "pengaduan"
CONFIGMAP = "pengaduan-config"
SECRET = "pengaduan-secrets"
IMAGE = "ghcr.io/example/layanan-pengaduan"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "routing": RoutingSettings,
    "notify": NotifySettings,
}
SERVICES = sorted(SETTINGS)
# What no Ingress may expose: every service has these and they are for the cluster only.
INTERNAL_PATHS = {"/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json"}
# Alertmanager's webhook to notify: in-cluster only, never through the Ingress.
INTERNAL_PATHS |= {"/api/v1/alerts/alertmanager"}
TEST_AUTH_SECRET = "unit-test-secret-" + "x" * 32
DEV = Environment.DEVELOPMENT


# --- loading -------------------------------------------------------------------------------


def load_documents(path: Path) -> list[dict[str, Any]]:
    docs = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]
    for doc in docs:
        assert isinstance(doc, dict), f"{path.name}: a document is not a mapping"
    return docs


def manifest_files() -> list[Path]:
    return sorted(K8S_DIR.glob("*.yaml")) + sorted(K8S_DIR.glob("*.yml"))


def kustomization() -> dict[str, Any]:
    (doc,) = load_documents(K8S_DIR / "kustomization.yaml")
    return doc


@cache
def resources() -> tuple[dict[str, Any], ...]:
    """Every object `kubectl apply -k deploy/k8s` creates (the kustomization's resources)."""
    listed = kustomization()["resources"]
    return tuple(doc for name in listed for doc in load_documents(K8S_DIR / name))


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected exactly one {kind} {name}, found {len(matches)}"
    return matches[0]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [r for r in resources() if r["kind"] == kind]


def configmap_data() -> dict[str, str]:
    data: dict[str, str] = find("ConfigMap", CONFIGMAP)["data"]
    return data


def secret_example() -> dict[str, Any]:
    (doc,) = load_documents(K8S_DIR / SECRET_EXAMPLE)
    return doc


def secret_example_data() -> dict[str, str]:
    data: dict[str, str] = secret_example()["stringData"]
    return data


def pod_spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = find("Deployment", name)["spec"]["template"]["spec"]
    return spec


def container(name: str) -> dict[str, Any]:
    containers = pod_spec(name)["containers"]
    assert len(containers) == 1, f"{name}: expected one container"
    only: dict[str, Any] = containers[0]
    return only


def explicit_env(name: str) -> dict[str, str]:
    return {e["name"]: str(e["value"]) for e in container(name).get("env", []) if "value" in e}


def resolve_port(name: str, port: int | str) -> int:
    """A probe's or Service's port (number or the container port's name) as a number."""
    if isinstance(port, int):
        return port
    named = [p["containerPort"] for p in container(name)["ports"] if p.get("name") == port]
    assert len(named) == 1, f"{name}: no container port named {port}"
    number: int = named[0]
    return number


# --- manifests and kustomization -----------------------------------------------------------


def test_every_manifest_parses_into_kubernetes_objects() -> None:
    files = manifest_files()
    assert {f.name for f in files} >= {"kustomization.yaml", SECRET_EXAMPLE}
    for path in files:
        docs = load_documents(path)
        assert docs, f"{path.name} is empty"
        if path.name == "kustomization.yaml":
            continue
        for doc in docs:
            assert {"apiVersion", "kind", "metadata"} <= set(doc), f"{path.name}: not an object"
            assert doc["metadata"].get("name"), f"{path.name}: {doc['kind']} without a name"


def test_kustomization_lists_exactly_the_manifests_but_the_secret_example() -> None:
    spec = kustomization()
    assert spec["kind"] == "Kustomization"
    assert spec["namespace"] == NAMESPACE
    listed = spec["resources"]
    assert len(listed) == len(set(listed)), "a resource is listed twice"
    examples = {SECRET_EXAMPLE, SIGNING_KEY_EXAMPLE}
    present = {f.name for f in manifest_files()} - {"kustomization.yaml", *examples}
    assert set(listed) == present
    assert not examples & set(listed)
    assert {i["name"] for i in spec.get("images", [])} <= {IMAGE}


def test_objects_are_unique_and_in_the_namespace() -> None:
    keys = [(r["kind"], r["metadata"]["name"]) for r in resources()]
    assert len(keys) == len(set(keys)), "duplicate objects"
    assert find("Namespace", NAMESPACE)
    for r in resources():
        if r["kind"] != "Namespace":
            assert r["metadata"].get("namespace") == NAMESPACE, f"{r['kind']} outside namespace"
    assert not of_kind("Secret"), "the kustomization must not create a Secret"
    assert {(r["kind"], r["metadata"]["name"]) for r in resources()} >= {
        ("ConfigMap", CONFIGMAP),
        *{("Deployment", s) for s in SERVICES},
        *{("Service", s) for s in SERVICES},
        *{("PodDisruptionBudget", s) for s in SERVICES},
    }
    assert {r["metadata"]["name"] for r in of_kind("Deployment")} == set(SERVICES)


# --- deployments ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_deployment_runs_its_service_from_the_one_image(name: str) -> None:
    deployment = find("Deployment", name)
    assert deployment["spec"]["replicas"] == 2
    selector = deployment["spec"]["selector"]["matchLabels"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items(), "the selector must match the pod labels"
    image = container(name)["image"]
    assert image.rsplit(":", 1)[0] == IMAGE
    # The Dockerfile's CMD runs python -m services.$PENGADUAN_SERVICE from /app; the
    # Deployment says the same explicitly, so one image serves all three.
    assert container(name)["command"] == ["python", "-m", f"services.{name}"]
    assert (REPO_ROOT / "services" / name / "__main__.py").is_file()
    assert explicit_env(name)["PENGADUAN_SERVICE"] == name
    assert "WORKDIR /app" in DOCKERFILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SERVICES)
def test_container_listens_on_the_apps_default_port(name: str) -> None:
    default_port = SETTINGS[name].model_fields["port"].default
    ports = container(name)["ports"]
    assert [p["containerPort"] for p in ports] == [default_port]
    assert ports[0]["name"] == "http"
    env = explicit_env(name)
    prefix = name.upper()
    assert env[f"{prefix}_HOST"] == "0.0.0.0"
    assert int(env[f"{prefix}_PORT"]) == default_port
    # Otherwise Kubernetes would set INTAKE_PORT=tcp://... for the Service named intake.
    assert pod_spec(name)["enableServiceLinks"] is False


@pytest.mark.parametrize("name", SERVICES)
def test_service_targets_the_container_port(name: str) -> None:
    service = find("Service", name)["spec"]
    assert service.get("type", "ClusterIP") == "ClusterIP"
    labels = find("Deployment", name)["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= labels.items()
    (port,) = service["ports"]
    default_port = SETTINGS[name].model_fields["port"].default
    assert resolve_port(name, port["targetPort"]) == default_port
    assert port["port"] == default_port
    assert port["name"] == "http"


@pytest.mark.parametrize("name", SERVICES)
def test_probes_use_healthz_and_readyz(name: str) -> None:
    spec = container(name)
    default_port = SETTINGS[name].model_fields["port"].default
    expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    if "startupProbe" in spec:
        expected["startupProbe"] = "/healthz"
    for probe, path in expected.items():
        get = spec[probe]["httpGet"]
        assert get["path"] == path, f"{name}: {probe}"
        assert resolve_port(name, get["port"]) == default_port


@pytest.mark.parametrize("name", SERVICES)
def test_pods_are_annotated_for_prometheus(name: str) -> None:
    annotations = find("Deployment", name)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == SETTINGS[name].model_fields["port"].default
    assert annotations["prometheus.io/path"] == "/metrics"


@pytest.mark.parametrize("name", SERVICES)
def test_pods_run_locked_down(name: str) -> None:
    pod = pod_spec(name)
    user = re.search(r"^USER (\d+)", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert user is not None
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(user.group(1))
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    security = container(name)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # The only writable place is an emptyDir at /tmp (spooled uploads, temporary files).
    tmp = "/tmp"  # noqa: S108 (a mount path inside the container, not a file here)
    mounts = {m["mountPath"]: m["name"] for m in container(name)["volumeMounts"]}
    assert set(mounts) == {tmp}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[tmp]]


@pytest.mark.parametrize("name", SERVICES)
def test_resources_have_requests_and_limits(name: str) -> None:
    resources_ = container(name)["resources"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources_[bound]), f"{name}: {bound}"


@pytest.mark.parametrize("name", SERVICES)
def test_disruption_budget_keeps_one_pod_of_each(name: str) -> None:
    budget = find("PodDisruptionBudget", name)["spec"]
    deployment = find("Deployment", name)["spec"]
    assert budget["selector"]["matchLabels"] == deployment["selector"]["matchLabels"]
    assert 1 <= budget["minAvailable"] < deployment["replicas"]


# --- configuration -------------------------------------------------------------------------


def _is_field(model: type[BaseModel], parts: list[str]) -> bool:
    field = model.model_fields.get(parts[0])
    if field is None:
        return False
    if len(parts) == 1:
        return True
    nested = field.annotation
    if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
        return False
    return _is_field(nested, parts[1:])


def is_setting(key: str) -> bool:
    """Whether a service reads this environment variable (shared name or prefixed field)."""
    if key.lower() in SHARED_FIELDS:
        return True
    for name, settings in SETTINGS.items():
        prefix = f"{name.upper()}_"
        if key.startswith(prefix):
            return _is_field(settings, key[len(prefix) :].lower().split("__"))
    return False


def test_env_refers_only_to_the_configmap_and_the_secret() -> None:
    secret = secret_example()
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == SECRET
    assert secret["metadata"]["namespace"] == NAMESPACE
    keys = {
        ("configMap", CONFIGMAP): set(configmap_data()),
        ("secret", SECRET): set(secret_example_data()),
        ("secret", SIGNING_KEY_SECRET): {"ROUTING_AUTH_PRIVATE_KEY"},
    }
    for name in SERVICES:
        sources = {
            ("configMap" if "configMapRef" in e else "secret", next(iter(e.values()))["name"])
            for e in container(name)["envFrom"]
        }
        assert sources == {("configMap", CONFIGMAP), ("secret", SECRET)}, name
        for entry in container(name).get("env", []):
            assert set(entry) <= {"name", "value", "valueFrom"}
            ref = entry.get("valueFrom", {})
            for kind, key_ref in (("configMap", "configMapKeyRef"), ("secret", "secretKeyRef")):
                if key_ref in ref:
                    source = (kind, ref[key_ref]["name"])
                    assert ref[key_ref]["key"] in keys.get(source, set()), entry
            assert "fieldRef" not in ref and "resourceFieldRef" not in ref


def test_config_keys_are_settings_the_services_read() -> None:
    config, secret = set(configmap_data()), set(secret_example_data())
    assert not config & secret, "a key is both in the ConfigMap and the Secret"
    unknown = sorted(k for k in config | secret if not is_setting(k))
    assert not unknown, f"no service reads {unknown}"
    for name in SERVICES:
        assert all(is_setting(k) for k in explicit_env(name) if k != "PENGADUAN_SERVICE")


def test_configmap_and_secret_cover_what_compose_sets() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    names: set[str] = set()
    for name in SERVICES:
        names |= set(compose["services"][name]["environment"])
    names -= {f"{s.upper()}_{part}" for s in SERVICES for part in ("HOST", "PORT")}
    assert names, "compose sets no environment?"
    missing = names - set(configmap_data()) - set(secret_example_data())
    assert not missing, f"set in docker-compose.yml but not for Kubernetes: {sorted(missing)}"
    assert configmap_data()["ENVIRONMENT"] == "production"
    assert {"AUTH_SECRET", "AUTH_PUBLIC_KEY", "MONGODB_URL"} <= set(secret_example_data())


def test_only_routing_is_given_the_signing_key() -> None:
    """intake and notify verify tokens only: the private key is in its own Secret, which only
    routing's container names, and never in the Secret every service reads."""
    (signing,) = load_documents(K8S_DIR / SIGNING_KEY_EXAMPLE)
    assert signing["metadata"]["name"] == SIGNING_KEY_SECRET
    assert set(signing["stringData"]) == {"ROUTING_AUTH_PRIVATE_KEY"}
    assert "REPLACE-ME" in signing["stringData"]["ROUTING_AUTH_PRIVATE_KEY"]
    assert "ROUTING_AUTH_PRIVATE_KEY" not in secret_example_data()
    for name in SERVICES:
        refs = [
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in container(name).get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        ]
        assert (refs == [SIGNING_KEY_SECRET]) is (name == "routing"), name


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No setting from the test process's own environment leaks into the settings."""
    shared = {f.upper() for f in SHARED_FIELDS}
    for key in list(os.environ):
        if key in shared or key.startswith(("INTAKE_", "ROUTING_", "NOTIFY_")):
            monkeypatch.delenv(key)
    yield monkeypatch


def apply_env(monkeypatch: pytest.MonkeyPatch, name: str, secret: dict[str, str]) -> None:
    for key, value in {**configmap_data(), **secret, **explicit_env(name)}.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("name", SERVICES)
def test_production_settings_accept_the_configmap(name: str, clean_env: pytest.MonkeyPatch) -> None:
    secret = {
        **secret_example_data(),
        "AUTH_SECRET": TEST_AUTH_SECRET,
        "AUTH_PUBLIC_KEY": TEST_PUBLIC_KEY,
    }
    apply_env(clean_env, name, secret)
    if name == "routing":
        clean_env.setenv("ROUTING_AUTH_PRIVATE_KEY", TEST_PRIVATE_KEY)
    settings = SETTINGS[name]()
    assert settings.is_production
    assert settings.host == "0.0.0.0"
    assert settings.port == SETTINGS[name].model_fields["port"].default
    assert settings.kafka_bootstrap_servers == configmap_data()["KAFKA_BOOTSTRAP_SERVERS"]
    assert settings.mongodb_url == secret["MONGODB_URL"]
    assert settings.public_base_url.startswith("https://")
    if isinstance(settings, NotifySettings):
        assert settings.email.transport == configmap_data()["NOTIFY_EMAIL__TRANSPORT"] == "smtp"
        assert settings.console_base_url.startswith("https://")
    if isinstance(settings, RoutingSettings):
        assert settings.seed_dev_accounts is False


@pytest.mark.parametrize("name", SERVICES)
def test_secret_example_is_refused_as_it_is(name: str, clean_env: pytest.MonkeyPatch) -> None:
    apply_env(clean_env, name, secret_example_data())
    with pytest.raises(ValidationError, match="AUTH_SECRET"):
        SETTINGS[name]()


SECRET_WORDS = re.compile(r"(SECRET|PASSWORD|TOKEN|AUTH_VALUE|API_KEY|WEBHOOK__TARGETS)$")


def test_no_real_secret_values_are_committed() -> None:
    # The ConfigMap carries nothing secret, not even a MongoDB URL (it would hold credentials).
    for key in configmap_data():
        assert not SECRET_WORDS.search(key), f"{key} belongs in the Secret"
    assert "MONGODB_URL" not in configmap_data()
    secret = secret_example()
    assert "data" not in secret, "use readable placeholders in stringData, never base64 data"
    for key, value in secret_example_data().items():
        assert "REPLACE-ME" in value or value == "[]", f"{key} looks like a real value"
    assert len(secret_example_data()["AUTH_SECRET"]) < 32, "production must refuse it"
    assert ".invalid" in secret_example_data()["MONGODB_URL"]
    private_key = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
    for path in [*manifest_files(), DASHBOARD_FILE]:
        text = path.read_text(encoding="utf-8")
        assert not private_key.search(text), path.name
        assert "dev-only-secret" not in text and "dev-open311-key" not in text, path.name


# --- ingress -------------------------------------------------------------------------------


@cache
def app_paths(name: str) -> frozenset[str]:
    """Every route and mount path of a service's app (built, not started)."""
    app: FastAPI
    if name == "intake":
        app = create_intake(IntakeSettings(environment=DEV))
    elif name == "routing":
        app = create_routing(RoutingSettings(environment=DEV))
    else:
        app = create_notify(NotifySettings(environment=DEV))
    paths: set[str] = set()
    stack: list[Any] = list(app.routes)
    while stack:
        route = stack.pop()
        path = getattr(route, "path", None)
        if isinstance(path, str):
            paths.add(path)
        # FastAPI keeps an included router as one entry that holds the original router.
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack.extend(inner.routes)
    assert {"/healthz", "/readyz", "/metrics"} <= paths, f"{name}: route walk found {paths}"
    return frozenset(paths)


def ingress_paths() -> list[tuple[str, str, str]]:
    """(path, pathType, backend Service) of every rule of every Ingress."""
    found = []
    for ingress in of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                backend = entry["backend"]["service"]
                assert backend["port"] == {"name": "http"} or backend["port"] == {
                    "number": SETTINGS[backend["name"]].model_fields["port"].default
                }
                found.append((entry["path"], entry["pathType"], backend["name"]))
    return found


def ingress_backend(request_path: str) -> str | None:
    """Which Service the Ingress sends a path to: Exact first, then the longest Prefix."""
    best: tuple[int, str] | None = None
    for path, kind, service in ingress_paths():
        if kind == "Exact" and request_path == path:
            return service
        matches = request_path == path or request_path.startswith(path.rstrip("/") + "/")
        if kind == "Prefix" and matches and (best is None or len(path) > best[0]):
            best = (len(path), service)
    return best[1] if best else None


def test_ingress_paths_are_unique_and_point_at_the_services() -> None:
    paths = ingress_paths()
    assert paths
    assert len({(p, k) for p, k, _ in paths}) == len(paths), "a path is listed twice"
    for _, kind, service in paths:
        assert kind in {"Exact", "Prefix"}
        assert service in SETTINGS


@pytest.mark.parametrize("name", SERVICES)
def test_ingress_sends_every_public_route_to_its_service(name: str) -> None:
    public = {p for p in app_paths(name) if p not in INTERNAL_PATHS and not p.startswith("/docs")}
    assert public
    wrong = {p: ingress_backend(p) for p in sorted(public) if ingress_backend(p) != name}
    assert not wrong, f"{name} routes the Ingress sends elsewhere: {wrong}"


def test_ingress_exposes_no_internal_endpoint() -> None:
    for name in SERVICES:
        for path in app_paths(name):
            if path in INTERNAL_PATHS or path.startswith("/docs"):
                assert ingress_backend(path) is None, f"{path} of {name} is public"


def test_every_ingress_path_leads_to_a_route() -> None:
    for path, kind, service in ingress_paths():
        routes = app_paths(service)
        if kind == "Exact":
            assert path in routes, f"{path}: {service} has no such route"
        else:
            assert any(r == path or r.startswith(path.rstrip("/") + "/") for r in routes), path


def test_ingress_body_limit_admits_the_web_forms_photos() -> None:
    (ingress,) = of_kind("Ingress")
    limit = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    match = re.fullmatch(r"(\d+)([kmg])", limit.lower())
    assert match, limit
    size = int(match.group(1)) * 1024 ** {"k": 1, "m": 2, "g": 3}[match.group(2)]
    assert size >= web_upload_limit(IntakeSettings(environment=DEV))


# --- Grafana dashboard ---------------------------------------------------------------------

METRIC_DEFINITION = re.compile(r"\b(Counter|Gauge|Histogram)\(\s*\"(pengaduan_[a-z0-9_]+)\"", re.S)
# Identifiers in PromQL that are not metric names.
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset"}
PROMQL_KEYWORDS |= {"bool", "and", "or", "unless", "atan2", "inf", "nan"}


def defined_metrics() -> dict[str, str]:
    """pengaduan_* metric names defined in the source (grep), with their type."""
    found: dict[str, str] = {}
    for root in ("services", "shared"):
        for path in (REPO_ROOT / root).rglob("*.py"):
            for kind, name in METRIC_DEFINITION.findall(path.read_text(encoding="utf-8")):
                found[name] = kind
    return found


def exposed_series_names() -> set[str]:
    """The sample names Prometheus sees for the defined metrics, plus its own `up`."""
    names = {"up"}
    for name, kind in defined_metrics().items():
        if kind == "Counter":
            names.add(name if name.endswith("_total") else f"{name}_total")
        elif kind == "Gauge":
            names.add(name)
        else:
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (selectors, not functions, labels or keywords)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range durations, $__rate_interval
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\boffset\s+\S+", "", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        word = match.group(0)
        if following.startswith("(") or word.lower() in PROMQL_KEYWORDS:
            continue
        names.add(word)
    return names


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    return data


def panels() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for panel in dashboard()["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def expressions() -> list[str]:
    return [t["expr"] for p in panels() for t in p.get("targets", [])]


def test_metric_name_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (service, le) (rate(x_bucket{route!~"/a|/b"}'
        "[$__rate_interval]))) / on (job) group_left (le) y offset 5m or up"
    )
    assert metric_names(expr) == {"x_bucket", "y", "up"}


def test_grep_finds_the_metrics_the_services_define() -> None:
    assert defined_metrics() == {
        "pengaduan_http_requests_total": "Counter",
        "pengaduan_http_request_duration_seconds": "Histogram",
        "pengaduan_outbox_pending": "Gauge",
        "pengaduan_outbox_published_total": "Counter",
        "pengaduan_outbox_rejected_total": "Counter",
        "pengaduan_events_consumed_total": "Counter",
        "pengaduan_consumer_errors_total": "Counter",
        "pengaduan_dead_letters_total": "Counter",
        "pengaduan_complaints_submitted_total": "Counter",
        "pengaduan_chat_messages_total": "Counter",
        "pengaduan_chat_statuses_total": "Counter",
        "pengaduan_tickets_routed_total": "Counter",
        "pengaduan_deadline_tickets_skipped_total": "Counter",
        "pengaduan_notifications_total": "Counter",
        "pengaduan_notifications_dead_total": "Counter",
        "pengaduan_notification_digests_total": "Counter",
        "pengaduan_consumer_lag": "Gauge",
        "pengaduan_event_age_seconds": "Histogram",
        "pengaduan_outbox_oldest_age_seconds": "Gauge",
        "pengaduan_tickets": "Gauge",
        "pengaduan_tickets_overdue": "Gauge",
        "pengaduan_ticket_count_age_seconds": "Gauge",
        "pengaduan_opd_unreachable": "Gauge",
        "pengaduan_routing_decisions_total": "Counter",
        "pengaduan_routing_confidence": "Histogram",
        "pengaduan_journey_seconds": "Histogram",
        "pengaduan_notification_send_seconds": "Histogram",
        "pengaduan_canary_seconds": "Histogram",
        "pengaduan_canary_submitted_total": "Counter",
    }


def test_dashboard_is_a_grafana_dashboard_on_a_prometheus_variable() -> None:
    board = dashboard()
    assert 36 <= board["schemaVersion"] <= 41
    assert board["uid"] and board["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels():
        box = panel["gridPos"]
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"


def test_dashboard_queries_only_metrics_that_exist() -> None:
    exposed = exposed_series_names()
    used: set[str] = set()
    for expr in expressions():
        names = metric_names(expr)
        assert names, f"no metric in {expr}"
        assert names <= exposed, f"unknown metric {names - exposed} in {expr}"
        used |= names
    # Every template variable's query too.
    for variable in dashboard()["templating"]["list"]:
        query = variable.get("definition")
        if query:
            inner = re.search(r"label_values\((\w+)", query)
            assert inner and inner.group(1) in exposed, query


def test_dashboard_covers_the_pipeline() -> None:
    used = set().union(*(metric_names(e) for e in expressions()))
    assert used >= {
        "up",
        "pengaduan_http_requests_total",
        "pengaduan_http_request_duration_seconds_bucket",
        "pengaduan_complaints_submitted_total",
        "pengaduan_tickets_routed_total",
        "pengaduan_outbox_pending",
        "pengaduan_events_consumed_total",
        "pengaduan_consumer_errors_total",
        "pengaduan_dead_letters_total",
        "pengaduan_notifications_total",
        "pengaduan_notifications_dead_total",
    }
    assert any('status=~"5.."' in e for e in expressions()), "no 5xx panel"
    assert any("histogram_quantile(0.95" in e for e in expressions()), "no p95 panel"
