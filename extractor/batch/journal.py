"""The run's journal: what is done, and the last event of every id (SQLite, in the output folder).

Tables:

* ``meta`` — the job key (settings that decide the output) and the format version;
* ``files`` — the input files in order with their fingerprint (size, mtime) and, once every chunk
  of a file is committed, its item and chunk counts (a finished file is not read again);
* ``chunks`` — one row per committed partition: file, chunk, first item, items, rows, counts;
* ``latest`` — per id, the ``seq`` and status of its last event so far (a later event replaces an
  earlier one whatever order chunks finish in: the upsert keeps the larger ``seq``).

A chunk is committed in one transaction (its ``chunks`` row and its ids' ``latest`` rows), after
its partition file was renamed into place. A crash before the commit leaves a partition that the
next run writes again, identically; a crash after it loses nothing. SQLite's own journal makes
the commit all-or-nothing under SIGKILL.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.batch.chunks import STATUSES, InputFile
from extractor.batch.worker import ChunkSummary
from extractor.errors import InputError

FORMAT = "extractor-batch/1"
JOURNAL_NAME = "journal.sqlite"
# problems (unreadable records, ...) a run's summary and manifest quote; the counts cover them all
PROBLEMS_KEPT = 200
_STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    idx INTEGER PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    items INTEGER, chunks INTEGER);
CREATE TABLE IF NOT EXISTS chunks (
    file INTEGER NOT NULL, chunk INTEGER NOT NULL, first_item INTEGER NOT NULL, items INTEGER NOT NULL,
    rows INTEGER NOT NULL, partition TEXT NOT NULL, counts TEXT NOT NULL, problems TEXT NOT NULL,
    seconds REAL NOT NULL, PRIMARY KEY (file, chunk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status INTEGER NOT NULL)
    WITHOUT ROWID;
"""


@dataclass(frozen=True)
class FileState:
    index: int
    path: str
    size: int
    mtime_ns: int
    items: int | None
    chunks: int | None

    @property
    def finished(self) -> bool:
        return self.chunks is not None


class Journal:
    """Open (or create) the journal of an output folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MB page cache: memory stays bounded
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- job -----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def start(self, job: dict[str, Any], files: list[InputFile]) -> bool:
        """Record a new job, or check that this job continues the recorded one. Returns True when
        resuming. The recorded input files must be the first of ``files``, unchanged; files added
        after them are new work (e.g. new PubMed update files)."""
        key = json.dumps(job, sort_keys=True)
        recorded = self.get_meta("job")
        if recorded is not None and recorded != key:
            old = json.loads(recorded)
            diff = sorted(k for k in set(old) | set(job) if old.get(k) != job.get(k))
            raise InputError(
                f"{self.path.parent} holds a run with other settings ({', '.join(diff)} differ); "
                "use another --out, or --restart to discard that run")
        known = self.files()
        if len(known) > len(files):
            raise InputError(
                f"{self.path.parent} was started with {len(known)} input files, now {len(files)} are given; "
                "give the same inputs (new files may only be added at the end), or use --restart")
        for old_f, new_f in zip(known, files, strict=False):
            if old_f.path != new_f.path:
                raise InputError(
                    f"input {old_f.index + 1} was {old_f.path}, now {new_f.path}: give the inputs in the "
                    "same order (new files may only be added at the end), or use --restart")
            if (old_f.size, old_f.mtime_ns) != (new_f.size, new_f.mtime_ns):
                raise InputError(
                    f"{new_f.path} changed since this run started; its partitions would no longer match. "
                    "Use another --out, or --restart")
        self.db.execute("BEGIN")
        if recorded is None:
            self.set_meta("format", FORMAT)
            self.set_meta("job", key)
        for f in files[len(known):]:
            self.db.execute("INSERT INTO files (idx, path, size, mtime_ns) VALUES (?, ?, ?, ?)",
                            (f.index, f.path, f.size, f.mtime_ns))
        self.db.execute("COMMIT")
        return recorded is not None

    def files(self) -> list[FileState]:
        return [FileState(*row) for row in
                self.db.execute("SELECT idx, path, size, mtime_ns, items, chunks FROM files ORDER BY idx")]

    def done_chunks(self, file_index: int) -> set[int]:
        return {int(r[0]) for r in self.db.execute("SELECT chunk FROM chunks WHERE file = ?", (file_index,))}

    def chunk_count(self, file_index: int) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks WHERE file = ?", (file_index,)).fetchone()[0])

    # -- commits -------------------------------------------------------------------------------

    def commit_chunk(self, summary: ChunkSummary, events: Iterable[tuple[str, int, str]]) -> None:
        """Record a written partition and its events ``(id, seq, status)`` in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT INTO latest (id, seq, status) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, status = excluded.status "
                "WHERE excluded.seq > latest.seq",
                ((rid, seq, _STATUS_CODE[status]) for rid, seq, status in events))
            self.db.execute(
                "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (summary.file_index, summary.chunk_index, summary.first_item, summary.n_items, summary.rows,
                 summary.partition, json.dumps(dict(summary.counts), sort_keys=True),
                 json.dumps(summary.problems), summary.seconds))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def finish_file(self, file_index: int, items: int, chunks: int) -> None:
        self.db.execute("UPDATE files SET items = ?, chunks = ? WHERE idx = ?", (items, chunks, file_index))

    # -- reading -------------------------------------------------------------------------------

    def chunk_rows(self) -> Iterator[tuple[int, int, int, int, int, str, Counter[str], list[str], float]]:
        for f, c, first, items, rows, part, counts, problems, secs in self.db.execute(
                "SELECT * FROM chunks ORDER BY file, chunk"):
            yield f, c, first, items, rows, part, Counter(json.loads(counts)), json.loads(problems), secs

    def totals(self, keep_problems: int = PROBLEMS_KEPT) -> tuple[Counter[str], list[str], int]:
        """Summed counts of every committed chunk, the first ``keep_problems`` of their problems (in
        chunk order; a run over many broken files would otherwise gather them all in memory), and
        the number of chunks."""
        total: Counter[str] = Counter()
        problems: list[str] = []
        n = 0
        for row in self.chunk_rows():
            total.update(row[6])
            if len(problems) < keep_problems:
                problems.extend(row[7][:keep_problems - len(problems)])
            n += 1
        return total, problems, n

    def kept_seqs(self, candidates: list[tuple[str, int]]) -> set[int]:
        """Of ``(id, seq)`` pairs, the seqs that are still the last event of their id."""
        if not candidates:
            return set()
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS cand (id TEXT, seq INTEGER)")
        self.db.execute("DELETE FROM cand")
        self.db.executemany("INSERT INTO cand VALUES (?, ?)", candidates)
        kept = {int(r[0]) for r in self.db.execute(
            "SELECT c.seq FROM cand c JOIN latest l ON l.id = c.id AND l.seq = c.seq")}
        self.db.execute("DELETE FROM cand")
        return kept

    def final_status_counts(self) -> Counter[str]:
        return Counter({STATUSES[int(code)]: int(n) for code, n in
                        self.db.execute("SELECT status, COUNT(*) FROM latest GROUP BY status")})

    def deleted(self) -> Iterator[tuple[str, int]]:
        """Ids whose last event is a deletion, in event order."""
        code = _STATUS_CODE["deleted"]
        yield from ((str(i), int(s)) for i, s in
                    self.db.execute("SELECT id, seq FROM latest WHERE status = ? ORDER BY seq", (code,)))

    def n_chunks(self) -> int:
        """Committed chunks; only ever grows, so it tells whether the final table is current."""
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
