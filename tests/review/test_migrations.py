"""Schema migrations: fresh stores, upgrades, refusals, atomicity, concurrent first opens."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pytest

from extractor.errors import StoreError
from extractor.review.migrations import LATEST, MIGRATIONS, Migration, current_version, migrate
from extractor.review.store import Store

from .sample import abstracts, records


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_fresh_store_is_at_the_latest_version_in_wal_mode(store_path: Path) -> None:
    with Store(store_path) as store:
        assert store.schema_version == LATEST
    conn = _raw(store_path)
    rows = conn.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_reopening_applies_nothing(store_path: Path) -> None:
    Store(store_path).close()
    conn = _raw(store_path)
    assert migrate(conn) == []
    conn.close()


def test_a_newer_store_is_refused(store_path: Path) -> None:
    Store(store_path).close()
    conn = _raw(store_path)
    conn.execute("INSERT INTO schema_version VALUES (?, 'from the future', '2099-01-01')", (LATEST + 1,))
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1} but this extractor knows only up to "
                                         f"{LATEST}: upgrade extractor"):
        Store(store_path)


def test_other_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = _raw(other)
    conn.execute("CREATE TABLE patients (id INTEGER)")
    conn.close()
    with pytest.raises(StoreError, match="not an extractor review store"):
        Store(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not SQLite at all" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        Store(junk)
    with pytest.raises(StoreError, match="no such review store"):
        Store(tmp_path / "missing.db", create=False)
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "no" / "such" / "dir.db")


def test_a_new_migration_upgrades_a_store_and_keeps_its_data(store_path: Path) -> None:
    with Store(store_path) as store:
        store.add_abstracts(abstracts())
        store.add_records(records())
        vid = store.state("PMID:1001").values[0].id
        store.accept(vid, "alice", 0)
    extra = Migration(LATEST + 1, "reviewer e-mail", (
        "ALTER TABLE reviewers ADD COLUMN email TEXT",
        "UPDATE reviewers SET email = name || '@example.org'",
    ))
    conn = _raw(store_path)
    assert migrate(conn, (*MIGRATIONS, extra)) == [LATEST + 1]
    assert current_version(conn) == LATEST + 1
    assert conn.execute("SELECT email FROM reviewers").fetchall() == [("alice@example.org",)]
    assert conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 16
    assert conn.execute("SELECT action FROM decisions").fetchall() == [("accept",)]
    conn.close()


def test_a_failing_migration_is_rolled_back_whole(store_path: Path) -> None:
    Store(store_path).close()
    broken = Migration(LATEST + 1, "broken", (
        "CREATE TABLE half_done (x INTEGER)",
        "ALTER TABLE no_such_table ADD COLUMN y TEXT",
    ))
    conn = _raw(store_path)
    with pytest.raises(StoreError, match=f"schema migration {LATEST + 1} \\(broken\\) failed"):
        migrate(conn, (*MIGRATIONS, broken))
    assert current_version(conn) == LATEST
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "half_done" not in tables
    conn.close()
    Store(store_path).close()  # still opens


def test_migrating_step_by_step_equals_migrating_at_once(tmp_path: Path) -> None:
    steps = (*MIGRATIONS, Migration(LATEST + 1, "index", ("CREATE INDEX items_kind ON items(kind)",)))
    a, b = _raw(tmp_path / "a.db"), _raw(tmp_path / "b.db")
    for target in range(1, LATEST + 2):
        migrate(a, steps, target=target)
    migrate(b, steps)
    schema = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    assert a.execute(schema).fetchall() == b.execute(schema).fetchall()
    a.close()
    b.close()


def _open(path: str, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    Store(path).close()


def test_two_processes_creating_the_same_store(store_path: Path) -> None:
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=_open, args=(str(store_path), barrier)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    conn = _raw(store_path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(m.version,) for m in MIGRATIONS]
    conn.close()
