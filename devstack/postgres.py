"""The project's own PostgreSQL instance, the storage of FerretDB's `postgresql` backend.

Debian's `postgresql` package provides the binaries (installed with apt-get when missing and we
are root). The cluster lives in var/<profile>/postgres: initdb'd by a non-root user (the
`postgres` account when we are root; PostgreSQL refuses to run as root), with database
`ferretdb` created in single-user mode before the server ever starts, so a half-made cluster is
never used. The server listens on 127.0.0.1 only, with trust authentication on loopback and no
Unix socket.

When we are root and the `postgres` account cannot reach var/<profile> (a clone inside a home
directory of mode 700, such as root's), the cluster lives under that account's home instead, in
`layanan-pengaduan/<id>`, and var/<profile>/postgres is a symbolic link to it. `remove_cluster`
deletes it with the profile; clusters whose link is gone (var/ deleted by hand) are swept away
the next time one is made.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from devstack.tools import say

DATABASE = "ferretdb"
SUPERUSER = "postgres"
OS_USER = "postgres"  # who runs the server when we are root
OUTSIDE_DIR = "layanan-pengaduan"  # under OS_USER's home, for profiles it cannot reach
DEFAULT_DEV_PORT = 5433
LIB = Path("/usr/lib/postgresql")
# Settings for a small development server; durability is traded away: the data are throw-away.
SERVER_SETTINGS = (
    "listen_addresses=127.0.0.1",
    "unix_socket_directories=",
    "shared_buffers=256MB",
    "work_mem=16MB",
    "maintenance_work_mem=256MB",
    "max_connections=200",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_wal_size=2GB",
    "logging_collector=off",
    "log_min_messages=warning",
    "log_line_prefix=%m [%p] ",
    # FerretDB binds the field of a pushed-down filter as a parameter (`_jsonb->$1 @> $2`); only
    # a plan made with the values can use the `_id` index below, so never a generic plan.
    "plan_cache_mode=force_custom_plan",
)
# FerretDB v1 looks a document up by `_id` with `WHERE _jsonb->'_id' @> '"LP-…"'`, which its own
# btree index on `_jsonb->'_id'` cannot serve: every look-up read the whole table (0.7 s at
# 100,000 tickets). A GIN index on the same expression serves `@>`. An event trigger adds one to
# every table FerretDB creates, and the tables made before it get theirs at the next start.
ID_INDEX_SQL = """
CREATE OR REPLACE FUNCTION public.layanan_id_index(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute
             WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped)
     AND NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'lp_' || tbl::oid || '_id_gin') THEN
    EXECUTE format('CREATE INDEX %I ON %s USING gin ((_jsonb->''_id''))',
                   'lp_' || tbl::oid || '_id_gin', tbl);
  END IF;
END $$;
CREATE OR REPLACE FUNCTION public.layanan_on_create_table() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands()
           WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM public.layanan_id_index(r.objid::regclass);
  END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS layanan_id_index;
CREATE EVENT TRIGGER layanan_id_index ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION public.layanan_on_create_table();
SELECT count(public.layanan_id_index(c.oid::regclass))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public');
"""


def bin_dir() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = [d / "bin" for d in LIB.glob("*") if (d / "bin" / "initdb").exists()]
    return max(found, key=lambda d: int(d.parent.name), default=None) if found else None


def ensure_postgresql() -> Path:
    """Debian's PostgreSQL server binaries; installed with apt-get when we are root."""
    found = bin_dir()
    if found is not None:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise SystemExit(
            "[devstack] PostgreSQL is needed for FERRETDB_BACKEND=postgresql but is not "
            "installed, and cannot be installed here (needs root and apt-get): install the "
            "Debian package `postgresql`"
        )
    say("first run: installing Debian's postgresql for FerretDB's backend (apt-get) ...")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-q"], check=True, env=env)
    subprocess.run(
        [apt, "install", "-y", "-q", "--no-install-recommends", "postgresql"], check=True, env=env
    )
    found = bin_dir()
    if found is None:
        raise SystemExit("[devstack] apt-get installed postgresql but no initdb was found")
    say(f"PostgreSQL ready in {time.monotonic() - started:.0f}s ({found.parent.name})")
    return found


def as_server_user(argv: Sequence[str]) -> list[str]:
    """`argv` run as the non-root server user when we are root (exec, so the pid stays)."""
    if os.geteuid() != 0:
        return list(argv)
    return ["setpriv", f"--reuid={OS_USER}", f"--regid={OS_USER}", "--init-groups", *argv]


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam(OS_USER)
    os.chown(path, user.pw_uid, user.pw_gid)


