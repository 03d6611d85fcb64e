"""Schema migrations of the review store.

The store's schema version is the highest ``version`` in the ``schema_version`` table. Each
migration is a numbered list of SQL statements applied in one ``BEGIN IMMEDIATE`` transaction
together with its ``schema_version`` row, so a migration is applied completely or not at all, and
two processes opening an old store at the same moment cannot both apply it (the second one
re-reads the version inside its own write transaction and finds nothing left to do).

Rules for adding a migration: append a new :class:`Migration` with the next number; never edit
or reorder a released one (stores in the field were built from it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from extractor.errors import StoreError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "abstracts, extracted values, reviewer decisions, resolutions, audit trail",
        (
            # key/value settings of this store (e.g. the web app's session secret)
            """CREATE TABLE settings (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )""",
            """CREATE TABLE abstracts (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                title TEXT NOT NULL DEFAULT '',
                text TEXT NOT NULL,
                source TEXT NOT NULL DEFAULT '',
                sections TEXT NOT NULL DEFAULT '[]',
                metadata TEXT NOT NULL DEFAULT '{}',
                has_abstract INTEGER NOT NULL DEFAULT 1,
                text_version INTEGER NOT NULL DEFAULT 1,
                added_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                -- latest extraction of this abstract
                run TEXT,
                extraction_meta TEXT NOT NULL DEFAULT '{}',
                extracted_at TEXT,
                -- derived review state, refreshed in the same transaction as every change
                n_values INTEGER NOT NULL DEFAULT 0,
                min_confidence REAL,
                n_reviewers INTEGER NOT NULL DEFAULT 0,
                n_finished INTEGER NOT NULL DEFAULT 0,
                open_conflicts INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'unreviewed'
            )""",
            "CREATE INDEX abstracts_status ON abstracts(status)",
            "CREATE INDEX abstracts_conf ON abstracts(min_confidence)",
            """CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                added_at TEXT NOT NULL,
                records INTEGER NOT NULL DEFAULT 0
            )""",
            # one row per value: extracted (origin 'extracted') or added by a reviewer
            """CREATE TABLE items (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                abstract_id TEXT NOT NULL REFERENCES abstracts(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                evidence TEXT NOT NULL,
                payload TEXT NOT NULL,
                value TEXT NOT NULL,
                confidence REAL,
                origin TEXT NOT NULL CHECK (origin IN ('extracted', 'reviewer')),
                created_by TEXT,
                created_at TEXT NOT NULL,
                run TEXT,
                ord INTEGER NOT NULL DEFAULT 0,
                present INTEGER NOT NULL DEFAULT 1,
                located INTEGER NOT NULL DEFAULT 1,
                rev INTEGER NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX items_abstract ON items(abstract_id, kind, start)",
            # one current decision per (value, reviewer); rev = the value's rev it was made against
            """CREATE TABLE decisions (
                item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
                reviewer TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('accept', 'edit', 'reject', 'add')),
                value TEXT,
                rev INTEGER NOT NULL,
                decided_at TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (item_id, reviewer)
            )""",
            "CREATE INDEX decisions_reviewer ON decisions(reviewer)",
            # how often each (value, reviewer) decision changed; kept when a decision is cleared
            # so a version number is never reused
            """CREATE TABLE decision_versions (
                item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
                reviewer TEXT NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (item_id, reviewer)
            )""",
            """CREATE TABLE reviews (
                abstract_id TEXT NOT NULL REFERENCES abstracts(id) ON DELETE CASCADE,
                reviewer TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                PRIMARY KEY (abstract_id, reviewer)
            )""",
            "CREATE INDEX reviews_reviewer ON reviews(reviewer, finished_at)",
            """CREATE TABLE resolutions (
                item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
                adjudicator TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('accept', 'edit', 'reject')),
                value TEXT,
                rev INTEGER NOT NULL,
                resolved_at TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT ''
            )""",
            """CREATE TABLE resolution_versions (
                item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
                version INTEGER NOT NULL
            )""",
            # append-only: who did what to which value, when, old -> new (JSON)
            """CREATE TABLE audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                who TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('reviewer', 'adjudicator', 'system')),
                abstract_id TEXT NOT NULL,
                item_id INTEGER,
                action TEXT NOT NULL,
                old TEXT,
                new TEXT,
                note TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX audit_item ON audit(item_id, id)",
            "CREATE INDEX audit_abstract ON audit(abstract_id, id)",
            """CREATE TABLE reviewers (
                name TEXT PRIMARY KEY,
                first_seen TEXT NOT NULL,
                last_seen TEXT NOT NULL
            )""",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version


def now() -> str:
    """UTC time as ISO 8601 with seconds (what every timestamp in the store uses)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version of an open store: 0 for an empty database.

    Raises :class:`StoreError` for a database that holds other tables but no version table
    (it is not a review store).
    """
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" not in names:
        if names - {"sqlite_sequence"}:
            raise StoreError("not an extractor review store (it has tables but no schema_version)")
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS,
            target: int | None = None) -> list[int]:
    """Apply every migration above the store's version (up to ``target``); return those applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Each migration runs in its own
    ``BEGIN IMMEDIATE`` transaction; a failing one is rolled back and raised as ``StoreError``.
    """
    latest = migrations[-1].version if migrations else 0
    target = latest if target is None else target
    found = current_version(conn)
    if found > latest:
        raise StoreError(
            f"the store has schema version {found} but this extractor knows only up to {latest}: "
            "upgrade extractor to open it"
        )
    applied: list[int] = []
    for mig in migrations:
        if mig.version <= found or mig.version > target:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("""CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)""")
            if current_version(conn) >= mig.version:  # another process got here first
                conn.execute("COMMIT")
                continue
            for statement in mig.statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (mig.version, mig.description, now()))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"schema migration {mig.version} ({mig.description}) failed: {exc}") from exc
        applied.append(mig.version)
    return applied
