"""Start, check and stop the local stack: Kafka, FerretDB and the three services.

Each process runs detached with its pid in var/<profile>/run and its output in
var/<profile>/log, so `up` is idempotent and `down` works from another shell.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack import postgres, tools
from devstack.kafka_node import KafkaNode
from devstack.sink import DEV_WEBHOOK_SECRET
from devstack.tools import ROOT, say
from services.intake.settings import DEV_WHATSAPP_APP_SECRET
from services.notify.settings import DEV_ONCALL_TOKEN
from shared import signing
from shared.chat import DEV_WHATSAPP_ACCESS_TOKEN

PRIVATE_KEY_ENV = "ROUTING_AUTH_PRIVATE_KEY"

SERVICES = ("intake", "routing", "notify")
# The WhatsApp Cloud API as the sink plays it (docs/whatsapp.md).
DEV_GRAPH_VERSION = "v21.0"
DEV_PHONE_NUMBER_ID = "dev-phone-number-id"
# The on-call WhatsApp group Alertmanager's alerts go to in the dev stack (the sink shows them).
DEV_ONCALL_GROUP = "120363000000000001"
# FerretDB's storage: `FERRETDB_BACKEND=sqlite|postgresql`. PostgreSQL by default: it runs the
# filters FerretDB pushes down, where SQLite decodes every ticket (docs/benchmarks.md).
FERRETDB_BACKENDS = ("sqlite", "postgresql")
DEFAULT_FERRETDB_BACKEND = "postgresql"


def ferretdb_backend(chosen: str | None = None) -> str:
    backend = chosen or os.environ.get("FERRETDB_BACKEND") or DEFAULT_FERRETDB_BACKEND
    if backend not in FERRETDB_BACKENDS:
        raise SystemExit(f"[devstack] FERRETDB_BACKEND must be one of {FERRETDB_BACKENDS}")
    return backend


def free_ports(count: int) -> list[int]:
    """Distinct free ports: every socket stays bound until all are chosen."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def free_port() -> int:
    return free_ports(1)[0]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Ports:
    kafka: int
    kafka_controller: int
    mongo: int
    intake: int = 8001
    routing: int = 8002
    notify: int = 8003
    postgres: int = postgres.DEFAULT_DEV_PORT

    @classmethod
    def development(cls) -> Ports:
        env = os.environ
        return cls(
            kafka=int(env.get("DEV_KAFKA_PORT", 9092)),
            kafka_controller=int(env.get("DEV_KAFKA_CONTROLLER_PORT", 9093)),
            mongo=int(env.get("DEV_MONGO_PORT", 27017)),
            intake=int(env.get("INTAKE_PORT", 8001)),
            routing=int(env.get("ROUTING_PORT", 8002)),
            notify=int(env.get("NOTIFY_PORT", 8003)),
            postgres=int(env.get("DEV_POSTGRES_PORT", postgres.DEFAULT_DEV_PORT)),
        )

    @classmethod
    def free(cls) -> Ports:
        kafka, controller, mongo, intake, routing, notify, postgres = free_ports(7)
        return cls(
            kafka=kafka,
            kafka_controller=controller,
            mongo=mongo,
            intake=intake,
            routing=routing,
            notify=notify,
            postgres=postgres,
        )


@dataclass
class Component:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout_s: float = 120.0
    stop_timeout_s: float = 15.0
    after_ready: Callable[[], None] | None = None  # once ready, also when already running


