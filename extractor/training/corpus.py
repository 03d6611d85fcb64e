"""The project corpus (``corpus/**/*.jsonl``): one schema, a loader that resolves references into
``../shared``, the train/tune/dev split and the guard that keeps evaluation abstracts out of
training. The schema is documented in ``corpus/README.md`` and ``corpus/schema.json``.

An entry holds either its own ``text`` (abstracts written for this project, reviewed abstracts)
or a ``ref`` to a third-party abstract (``{"source": "ebmnlp", "id": "12345", "sha1": "…"}``)
whose text is read from ``../shared`` at training time and never stored here. Labels are
character ``spans`` into the (resolved) text and/or a painbench ``record``, given inline or as a
``record_ref`` to a third-party record file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from extractor.errors import InputError

# Labels of ``spans`` (see corpus/README.md)
LABELS: tuple[str, ...] = (
    "SAMPLE_SIZE",          # the headline number of participants (painbench definition)
    "SAMPLE_SIZE_MENTION",  # any count of participants (EBM-NLP "Sample size": not only the headline)
    "ARM_SIZE",             # participants in one arm
    "SCORE",                # a pain-score value (with its spread)
    "PROPORTION",           # patients reaching a pain outcome
    "P_VALUE",              # a reported p-value
    "STAT_MEAN",            # a mean of any outcome (PICO iv/cv-cont-mean)
    "STAT_MEDIAN",          # a median of any outcome (PICO iv/cv-cont-median)
    "STAT_SD",              # a standard deviation of any outcome (PICO iv/cv-cont-sd)
)
RECORD_LABELS: tuple[str, ...] = ("SAMPLE_SIZE", "ARM_SIZE", "SCORE", "PROPORTION", "P_VALUE")
SPLITS: tuple[str, ...] = ("train", "tune", "dev", "demo")
ORIGINS: tuple[str, ...] = ("written", "painbench-silver", "ebmnlp", "pico_corpus", "review")


@dataclass(frozen=True)
class SharedSource:
    """A third-party file in ``../shared`` that entries may refer to."""

    path: str         # relative to the shared directory
    key: str          # the field holding the id
    prefix: str       # canonical id = prefix + id (the id scheme of painbench/pool.jsonl)
    kind: str         # "text" (abstracts) or "record" (painbench records)


SHARED_SOURCES: dict[str, SharedSource] = {
    "painbench/train_pool": SharedSource("painbench/train_pool.jsonl", "id", "", "text"),
    "painbench/train_silver": SharedSource("painbench/train_silver.jsonl", "id", "", "record"),
    "ebmnlp": SharedSource("data/ebmnlp/train.jsonl", "pmid", "ebm:", "text"),
    "pico_corpus": SharedSource("data/pico_corpus/train.jsonl", "pmid", "pico:", "text"),
}
# Evaluation data: never a training source, and every abstract in it is kept out of training.
EVAL_POOL = "painbench/pool.jsonl"
EVAL_GOLD = "painbench/dev.jsonl"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass(frozen=True)
class Entry:
    """One resolved corpus entry: its text is always present here."""

    id: str
    text: str
    origin: str
    split: str
    spans: tuple[Span, ...] = ()
    record: Mapping[str, Any] | None = None
    complete: tuple[str, ...] = ()
    ref: Mapping[str, Any] | None = None
    where: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The split key: ``pmid:<n>`` for PubMed abstracts under any id, else the id."""
        return split_key(self.id)

    def values(self, label: str) -> list[int]:
        """Integer values of the spans labelled ``label`` (number words count)."""
        from extractor.nlp.numbers import find_numbers

        out: list[int] = []
        for s in self.spans:
            if s.label == label:
                out += [int(n.value) for n in find_numbers(self.text[s.start:s.end]) if n.is_int]
        return out

    def sample_size_gold(self) -> tuple[list[int], bool] | None:
        """(right headline values, complete) for the ranker, or None when the entry says nothing.

        A ``record`` gives its ``sample_size`` (``null`` = no headline). ``SAMPLE_SIZE`` spans give
        the headline; ``SAMPLE_SIZE_MENTION`` spans any count of participants (never complete).
        """
        complete = "SAMPLE_SIZE" in self.complete
        if self.record is not None and "sample_size" in self.record:
            n = self.record.get("sample_size")
            return ([] if n is None else [int(n)]), complete
        headline = self.values("SAMPLE_SIZE")
        if headline or complete:
            return headline, complete
        mentions = self.values("SAMPLE_SIZE_MENTION")
        return (mentions, False) if mentions else None


