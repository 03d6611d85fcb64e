"""Convert step: corpus entries → ``.spacy`` files of rule-annotated docs with their gold.

The rule pipeline runs once over every training entry; each doc keeps its candidates
(``doc._.candidates``, serialised with ``DocBin(store_user_data=True)``) and gets the headline gold
(:func:`~extractor.nlp.trained.sample_size_ranker.set_gold`) with a weight per origin. Entries
that say nothing about the headline are left out (they teach the ranker nothing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin

from extractor.nlp.trained.sample_size_ranker import set_gold
from extractor.training.corpus import Entry

# How much one abstract of each origin counts in training: the painbench-style annotations
# (written here, silver, reviewed) define the headline exactly; PICO marks totals; EBM-NLP marks
# every count of participants (a set that contains the headline), so it counts least.
ORIGIN_WEIGHTS: dict[str, float] = {
    "written": 3.0, "painbench-silver": 3.0, "review": 3.0, "pico_corpus": 1.0, "ebmnlp": 0.5,
}
ENTRY_KEY = "extractor.entry"
# what the ranker reads of a candidate (the sentence text and other kinds are left out of .spacy)
_KEEP_KINDS = ("sample_size", "arm_size")
_KEEP_FIELDS = ("kind", "n", "arm", "start", "end", "evidence", "sent_start", "sent_end", "source",
                "producer", "producer_id", "confidence", "features", "accept")


def weight_of(entry: Entry, weights: Mapping[str, float] = ORIGIN_WEIGHTS) -> float:
    return float(weights.get(entry.origin, 1.0))


def annotate(nlp: Language, entries: Sequence[Entry], weights: Mapping[str, float] = ORIGIN_WEIGHTS,
             batch_size: int = 64) -> list[Doc]:
    """Rule-annotated docs of the entries that carry headline gold, gold attached."""
    usable = [(e, g) for e in entries if (g := e.sample_size_gold()) is not None]
    docs: list[Doc] = []
    for doc, (entry, (values, complete)) in zip(
            nlp.pipe((e.text for e, _ in usable), batch_size=batch_size), usable, strict=True):
        set_gold(doc, values, complete=complete, weight=weight_of(entry, weights), source=entry.origin)
        doc.user_data[ENTRY_KEY] = {"id": entry.id, "origin": entry.origin, "split": entry.split}
        doc._.candidates = [{k: c[k] for k in _KEEP_FIELDS if k in c}
                            for c in doc._.candidates or [] if c.get("kind") in _KEEP_KINDS]
        doc._.numbers = None
        doc._.extractions = None
        doc.spans.clear()
        docs.append(doc)
    return docs


def write_docbin(docs: Iterable[Doc], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = DocBin(store_user_data=True)
    n = 0
    for doc in docs:
        db.add(doc)
        n += 1
    db.to_disk(path)
    return n


def summary(entries: Iterable[Entry]) -> dict[str, int]:
    return dict(sorted(Counter(f"{e.origin}/{e.split}" for e in entries).items()))


def reference_doc(nlp: Language, entry: Entry) -> Doc:
    """A reference doc for ``spacy evaluate``: ``doc._.extractions`` from the entry's record (if
    any) and the headline gold."""
    doc = nlp.make_doc(entry.text)
    extractions: list[dict[str, Any]] = []
    rec = entry.record or {}
    if rec.get("sample_size") is not None:
        extractions.append({"kind": "sample_size", "n": int(rec["sample_size"])})
    for kind, key in (("arm_size", "arm_sizes"), ("score", "scores"), ("proportion", "proportions"),
                      ("p_value", "p_values")):
        extractions += [{"kind": kind, **v} for v in rec.get(key) or ()]
    extractions += [{"kind": "scale", "scale": s} for s in rec.get("scales") or ()]
    doc._.extractions = extractions
    gold = entry.sample_size_gold()
    if gold is not None:
        set_gold(doc, gold[0], complete=gold[1], source=entry.origin)
    return doc
