"""Applying PubMed baseline and update files in order, with bounded memory.

PubMed ships a baseline (``pubmed26n0001.xml.gz`` … ``n1334``, ~30,000 records each) and daily
update files (``n1335`` …) that re-issue changed records and list deleted PMIDs in
``<DeleteCitation>``. Applied in order, the last event of a PMID decides: a later version
replaces the earlier one, and a deletion removes it.

:class:`DumpMerger` keeps that final state in a temporary SQLite file, one row per PMID
(``INSERT OR REPLACE``; the record stored zlib-compressed), not in memory: memory stays at
SQLite's page cache (64 MB) however many files are applied, and the temporary file is about a
third of the output's size. :meth:`DumpMerger.final` then streams the rows in the order of their
last event. A PMID whose last event is a deletion comes out as a :class:`Deletion`, so stores
built from earlier runs can remove it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from extractor.records import Abstract, Deletion

_COMMIT_EVERY = 5_000


class DumpMerger:
    """Final state of many PMIDs, kept on disk. Use as a context manager (removes its temp dir)."""

    def __init__(self, tmp_dir: Path | None = None, cache_mb: int = 64) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="extractor-dump-", dir=tmp_dir))
        self._db = sqlite3.connect(self._dir / "state.sqlite")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
        self._db.execute("CREATE TABLE state (id TEXT PRIMARY KEY, deleted INTEGER NOT NULL, rec BLOB)")
        self.counts: Counter[str] = Counter()
        self._pending = 0

    def add(self, item: Abstract | Deletion) -> None:
        """Apply one record or deletion; later calls win over earlier ones for the same id."""
        row = self._db.execute("SELECT deleted FROM state WHERE id = ?", (item.id,)).fetchone()
        if isinstance(item, Deletion):
            if row is not None and not row[0]:
                self.counts["removed by a later deletion"] += 1
            blob = zlib.compress(json.dumps(item.to_dict(), ensure_ascii=False).encode("utf-8"), 1)
            self._db.execute("INSERT OR REPLACE INTO state VALUES (?, 1, ?)", (item.id, blob))
        else:
            if row is not None and not row[0]:
                self.counts["replaced by a later version"] += 1
            blob = zlib.compress(json.dumps(item.to_dict(), ensure_ascii=False).encode("utf-8"), 1)
            self._db.execute("INSERT OR REPLACE INTO state VALUES (?, 0, ?)", (item.id, blob))
        self._pending += 1
        if self._pending >= _COMMIT_EVERY:
            self._db.commit()
            self._pending = 0

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM state").fetchone()[0])

    def final(self) -> Iterator[Abstract | Deletion]:
        """The final state, in the order of each id's last event (streamed from disk)."""
        self._db.commit()
        cursor = self._db.execute("SELECT deleted, rec FROM state ORDER BY rowid")
        for deleted, blob in cursor:
            data = json.loads(zlib.decompress(blob))
            if deleted:
                yield Deletion(
                    id=str(data["id"]),
                    source=str(data.get("source") or "pubmed-dump"),
                    metadata=dict(data.get("metadata") or {}),
                )
            else:
                yield Abstract.from_dict(data)

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> DumpMerger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
