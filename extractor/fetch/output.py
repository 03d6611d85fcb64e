"""Writing fetched records: JSONL of ``Abstract.to_dict()`` / ``Deletion.to_dict()``, with counts.

:class:`FetchReport` holds what every fetch command prints at the end:

* ``read`` — records read from the source: abstracts plus deletion entries;
* ``written`` — abstract lines written to the output;
* ``without abstract`` — of those, how many have ``has_abstract=False`` (kept, flagged);
* ``deleted`` — deletion lines written (``{"id": ..., "deleted": true, ...}``);
* ``skipped`` — records read but not written, by reason (already in the output, duplicate id,
  replaced by a later version, removed by a later deletion, ...);
* ``problems`` — input that could not be read (bad line, malformed XML, wrong md5, failed
  request, ...). Any problem makes the command exit with status 1.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from extractor.errors import InputError
from extractor.records import Abstract, Deletion, Problem

MAX_KEPT_PROBLEMS = 1000


@dataclass
class FetchReport:
    read: int = 0
    written: int = 0
    without_abstract: int = 0
    deleted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    fatal_files: int = 0

    def problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if problem.fatal_for_file:
            self.fatal_files += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(str(problem))

    @property
    def failed(self) -> bool:
        return self.problem_count > 0

    def counts(self) -> dict[str, Any]:
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{why} {n}" for why, n in self.skipped.most_common())
        return {
            "read": self.read,
            "written": self.written,
            "without abstract": self.without_abstract,
            "deleted": self.deleted,
            "skipped": f"{skipped} ({reasons})" if reasons else skipped,
            "problems": self.problem_count,
        }

    def summary(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.counts().items())


class JsonlOut:
    """Append-safe JSONL writer that knows which ids the file already holds.

    With ``resume=True`` an existing file is kept: its ids are loaded (a last line cut off by an
    interruption is dropped first) and writing appends. Otherwise the file is replaced. The set of
    ids written is kept in memory to drop duplicates (about 100 bytes per record).
    """

    def __init__(self, path: Path, *, resume: bool = False, dedupe: bool = True) -> None:
        self.path = path
        self.resume = resume
        self.dedupe = dedupe
        self.ids: set[str] = set()
        self.preexisting: set[str] = set()
        self._fh: IO[str] | None = None

    def __enter__(self) -> JsonlOut:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.resume and self.path.exists():
            self._load_existing()
            self._fh = self.path.open("a", encoding="utf-8")
        else:
            self._fh = self.path.open("w", encoding="utf-8")
        return self

    def _load_existing(self) -> None:
        with self.path.open("rb+") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":  # an interrupted write: drop the partial last line
                    pos = size
                    cut = 0
                    while pos > 0:  # look backwards, 64 KiB at a time, for the last newline
                        step = min(pos, 1 << 16)
                        pos -= step
                        fh.seek(pos)
                        found = fh.read(step).rfind(b"\n")
                        if found >= 0:
                            cut = pos + found + 1
                            break
                    fh.truncate(cut)
        with self.path.open(encoding="utf-8") as fh:
            for no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rid = json.loads(line)["id"]
                except (ValueError, KeyError, TypeError) as exc:
                    raise InputError(
                        f"{self.path}:{no}: cannot resume: the existing output line is not a "
                        "fetched record; use --overwrite or another --out"
                    ) from exc
                self.ids.add(str(rid))
                self.preexisting.add(str(rid))

    def has(self, rid: str) -> bool:
        return rid in self.ids

    def write(self, record: Abstract | Deletion) -> bool:
        """Write one record; returns False (and writes nothing) for an id already written."""
        assert self._fh is not None
        if self.dedupe and record.id in self.ids:
            return False
        self._fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        if self.dedupe:
            self.ids.add(record.id)
        return True

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def consume(item: Abstract | Deletion | Problem, out: JsonlOut, report: FetchReport) -> None:
    """Count one item and write it (records) or note it (problems)."""
    if isinstance(item, Problem):
        report.problem(item)
        return
    report.read += 1
    if not out.write(item):
        report.skipped["already in output" if item.id in out.preexisting else "duplicate id"] += 1
        return
    if isinstance(item, Deletion):
        report.deleted += 1
        return
    report.written += 1
    if not item.has_abstract:
        report.without_abstract += 1
