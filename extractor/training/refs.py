"""Build ``corpus/refs/*.jsonl``: reference entries for the third-party training data in
``../shared`` — ids, offsets and labels only, never text.

* ``painbench_silver.jsonl`` — every abstract of ``painbench/train_pool.jsonl`` with its silver
  record (``record_ref`` into ``painbench/train_silver.jsonl``).
* ``ebmnlp.jsonl`` — EBM-NLP abstracts with crowd "Sample size" labels, as
  ``SAMPLE_SIZE_MENTION`` spans (the crowd marks every count of participants, not the headline).
  Labels given with offsets are kept; labels given as word streams without offsets are located at
  their first whole-word occurrence not already used.
* ``pico_corpus.jsonl`` — PICO-corpus abstracts: ``total-participants`` → ``SAMPLE_SIZE``,
  ``intervention/control-participants`` → ``ARM_SIZE``, ``iv/cv-cont-mean|median|sd`` →
  ``STAT_MEAN|STAT_MEDIAN|STAT_SD``; complete for ``SAMPLE_SIZE`` and ``ARM_SIZE`` (an abstract
  without a total has no headline sample size).

Abstracts of ``painbench/pool.jsonl`` (evaluation) are left out here already — by id, PMID and
text — and again when the corpus is loaded. Splits come from :func:`hash_split` of the PMID, so
the same abstract falls in the same split in every source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from extractor.errors import InputError
from extractor.training.corpus import SHARED_SOURCES, LeakageGuard, hash_split, split_key, text_sha1

REF_FILES: tuple[str, ...] = ("painbench_silver.jsonl", "ebmnlp.jsonl", "pico_corpus.jsonl")
PICO_LABELS: dict[str, str] = {
    "total-participants": "SAMPLE_SIZE",
    "intervention-participants": "ARM_SIZE", "control-participants": "ARM_SIZE",
    "iv-cont-mean": "STAT_MEAN", "cv-cont-mean": "STAT_MEAN",
    "iv-cont-median": "STAT_MEDIAN", "cv-cont-median": "STAT_MEDIAN",
    "iv-cont-sd": "STAT_SD", "cv-cont-sd": "STAT_SD",
}
_HAS_DIGIT_OR_WORD = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                                r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
                                r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)",
                                re.IGNORECASE)


def _rows(shared_dir: Path, source: str) -> Iterator[dict[str, Any]]:
    path = shared_dir / SHARED_SOURCES[source].path
    if not path.is_file():
        raise InputError(f"{path}: not found")
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _entry(entry_id: str, source: str, item_id: str, text: str, origin: str,
           spans: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": entry_id, "ref": {"source": source, "id": item_id, "sha1": text_sha1(text)},
            "origin": origin, "split": hash_split(split_key(entry_id)),
            "spans": sorted(spans, key=lambda s: (s["start"], s["end"], s["label"])), **extra}


def _locate(text: str, needle: str, used: set[tuple[int, int]]) -> tuple[int, int] | None:
    for m in re.finditer(rf"(?<![\w]){re.escape(needle)}(?![\w])", text):
        if (m.start(), m.end()) not in used:
            return m.start(), m.end()
    return None


def painbench_silver(shared_dir: Path, guard: LeakageGuard,
                     held_out: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Silver entries: in ``train`` or ``tune`` (by hash; the ``dev`` bucket trains too), except an
    abstract that another source holds out (``held_out``: split key → split), which follows it."""
    out = []
    for row in _rows(shared_dir, "painbench/train_pool"):
        rid, text = str(row["id"]), str(row["text"])
        if guard.reason(rid, text) is not None:
            continue
        entry = _entry(rid, "painbench/train_pool", rid, text, "painbench-silver", [],
                       record_ref={"source": "painbench/train_silver", "id": rid})
        key = split_key(rid)
        entry["split"] = (held_out or {}).get(key) or ("tune" if entry["split"] == "tune" else "train")
        out.append(entry)
    return out


def ebmnlp(shared_dir: Path, guard: LeakageGuard) -> list[dict[str, Any]]:
    out = []
    for row in _rows(shared_dir, "ebmnlp"):
        pmid, text = str(row["pmid"]), str(row["text"])
        entry_id = "ebm:" + pmid
        if guard.reason(entry_id, text) is not None:
            continue
        spans: list[dict[str, Any]] = []
        used: set[tuple[int, int]] = set()
        located = False
        for s in row.get("spans") or ():
            if s.get("label") == "Sample size" and s.get("char_end", 0) > s.get("char_start", 0):
                start, end = int(s["char_start"]), int(s["char_end"])
                if text[start:end] == s.get("text") and _HAS_DIGIT_OR_WORD.search(text[start:end]):
                    spans.append({"start": start, "end": end, "label": "SAMPLE_SIZE_MENTION"})
                    used.add((start, end))
        if not spans:
            for words in row.get("sample_size_spans") or ():
                if not _HAS_DIGIT_OR_WORD.search(str(words)):
                    continue
                hit = _locate(text, str(words), used)
                if hit is not None:
                    used.add(hit)
                    located = True
                    spans.append({"start": hit[0], "end": hit[1], "label": "SAMPLE_SIZE_MENTION"})
        if spans:
            extra = {"meta": {"located": "first occurrence of word-stream labels"}} if located else {}
            out.append(_entry(entry_id, "ebmnlp", pmid, text, "ebmnlp", spans, complete=[], **extra))
    return out


def pico_corpus(shared_dir: Path, guard: LeakageGuard) -> list[dict[str, Any]]:
    out = []
    for row in _rows(shared_dir, "pico_corpus"):
        pmid, text = str(row["pmid"]), str(row["text"])
        entry_id = "pico:" + pmid
        if guard.reason(entry_id, text) is not None:
            continue
        spans = []
        for e in row.get("entities") or ():
            label = PICO_LABELS.get(str(e.get("label")))
            for start, end in e.get("fragments") or [[e.get("start"), e.get("end")]]:
                if label and start is not None and 0 <= int(start) < int(end) <= len(text):
                    spans.append({"start": int(start), "end": int(end), "label": label})
        out.append(_entry(entry_id, "pico_corpus", pmid, text, "pico_corpus", spans,
                          complete=["SAMPLE_SIZE", "ARM_SIZE"]))
    return out


def build_refs(shared_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The three reference files' entries (painbench pool abstracts left out)."""
    guard = LeakageGuard.from_shared(shared_dir)
    if not len(guard):
        raise InputError(f"{shared_dir}/painbench/pool.jsonl not found: cannot keep evaluation abstracts out")
    ebm = ebmnlp(shared_dir, guard)
    pico = pico_corpus(shared_dir, guard)
    splits = {split_key(e["id"]): e["split"] for e in (*ebm, *pico)}
    return {"painbench_silver.jsonl": painbench_silver(shared_dir, guard, splits),
            "ebmnlp.jsonl": ebm, "pico_corpus.jsonl": pico}


def dumps(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def write_refs(shared_dir: Path, out_dir: Path) -> dict[str, int]:
    """Write the reference files into ``out_dir``; returns entries per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, entries in build_refs(shared_dir).items():
        with (out_dir / name).open("w", encoding="utf-8") as fh:
            for e in entries:
                fh.write(dumps(e) + "\n")
        counts[name] = len(entries)
    return counts
