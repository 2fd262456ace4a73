"""A whole system on loopback for the fault suite and the soak: its own Kafka, PostgreSQL and
FerretDB (so they can be killed), several instances of each service sharing one consumer group
per service, and an in-process mail catcher and gateway sink that outlive every kill."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from devstack import mailcatcher, sink
from devstack.mailcatcher import MailCatcher
from devstack.sink import DEV_WEBHOOK_SECRET, Sink
from devstack.stack import SERVICES, Component, Ports, Stack, ensure_topics, free_ports, http_ok

BROKERS = ("kafka", "postgres", "ferretdb")


@dataclass
class Cluster:
    """`instances` of each service; instance n of `intake` is named `intake-<n>`."""

    name: str
    instances: int = 2
    env: dict[str, str] = field(default_factory=dict)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self.stack = Stack(f"{self.name}-{self.run}", Ports.free(), own_brokers=True)
        self.sink = Sink(webhook_secret=DEV_WEBHOOK_SECRET)
        self.mail = MailCatcher()
        self.components: dict[str, Component] = {}
        self.ports: dict[str, int] = {}
        self.kills: dict[str, int] = {}

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        # Every message of a long run is kept for the count at the end.
        sink.MAX_KEPT = mailcatcher.MAX_KEPT = 1_000_000
        self.sink.start()
        self.mail.start()
        for component in self.stack.brokers():
            if component.name == "postgres":
                # The dev server acknowledges commits before their WAL is written, so killing
                # it loses the last acknowledged writes (a 201's ticket among them): durable
                # commits here, as MongoDB's journaled majority writes are in production.
                component.argv = [
                    "synchronous_commit=on" if a == "synchronous_commit=off" else a
                    for a in component.argv
                ]
            self.components[component.name] = component
            self.stack.start(component)
        ensure_topics(self.stack.kafka_bootstrap)
        for component in self._service_components():
            self.components[component.name] = component
        for name in self.service_names():
            self.stack.start(self.components[name])

    def stop(self) -> None:
        for name in reversed(self.service_names()):
            self.stack.stop(name, timeout_s=10.0)
        self.stack.down()
        self.sink.stop()
        self.mail.stop()

    def remove(self) -> None:
        self.stop()
        self.stack.remove()
        shutil.rmtree(self.stack.var, ignore_errors=True)

    def service_names(self, service: str | None = None) -> list[str]:
        chosen = SERVICES if service is None else (service,)
        return [f"{s}-{n}" for s in chosen for n in range(1, self.instances + 1)]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def database(self) -> str:
        return self.service_env()["MONGODB_DATABASE"]

    # -- faults --------------------------------------------------------------------------------
    def kill(self, name: str, *, down_s: float = 0.0) -> None:
        """SIGKILL the process group (no shutdown at all), and `down_s` later start it again
        until ready."""
        pid = self.stack.pid(name)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self.stack.stop(name)  # only reaps it and forgets the pid
        self.kills[name] = self.kills.get(name, 0) + 1
        time.sleep(down_s)
        self.stack.start(self.components[name])

    def pids(self) -> dict[str, int]:
        found = {}
        for name in self.service_names():
            pid = self.stack.pid(name)
            if pid is not None:
                found[name] = pid
        return found

    # -- wiring --------------------------------------------------------------------------------
    def service_env(self) -> dict[str, str]:
        dev = self.stack.dev_tools_env()
        webhook = {"name": "sink", "url": f"{self.sink.url}/webhook", "secret": DEV_WEBHOOK_SECRET}
        graph = f"{self.sink.url}/whatsapp/v21.0"
        return {
            **dev,
            "MONGODB_DATABASE": f"{self.name.replace('-', '_')}_{self.run}",
            "ROUTING_CONSUMER_GROUP": f"routing-{self.run}",
            "NOTIFY_CONSUMER_GROUP": f"notify-{self.run}",
            "INTAKE_RATE_LIMIT_PER_MINUTE": "1000000",
            "NOTIFY_EMAIL__PORT": str(self.mail.smtp_port),
            "NOTIFY_WHATSAPP__API_URL": graph,
            "INTAKE_WHATSAPP__GRAPH_URL": graph,
            "NOTIFY_SMS__URL": f"{self.sink.url}/sms",
            "NOTIFY_WEBHOOK__TARGETS": json.dumps([webhook]),
            **self.env,
        }

    def _service_components(self) -> Iterator[Component]:
        env = self.service_env()
        names = self.service_names()
        for name, port in zip(names, free_ports(len(names)), strict=True):
            service = name.rsplit("-", 1)[0]
            [base] = [c for c in self.stack.services() if c.name == service]
            self.ports[name] = port
            yield Component(
                name=name,
                argv=base.argv,
                env={**base.env, **env, f"{service.upper()}_PORT": str(port)},
                ready=functools.partial(http_ok, f"http://127.0.0.1:{port}/readyz"),
                ready_timeout_s=base.ready_timeout_s,
            )


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its children (the service's process group)."""
    total = 0
    found = False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pid:  # the process group id
                continue
            with open(f"/proc/{entry}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        found = True
        except (OSError, IndexError, ValueError):
            continue
    return round(total / 1024, 1) if found else None


def wait_until(check: Callable[[], object], *, timeout_s: float, every_s: float = 0.5) -> bool:
    """Poll `check()` until true or `timeout_s`; whether it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every_s)
    return bool(check())
