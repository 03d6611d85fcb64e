"""``extractor_sentences``: sentence boundaries for abstracts (see :mod:`extractor.nlp.segment`)."""

from __future__ import annotations

from typing import cast

import numpy as np
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc
from thinc.types import Ints2d

from extractor.nlp.components.base import RuleComponent, Scorer
from extractor.nlp.context import doc_text
from extractor.nlp.segment import sentence_starts


class SentenceSegmenter(RuleComponent):
    """Sets ``Token.is_sent_start`` on every token from a regex pass over the text."""

    def match(self, doc: Doc) -> list[int]:
        if len(doc) == 0:
            return []
        starts = sentence_starts(doc_text(doc))
        if not starts:
            return [0]
        idx = doc.to_array(IDX).astype(np.int64)
        # a boundary offset falls on (or just before) the token that starts the sentence
        tokens = np.searchsorted(idx, np.asarray(starts, dtype=np.int64), side="left")
        n = len(doc)
        return [0, *sorted({t for t in tokens.tolist() if 0 < t < n})]

    def set_annotations(self, doc: Doc, matches: list[int]) -> None:
        if len(doc) == 0:
            return
        arr = np.full((len(doc), 1), -1, dtype=np.int64)
        arr[matches, 0] = 1
        doc.from_array([SENT_START], cast(Ints2d, arr.astype(np.uint64)))


@Language.factory(
    "extractor_sentences",
    assigns=["token.is_sent_start"],
    default_config={"scorer": {"@scorers": "spacy.senter_scorer.v1"}},
    default_score_weights={"sents_f": 1.0, "sents_p": 0.0, "sents_r": 0.0},
)
def make_sentences(nlp: Language, name: str, scorer: Scorer | None) -> SentenceSegmenter:
    """Rule-based sentence segmenter for (structured) abstracts."""
    component = SentenceSegmenter(nlp, name, span_key="", scorer=scorer)
    component.set_rules([])
    return component


