"""The review store: abstracts, extracted values with provenance, and every reviewer decision.

One SQLite file (WAL mode, ``BEGIN IMMEDIATE`` write transactions, a 30 s busy timeout), safe to
open from several processes and threads at once; schema changes go through
:mod:`extractor.review.migrations`. Nothing here imports spaCy or Flask.

Vocabulary
==========
* A **value** (table ``items``) is one extracted number with its provenance, or one a reviewer
  added. Its id is stable for the life of the store.
* A **decision** is one reviewer's verdict on one value: ``accept`` (the value as proposed),
  ``edit`` (a corrected value), ``reject``, or ``add`` (the reviewer created the value). Each
  reviewer has at most one current decision per value; every change is in the audit trail.
* Two reviewers review an abstract **independently** (a third is refused: they adjudicate).
  Where their outcomes for a value differ, the value is in **conflict** until an adjudicator
  records a **resolution**. A reviewer who *finished* an abstract without adding a value that
  the other reviewer added disagrees with it (the omission counts as "absent").
* **Versions** (optimistic concurrency): every value has a version per reviewer — the number of
  times that reviewer's decision changed plus the number of times re-extraction changed the
  value. A save names the version it was based on; if the value changed since, the save raises
  :class:`~extractor.errors.ConflictError` saying who changed it and when. Independent reviewers
  do not invalidate each other's versions; two saves by the same reviewer (two tabs) or two
  adjudications of the same value do. Resolutions have their own version.

Re-extraction keeps decisions
=============================
``add_records`` of a newer extraction of an abstract matches its values to the stored ones
one-to-one, in three passes, each taking the stored candidate nearest in position:

1. same kind, same offsets and same fields → the same value (provenance such as confidence and
   producer is refreshed; decisions untouched);
2. same kind and same offsets, different fields → the same value, its proposal updated;
3. same kind, same evidence text and same fields at other offsets (the text moved) → the same
   value at its new offsets.

Unmatched new values are added; unmatched stored values are marked *no longer proposed*
(``present=False``) but never deleted. Decisions are never changed by re-extraction: each stores
a snapshot of the value it accepted or the corrected value, so what a reviewer checked is what is
exported. When re-extraction changes a value a reviewer decided (passes 2 and 3) it bumps the
value's revision: the reviewer's decision is flagged *stale* and their finished review of the
abstract is reopened, as it is when a new value appears that they have not decided. Re-adding the
same extraction changes nothing. ``add_abstracts`` with a changed text moves every stored offset
(values, decisions, resolutions) to the nearest occurrence of its evidence, or marks a value
unlocated when its evidence is gone.

What is exported
================
The *final* value of each value is: the resolution if there is one; else, if the reviewers who
decided it agree and there are at least ``min_reviews`` of them, their common outcome; else
nothing (an open conflict or too few reviews). Rejected values are not exported. Accepted values
keep the extractor's provenance; corrected and reviewer-added values carry ``source="reviewer"``,
``producer=<reviewer name(s)>`` and ``producer_id`` ``review.edit`` / ``review.add`` /
``review.resolve``.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from extractor.errors import ConflictError, InputError, StoreError
from extractor.io import RecordWriter
from extractor.records import KINDS, Abstract, ExtractionRecord, Section, Value, value_from_dict
from extractor.review.migrations import LATEST, migrate, now
from extractor.review.values import (
    check_value,
    describe,
    payload_key,
    relocate,
    sentence_around,
    value_from_json,
    value_json,
)

REVIEWERS_PER_ABSTRACT = 2
LOW_CONFIDENCE = 0.6
Action = Literal["accept", "edit", "reject", "clear"]
OutcomeKey = tuple[str, int, int, str] | None
_CHUNK = 500


class NotFoundError(StoreError):
    """The abstract or value asked for is not in the store."""


# --------------------------------------------------------------------------------------------
# Result types


@dataclass(frozen=True)
class Decision:
    reviewer: str
    action: str  # accept | edit | reject | add
    value: Value | None  # the value accepted / corrected / added; None when rejected
    rev: int  # the value's revision the decision was made against
    decided_at: str
    note: str = ""


@dataclass(frozen=True)
class Resolution:
    adjudicator: str
    action: str  # accept | edit | reject
    value: Value | None
    rev: int
    resolved_at: str
    note: str = ""


@dataclass(frozen=True)
class Review:
    reviewer: str
    started_at: str
    finished_at: str | None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class StoredValue:
    """One value in the store with everything decided about it."""

    id: int
    abstract_id: str
    value: Value  # the extractor's current proposal, or the value as its reviewer added it
    origin: str  # "extracted" | "reviewer"
    created_by: str | None
    run: str | None
    present: bool  # proposed by the latest extraction (always True for reviewer-added values)
    located: bool  # the evidence is at start..end of the current text
    rev: int
    decisions: dict[str, Decision]
    decision_versions: dict[str, int]
    resolution: Resolution | None
    resolution_seq: int

    @property
    def kind(self) -> str:
        return self.value.kind

    def version(self, reviewer: str) -> int:
        """The version a save by ``reviewer`` must name (see the module docstring)."""
        return self.rev + self.decision_versions.get(reviewer, 0)

    @property
    def resolution_version(self) -> int:
        return self.rev + self.resolution_seq

    def decision_stale(self, reviewer: str) -> bool:
        """True when re-extraction changed the value after ``reviewer`` decided it."""
        d = self.decisions.get(reviewer)
        return d is not None and d.rev < self.rev and d.action != "add"

    def describe(self) -> str:
        return describe(self.value)


@dataclass(frozen=True)
class Final:
    """The outcome of one value for export (``value`` None: rejected or not exportable)."""

    item: StoredValue
    status: Literal["accepted", "corrected", "added", "rejected", "conflict", "undecided"]
    value: Value | None
    reviewers: tuple[str, ...]
    resolved_by: str | None = None


@dataclass(frozen=True)
class AbstractState:
    """An abstract with all its values, decisions and reviews (read in one transaction)."""

    abstract: Abstract
    values: tuple[StoredValue, ...]
    reviews: dict[str, Review]
    status: str
    open_conflicts: int
    run: str | None
    extracted_at: str | None
    extraction_meta: dict[str, Any]
    text_version: int

    # ---- independent review -------------------------------------------------------------
    def visible(self, reviewer: str) -> list[StoredValue]:
        """The values ``reviewer`` reviews: the current proposals and the ones they decided.

        Values another reviewer added stay hidden (independent review) until adjudication.
        """
        out = [v for v in self.values
               if (v.origin == "extracted" and v.present) or reviewer in v.decisions]
        return sorted(out, key=_reading_order)

    def undecided(self, reviewer: str) -> list[StoredValue]:
        return [v for v in self.visible(reviewer)
                if reviewer not in v.decisions or v.decision_stale(reviewer)]

    @property
    def finished_reviewers(self) -> list[str]:
        return [r.reviewer for r in self.reviews.values() if r.finished]

    def outcomes(self, item: StoredValue) -> dict[str, OutcomeKey]:
        """Each reviewer's outcome key for ``item``; finished reviewers without one: absent."""
        out: dict[str, OutcomeKey] = {r: outcome_key(d) for r, d in item.decisions.items()}
        for r in self.finished_reviewers:
            out.setdefault(r, None)
        return out

    def in_conflict(self, item: StoredValue) -> bool:
        """The reviewers' outcomes differ (whether or not it has been resolved)."""
        return len(set(self.outcomes(item).values())) > 1

    def conflicts(self, *, include_resolved: bool = False) -> list[StoredValue]:
        return [v for v in sorted(self.values, key=_reading_order)
                if self.in_conflict(v) and (include_resolved or v.resolution is None)]

    # ---- what is exported ------------------------------------------------------------------
    def final(self, item: StoredValue, min_reviews: int = 1) -> Final:
        if item.resolution is not None:
            res = item.resolution
            return Final(item, _status_of(res.action, item, res.value), res.value,
                         tuple(sorted(item.decisions)), resolved_by=res.adjudicator)
        outs = self.outcomes(item)
        if len(set(outs.values())) > 1:
            return Final(item, "conflict", None, tuple(sorted(outs)))
        if len(outs) < max(1, min_reviews):
            return Final(item, "undecided", None, tuple(sorted(outs)))
        decs = [item.decisions[r] for r in sorted(item.decisions)]
        if not decs or outcome_key(decs[0]) is None:
            return Final(item, "rejected", None, tuple(sorted(outs)))
        accepts = [d for d in decs if d.action == "accept"]
        if accepts:
            return Final(item, "accepted", accepts[0].value, tuple(sorted(outs)))
        value = decs[0].value
        assert value is not None
        names = ", ".join(d.reviewer for d in decs)
        value = value.with_provenance(producer=names)  # type: ignore[assignment]
        if all(d.action == "add" for d in decs):
            return Final(item, "added", value, tuple(sorted(outs)))
        return Final(item, "corrected", value, tuple(sorted(outs)))

    def finals(self, min_reviews: int = 1) -> list[Final]:
        return [self.final(v, min_reviews) for v in sorted(self.values, key=_reading_order)
                if v.decisions or v.resolution is not None]

    def accepted_record(self, min_reviews: int = 1) -> tuple[ExtractionRecord, list[str]]:
        """The final values as an ``ExtractionRecord``, and problems that kept values out."""
        problems: list[str] = []
        values: list[Value] = []
        finals = self.finals(min_reviews)
        for f in finals:
            if f.value is not None:
                values.append(f.value)
            elif f.status == "conflict":
                problems.append(f"{self.abstract.id}: value #{f.item.id} ({f.item.describe()}) "
                                "is in conflict; resolve it in the conflicts view")
        text = self.abstract.text
        for v in list(values):
            p = v.prov
            if p.evidence and text[p.start:p.end] != p.evidence:
                values.remove(v)
                problems.append(f"{self.abstract.id}: {describe(v)}: evidence {p.evidence!r} is no longer "
                                "in the abstract text; review the value again")
        samples = [v for v in values if v.kind == "sample_size"]
        if len(samples) > 1:
            problems.append(f"{self.abstract.id}: {len(samples)} sample sizes were accepted "
                            f"({', '.join(describe(s) for s in samples)}); none exported until one is left")
            values = [v for v in values if v.kind != "sample_size"]
        meta = dict(self.extraction_meta)
        meta["review"] = {
            "reviewers": sorted(self.reviews),
            "finished": sorted(self.finished_reviewers),
            "min_reviews": min_reviews,
            "counts": {s: sum(1 for f in finals if f.status == s)
                       for s in ("accepted", "corrected", "added", "rejected", "conflict", "undecided")},
        }
        return ExtractionRecord.from_values(self.abstract.id, values, meta=meta), problems