def split_key(entry_id: str) -> str:
    m = re.fullmatch(r"(?:ebm:|pico:|pmid:)?(\d{1,9})", entry_id.strip())
    return f"pmid:{int(m.group(1))}" if m else entry_id


def hash_split(key: str, dev_percent: int = 20, tune_percent: int = 10) -> str:
    """The fixed split of a key: ``dev`` (held out for evaluation), ``tune`` (model selection)
    or ``train``, from the first 8 hex digits of ``sha1("extractor-split-v1:" + key)``."""
    bucket = int(hashlib.sha1(f"extractor-split-v1:{key}".encode()).hexdigest()[:8], 16) % 100
    if bucket < dev_percent:
        return "dev"
    return "tune" if bucket < dev_percent + tune_percent else "train"


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# Reading


class SharedIndex:
    """Lazy id → object maps of the files in ``../shared`` (read once per source)."""

    def __init__(self, shared_dir: Path | None) -> None:
        self.shared_dir = shared_dir
        self._maps: dict[str, dict[str, dict[str, Any]]] = {}

    def get(self, source: str, item_id: str) -> dict[str, Any] | None:
        if source not in SHARED_SOURCES:
            raise InputError(f"unknown reference source {source!r}; known: {', '.join(SHARED_SOURCES)}")
        if source not in self._maps:
            self._maps[source] = self._read(SHARED_SOURCES[source])
        return self._maps[source].get(str(item_id))

    def _read(self, src: SharedSource) -> dict[str, dict[str, Any]]:
        if self.shared_dir is None:
            raise InputError("the corpus refers to ../shared but no shared directory was given (--shared)")
        path = self.shared_dir / src.path
        if not path.is_file():
            raise InputError(f"{path}: not found (needed to resolve corpus references)")
        out: dict[str, dict[str, Any]] = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    obj = json.loads(line)
                    out[str(obj[src.key])] = obj
        return out


