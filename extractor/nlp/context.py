"""Per-document helpers shared by the components: sentence lookup and provenance dicts."""

from __future__ import annotations

import weakref
from bisect import bisect_right
from typing import Any

import numpy as np
from spacy.attrs import IDX, SENT_START
from spacy.tokens import Doc

from extractor.nlp.tokenizer import SOURCE_TEXT


def sentence_bounds(doc: Doc, text: str) -> list[tuple[int, int]]:
    """Character offsets of the sentences (from the SENT_START annotation, without per-token
    Python work); the whole text when the doc has no sentence boundaries."""
    n = len(doc)
    if n == 0:
        return [(0, len(text))]
    arr = doc.to_array([SENT_START, IDX]).astype(np.int64)
    starts = np.flatnonzero(arr[:, 0] == 1).tolist()
    if not starts or starts[0] != 0:
        starts = [0, *starts]
    idx = arr[:, 1]
    bounds: list[tuple[int, int]] = []
    for k, tok in enumerate(starts):
        last = (starts[k + 1] if k + 1 < len(starts) else n) - 1
        end_tok = doc[last]
        bounds.append((int(idx[tok]), int(idx[last]) + len(end_tok)))
    return bounds


SHARED_KEY = "extractor.shared"  # kept for compatibility: older docs may carry it in user_data

_SHARED: weakref.WeakKeyDictionary[Doc, dict[str, Any]] = weakref.WeakKeyDictionary()


def shared(doc: Doc) -> dict[str, Any]:
    """Text and sentence offsets of ``doc``, computed once per doc and shared by the components.

    ``Doc.text`` joins every token in Python, so the text is taken from the clinical tokenizer's
    record of it when available (else computed once). The cache lives beside the doc in a weak
    mapping (nothing is added to the doc) and is checked against the doc's length and sentence
    annotation.
    """
    cached = _SHARED.get(doc)
    n = len(doc)
    has_sents = doc.has_annotation("SENT_START")
    if cached is not None and cached["n_tokens"] == n:
        if cached["sents"] == has_sents:
            return cached
        text = str(cached["text"])
    else:
        source = SOURCE_TEXT.get(doc)
        if source is None or (n and len(source) != doc[-1].idx + len(doc[-1].text_with_ws)):
            source = doc.text
        text = source
    bounds = sentence_bounds(doc, text) if has_sents else [(0, len(text))]
    cached = {"n_tokens": n, "sents": has_sents, "text": text, "bounds": bounds}
    _SHARED[doc] = cached
    return cached


def doc_text(doc: Doc) -> str:
    return str(shared(doc)["text"])


def aligned_lower(text: str) -> str:
    """``text.lower()`` with every offset kept: a character whose lower case is longer ("İ")
    stays as it is, so positions found in the result are positions in ``text``."""
    lower = text.lower()
    if len(lower) != len(text):
        lower = "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)
    return lower


def doc_lower(doc: Doc) -> str:
    """The lower-cased text of ``doc`` (:func:`aligned_lower`), computed once per doc."""
    data = shared(doc)
    lower = data.get("lower")
    if lower is None:
        lower = data["lower"] = aligned_lower(str(data["text"]))
    return str(lower)


def doc_mentions_pain(doc: Doc) -> bool:
    """``lexicon.mentions_pain`` of the doc's text, computed once per doc."""
    from extractor.nlp.lexicon import mentions_pain

    data = shared(doc)
    if "mentions_pain" not in data:
        data["mentions_pain"] = mentions_pain(doc_lower(doc))
    return bool(data["mentions_pain"])


class DocContext:
    """The text of a doc with its sentence offsets, for building provenance quickly."""

    __slots__ = ("text", "lower", "sent_starts", "sent_ends")

    def __init__(self, doc: Doc) -> None:
        data = shared(doc)
        self.text: str = data["text"]
        lower = data.get("lower")
        if lower is None:
            lower = data["lower"] = self.text.lower()
        self.lower: str = lower
        starts = data.get("sent_starts")
        if starts is None:  # built once per doc (nothing changes them)
            starts = data["sent_starts"] = [b[0] for b in data["bounds"]]
            data["sent_ends"] = [b[1] for b in data["bounds"]]
        self.sent_starts: list[int] = starts
        self.sent_ends: list[int] = data["sent_ends"]

    def sentence_index(self, char: int) -> int:
        return max(0, bisect_right(self.sent_starts, char) - 1)

    def sentence_at(self, char: int) -> tuple[int, int]:
        i = self.sentence_index(char)
        return self.sent_starts[i], self.sent_ends[i]

    def sentences(self) -> list[tuple[int, int]]:
        return list(zip(self.sent_starts, self.sent_ends, strict=True))

    def provenance(self, start: int, end: int, *, producer: str, producer_id: str,
                   confidence: float, source: str = "rule") -> dict[str, Any]:
        """Provenance fields (as in ``records.Provenance.to_dict``) for ``text[start:end]``."""
        s_start, s_end = self.sentence_at(start)
        s_end = max(s_end, min(end, len(self.text)))
        return {
            "evidence": self.text[start:end],
            "start": start,
            "end": end,
            "sentence": self.text[s_start:s_end],
            "sent_start": s_start,
            "sent_end": s_end,
            "source": source,
            "producer": producer,
            "producer_id": producer_id,
            "confidence": round(float(confidence), 4),
        }


def add_candidates(doc: Doc, items: list[dict[str, Any]]) -> None:
    """Append candidate dicts to ``doc._.candidates``."""
    current = doc._.candidates
    if current is None or not isinstance(current, list):  # None, or a tuple after DocBin
        doc._.candidates = list(current or ()) + items
    else:
        current.extend(items)