def _status_of(action: str, item: StoredValue, value: Value | None) -> Any:
    if value is None:
        return "rejected"
    if action == "accept":
        return "added" if item.origin == "reviewer" else "accepted"
    return "corrected"


def _reading_order(v: StoredValue) -> tuple[int, int, int, int]:
    return (0 if v.located else 1, v.value.prov.start, KINDS.index(v.value.kind), v.id)


def outcome_key(d: Decision | Resolution | None) -> OutcomeKey:
    """What a decision says, ignoring who made it: None for reject, else (kind, offsets, fields)."""
    if d is None or d.value is None:
        return None
    v = d.value
    return (v.kind, v.prov.start, v.prov.end, payload_key(v))


def _value_key(v: Value) -> tuple[str, int, int, str]:
    return (v.kind, v.prov.start, v.prov.end, payload_key(v))


@dataclass(frozen=True)
class QueueRow:
    id: str
    title: str
    n_values: int
    min_confidence: float | None
    status: str
    open_conflicts: int
    n_finished: int
    reviewers: tuple[tuple[str, bool], ...]  # (name, finished)

    def mine(self, reviewer: str) -> str | None:
        for name, done in self.reviewers:
            if name == reviewer:
                return "finished" if done else "started"
        return None


@dataclass(frozen=True)
class Progress:
    total: int
    reviewed: int  # at least one finished review
    double_reviewed: int
    conflicts: int  # abstracts with open conflicts
    mine: int  # finished by the reviewer asked about
    values_decided: int


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    who: str
    role: str
    abstract_id: str
    item_id: int | None
    action: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    note: str

    def described(self, which: Literal["old", "new"]) -> str | None:
        """The old or new value in words (None when there is none)."""
        data = ((self.old if which == "old" else self.new) or {}).get("value")
        if not data:
            return None
        try:
            return describe(value_from_dict(data["kind"], data)) if "kind" in data else None
        except (KeyError, TypeError, ValueError):
            return None

    def changes(self) -> list[tuple[str, Any, Any]]:
        """Field-level ``(field, old, new)`` differences when both an old and a new value exist."""
        old = (self.old or {}).get("value") or {}
        new = (self.new or {}).get("value") or {}
        if not old or not new:
            return []
        keys = [k for k in dict.fromkeys([*old, *new])
                if k not in ("sentence", "sent_start", "sent_end", "kind") and old.get(k) != new.get(k)]
        return [(k, old.get(k), new.get(k)) for k in keys]


@dataclass
class ImportStats:
    records: int = 0
    values: int = 0
    new: int = 0
    unchanged: int = 0
    changed: int = 0
    dropped: int = 0
    relocated: int = 0
    reopened: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ExportStats:
    path: Path
    records: int = 0
    values: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewedValue:
    """One reviewed value for training: what the extractor said and what reviewers settled on."""

    value_id: int
    status: str  # accepted | corrected | added | rejected
    value: Value | None  # the final value (None when rejected)
    original: Value | None  # the extractor's proposal (None for a reviewer-added value)
    reviewers: tuple[str, ...]
    resolved_by: str | None


@dataclass(frozen=True)
class ReviewedAbstract:
    abstract: Abstract
    values: tuple[ReviewedValue, ...]
    complete: bool  # every proposal has a final outcome and enough reviewers finished the abstract

    def record(self) -> ExtractionRecord:
        """The accepted, corrected and added values as a record (offsets into ``abstract.text``)."""
        return ExtractionRecord.from_values(
            self.abstract.id, [v.value for v in self.values if v.value is not None])


# --------------------------------------------------------------------------------------------
# Reviewer names

_NAME_OK = re.compile(r"^[\w][\w .,'@()-]*$", re.UNICODE)


def check_reviewer(name: str) -> str:
    """The reviewer name, tidied; raises :class:`InputError` for an unusable one."""
    tidy = " ".join(unicodedata.normalize("NFC", str(name)).split())
    if not tidy:
        raise InputError("give your name: every decision records who made it")
    if len(tidy) > 60:
        raise InputError("a reviewer name has at most 60 characters")
    if not _NAME_OK.match(tidy):
        raise InputError(f"reviewer name {tidy!r}: use letters, digits, spaces and . , ' @ ( ) - _")
    if tidy.lower() in ("system", "extractor"):
        raise InputError(f"{tidy!r} is reserved; pick another name")
    return tidy


# --------------------------------------------------------------------------------------------
# The store


