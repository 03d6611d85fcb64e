"""Reviewed abstracts as training entries (``extractor train --with-reviews STORE``).

Each abstract that reviewers finished (``Store.iter_reviewed()``: every proposal decided, missing
values added, no open conflict) becomes an entry with origin ``review``: its text and a painbench
record of the accepted, corrected and added values — a complete annotation, so a rejected sample
size with none added teaches "no headline". The entries live in memory only: reviewed abstracts
are usually third-party text, which this repository does not store.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from extractor.errors import InputError
from extractor.training.corpus import RECORD_LABELS, Entry, Span, hash_split, split_key

_SPAN_LABELS = {"sample_size": "SAMPLE_SIZE", "arm_size": "ARM_SIZE", "score": "SCORE",
                "proportion": "PROPORTION", "p_value": "P_VALUE"}


def entries_from_store(path: Path, *, min_reviews: int = 1) -> tuple[list[Entry], list[str]]:
    """Training entries of the finished abstracts in the review store at ``path``, and problems."""
    from extractor.review.store import Store

    if not path.is_file():
        raise InputError(f"{path}: no such review store")
    entries: list[Entry] = []
    problems: list[str] = []
    with Store(path, create=False) as store:
        for reviewed in store.iter_reviewed(min_reviews=min_reviews):
            abstract = reviewed.abstract
            try:
                record = reviewed.record()
                record.check_offsets(abstract.text)
            except ValueError as exc:
                problems.append(f"{abstract.id}: left out: {exc}")
                continue
            spans = tuple(Span(v.prov.start, v.prov.end, _SPAN_LABELS[v.kind])
                          for v in record.values() if v.kind in _SPAN_LABELS and v.prov.end > v.prov.start)
            split = "tune" if hash_split(split_key(abstract.id)) == "tune" else "train"
            entries.append(Entry(id=abstract.id, text=abstract.text, origin="review", split=split,
                                 spans=spans, record=record.to_dict(), complete=RECORD_LABELS,
                                 where=f"{path}#{abstract.id}",
                                 meta={"statuses": sorted({v.status for v in reviewed.values})}))
    return entries, problems


def fingerprint(entries: list[Entry]) -> str:
    """A short hash of the reviewed data (recorded in the model's meta.json)."""
    h = hashlib.sha1()
    for e in sorted(entries, key=lambda e: e.id):
        h.update(json.dumps([e.id, e.text, e.record], sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()[:12]
