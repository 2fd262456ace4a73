"""`python -m devstack {setup,up,down,run,status,test}`: the Makefile's commands."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from devstack import postgres, tools
from devstack.stack import SERVICES, Ports, Stack, tail
from devstack.tools import ROOT, say

DEV = "dev"
TEST = "test"


def setup(*, for_tests: bool = False) -> float:
    """Fetch and build what the brokers (and browser tests) need; returns the seconds it took."""
    started = time.monotonic()
    stack = Stack(DEV, Ports.development())
    if not stack.external_kafka:
        tools.ensure_kafka()
    if not stack.external_mongo:
        tools.ensure_ferretdb()
        if stack.backend == "postgresql" or for_tests:  # tests check both backends start
            postgres.ensure_postgresql()
    tools.ensure_pdf_libraries()
    tools.ensure_prometheus()
    if for_tests:
        tools.ensure_chromium()
    return time.monotonic() - started


def print_urls(stack: Stack) -> None:
    p = stack.ports
    say("Layanan Pengaduan is running:")
    print(f"  intake   http://127.0.0.1:{p.intake}/        (API docs: /docs)")
    print(f"  routing  http://127.0.0.1:{p.routing}/docs")
    print(f"  notify   http://127.0.0.1:{p.notify}/docs")
    tool = stack.dev_tool_ports
    print(f"  mail     http://127.0.0.1:{tool['mail']}/   (email sent; SMTP :{tool['smtp']})")
    print(f"  sink     http://127.0.0.1:{tool['sink']}/   (WhatsApp, SMS and webhook posts)")
    print(f"  chat     http://127.0.0.1:{tool['sink']}/percakapan   (play a citizen's WhatsApp)")
    if stack.pid("prometheus"):
        ops = stack.ops_ports
        print(f"  Prometheus   http://127.0.0.1:{ops['prometheus']}/   (alerts: /alerts)")
        if stack.pid("alertmanager"):
            print(f"  Alertmanager http://127.0.0.1:{ops['alertmanager']}/")
    else:
        print("  Prometheus   not running (needs Debian's prometheus package)")
    print(f"  Kafka    {stack.kafka_bootstrap}")
    print(f"  MongoDB  {stack.mongodb_url}   (FerretDB unless MONGODB_URL is set)")
    if not stack.external_mongo:
        print(f"  backend  FerretDB on {stack.backend} (FERRETDB_BACKEND=sqlite|postgresql)")
    print(f"  logs     var/{stack.profile}/log/   data: var/{stack.profile}/")
    print("  dev sign-in: admin/admin, auditor/auditor, <opd> /officer, <opd>-kepala /supervisor")
    sys.stdout.flush()


def cmd_up() -> int:
    started = time.monotonic()
    setup_s = setup()
    stack = Stack(DEV, Ports.development())
    stack.save_ports()
    stack.up()
    print_urls(stack)
    say(f"up in {time.monotonic() - started:.0f}s (of which tool set-up {setup_s:.0f}s)")
    return 0


def cmd_down() -> int:
    Stack.load(DEV, Ports.development()).down()
    return 0


def cmd_status() -> int:
    stack = Stack.load(DEV, Ports.development())
    for name in (
        "kafka",
        "postgres",
        "ferretdb",
        "mailcatcher",
        "sink",
        *SERVICES,
        "alertmanager",
        "prometheus",
    ):
        pid = stack.pid(name)
        print(f"{name:9} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
    return 0


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def cmd_run() -> int:
    """Everything in the foreground; Ctrl-C stops all of it."""
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    stack = Stack(DEV, Ports.development())
    code = 0
    try:
        cmd_up()
        say("press Ctrl-C to stop everything")
        support = (
            "kafka",
            "postgres",
            "ferretdb",
            "mailcatcher",
            "sink",
            "alertmanager",
            "prometheus",
        )
        names = [c for c in support if stack.pid(c)] + list(SERVICES)
        while True:
            time.sleep(1)
            for name in names:
                if stack.pid(name) is None:
                    say(f"{name} stopped unexpectedly; last lines of its log:")
                    print(tail(stack.log_dir / f"{name}.log"))
                    code = 1
                    raise _Stop(name)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        say("stopping ...")
        stack.down()
    return code


def cmd_test(pytest_args: list[str]) -> int:
    """Brokers on free ports with fresh data, then ruff, mypy and pytest against them."""
    started = time.monotonic()
    setup_s = setup(for_tests=True)
    stack = Stack(f"{TEST}-{os.getpid()}", Ports.free())  # concurrent runs do not collide
    timings: dict[str, float] = {"tool set-up": setup_s}
    steps = [
        ("ruff", [sys.executable, "-m", "ruff", "check", "."]),
        ("ruff format", [sys.executable, "-m", "ruff", "format", "--check", "."]),
        ("mypy", [sys.executable, "-m", "mypy"]),
        ("pytest", [sys.executable, "-m", "pytest", *pytest_args]),
    ]
    env = {**os.environ, **stack.infra_env()}
    code = 0
    try:
        t = time.monotonic()
        stack.up(with_services=False)
        timings["brokers"] = time.monotonic() - t
        for name, argv in steps:
            say(f"running {name} ...")
            t = time.monotonic()
            result = subprocess.run(argv, cwd=ROOT, env=env, check=False)
            timings[name] = time.monotonic() - t
            if result.returncode != 0:
                say(f"{name} failed (exit {result.returncode})")
                code = result.returncode
                break
    finally:
        stack.remove()
    timings["total"] = time.monotonic() - started
    say("timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()))
    return code


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=["setup", "up", "down", "run", "status", "test"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="for test: arguments to pytest")
    ns = parser.parse_args()
    if ns.command == "setup":
        say(f"tools ready in {setup():.0f}s")
        return 0
    if ns.command == "test":
        return cmd_test(ns.args)
    return {"up": cmd_up, "down": cmd_down, "run": cmd_run, "status": cmd_status}[ns.command]()


if __name__ == "__main__":
    sys.exit(main())
