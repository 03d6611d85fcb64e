"""Per-document helpers shared by the components: sentence lookup and provenance dicts."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from spacy.tokens import Doc


class DocContext:
    """The text of a doc with its sentence offsets, for building provenance quickly."""

    __slots__ = ("text", "sent_starts", "sent_ends")

    def __init__(self, doc: Doc) -> None:
        self.text = doc.text
        if doc.has_annotation("SENT_START"):
            bounds = [(s.start_char, s.end_char) for s in doc.sents]
        else:
            bounds = [(0, len(self.text))]
        self.sent_starts = [b[0] for b in bounds]
        self.sent_ends = [b[1] for b in bounds]

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
    if doc._.candidates is None:
        doc._.candidates = []
    doc._.candidates.extend(items)