def read_entries(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Raw entries of one corpus file: ``(file:line, dict)``; a bad line is an error."""
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{no}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{where}: not JSON: {exc.msg}") from exc
            if not isinstance(obj, dict):
                raise InputError(f"{where}: an entry must be a JSON object")
            yield where, obj


def corpus_files(paths: Iterable[Path]) -> list[Path]:
    """The ``*.jsonl`` files of the given files and directories (sorted, recursive)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(p.rglob("*.jsonl"))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: no such corpus file or directory")
    return out


def resolve(raw: Mapping[str, Any], where: str, index: SharedIndex) -> Entry:
    """Check one raw entry against the schema and resolve its references."""
    def bad(msg: str) -> InputError:
        return InputError(f"{where}: {msg}")

    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not entry_id:
        raise bad("'id' must be a non-empty string")
    origin = raw.get("origin")
    if origin not in ORIGINS:
        raise bad(f"'origin' must be one of {', '.join(ORIGINS)}")
    split = raw.get("split")
    if split not in SPLITS:
        raise bad(f"'split' must be one of {', '.join(SPLITS)}")
    ref = raw.get("ref")
    if ("text" in raw) == (ref is not None):
        raise bad("an entry has either 'text' or 'ref', not both and not neither")
    if ref is not None:
        if not isinstance(ref, Mapping) or "source" not in ref or "id" not in ref:
            raise bad("'ref' needs 'source' and 'id'")
        src = SHARED_SOURCES.get(str(ref["source"]))
        if src is None or src.kind != "text":
            raise bad(f"'ref.source' {ref['source']!r} is not a text source ({', '.join(SHARED_SOURCES)})")
        obj = index.get(str(ref["source"]), str(ref["id"]))
        if obj is None or not isinstance(obj.get("text"), str):
            raise bad(f"{ref['source']} has no abstract {ref['id']!r}")
        text = str(obj["text"])
        if "sha1" in ref and ref["sha1"] != text_sha1(text):
            raise bad(f"the text of {ref['source']}:{ref['id']} changed (sha1 {text_sha1(text)}, "
                      f"expected {ref['sha1']}): regenerate the references")
    else:
        own = raw.get("text")
        if not isinstance(own, str) or not own.strip():
            raise bad("'text' must be a non-empty string")
        text = own
    spans: list[Span] = []
    for s in raw.get("spans") or ():
        try:
            span = Span(int(s["start"]), int(s["end"]), str(s["label"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(f"bad span {s!r}: {exc}") from exc
        if span.label not in LABELS:
            raise bad(f"unknown span label {span.label!r}")
        if not 0 <= span.start < span.end <= len(text):
            raise bad(f"span {span.start}..{span.end} lies outside the text")
        spans.append(span)
    record = raw.get("record")
    record_ref = raw.get("record_ref")
    if record is not None and record_ref is not None:
        raise bad("an entry has 'record' or 'record_ref', not both")
    if record_ref is not None:
        src = SHARED_SOURCES.get(str(record_ref.get("source")))
        if src is None or src.kind != "record":
            raise bad(f"'record_ref.source' {record_ref.get('source')!r} is not a record source")
        record = index.get(str(record_ref["source"]), str(record_ref.get("id")))
        if record is None:
            raise bad(f"{record_ref['source']} has no record {record_ref.get('id')!r}")
    if record is not None:
        if not isinstance(record, Mapping):
            raise bad("'record' must be a painbench record object")
        check_record(record, text, where)
    complete = raw.get("complete")
    if complete is None:
        complete = list(RECORD_LABELS) if record is not None else []
    if not isinstance(complete, list) or any(c not in LABELS for c in complete):
        raise bad(f"'complete' must be a list of labels ({', '.join(LABELS)})")
    return Entry(id=entry_id, text=text, origin=str(origin), split=str(split), spans=tuple(spans),
                 record=record, complete=tuple(complete), ref=dict(ref) if ref is not None else None,
                 where=where, meta=dict(raw.get("meta") or {}))


def check_record(record: Mapping[str, Any], text: str, where: str) -> None:
    """Offsets of a record's values, where given, must slice to their evidence."""
    for key in ("scores", "proportions", "p_values", "arm_sizes"):
        for v in record.get(key) or ():
            start, end, evidence = v.get("start"), v.get("end"), v.get("evidence")
            if start is None or end is None or evidence is None:
                continue
            if text[int(start):int(end)] != evidence:
                raise InputError(f"{where}: {key} evidence {evidence!r} is not text[{start}:{end}]")
    n = record.get("sample_size")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
        raise InputError(f"{where}: sample_size must be a non-negative integer or null")


def load_corpus(paths: Sequence[Path], shared_dir: Path | None) -> list[Entry]:
    """Every entry of the corpus files under ``paths``, resolved.

    An abstract may carry annotations of several origins (e.g. the painbench silver record and the
    EBM-NLP labels of ``ebm:123``): ids are unique per origin, and one id is in one split.
    """
    index = SharedIndex(shared_dir)
    entries: list[Entry] = []
    seen: dict[tuple[str, str], str] = {}
    splits: dict[str, tuple[str, str]] = {}
    for path in corpus_files(paths):
        for where, raw in read_entries(path):
            entry = resolve(raw, where, index)
            if (entry.origin, entry.id) in seen:
                first_where = seen[entry.origin, entry.id]
                raise InputError(f"{where}: duplicate id {entry.id!r} (first in {first_where})")
            seen[entry.origin, entry.id] = where
            first = splits.setdefault(entry.key, (entry.split, where))
            if first[0] != entry.split:
                raise InputError(f"{where}: {entry.id} is in split {entry.split!r} here but {first[0]!r} "
                                 f"in {first[1]}")
            entries.append(entry)
    return entries


# --------------------------------------------------------------------------------------------
# Leakage guard


_WORD = re.compile(r"[a-z0-9]+")


def shingles(text: str, k: int = 8) -> set[str]:
    """Word 8-grams of the lower-cased alphanumeric words (robust to tokenised copies)."""
    words = _WORD.findall(text.lower())
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


class LeakageGuard:
    """Abstracts that must never be trained on, matched by id, PMID or near-identical text.

    Holds every abstract of ``painbench/pool.jsonl`` (dev and hidden test) and the corpus's own
    held-out ``dev`` entries. :meth:`reason` says why an entry is excluded, or None.
    """

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._ids: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._shingles: dict[str, set[str]] = {}
        self._postings: dict[str, set[str]] = {}

    def add(self, name: str, entry_id: str, text: str) -> None:
        self._ids[entry_id] = name
        self._keys[split_key(entry_id)] = name
        sh = shingles(text)
        self._shingles[entry_id] = sh
        for s in sh:
            self._postings.setdefault(s, set()).add(entry_id)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, entry_id: object) -> bool:
        return isinstance(entry_id, str) and (entry_id in self._ids or split_key(entry_id) in self._keys)

    def reason(self, entry_id: str, text: str) -> str | None:
        if entry_id in self._ids:
            return f"id {entry_id} is in {self._ids[entry_id]}"
        key = split_key(entry_id)
        if key in self._keys:
            return f"{key} is in {self._keys[key]}"
        sh = shingles(text)
        if not sh:
            return None
        hits: dict[str, int] = {}
        for s in sh:
            for other in self._postings.get(s, ()):
                hits[other] = hits.get(other, 0) + 1
        for other, n in hits.items():
            overlap = n / max(1, min(len(sh), len(self._shingles[other])))
            if overlap >= self.threshold:
                return f"same text as {other} ({self._ids[other]}, {overlap:.0%} of word 8-grams)"
        return None

    @classmethod
    def from_shared(cls, shared_dir: Path | None) -> LeakageGuard:
        """A guard holding every abstract of ``painbench/pool.jsonl`` (if ``shared_dir`` has it)."""
        guard = cls()
        if shared_dir is None:
            return guard
        pool = shared_dir / EVAL_POOL
        if not pool.is_file():
            return guard
        with pool.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    obj = json.loads(line)
                    guard.add(EVAL_POOL, str(obj["id"]), str(obj.get("text") or ""))
        return guard


@dataclass(frozen=True)
class TrainingData:
    """The entries to train on, the held-out ones, and what was left out and why."""

    train: tuple[Entry, ...]
    tune: tuple[Entry, ...]
    dev: tuple[Entry, ...]
    demo: tuple[Entry, ...]
    excluded: tuple[tuple[str, str], ...]  # (entry id, reason)


def partition(entries: Sequence[Entry], guard: LeakageGuard) -> TrainingData:
    """Split entries by their ``split``; drop train/tune entries that the guard (painbench pool)
    or the corpus's own dev/demo entries (same id, PMID or text) rule out."""
    held = [e for e in entries if e.split in ("dev", "demo")]
    own = LeakageGuard(guard.threshold)
    for e in held:
        own.add(f"corpus {e.split} split", e.id, e.text)
    keep: dict[str, list[Entry]] = {s: [] for s in SPLITS}
    excluded: list[tuple[str, str]] = []
    for e in entries:
        if e.split in ("train", "tune"):
            why = guard.reason(e.id, e.text) or own.reason(e.id, e.text)
            if why is not None:
                excluded.append((e.id, why))
                continue
        elif e.split == "dev":
            why = guard.reason(e.id, e.text)
            if why is not None:  # painbench evaluation abstracts are not a corpus dev set either
                excluded.append((e.id, why))
                continue
        keep[e.split].append(e)
    return TrainingData(train=tuple(keep["train"]), tune=tuple(keep["tune"]), dev=tuple(keep["dev"]),
                        demo=tuple(keep["demo"]), excluded=tuple(excluded))


def with_split(entry: Entry, split: str) -> Entry:
    return replace(entry, split=split)
