"""devstack's FerretDB backends: PostgreSQL (the default) starts, answers, is idempotent, stops and
keeps its data; SQLite still starts.

Whatever server the rest of the suite uses, these start their own on free loopback ports in
var/devstack-<backend>-<hex>/ (a few seconds) and remove them afterwards.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from devstack import postgres
from devstack.stack import Ports, Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def stack() -> Iterator[Stack]:
    stack = Stack(f"devstack-postgresql-{uuid.uuid4().hex[:8]}", Ports.free(), backend="postgresql")
    stack.external_mongo = None  # ours, even when the suite runs against another server
    try:
        yield stack
    finally:
        stack.remove()


def _round_trip(stack: Stack, doc: dict[str, object] | None = None) -> dict[str, object] | None:
    client: MongoClient[dict[str, object]] = MongoClient(
        stack.mongodb_url, serverSelectionTimeoutMS=5000
    )
    try:
        collection = client["devstack_check"]["things"]
        if doc is not None:
            collection.insert_one(doc)
        return collection.find_one({"_id": "kept"})
    finally:
        client.close()


def _psql(bindir: Path, port: int, sql: str) -> list[list[str]]:
    result = subprocess.run(
        postgres._psql(bindir, port, "-F", "\t", "-c", sql),
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def test_postgresql_backed_ferretdb_starts_answers_and_keeps_data(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    components = stack.databases()
    assert [c.name for c in components] == ["postgres", "ferretdb"]
    assert "--handler=postgresql" in components[1].argv
    for component in components:
        stack.start(component)
    assert stack.pid("postgres") is not None and stack.pid("ferretdb") is not None
    assert (stack.var / "postgres" / "PG_VERSION").exists()
    bindir = postgres.bin_dir()
    assert bindir is not None and postgres.answers(bindir, stack.ports.postgres)

    assert _round_trip(stack, {"_id": "kept", "n": 1}) == {"_id": "kept", "n": 1}
    # FerretDB's look-up by _id (`_jsonb->'_id' @> ...`) is served by an index, not a scan.
    [(table, index)] = _psql(
        bindir,
        stack.ports.postgres,
        "SELECT c.relname, i.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid"
        " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'devstack_check' AND i.relname LIKE 'lp_%_id_gin'"
        " AND c.relname NOT LIKE '\\_ferretdb%'",
    )
    query = f"SELECT _jsonb FROM devstack_check.{table} WHERE _jsonb->'_id' @> '\"kept\"'"  # noqa: S608 (our own table name)
    plan = _psql(bindir, stack.ports.postgres, f"SET enable_seqscan = off; EXPLAIN {query}")
    assert any(index in cell for row in plan for cell in row), plan

    capsys.readouterr()
    for component in stack.databases():  # a second `up` starts nothing
        stack.start(component)
    assert capsys.readouterr().out.count("already running") == 2

    stack.down()
    assert stack.pid("postgres") is None and stack.pid("ferretdb") is None
    assert not postgres.answers(bindir, stack.ports.postgres)

    for component in stack.databases():  # the same cluster again: the data are still there
        stack.start(component)
    assert _round_trip(stack) == {"_id": "kept", "n": 1}


def test_sqlite_backed_ferretdb_still_starts_and_answers() -> None:
    """SQLite is no longer the default (docs/benchmarks.md) but stays an option."""
    stack = Stack(f"devstack-sqlite-{uuid.uuid4().hex[:8]}", Ports.free(), backend="sqlite")
    stack.external_mongo = None
    try:
        components = stack.databases()
        assert [c.name for c in components] == ["ferretdb"]
        assert "--handler=sqlite" in components[0].argv
        stack.start(components[0])
        assert _round_trip(stack, {"_id": "kept", "n": 2}) == {"_id": "kept", "n": 2}
    finally:
        stack.remove()


def test_postgresql_starts_from_a_clone_in_a_private_directory(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A clone in a mode-700 home (root's): the server user cannot reach var/, yet it starts,
    keeps its data across a restart, and removing the profile removes the data too."""
    private = tmp_path_factory.mktemp("home")
    private.chmod(0o700)
    stack = Stack(
        f"devstack-private-{uuid.uuid4().hex[:8]}",
        Ports.free(),
        backend="postgresql",
        var_root=private / "clone" / "var",
    )
    stack.external_mongo = None
    try:
        for component in stack.databases():
            stack.start(component)
        assert (stack.var / "postgres" / "PG_VERSION").exists()
        # As root, the server user cannot enter the private folder: the data live outside it.
        assert (stack.var / "postgres").is_symlink() == (os.geteuid() == 0)
        assert _round_trip(stack, {"_id": "kept", "n": 3}) == {"_id": "kept", "n": 3}
        stack.down()
        for component in stack.databases():
            stack.start(component)
        assert _round_trip(stack) == {"_id": "kept", "n": 3}
        data = (stack.var / "postgres").resolve()
    finally:
        stack.remove()
    assert not data.exists()
    assert not stack.var.exists()