class Stack:
    def __init__(
        self,
        profile: str,
        ports: Ports,
        *,
        kafka: str | None = None,
        mongodb: str | None = None,
        service_env: dict[str, str] | None = None,
        backend: str | None = None,
        var_root: Path | None = None,
        own_brokers: bool = False,
    ) -> None:
        """`kafka`/`mongodb` (else KAFKA_BOOTSTRAP_SERVERS/MONGODB_URL) name servers to use
        instead of starting ours; `service_env` is added to the services' environment;
        `backend` (else FERRETDB_BACKEND) is FerretDB's storage, sqlite or postgresql;
        `var_root` (else the clone's var/) holds the profile's folder; `own_brokers` starts
        Kafka and FerretDB even when the environment names others (the fault suite kills them)."""
        self.profile = profile
        self.ports = ports
        self.var = (var_root or ROOT / "var") / profile
        self.run_dir = self.var / "run"
        self.log_dir = self.var / "log"
        outside: Mapping[str, str] = {} if own_brokers else os.environ
        self.external_kafka = kafka or outside.get("KAFKA_BOOTSTRAP_SERVERS")
        self.external_mongo = mongodb or outside.get("MONGODB_URL")
        self.service_env = service_env or {}
        self.backend = ferretdb_backend(backend)
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    # -- addresses -----------------------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return self.external_kafka or f"127.0.0.1:{self.ports.kafka}"

    @property
    def mongodb_url(self) -> str:
        return self.external_mongo or f"mongodb://127.0.0.1:{self.ports.mongo}/"

    def infra_env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "MONGODB_URL": self.mongodb_url}

    # -- components ----------------------------------------------------------------------------
    def brokers(self) -> list[Component]:
        found = []
        if not self.external_kafka:
            found.append(self._kafka())
        found.extend(self.databases())
        return found

    def databases(self) -> list[Component]:
        """FerretDB, after the PostgreSQL it stores into when that is the backend."""
        if self.external_mongo:
            return []
        if self.backend == "postgresql":
            return [self._postgres(), self._ferretdb()]
        return [self._ferretdb()]

    def signing_env(self) -> dict[str, str]:
        """The stack's own token signing pair (made once, kept in the profile's auth/ folder),
        so that nobody holding the public built-in development key can sign in to it; unless
        the environment names a pair."""
        if "AUTH_PUBLIC_KEY" in os.environ:
            return {}
        path = self.var / "auth" / "signing.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            private, public = signing.generate()
            path.touch(mode=0o600)
            path.write_text(json.dumps({"private": private, "public": public}), encoding="utf-8")
        pair = json.loads(path.read_text(encoding="utf-8"))
        return {"AUTH_PUBLIC_KEY": pair["public"], PRIVATE_KEY_ENV: pair["private"]}

    def services(self) -> list[Component]:
        env = {
            **self.infra_env(),
            "ENVIRONMENT": "development",
            "ROUTING_SEED_DEV_ACCOUNTS": "true",
            "INTAKE_RATE_LIMIT_PER_MINUTE": "600",
            **self.signing_env(),
            **self.service_env,
        }

        def own_env(name: str) -> dict[str, str]:
            """The private key reaches routing only."""
            return {k: v for k, v in env.items() if name == "routing" or k != PRIVATE_KEY_ENV}

        found = []
        for name in SERVICES:
            port = getattr(self.ports, name)
            found.append(
                Component(
                    name=name,
                    argv=[sys.executable, "-m", f"services.{name}"],
                    env={
                        # The private key reaches routing only.
                        **{
                            k: v
                            for k, v in env.items()
                            if name == "routing" or k != PRIVATE_KEY_ENV
                        },
                        f"{name.upper()}_PORT": str(port),
                    },
                    ready=functools.partial(http_ok, f"http://127.0.0.1:{port}/readyz"),
                    ready_timeout_s=90.0,
                )
            )
        return found

    # -- stand-ins for notify's outside world: a mail catcher and a gateway sink ----------------
    @functools.cached_property
    def dev_tool_ports(self) -> dict[str, int]:
        """SMTP and page ports of the mail catcher, and the sink's port (dev: fixed)."""
        if self.profile != "dev":
            return {"smtp": free_port(), "mail": free_port(), "sink": free_port()}
        env = os.environ
        return {
            "smtp": int(env.get("DEV_SMTP_PORT", 1025)),
            "mail": int(env.get("DEV_MAIL_PORT", 8025)),
            "sink": int(env.get("DEV_SINK_PORT", 8026)),
        }

    def dev_tools(self) -> list[Component]:
        p = self.dev_tool_ports
        mail = [f"--smtp-port={p['smtp']}", f"--http-port={p['mail']}"]
        sink = [
            f"--port={p['sink']}",
            f"--webhook-secret={DEV_WEBHOOK_SECRET}",
            f"--intake-url=http://127.0.0.1:{self.ports.intake}",
            f"--whatsapp-app-secret={DEV_WHATSAPP_APP_SECRET}",
        ]
        return [
            Component(
                name="mailcatcher",
                argv=[sys.executable, "-m", "devstack.mailcatcher", *mail],
                ready=functools.partial(http_ok, f"http://127.0.0.1:{p['mail']}/healthz"),
                ready_timeout_s=20.0,
            ),
            Component(
                name="sink",
                argv=[sys.executable, "-m", "devstack.sink", *sink],
                ready=functools.partial(http_ok, f"http://127.0.0.1:{p['sink']}/healthz"),
                ready_timeout_s=20.0,
            ),
        ]

    def dev_tools_env(self) -> dict[str, str]:
        """Points notify at the mail catcher and the sink (also as the WhatsApp Cloud API, whose
        photos intake fetches there too), unless the environment says otherwise."""
        p = self.dev_tool_ports
        sink = f"http://127.0.0.1:{p['sink']}"
        graph = f"{sink}/whatsapp/{DEV_GRAPH_VERSION}"
        webhook = {"name": "sink", "url": f"{sink}/webhook", "secret": DEV_WEBHOOK_SECRET}
        env = {
            "NOTIFY_EMAIL__TRANSPORT": "smtp",
            "NOTIFY_EMAIL__HOST": "127.0.0.1",
            "NOTIFY_EMAIL__PORT": str(p["smtp"]),
            "NOTIFY_WHATSAPP__TRANSPORT": "cloud",
            "NOTIFY_WHATSAPP__API_URL": graph,
            "NOTIFY_WHATSAPP__PHONE_NUMBER_ID": DEV_PHONE_NUMBER_ID,
            "NOTIFY_WHATSAPP__ACCESS_TOKEN": DEV_WHATSAPP_ACCESS_TOKEN,
            "INTAKE_WHATSAPP__GRAPH_URL": graph,
            "INTAKE_WHATSAPP__ACCESS_TOKEN": DEV_WHATSAPP_ACCESS_TOKEN,
            "NOTIFY_SMS__TRANSPORT": "http",
            "NOTIFY_SMS__URL": f"{sink}/sms",
            "NOTIFY_WEBHOOK__TARGETS": json.dumps([webhook]),
            "NOTIFY_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.ports.intake}",
            "NOTIFY_CONSOLE_BASE_URL": f"http://127.0.0.1:{self.ports.routing}",
            "NOTIFY_ONCALL__TOKEN": DEV_ONCALL_TOKEN,
            "NOTIFY_ONCALL__ADDRESS": DEV_ONCALL_GROUP,
        }
        return {k: v for k, v in env.items() if k not in os.environ}

    # -- what ops watch: Prometheus scraping the services, Alertmanager (Debian's packages) ----
    @functools.cached_property
    def ops_ports(self) -> dict[str, int]:
        """Prometheus's and Alertmanager's ports (dev: 9090 and 9094; else free ones)."""
        if self.profile != "dev":
            prometheus, alertmanager = free_ports(2)
            return {"prometheus": prometheus, "alertmanager": alertmanager}
        env = os.environ
        return {
            "prometheus": int(env.get("DEV_PROMETHEUS_PORT", 9090)),
            "alertmanager": int(env.get("DEV_ALERTMANAGER_PORT", 9094)),
        }

    def ops_tools(self, *, scrape_interval_s: int = 5) -> list[Component]:
        """Prometheus (the three services, the alert rules of deploy/) and Alertmanager (to
        the mail catcher and notify's on-call webhook); none when Debian's are missing."""
        if not tools.PROMETHEUS.exists():
            return []
        found = []
        if tools.ALERTMANAGER.exists():
            found.append(self._alertmanager())
        found.append(self._prometheus(scrape_interval_s))
        return found

    def _prometheus(self, scrape_interval_s: int) -> Component:
        folder = self.var / "prometheus"
        folder.mkdir(parents=True, exist_ok=True)
        port = self.ops_ports["prometheus"]
        jobs = [
            {"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{p}"]}]}
            for name, p in (
                ("prometheus", port),
                *((name, getattr(self.ports, name)) for name in SERVICES),
                ("alertmanager", self.ops_ports["alertmanager"]),
            )
        ]
        config = {
            "global": {
                "scrape_interval": f"{scrape_interval_s}s",
                "evaluation_interval": f"{scrape_interval_s}s",
                "external_labels": {"system": "layanan-pengaduan", "stack": self.profile},
            },
            "rule_files": [str(ROOT / "deploy" / "prometheus" / "alerts.yml")],
            "alerting": {
                "alertmanagers": [
                    {
                        "static_configs": [
                            {"targets": [f"127.0.0.1:{self.ops_ports['alertmanager']}"]}
                        ]
                    }
                ]
            },
            "scrape_configs": jobs,
        }
        (folder / "prometheus.yml").write_text(json.dumps(config, indent=2))
        return Component(
            name="prometheus",
            argv=[
                str(tools.PROMETHEUS),
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                "--storage.tsdb.retention.time=7d",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            ready=functools.partial(http_ok, f"http://127.0.0.1:{port}/-/ready"),
            ready_timeout_s=60.0,
        )

    def _alertmanager(self) -> Component:
        folder = self.var / "alertmanager"
        folder.mkdir(parents=True, exist_ok=True)
        port = self.ops_ports["alertmanager"]
        smtp = self.dev_tool_ports["smtp"]
        notify = f"http://127.0.0.1:{self.ports.notify}/api/v1/alerts/alertmanager"
        config = {
            "global": {
                "smtp_smarthost": f"127.0.0.1:{smtp}",
                "smtp_from": "alertmanager@pengaduan.test",
                "smtp_require_tls": False,
            },
            "route": {
                "receiver": "oncall",
                "group_by": ["alertname"],
                "group_wait": "10s",
                "group_interval": "1m",
                "repeat_interval": "4h",
            },
            "receivers": [
                {
                    "name": "oncall",
                    "email_configs": [{"to": "oncall@pengaduan.test", "send_resolved": True}],
                    "webhook_configs": [
                        {
                            "url": notify,
                            "send_resolved": True,
                            "http_config": {
                                "authorization": {"type": "Bearer", "credentials": DEV_ONCALL_TOKEN}
                            },
                        }
                    ],
                }
            ],
        }
        (folder / "alertmanager.yml").write_text(json.dumps(config, indent=2))
        return Component(
            name="alertmanager",
            argv=[
                str(tools.ALERTMANAGER),
                f"--config.file={folder / 'alertmanager.yml'}",
                f"--storage.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            ready=functools.partial(http_ok, f"http://127.0.0.1:{port}/-/ready"),
            ready_timeout_s=60.0,
        )

    def _kafka(self) -> Component:
        libs = tools.ensure_kafka()
        data = self.var / "kafka" / "data"
        config = self.var / "kafka" / "server.properties"
        config.parent.mkdir(parents=True, exist_ok=True)
        node = KafkaNode(
            port=self.ports.kafka, controller_port=self.ports.kafka_controller, data=data
        )
        config.write_text(node.properties())
        if not (data / "meta.properties").exists():
            say("formatting Kafka storage (KRaft) ...")
            subprocess.run(
                node.format_argv(libs, config, new_cluster_id()),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        return Component(
            name="kafka",
            argv=node.server_argv(libs, config),
            ready=lambda: kafka_ready(self.kafka_bootstrap),
            stop_timeout_s=30.0,
        )

    def _postgres(self) -> Component:
        bindir = postgres.ensure_postgresql()
        data = postgres.data_dir(self.var)
        postgres.ensure_cluster(data, bindir)
        port = self.ports.postgres
        return Component(
            name="postgres",
            argv=postgres.server_argv(data, bindir, port),
            ready=lambda: port_open(port) and postgres.answers(bindir, port),
            after_ready=lambda: postgres.ensure_id_index(bindir, port),
            ready_timeout_s=60.0,
            stop_timeout_s=30.0,
        )

    def _ferretdb(self) -> Component:
        binary = tools.ensure_ferretdb()
        data = self.var / "ferretdb"
        data.mkdir(parents=True, exist_ok=True)
        if self.backend == "postgresql":
            storage = [
                "--handler=postgresql",
                f"--postgresql-url={postgres.url(self.ports.postgres)}",
            ]
        else:
            storage = ["--handler=sqlite", f"--sqlite-url=file:{data}/"]
        return Component(
            name="ferretdb",
            argv=[
                str(binary),
                *storage,
                f"--listen-addr=127.0.0.1:{self.ports.mongo}",
                "--debug-addr=-",
                f"--state-dir={data}",
                "--telemetry=disable",
                "--log-level=warn",
            ],
            ready=lambda: mongo_ready(self.mongodb_url),
        )

    # -- process control -----------------------------------------------------------------------
    def _pidfile(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        try:
            pid = int(self._pidfile(name).read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def start(self, component: Component) -> None:
        """Start a component unless it already runs; return once it is ready."""
        if self.pid(component.name) is not None and component.ready():
            say(f"{component.name} already running")
            if component.after_ready is not None:
                component.after_ready()
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{component.name}.log"
        started = time.monotonic()
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                component.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                env={**os.environ, **component.env},
                start_new_session=True,
            )
        self._children[component.name] = proc
        self._pidfile(component.name).write_text(str(proc.pid))
        deadline = started + component.ready_timeout_s
        while not component.ready():
            if proc.poll() is not None:
                raise SystemExit(
                    f"[devstack] {component.name} exited with {proc.returncode}; "
                    f"last lines of {log_path}:\n{tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"[devstack] {component.name} not ready after "
                    f"{component.ready_timeout_s:.0f}s; see {log_path}:\n{tail(log_path)}"
                )
            time.sleep(0.3)
        if component.after_ready is not None:
            component.after_ready()
        say(f"{component.name} ready in {time.monotonic() - started:.1f}s (log: {log_path})")

    def stop(self, name: str, timeout_s: float = 15.0) -> None:
        pid = self.pid(name)
        if pid is None:
            self._pidfile(name).unlink(missing_ok=True)
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while self.pid(name) is not None and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if self.pid(name) is not None:
            say(f"{name} did not stop in {timeout_s:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _reap(pid)
        self._pidfile(name).unlink(missing_ok=True)
        child = self._children.pop(name, None)
        if child is not None:
            child.wait(timeout=5)
        say(f"{name} stopped")

    def up(self, *, with_services: bool = True) -> None:
        """Start what is not running yet (brokers, topics, then services); return when ready."""
        for component in self.brokers():
            self.start(component)
        ensure_topics(self.kafka_bootstrap)
        if with_services:
            for component in self.dev_tools():
                self.start(component)
            for component in self.services():
                component.env = {**self.dev_tools_env(), **component.env}
                self.start(component)
            for component in self.ops_tools():
                self.start(component)

    def down(self) -> None:
        for name in (
            "prometheus",
            "alertmanager",
            *reversed(SERVICES),
            "sink",
            "mailcatcher",
            "ferretdb",
            "postgres",
            "kafka",
        ):
            self.stop(name, timeout_s=30.0 if name in ("kafka", "postgres") else 15.0)

    def remove(self) -> None:
        """Stop everything and delete the profile's data (var/<profile> and what it links to)."""
        self.down()
        postgres.remove_cluster(self.var)
        shutil.rmtree(self.var, ignore_errors=True)

    def save_ports(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        (self.var / "ports.json").write_text(json.dumps(self.ports.__dict__))

    @classmethod
    def load(cls, profile: str, default: Ports) -> Stack:
        saved = ROOT / "var" / profile / "ports.json"
        if saved.exists():
            return cls(profile, Ports(**json.loads(saved.read_text())))
        return cls(profile, default)


def new_cluster_id() -> str:
    """A KRaft cluster id; never one starting with '-', which the tool would read as an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if cluster_id[0].isalnum():
            return cluster_id


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def kafka_ready(bootstrap: str) -> bool:
    """Ready means an admin round trip succeeds, not just an open port."""
    from shared.kafka import kafka_answers

    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if host in ("127.0.0.1", "localhost") and not port_open(int(port)):
        return False
    return asyncio.run(kafka_answers(bootstrap, timeout_s=5.0))


def ensure_topics(bootstrap: str) -> None:
    from shared.kafka import ensure_topics as create

    asyncio.run(create(bootstrap))


def mongo_ready(url: str) -> bool:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=1500)
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True