class Store:
    """The review store (see the module docstring). Thread-safe: one connection per thread."""

    def __init__(self, path: str | Path, *, create: bool = True, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no such review store")
        if not self.path.parent.is_dir():
            raise StoreError(f"{self.path}: folder {self.path.parent} does not exist")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a review store file")
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        try:
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a review store ({exc})") from exc
        except StoreError as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    # ---- connections and transactions ---------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.row_factory = sqlite3.Row
                mode = self._wal(conn)
                if str(mode).lower() != "wal":
                    raise StoreError(f"{self.path}: cannot switch the store to WAL mode (got {mode})")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: cannot open the review store ({exc})") from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _wal(self, conn: sqlite3.Connection) -> str:
        """Switch to WAL mode. SQLite does not call its busy handler for this pragma while another
        process creates the file, so wait for the lock here (bounded by the store's timeout)."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    @contextmanager
    def _tx(self, write: bool) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: the store is busy ({exc}); another process holds "
                             f"it for more than {self.timeout:g} s, try again") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: could not save ({exc})") from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        row = self._conn().execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0])

    def setting(self, key: str, default: str | None = None) -> str:
        """A stored setting; when missing, store ``default`` (or a new random secret) first."""
        with self._tx(write=True) as c:
            row = c.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return str(row[0])
            value = default if default is not None else secrets.token_hex(32)
            c.execute("INSERT INTO settings VALUES (?, ?)", (key, value))
            return value

    # ---- filling the store ------------------------------------------------------------------
    def add_abstracts(self, abstracts: Iterable[Abstract]) -> int:
        """Insert or update abstracts; return how many were new or changed.

        A changed text moves the offsets of stored values, decisions and resolutions to the
        nearest occurrence of their evidence (values whose evidence is gone become unlocated).
        """
        count = 0
        for chunk in _chunks(abstracts, _CHUNK):
            with self._tx(write=True) as c:
                for a in chunk:
                    count += self._put_abstract(c, a)
        return count

    def _put_abstract(self, c: sqlite3.Connection, a: Abstract) -> int:
        stamp = now()
        row = c.execute("SELECT text, title, source, sections, metadata, has_abstract "
                        "FROM abstracts WHERE id = ?", (a.id,)).fetchone()
        sections = json.dumps([s.to_dict() for s in a.sections])
        metadata = json.dumps(dict(a.metadata), ensure_ascii=False, default=str)
        if row is None:
            c.execute("""INSERT INTO abstracts (id, title, text, source, sections, metadata, has_abstract,
                         added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                      (a.id, a.title, a.text, a.source, sections, metadata, int(a.has_abstract),
                       stamp, stamp))
            return 1
        if (row["text"], row["title"], row["source"], row["sections"], row["metadata"],
                row["has_abstract"]) == (a.text, a.title, a.source, sections, metadata, int(a.has_abstract)):
            return 0
        c.execute("""UPDATE abstracts SET title = ?, text = ?, source = ?, sections = ?, metadata = ?,
                     has_abstract = ?, updated_at = ?,
                     text_version = text_version + (CASE WHEN text = ? THEN 0 ELSE 1 END)
                     WHERE id = ?""",
                  (a.title, a.text, a.source, sections, metadata, int(a.has_abstract), stamp, a.text, a.id))
        if row["text"] != a.text:
            self._move_offsets(c, a.id, row["text"], a.text)
            self._refresh(c, a.id)
        return 1

    def _move_offsets(self, c: sqlite3.Connection, abstract_id: str, old: str, new: str) -> None:
        def move(v: Value) -> Value | None:
            p = v.prov
            if not p.evidence or new[p.start:p.end] == p.evidence:
                return v
            start = relocate(p.evidence, new, p.start)
            if start is None:
                return None
            end = start + len(p.evidence)
            s0 = relocate(p.sentence, new, p.sent_start or start) if p.sentence else None
            if s0 is not None and s0 <= start and end <= s0 + len(p.sentence):
                sent, s1 = p.sentence, s0 + len(p.sentence)
            else:
                sent, s0, s1 = sentence_around(new, start, end)
            return v.with_provenance(start=start, end=end,  # type: ignore[return-value]
                                     sentence=sent, sent_start=s0, sent_end=s1)

        for it in c.execute("SELECT * FROM items WHERE abstract_id = ?", (abstract_id,)).fetchall():
            old_value = value_from_json(it["value"])
            moved = move(old_value)
            if moved is old_value:
                continue
            if moved is None:
                c.execute("UPDATE items SET located = 0 WHERE id = ?", (it["id"],))
                self._audit(c, "system", "system", abstract_id, it["id"], "unlocated",
                            {"value": _vd(old_value)}, None,
                            "the abstract text changed and this evidence is no longer in it")
                continue
            c.execute("""UPDATE items SET start = ?, "end" = ?, value = ?, located = 1 WHERE id = ?""",
                      (moved.prov.start, moved.prov.end, value_json(moved), it["id"]))
            self._audit(c, "system", "system", abstract_id, it["id"], "moved",
                        {"value": _vd(old_value)}, {"value": _vd(moved)},
                        "the abstract text changed; the evidence was found at new offsets")
        for table, key in (("decisions", "reviewer"), ("resolutions", "adjudicator")):
            rows = c.execute(f"""SELECT d.item_id, d.{key} AS who, d.value FROM {table} d
                                 JOIN items i ON i.id = d.item_id
                                 WHERE i.abstract_id = ? AND d.value IS NOT NULL""",
                             (abstract_id,)).fetchall()
            for d in rows:
                v = value_from_json(d["value"])
                mv = move(v)
                if mv is not None and mv is not v:
                    c.execute(f"UPDATE {table} SET value = ? WHERE item_id = ? AND {key} = ?",
                              (value_json(mv), d["item_id"], d["who"]))

    def delete_abstracts(self, ids: Iterable[str], reason: str = "deleted upstream") -> int:
        """Remove abstracts (e.g. PubMed ``DeleteCitation`` ids) with their values and decisions.

        The audit trail keeps every past entry plus one saying the abstract was deleted and why.
        Returns how many abstracts were in the store.
        """
        count = 0
        for chunk in _chunks(ids, _CHUNK):
            with self._tx(write=True) as c:
                for aid in chunk:
                    if c.execute("DELETE FROM abstracts WHERE id = ?", (aid,)).rowcount:
                        count += 1
                        self._audit(c, "system", "system", aid, None, "abstract deleted", None, None,
                                    _check_note(reason))
        return count

    def add_records(self, records: Iterable[ExtractionRecord], run: str | None = None) -> int:
        """Store extraction records (see "Re-extraction keeps decisions"); return how many."""
        return self.import_records(records, run).records

    def import_records(self, records: Iterable[ExtractionRecord], run: str | None = None) -> ImportStats:
        """Like :meth:`add_records` but return counts of new / unchanged / changed / dropped values.

        ``run`` names the extraction run (default: ``meta["pipeline"]`` + ``meta["version"]`` of
        each record, else ``"import <time>"``). A record whose abstract is not in the store, or
        whose evidence is not in the abstract text, raises :class:`StoreError`; records before it
        (in earlier chunks of 500) are kept.
        """
        stats = ImportStats()
        default_run = f"import {now()}"
        for chunk in _chunks(records, _CHUNK):
            with self._tx(write=True) as c:
                for rec in chunk:
                    name = run or _run_name(rec) or default_run
                    c.execute("INSERT OR IGNORE INTO runs (id, added_at) VALUES (?, ?)", (name, now()))
                    c.execute("UPDATE runs SET records = records + 1 WHERE id = ?", (name,))
                    self._merge_record(c, rec, name, stats)
                    stats.records += 1
        return stats

    def _merge_record(self, c: sqlite3.Connection, rec: ExtractionRecord, run: str,
                      stats: ImportStats) -> None:
        row = c.execute("SELECT text FROM abstracts WHERE id = ?", (rec.id,)).fetchone()
        if row is None:
            raise StoreError(f"record {rec.id}: its abstract is not in the store; add the abstract "
                             "(Store.add_abstracts) before its extraction")
        text: str = row["text"]
        new: list[tuple[Value, bool]] = []
        for v in rec.values():
            p = v.prov
            if not p.evidence:
                new.append((v, False))
                continue
            if text[p.start:p.end] != p.evidence:
                start = relocate(p.evidence, text, p.start)
                if start is None:
                    raise StoreError(f"record {rec.id}: {v.kind} evidence {p.evidence!r} is not in the "
                                     f"abstract text (offsets {p.start}..{p.end})")
                v = v.with_provenance(start=start, end=start + len(p.evidence))  # type: ignore[assignment]
                stats.relocated += 1
            new.append((v, True))
        stats.values += len(new)
        old = [dict(r) for r in c.execute(
            "SELECT * FROM items WHERE abstract_id = ? AND origin = 'extracted' ORDER BY id", (rec.id,))]
        for o in old:
            o["_value"] = value_from_json(o["value"])
        used: set[int] = set()
        match: dict[int, dict[str, Any]] = {}

        tiers = (
            lambda v: (v.kind, v.prov.start, v.prov.end, payload_key(v)),
            lambda v: (v.kind, v.prov.start, v.prov.end),
            lambda v: (v.kind, v.prov.evidence, payload_key(v)),
        )
        for tier in tiers:
            index: dict[Any, list[dict[str, Any]]] = {}
            for o in old:
                if o["id"] not in used:
                    index.setdefault(tier(o["_value"]), []).append(o)
            for i, (v, _) in enumerate(new):
                if i in match:
                    continue
                cands = [o for o in index.get(tier(v), ()) if o["id"] not in used]
                if not cands:
                    continue
                best = min(cands, key=lambda o: (not o["present"], abs(o["start"] - v.prov.start), o["id"]))
                used.add(best["id"])
                match[i] = best

        stamp = now()
        for i, (v, located) in enumerate(new):
            conf = v.prov.confidence
            if i not in match:
                c.execute("""INSERT INTO items (abstract_id, kind, start, "end", evidence, payload, value,
                             confidence, origin, created_at, run, ord, present, located, rev)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'extracted', ?, ?, ?, 1, ?, 0)""",
                          (rec.id, v.kind, v.prov.start, v.prov.end, v.prov.evidence, payload_key(v),
                           value_json(v), conf, stamp, run, i, int(located)))
                stats.new += 1
                continue
            o = match[i]
            ov: Value = o["_value"]
            same = _value_key(ov) == _value_key(v)
            c.execute("""UPDATE items SET start = ?, "end" = ?, evidence = ?, payload = ?, value = ?,
                         confidence = ?, run = ?, ord = ?, present = 1, located = ?, rev = rev + ?
                         WHERE id = ?""",
                      (v.prov.start, v.prov.end, v.prov.evidence, payload_key(v), value_json(v), conf,
                       run, i, int(located), 0 if same else 1, o["id"]))
            if same:
                stats.unchanged += 1
                if not o["present"]:
                    self._audit(c, f"run {run}", "system", rec.id, o["id"], "proposed again",
                                None, {"value": _vd(v)}, "")
            else:
                stats.changed += 1
                self._audit(c, f"run {run}", "system", rec.id, o["id"], "re-extracted",
                            {"value": _vd(ov)}, {"value": _vd(v)},
                            "a newer extraction changed this value; decisions on it are kept")
        for o in old:
            if o["id"] not in used and o["present"]:
                c.execute("UPDATE items SET present = 0 WHERE id = ?", (o["id"],))
                stats.dropped += 1
                self._audit(c, f"run {run}", "system", rec.id, o["id"], "no longer proposed",
                            {"value": _vd(o["_value"])}, None,
                            "the newer extraction does not propose this value; decisions on it are kept")
        c.execute("UPDATE abstracts SET run = ?, extraction_meta = ?, extracted_at = ? WHERE id = ?",
                  (run, json.dumps(dict(rec.meta), ensure_ascii=False, default=str), stamp, rec.id))
        state = self._state(c, rec.id)
        reopened = 0
        for r in state.finished_reviewers:
            if state.undecided(r):
                c.execute("UPDATE reviews SET finished_at = NULL WHERE abstract_id = ? AND reviewer = ?",
                          (rec.id, r))
                self._audit(c, f"run {run}", "system", rec.id, None, "review reopened", None, None,
                            f"{r}'s finished review was reopened: the newer extraction has values "
                            "they have not decided")
                reopened += 1
        stats.reopened += reopened
        self._refresh(c, rec.id, None if reopened else state)

    # ---- reading --------------------------------------------------------------------------
    def count_abstracts(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM abstracts").fetchone()[0])

    def abstract_ids(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT id FROM abstracts ORDER BY seq")]

    def get_abstract(self, abstract_id: str) -> Abstract:
        with self._tx(write=False) as c:
            return self._abstract(c, abstract_id)

    def state(self, abstract_id: str) -> AbstractState:
        """The abstract with every value, decision, resolution and review (one consistent read)."""
        with self._tx(write=False) as c:
            return self._state(c, abstract_id)

    def get_value(self, value_id: int) -> StoredValue:
        with self._tx(write=False) as c:
            return self._item(c, value_id)

    def _abstract(self, c: sqlite3.Connection, abstract_id: str) -> Abstract:
        row = c.execute("SELECT * FROM abstracts WHERE id = ?", (abstract_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"abstract {abstract_id!r} is not in the store")
        return Abstract(id=row["id"], text=row["text"], title=row["title"],
                        sections=tuple(Section.from_dict(s) for s in json.loads(row["sections"])),
                        source=row["source"], metadata=json.loads(row["metadata"]),
                        has_abstract=bool(row["has_abstract"]))

    def _state(self, c: sqlite3.Connection, abstract_id: str) -> AbstractState:
        abstract = self._abstract(c, abstract_id)
        row = c.execute("SELECT * FROM abstracts WHERE id = ?", (abstract_id,)).fetchone()
        items = c.execute("SELECT * FROM items WHERE abstract_id = ? ORDER BY id", (abstract_id,)).fetchall()
        decs = c.execute("""SELECT d.* FROM decisions d JOIN items i ON i.id = d.item_id
                            WHERE i.abstract_id = ?""", (abstract_id,)).fetchall()
        vers = c.execute("""SELECT d.* FROM decision_versions d JOIN items i ON i.id = d.item_id
                            WHERE i.abstract_id = ?""", (abstract_id,)).fetchall()
        ress = c.execute("""SELECT r.* FROM resolutions r JOIN items i ON i.id = r.item_id
                            WHERE i.abstract_id = ?""", (abstract_id,)).fetchall()
        rvers = c.execute("""SELECT r.* FROM resolution_versions r JOIN items i ON i.id = r.item_id
                             WHERE i.abstract_id = ?""", (abstract_id,)).fetchall()
        revs = c.execute("SELECT * FROM reviews WHERE abstract_id = ? ORDER BY started_at, reviewer",
                         (abstract_id,)).fetchall()
        values = tuple(self._stored(it, [d for d in decs if d["item_id"] == it["id"]],
                                    [v for v in vers if v["item_id"] == it["id"]],
                                    next((r for r in ress if r["item_id"] == it["id"]), None),
                                    next((r for r in rvers if r["item_id"] == it["id"]), None))
                       for it in items)
        return AbstractState(
            abstract=abstract, values=values,
            reviews={r["reviewer"]: Review(r["reviewer"], r["started_at"], r["finished_at"]) for r in revs},
            status=row["status"], open_conflicts=row["open_conflicts"], run=row["run"],
            extracted_at=row["extracted_at"], extraction_meta=json.loads(row["extraction_meta"]),
            text_version=row["text_version"])

    @staticmethod
    def _stored(it: sqlite3.Row, decs: Sequence[sqlite3.Row], vers: Sequence[sqlite3.Row],
                res: sqlite3.Row | None, rver: sqlite3.Row | None) -> StoredValue:
        return StoredValue(
            id=it["id"], abstract_id=it["abstract_id"], value=value_from_json(it["value"]),
            origin=it["origin"], created_by=it["created_by"], run=it["run"], present=bool(it["present"]),
            located=bool(it["located"]), rev=it["rev"],
            decisions={d["reviewer"]: Decision(d["reviewer"], d["action"],
                                               None if d["value"] is None else value_from_json(d["value"]),
                                               d["rev"], d["decided_at"], d["note"]) for d in decs},
            decision_versions={v["reviewer"]: v["version"] for v in vers},
            resolution=None if res is None else Resolution(
                res["adjudicator"], res["action"],
                None if res["value"] is None else value_from_json(res["value"]),
                res["rev"], res["resolved_at"], res["note"]),
            resolution_seq=0 if rver is None else rver["version"],
        )

    def _item(self, c: sqlite3.Connection, value_id: int) -> StoredValue:
        row = c.execute("SELECT abstract_id FROM items WHERE id = ?", (int(value_id),)).fetchone()
        if row is None:
            raise NotFoundError(f"value #{value_id} is not in the store")
        state = self._state(c, row["abstract_id"])
        return next(v for v in state.values if v.id == int(value_id))

    # ---- decisions --------------------------------------------------------------------------
    def accept(self, value_id: int, reviewer: str, version: int, note: str = "") -> int:
        return self.decide(value_id, reviewer, "accept", version, note=note)

    def edit(self, value_id: int, reviewer: str, version: int, value: Value, note: str = "") -> int:
        return self.decide(value_id, reviewer, "edit", version, value=value, note=note)

    def reject(self, value_id: int, reviewer: str, version: int, note: str = "") -> int:
        return self.decide(value_id, reviewer, "reject", version, note=note)

    def decide(self, value_id: int, reviewer: str, action: Action, version: int,
               value: Value | None = None, note: str = "") -> int:
        """Record ``reviewer``'s decision on a value; return the value's new version for them.

        ``action``: ``accept`` (the value as currently proposed), ``edit`` (``value`` is the
        corrected value: same kind, offsets into the abstract text), ``reject``, or ``clear``
        (withdraw the decision). ``version`` is the version the reviewer saw
        (:meth:`StoredValue.version`); if the value changed since, :class:`ConflictError`.
        """
        reviewer = check_reviewer(reviewer)
        if action not in ("accept", "edit", "reject", "clear"):
            raise InputError(f"unknown decision {action!r}; use accept, edit, reject or clear")
        note = _check_note(note)
        with self._tx(write=True) as c:
            state, item = self._locked_item(c, value_id)
            self._check_version(c, item, item.version(reviewer), version, reviewer, "decision")
            old = item.decisions.get(reviewer)
            new_action: str = action
            snapshot: Value | None = None
            if action == "accept":
                snapshot = item.value
                if old is not None and old.action == "add":
                    new_action = "add"
            elif action == "edit":
                if value is None:
                    raise InputError("an edit needs the corrected value")
                snapshot = self._reviewer_value(state, item, value, reviewer, "review.edit")
                if _value_key(snapshot) == _value_key(item.value):
                    snapshot = item.value
                    new_action = "add" if old is not None and old.action == "add" else "accept"
            if action != "clear" and old is None:
                self._claim(c, state, reviewer)
            if snapshot is not None:
                self._check_one_sample_size(state, item, snapshot, reviewer)
            if action == "clear":
                if old is None:
                    raise InputError(f"value #{item.id}: you have no decision on it to clear")
                c.execute("DELETE FROM decisions WHERE item_id = ? AND reviewer = ?", (item.id, reviewer))
            else:
                c.execute("""INSERT INTO decisions (item_id, reviewer, action, value, rev, decided_at, note)
                             VALUES (?, ?, ?, ?, ?, ?, ?)
                             ON CONFLICT (item_id, reviewer) DO UPDATE SET action = excluded.action,
                             value = excluded.value, rev = excluded.rev, decided_at = excluded.decided_at,
                             note = excluded.note""",
                          (item.id, reviewer, new_action, None if snapshot is None else value_json(snapshot),
                           item.rev, now(), note))
            new_version = self._bump(c, "decision_versions", item.id, reviewer)
            self._audit(c, reviewer, "reviewer", item.abstract_id, item.id, action,
                        _decision_json(old), None if action == "clear" else
                        {"action": new_action, "value": None if snapshot is None else _vd(snapshot)},
                        note)
            self._touch_reviewer(c, reviewer)
            self._refresh(c, item.abstract_id)
            return item.rev + new_version

    def add_value(self, abstract_id: str, reviewer: str, value: Value, note: str = "") -> int:
        """Add a value the extractor missed; return its id.

        The value's provenance needs only ``start``/``end`` (the evidence must be
        ``text[start:end]``); the store sets ``source="reviewer"``, ``producer=reviewer``. If
        another reviewer already added the same value (same kind, offsets and fields), the
        decision joins that value, so independent additions agree.
        """
        reviewer = check_reviewer(reviewer)
        note = _check_note(note)
        with self._tx(write=True) as c:
            state = self._state(c, abstract_id)
            snapshot = self._reviewer_value(state, None, value, reviewer, "review.add")
            key = _value_key(snapshot)
            same = [v for v in state.values if _value_key(v.value) == key]
            mine = {v.id: v for v in state.visible(reviewer)}
            for v in same:
                if v.id in mine:
                    raise InputError(f"this value is already listed as #{v.id} ({v.describe()}): "
                                     "decide it there instead of adding it again")
            self._check_one_sample_size(state, None, snapshot, reviewer)
            if reviewer not in state.reviews:
                self._claim(c, state, reviewer)
            if same:
                item_id = same[0].id
            else:
                cur = c.execute("""INSERT INTO items (abstract_id, kind, start, "end", evidence, payload,
                                   value, confidence, origin, created_by, created_at, run, ord, present,
                                   located, rev) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'reviewer', ?, ?, NULL,
                                   0, 1, ?, 0)""",
                                (abstract_id, snapshot.kind, snapshot.prov.start, snapshot.prov.end,
                                 snapshot.prov.evidence, payload_key(snapshot), value_json(snapshot),
                                 reviewer, now(), int(bool(snapshot.prov.evidence))))
                item_id = int(cur.lastrowid or 0)
            rev = same[0].rev if same else 0
            c.execute("""INSERT INTO decisions (item_id, reviewer, action, value, rev, decided_at, note)
                         VALUES (?, ?, 'add', ?, ?, ?, ?)""",
                      (item_id, reviewer, value_json(snapshot), rev, now(), note))
            self._bump(c, "decision_versions", item_id, reviewer)
            self._audit(c, reviewer, "reviewer", abstract_id, item_id, "add", None,
                        {"action": "add", "value": _vd(snapshot)}, note)
            self._touch_reviewer(c, reviewer)
            self._refresh(c, abstract_id)
            return item_id

    def finish(self, abstract_id: str, reviewer: str) -> None:
        """Mark ``reviewer``'s review of the abstract finished: every value decided, none missing."""
        reviewer = check_reviewer(reviewer)
        with self._tx(write=True) as c:
            state = self._state(c, abstract_id)
            left = state.undecided(reviewer)
            if left:
                ids = ", ".join(f"#{v.id}" for v in left[:8]) + (" …" if len(left) > 8 else "")
                raise InputError(f"{len(left)} value(s) still need your decision ({ids}): accept, edit "
                                 "or reject them before finishing")
            if reviewer not in state.reviews:
                self._claim(c, state, reviewer)
            elif state.reviews[reviewer].finished:
                return
            c.execute("UPDATE reviews SET finished_at = ? WHERE abstract_id = ? AND reviewer = ?",
                      (now(), abstract_id, reviewer))
            self._audit(c, reviewer, "reviewer", abstract_id, None, "finish", None, None, "")
            self._touch_reviewer(c, reviewer)
            self._refresh(c, abstract_id)

    def reopen(self, abstract_id: str, reviewer: str) -> None:
        """Reopen ``reviewer``'s finished review of the abstract."""
        reviewer = check_reviewer(reviewer)
        with self._tx(write=True) as c:
            state = self._state(c, abstract_id)
            review = state.reviews.get(reviewer)
            if review is None or not review.finished:
                return
            c.execute("UPDATE reviews SET finished_at = NULL WHERE abstract_id = ? AND reviewer = ?",
                      (abstract_id, reviewer))
            self._audit(c, reviewer, "reviewer", abstract_id, None, "reopen", None, None, "")
            self._refresh(c, abstract_id)

    def resolve(self, value_id: int, adjudicator: str, action: Action, version: int, *,
                value: Value | None = None, choose: str | None = None, note: str = "") -> int:
        """Record the adjudicated outcome of a value; return its new resolution version.

        ``action``: ``accept`` (the value as proposed), ``edit`` (``value``), ``reject`` or
        ``clear`` (withdraw the resolution). ``choose=<reviewer>`` takes that reviewer's outcome
        instead (their value with its provenance, or rejection). ``version`` is
        :attr:`StoredValue.resolution_version` as the adjudicator saw it.
        """
        adjudicator = check_reviewer(adjudicator)
        note = _check_note(note)
        with self._tx(write=True) as c:
            state, item = self._locked_item(c, value_id)
            self._check_version(c, item, item.resolution_version, version, None, "resolution")
            snapshot: Value | None = None
            res_action: str = action
            if choose is not None:
                d = item.decisions.get(choose)
                if d is None and choose not in state.finished_reviewers:
                    raise InputError(f"{choose!r} has no decision on value #{item.id}")
                snapshot = None if d is None else d.value
                res_action = "reject" if snapshot is None else ("accept" if d and d.action in
                                                                ("accept", "add") else "edit")
            elif action == "accept":
                snapshot = item.value
            elif action == "edit":
                if value is None:
                    raise InputError("an edit needs the corrected value")
                snapshot = self._reviewer_value(state, item, value, adjudicator, "review.resolve")
            elif action not in ("reject", "clear"):
                raise InputError(f"unknown resolution {action!r}; use accept, edit, reject or clear")
            old = item.resolution
            if res_action == "clear":
                if old is None:
                    raise InputError(f"value #{item.id} has no resolution to clear")
                c.execute("DELETE FROM resolutions WHERE item_id = ?", (item.id,))
            else:
                c.execute("""INSERT INTO resolutions
                             (item_id, adjudicator, action, value, rev, resolved_at, note)
                             VALUES (?, ?, ?, ?, ?, ?, ?)
                             ON CONFLICT (item_id) DO UPDATE SET adjudicator = excluded.adjudicator,
                             action = excluded.action, value = excluded.value, rev = excluded.rev,
                             resolved_at = excluded.resolved_at, note = excluded.note""",
                          (item.id, adjudicator, res_action,
                           None if snapshot is None else value_json(snapshot), item.rev, now(), note))
            seq = self._bump(c, "resolution_versions", item.id, None)
            self._audit(c, adjudicator, "adjudicator", item.abstract_id, item.id,
                        "resolve" if res_action != "clear" else "clear resolution",
                        _decision_json(old),
                        None if res_action == "clear" else
                        {"action": res_action, "value": None if snapshot is None else _vd(snapshot)},
                        note if choose is None else (f"took {choose}'s outcome. {note}".strip()))
            self._touch_reviewer(c, adjudicator)
            self._refresh(c, item.abstract_id)
            return item.rev + seq

    # ---- helpers for decisions --------------------------------------------------------------
    def _locked_item(self, c: sqlite3.Connection, value_id: int) -> tuple[AbstractState, StoredValue]:
        row = c.execute("SELECT abstract_id FROM items WHERE id = ?", (int(value_id),)).fetchone()
        if row is None:
            raise NotFoundError(f"value #{value_id} is not in the store")
        state = self._state(c, row["abstract_id"])
        return state, next(v for v in state.values if v.id == int(value_id))

    def _check_version(self, c: sqlite3.Connection, item: StoredValue, current: int, given: int,
                       reviewer: str | None, what: str) -> None:
        if int(given) == current:
            return
        if reviewer is None:
            last = c.execute("""SELECT who, at, action FROM audit WHERE item_id = ?
                                AND role IN ('adjudicator', 'system') ORDER BY id DESC LIMIT 1""",
                             (item.id,)).fetchone()
        else:
            last = c.execute("""SELECT who, at, action FROM audit WHERE item_id = ?
                                AND (who = ? OR role = 'system') ORDER BY id DESC LIMIT 1""",
                             (item.id, reviewer)).fetchone()
        by = f" by {last['who']} ({last['action']}, {last['at']})" if last else ""
        raise ConflictError(
            f"value #{item.id} ({item.describe()}) was changed{by} after you loaded it: your "
            f"{what} was based on version {given}, it is now at version {current}. Nothing was "
            "saved; reload the abstract to see the change, then decide again.")

    def _reviewer_value(self, state: AbstractState, item: StoredValue | None, value: Value,
                        reviewer: str, producer_id: str) -> Value:
        text = state.abstract.text
        if item is not None and value.kind != item.kind:
            raise InputError(f"value #{item.id} is a {item.kind}; to record a {value.kind}, reject it "
                             "and add a new value")
        p = value.prov
        if not 0 <= p.start <= p.end <= len(text):
            raise InputError(f"offsets {p.start}..{p.end} lie outside the abstract (0..{len(text)})")
        if p.end == p.start:
            if item is None:
                raise InputError("select the evidence in the abstract text for a new value")
            if item.value.prov.evidence:
                raise InputError("the evidence cannot be empty: select it in the abstract text")
        evidence = text[p.start:p.end]
        if p.evidence and p.evidence != evidence:
            raise InputError(f"evidence {p.evidence!r} is not at {p.start}..{p.end} of the abstract "
                             f"(found {evidence!r}); reload the page")
        check_value(value)
        if item is not None and (item.value.prov.start, item.value.prov.end) == (p.start, p.end):
            ip = item.value.prov
            sent, s0, s1 = ip.sentence, ip.sent_start, ip.sent_end
        else:
            sent, s0, s1 = sentence_around(text, p.start, p.end) if evidence else ("", None, None)
        return replace(value, prov=replace(
            p, evidence=evidence, sentence=sent, sent_start=s0, sent_end=s1, source="reviewer",
            producer=reviewer, producer_id=producer_id, confidence=None))

    def _check_one_sample_size(self, state: AbstractState, item: StoredValue | None, value: Value,
                               reviewer: str) -> None:
        if value.kind != "sample_size":
            return
        for v in state.values:
            if v is item or (item is not None and v.id == item.id):
                continue
            d = v.decisions.get(reviewer)
            if d is not None and d.value is not None and d.value.kind == "sample_size":
                raise InputError(f"you already accepted a sample size for this abstract (#{v.id}, "
                                 f"{describe(d.value)}); an abstract has one — reject or edit that one")

    def _claim(self, c: sqlite3.Connection, state: AbstractState, reviewer: str) -> None:
        if reviewer in state.reviews:
            return
        if len(state.reviews) >= REVIEWERS_PER_ABSTRACT:
            names = " and ".join(sorted(state.reviews))
            raise InputError(f"abstract {state.abstract.id} already has {REVIEWERS_PER_ABSTRACT} independent "
                             f"reviewers ({names}); open its conflicts view to adjudicate instead")
        c.execute("INSERT INTO reviews (abstract_id, reviewer, started_at) VALUES (?, ?, ?)",
                  (state.abstract.id, reviewer, now()))

    @staticmethod
    def _bump(c: sqlite3.Connection, table: str, item_id: int, reviewer: str | None) -> int:
        if reviewer is None:
            c.execute(f"""INSERT INTO {table} (item_id, version) VALUES (?, 1)
                          ON CONFLICT (item_id) DO UPDATE SET version = version + 1""", (item_id,))
            row = c.execute(f"SELECT version FROM {table} WHERE item_id = ?", (item_id,)).fetchone()
        else:
            c.execute(f"""INSERT INTO {table} (item_id, reviewer, version) VALUES (?, ?, 1)
                          ON CONFLICT (item_id, reviewer) DO UPDATE SET version = version + 1""",
                      (item_id, reviewer))
            row = c.execute(f"SELECT version FROM {table} WHERE item_id = ? AND reviewer = ?",
                            (item_id, reviewer)).fetchone()
        return int(row[0])

    @staticmethod
    def _audit(c: sqlite3.Connection, who: str, role: str, abstract_id: str, item_id: int | None,
               action: str, old: dict[str, Any] | None, new: dict[str, Any] | None, note: str) -> None:
        c.execute("""INSERT INTO audit (at, who, role, abstract_id, item_id, action, old, new, note)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                  (now(), who, role, abstract_id, item_id, action,
                   None if old is None else json.dumps(old, ensure_ascii=False),
                   None if new is None else json.dumps(new, ensure_ascii=False), note))

    @staticmethod
    def _touch_reviewer(c: sqlite3.Connection, reviewer: str) -> None:
        stamp = now()
        c.execute("""INSERT INTO reviewers (name, first_seen, last_seen) VALUES (?, ?, ?)
                     ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen""",
                  (reviewer, stamp, stamp))

    def _refresh(self, c: sqlite3.Connection, abstract_id: str, state: AbstractState | None = None) -> None:
        """Recompute the abstract's derived review state (queue columns) from ``state`` (or a fresh read)."""
        state = state or self._state(c, abstract_id)
        proposals = [v for v in state.values if v.origin == "extracted" and v.present]
        confs = [v.value.prov.confidence for v in proposals if v.value.prov.confidence is not None]
        finished = len(state.finished_reviewers)
        conflicts = len(state.conflicts())
        decided = any(v.decisions for v in state.values)
        if conflicts:
            status = "conflict"
        elif finished >= 2:
            status = "double_reviewed"
        elif finished == 1:
            status = "reviewed"
        elif decided or state.reviews:
            status = "in_progress"
        else:
            status = "unreviewed"
        c.execute("""UPDATE abstracts SET n_values = ?, min_confidence = ?, n_reviewers = ?, n_finished = ?,
                     open_conflicts = ?, status = ? WHERE id = ?""",
                  (len(proposals), min(confs) if confs else None, len(state.reviews), finished,
                   conflicts, status, abstract_id))

    # ---- reviewers, queue, progress, history ----------------------------------------------
    def register_reviewer(self, name: str) -> str:
        """Check and record a reviewer name; return it tidied."""
        name = check_reviewer(name)
        with self._tx(write=True) as c:
            self._touch_reviewer(c, name)
        return name

    def reviewers(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT name FROM reviewers ORDER BY name")]

    QUEUE_FILTERS: tuple[str, ...] = ("todo", "all", "unreviewed", "conflicts", "mine")
    QUEUE_ORDERS: tuple[str, ...] = ("position", "low_confidence")

    def queue(self, reviewer: str | None = None, *, filter: str = "all", order: str = "position",
              search: str = "", limit: int = 50, offset: int = 0) -> tuple[list[QueueRow], int]:
        """A page of the review queue and the number of abstracts matching.

        ``filter``: ``all``; ``todo`` (not finished by ``reviewer`` and open to them: they started
        it or it has fewer than two reviewers); ``unreviewed`` (no finished review); ``conflicts``
        (open conflicts); ``mine`` (``reviewer`` is one of its reviewers). ``order``:
        ``position`` (as added) or ``low_confidence`` (lowest extraction confidence first).
        """
        if filter not in self.QUEUE_FILTERS:
            raise InputError(f"unknown queue filter {filter!r}; use one of {', '.join(self.QUEUE_FILTERS)}")
        if order not in self.QUEUE_ORDERS:
            raise InputError(f"unknown queue order {order!r}; use one of {', '.join(self.QUEUE_ORDERS)}")
        where: list[str] = []
        args: list[Any] = []
        me = reviewer or ""
        if filter == "todo":
            where.append("""NOT EXISTS (SELECT 1 FROM reviews r WHERE r.abstract_id = a.id
                            AND r.reviewer = ? AND r.finished_at IS NOT NULL)
                            AND (a.n_reviewers < ? OR EXISTS (SELECT 1 FROM reviews r
                            WHERE r.abstract_id = a.id AND r.reviewer = ?))""")
            args += [me, REVIEWERS_PER_ABSTRACT, me]
        elif filter == "unreviewed":
            where.append("a.n_finished = 0")
        elif filter == "conflicts":
            where.append("a.open_conflicts > 0")
        elif filter == "mine":
            where.append("EXISTS (SELECT 1 FROM reviews r WHERE r.abstract_id = a.id AND r.reviewer = ?)")
            args.append(me)
        if search.strip():
            where.append("(a.id LIKE ? ESCAPE '\\' OR a.title LIKE ? ESCAPE '\\')")
            pat = "%" + re.sub(r"([%_\\])", r"\\\1", search.strip()) + "%"
            args += [pat, pat]
        sql_where = ("WHERE " + " AND ".join(where)) if where else ""
        order_by = ("a.min_confidence IS NULL, a.min_confidence, a.seq" if order == "low_confidence"
                    else "a.seq")
        with self._tx(write=False) as c:
            total = int(c.execute(f"SELECT COUNT(*) FROM abstracts a {sql_where}", args).fetchone()[0])
            rows = c.execute(f"""SELECT a.id, a.title, a.n_values, a.min_confidence, a.status,
                                 a.open_conflicts, a.n_finished FROM abstracts a {sql_where}
                                 ORDER BY {order_by} LIMIT ? OFFSET ?""",
                             [*args, int(limit), int(offset)]).fetchall()
            ids = [r["id"] for r in rows]
            revs: dict[str, list[tuple[str, bool]]] = {}
            if ids:
                marks = ",".join("?" * len(ids))
                for r in c.execute(f"""SELECT abstract_id, reviewer, finished_at FROM reviews
                                       WHERE abstract_id IN ({marks}) ORDER BY started_at""", ids):
                    done = r["finished_at"] is not None
                    revs.setdefault(r["abstract_id"], []).append((r["reviewer"], done))
        return [QueueRow(r["id"], r["title"], r["n_values"], r["min_confidence"], r["status"],
                         r["open_conflicts"], r["n_finished"], tuple(revs.get(r["id"], ())))
                for r in rows], total

    def next_abstract(self, reviewer: str, after: str | None = None) -> str | None:
        """The next abstract (in queue order, after ``after``) that ``reviewer`` still has to do."""
        c = self._conn()
        seq = 0
        if after is not None:
            row = c.execute("SELECT seq FROM abstracts WHERE id = ?", (after,)).fetchone()
            seq = row["seq"] if row else 0
        for lo in (seq, 0):
            row = c.execute("""SELECT a.id FROM abstracts a WHERE a.seq > ?
                AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.abstract_id = a.id AND r.reviewer = ?
                                AND r.finished_at IS NOT NULL)
                AND (a.n_reviewers < ? OR EXISTS (SELECT 1 FROM reviews r WHERE r.abstract_id = a.id
                                                  AND r.reviewer = ?))
                AND a.id IS NOT ? ORDER BY a.seq LIMIT 1""",
                            (lo, reviewer, REVIEWERS_PER_ABSTRACT, reviewer, after)).fetchone()
            if row is not None:
                return str(row[0])
        return None

    def progress(self, reviewer: str | None = None) -> Progress:
        with self._tx(write=False) as c:
            row = c.execute("""SELECT COUNT(*), SUM(n_finished >= 1), SUM(n_finished >= 2),
                               SUM(open_conflicts > 0) FROM abstracts""").fetchone()
            mine = c.execute("SELECT COUNT(*) FROM reviews WHERE reviewer = ? AND finished_at IS NOT NULL",
                             (reviewer or "",)).fetchone()[0]
            decided = c.execute("SELECT COUNT(DISTINCT item_id) FROM decisions").fetchone()[0]
        return Progress(int(row[0]), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0), int(mine),
                        int(decided))

    def conflict_abstracts(self) -> list[tuple[str, str, int]]:
        """``(id, title, open conflicts)`` of every abstract with open conflicts."""
        rows = self._conn().execute("""SELECT id, title, open_conflicts FROM abstracts
                                       WHERE open_conflicts > 0 ORDER BY seq""").fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def history(self, value_id: int) -> list[AuditEntry]:
        """The audit trail of one value, oldest first."""
        with self._tx(write=False) as c:
            self._item(c, value_id)
            rows = c.execute("SELECT * FROM audit WHERE item_id = ? ORDER BY id", (int(value_id),)).fetchall()
        return [_entry(r) for r in rows]

    def abstract_history(self, abstract_id: str) -> list[AuditEntry]:
        """Every audit entry of one abstract (values, reviews, re-extraction), oldest first."""
        rows = self._conn().execute("SELECT * FROM audit WHERE abstract_id = ? ORDER BY id",
                                    (abstract_id,)).fetchall()
        return [_entry(r) for r in rows]

    # ---- export and training --------------------------------------------------------------
    def _reviewed_ids(self, c: sqlite3.Connection) -> list[str]:
        return [r[0] for r in c.execute("""SELECT a.id FROM abstracts a WHERE a.n_reviewers > 0
            OR EXISTS (SELECT 1 FROM items i JOIN resolutions s ON s.item_id = i.id
                       WHERE i.abstract_id = a.id)
            OR EXISTS (SELECT 1 FROM items i JOIN decisions d ON d.item_id = i.id
                       WHERE i.abstract_id = a.id)
            ORDER BY a.seq""")]

    def iter_states(self) -> Iterator[AbstractState]:
        """Every abstract with at least one decision, resolution or review, in store order."""
        with self._tx(write=False) as c:
            ids = self._reviewed_ids(c)
        for aid in ids:
            yield self.state(aid)

    def iter_accepted(self, min_reviews: int = 1,
                      problems: list[str] | None = None) -> Iterator[ExtractionRecord]:
        """One record per reviewed abstract holding its final values (see "What is exported").

        Abstracts whose values were all rejected still get an (empty) record once a reviewer
        finished them, so reviewed-and-excluded abstracts stay visible downstream.
        """
        if min_reviews < 1:
            raise InputError("min_reviews must be at least 1")
        for state in self.iter_states():
            record, probs = state.accepted_record(min_reviews)
            if problems is not None:
                problems.extend(probs)
            if any(True for _ in record.values()) or len(state.finished_reviewers) >= min_reviews:
                yield record

    def accepted_records(self, min_reviews: int = 1) -> list[ExtractionRecord]:
        return list(self.iter_accepted(min_reviews))

    def export_accepted(self, path: str | Path, min_reviews: int = 1) -> ExportStats:
        """Write the accepted, corrected and reviewer-added values as extraction records.

        The format follows the suffix (``.jsonl`` or ``.csv``; ``.parquet`` works too), written by
        :class:`extractor.io.RecordWriter`: exactly what ``extractor pool`` and
        :func:`extractor.io.read_records` read. Values in open conflict, or with fewer than
        ``min_reviews`` agreeing reviewers, are left out and listed in ``problems``.
        """
        out = Path(path)
        stats = ExportStats(out)
        with RecordWriter(out) as writer:
            for record in self.iter_accepted(min_reviews, stats.problems):
                writer.write(record)
                stats.records += 1
                stats.values += sum(1 for _ in record.values())
        return stats

    def iter_reviewed(self, *, min_reviews: int = 1, finished_only: bool = True
                      ) -> Iterator[ReviewedAbstract]:
        """Reviewed abstracts with their text, for training.

        Each :class:`ReviewedAbstract` holds the abstract and, per value with a final outcome,
        its status (``accepted``, ``corrected``, ``added``, ``rejected``), the final value and the
        extractor's original proposal — corrections are ``(original, value)`` pairs, rejections
        are the extractor's false positives. With ``finished_only`` (the default) only abstracts
        that ``min_reviews`` reviewers finished (so missing values were added) and that have no
        open conflict are yielded: their values are complete annotations of the text.
        """
        for state in self.iter_states():
            every = state.finals(min_reviews)
            finals = [f for f in every if f.status in ("accepted", "corrected", "added", "rejected")]
            settled = {f.item.id for f in finals}
            complete = (len(state.finished_reviewers) >= min_reviews
                        and len(finals) == len(every)
                        and all(v.id in settled for v in state.values
                                if v.origin == "extracted" and v.present))
            if finished_only and not complete:
                continue
            yield ReviewedAbstract(
                abstract=state.abstract,
                values=tuple(ReviewedValue(
                    value_id=f.item.id, status=f.status, value=f.value,
                    original=f.item.value if f.item.origin == "extracted" else None,
                    reviewers=f.reviewers, resolved_by=f.resolved_by) for f in finals),
                complete=complete)


# --------------------------------------------------------------------------------------------


def _entry(r: sqlite3.Row) -> AuditEntry:
    return AuditEntry(r["id"], r["at"], r["who"], r["role"], r["abstract_id"], r["item_id"], r["action"],
                      None if r["old"] is None else json.loads(r["old"]),
                      None if r["new"] is None else json.loads(r["new"]), r["note"])


def _vd(v: Value) -> dict[str, Any]:
    return {"kind": v.kind, **v.to_dict()}


def _decision_json(d: Decision | Resolution | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"action": d.action, "value": None if d.value is None else _vd(d.value)}


def _check_note(note: str) -> str:
    note = str(note or "").strip()
    if len(note) > 2000:
        raise InputError("a note has at most 2000 characters")
    return note


def _run_name(rec: ExtractionRecord) -> str | None:
    pipe = rec.meta.get("pipeline")
    if not pipe:
        return None
    version = rec.meta.get("version")
    return f"{pipe} {version}" if version else str(pipe)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for x in items:
        chunk.append(x)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def is_low(confidence: float | None) -> bool:
    return confidence is not None and not math.isnan(confidence) and confidence < LOW_CONFIDENCE


__all__ = [
    "LATEST", "AbstractState", "AuditEntry", "Decision", "ExportStats", "Final", "ImportStats",
    "NotFoundError", "Progress", "QueueRow", "Resolution", "Review", "ReviewedAbstract", "ReviewedValue",
    "Store", "StoredValue", "check_reviewer", "outcome_key",
]
