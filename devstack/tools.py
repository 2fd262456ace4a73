"""Provision the brokers' software into a cache outside the clone, with progress and timing."""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("LAYANAN_CACHE", Path.home() / ".cache" / "layanan-pengaduan"))
KAFKA_VERSION = "4.1.1"
FERRETDB_VERSION = "v1.24.2"
FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
KAFKA_POM = ROOT / "deploy" / "local" / "kafka-pom.xml"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def kafka_libs() -> Path:
    return CACHE / f"kafka-{KAFKA_VERSION}" / "libs"


def ferretdb_binary() -> Path:
    return CACHE / f"ferretdb-{FERRETDB_VERSION}" / "ferretdb"


def _require(tool: str, why: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise SystemExit(f"[devstack] `{tool}` is needed to {why} but is not on PATH")
    return found


def ensure_kafka() -> Path:
    """The Kafka broker's jars (plus a log4j2 binding), fetched from Maven Central once."""
    libs = kafka_libs()
    if (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        return libs
    mvn = _require("mvn", "fetch the Kafka broker from Maven Central")
    say(f"first run: fetching Apache Kafka {KAFKA_VERSION} jars with Maven (progress below) ...")
    started = time.monotonic()
    staging = Path(tempfile.mkdtemp(prefix="kafka-libs-", dir=_cache_dir()))
    subprocess.run(
        [
            mvn,
            "-B",
            "-f",
            str(KAFKA_POM),
            f"{DEPENDENCY_PLUGIN}:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
            f"-Dkafka.version={KAFKA_VERSION}",
        ],
        check=True,
    )
    libs.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    jars = len(list(libs.glob("*.jar")))
    say(f"Kafka jars ready in {time.monotonic() - started:.0f}s ({jars} jars)")
    return libs


def ensure_ferretdb() -> Path:
    """FerretDB built from its Go module (the proxy's copy lacks version.txt, so we add it)."""
    binary = ferretdb_binary()
    if binary.exists():
        return binary
    go = _require("go", "build FerretDB from the Go module proxy")
    say(f"first run: downloading and building FerretDB {FERRETDB_VERSION} (about 2-3 minutes) ...")
    started = time.monotonic()
    info = subprocess.run(
        [go, "mod", "download", "-x", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    source_dir = Path(json.loads(info.stdout)["Dir"])
    with tempfile.TemporaryDirectory(prefix="ferretdb-src-", dir=_cache_dir()) as tmp:
        work = Path(tmp) / "src"
        shutil.copytree(source_dir, work)
        for path in work.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        (work / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        say("compiling FerretDB (go build; modules download on the first run) ...")
        binary.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [go, "build", "-trimpath", "-o", str(binary) + ".tmp", "./cmd/ferretdb"],
            check=True,
            cwd=work,
            env={**os.environ, "GOFLAGS": "-mod=mod"},
        )
        Path(str(binary) + ".tmp").rename(binary)
    say(f"FerretDB ready in {time.monotonic() - started:.0f}s")
    return binary


def _cache_dir() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


CHROMIUM = Path("/usr/bin/chromium")
# WeasyPrint (the monthly reports' PDF) loads Pango through cffi; fonts come from fontconfig.
PDF_LIBRARIES = ("pango-1.0", "pangoft2-1.0", "fontconfig")
PDF_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "fontconfig", "fonts-dejavu-core")


def _apt_install(packages: tuple[str, ...], why: str) -> bool:
    """Install Debian packages when we may (root, apt-get); False when we cannot."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        say(f"{why} needs the Debian packages {' '.join(packages)}; install them (needs root)")
        return False
    say(f"first run: installing {' '.join(packages)} for {why} (apt-get) ...")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-q"], check=True, env=env)
    subprocess.run(
        [apt, "install", "-y", "-q", "--no-install-recommends", *packages], check=True, env=env
    )
    say(f"{' '.join(packages)} ready in {time.monotonic() - started:.0f}s")
    return True


def ensure_pdf_libraries() -> bool:
    """The system libraries WeasyPrint needs for the monthly reports' PDF."""
    if all(ctypes.util.find_library(name) for name in PDF_LIBRARIES):
        return True
    return _apt_install(PDF_PACKAGES, "the monthly reports' PDF (WeasyPrint)")


def ensure_chromium() -> Path | None:
    """Debian's Chromium for the real-browser tests; installed with apt-get when we are root."""
    if CHROMIUM.exists():
        return CHROMIUM
    if not _apt_install(("chromium",), "the browser tests"):
        return None
    return CHROMIUM


# Prometheus and Alertmanager from Debian (promtool checks the metrics and rules in the tests).
PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
AMTOOL = Path("/usr/bin/amtool")


def ensure_prometheus() -> bool:
    """Debian's prometheus (with promtool) and prometheus-alertmanager (with amtool)."""
    if all(p.exists() for p in (PROMETHEUS, PROMTOOL, ALERTMANAGER, AMTOOL)):
        return True
    return _apt_install(("prometheus", "prometheus-alertmanager"), "Prometheus and Alertmanager")