def _server_user_reaches(path: Path) -> bool:
    """Whether the server user may enter `path` (every parent searchable); the data folder
    itself is made by us and handed over to it."""
    probe = as_server_user(["test", "-x", str(path)])
    return subprocess.run(probe, capture_output=True, check=False, cwd="/").returncode == 0


def _outside_home() -> Path:
    return Path(pwd.getpwnam(OS_USER).pw_dir) / OUTSIDE_DIR


def data_dir(var: Path) -> Path:
    """Where the cluster of profile folder `var` lives (it may not exist yet).

    var/postgres itself, unless we are root and the server user cannot reach `var`: then a
    fresh folder under the server user's home, linked from var/postgres.
    """
    link = var / "postgres"
    if link.is_symlink():
        return link.resolve()
    var.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or _server_user_reaches(var):
        return link
    home = _outside_home()
    home.mkdir(parents=True, exist_ok=True)
    _chown_to_server_user(home)
    _sweep_orphans(home)
    target = home / uuid.uuid4().hex[:12]
    (home / f"{target.name}.origin").write_text(str(link.absolute()))
    link.symlink_to(target)
    say(f"{OS_USER} cannot reach {var} (a private directory): PostgreSQL's data go to {target}")
    return target


def _sweep_orphans(home: Path) -> None:
    """Delete outside clusters whose var/<profile>/postgres link no longer points at them."""
    for origin in home.glob("*.origin"):
        target = home / origin.name.removesuffix(".origin")
        link = Path(origin.read_text().strip())
        if not (link.is_symlink() and link.resolve() == target):
            shutil.rmtree(target, ignore_errors=True)
            shutil.rmtree(target.with_name(target.name + ".init"), ignore_errors=True)
            origin.unlink(missing_ok=True)


def remove_cluster(var: Path) -> None:
    """Delete the cluster of profile folder `var` when it lives outside it (see `data_dir`)."""
    link = var / "postgres"
    if not link.is_symlink():
        return
    target = link.resolve()
    if target.parent == _outside_home():
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(target.with_name(target.name + ".init"), ignore_errors=True)
        (target.parent / f"{target.name}.origin").unlink(missing_ok=True)
    link.unlink()


def ensure_cluster(data: Path, bindir: Path) -> None:
    """initdb into `data` (once) and create database `ferretdb`, all before first start."""
    if (data / "PG_VERSION").exists():
        return
    staging = data.with_name(data.name + ".init")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _chown_to_server_user(staging)
    say(f"initialising PostgreSQL in {data} ...")
    _run(
        "initdb",
        as_server_user(
            [
                str(bindir / "initdb"),
                f"--pgdata={staging}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        ),
    )
    # Only loopback TCP is listened on; trust it (and nothing else).
    (staging / "pg_hba.conf").write_text(
        "host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
    )
    _run(
        f"creating database {DATABASE}",
        as_server_user([str(bindir / "postgres"), "--single", "-D", str(staging), "postgres"]),
        stdin=f"CREATE DATABASE {DATABASE}\n",
    )
    staging.rename(data)


def _run(what: str, argv: list[str], stdin: str | None = None) -> None:
    """Run a set-up step quietly; on failure, stop with its output."""
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False, cwd="/")
    if result.returncode != 0:
        raise SystemExit(
            f"[devstack] {what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )


def server_argv(data: Path, bindir: Path, port: int) -> list[str]:
    settings = [arg for s in SERVER_SETTINGS for arg in ("-c", s)]
    return as_server_user([str(bindir / "postgres"), "-D", str(data), "-p", str(port), *settings])


def url(port: int) -> str:
    return f"postgres://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"


def _psql(bindir: Path, port: int, *args: str) -> list[str]:
    return [
        str(bindir / "psql"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        SUPERUSER,
        "-d",
        DATABASE,
        "-XAtq",
        *args,
    ]


def ensure_id_index(bindir: Path, port: int) -> None:
    """The `_id` look-up index on every FerretDB table, now and for tables to come."""
    _run(
        "creating FerretDB's _id look-up index",
        _psql(bindir, port, "-v", "ON_ERROR_STOP=1"),
        stdin=ID_INDEX_SQL,
    )


def answers(bindir: Path, port: int) -> bool:
    """Ready means `SELECT 1` in database `ferretdb` succeeds over loopback TCP."""
    try:
        result = subprocess.run(
            _psql(bindir, port, "-c", "SELECT 1"),
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            env={**os.environ, "PGCONNECT_TIMEOUT": "2"},
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and result.stdout.strip() == "1"
