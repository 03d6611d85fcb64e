"""Study design cues: is the abstract a systematic review or meta-analysis?

A review's numbers summarise other studies (a pooled N, a pooled mean change, a pooled
proportion). They are extracted like any other values, but a meta-analysis must not pool them
next to the primary studies they came from, so the record says ``meta["design"] = "review"``
and :mod:`extractor.pool` leaves such records out unless asked to keep them.

The decision needs either the title (the text up to its first line break, as the fetch stage
composes it) naming a review, or, anywhere in the text, both a literature search of named
databases and included studies/trials. A cohort drawn from "our institutional database" is not
a review: it includes patients, not studies.
"""

from __future__ import annotations

import re

from extractor.nlp.context import aligned_lower

REVIEW = "review"

_TITLE_CUE = re.compile(
    r"systematic(?:al)?\s+(?:literature\s+)?review|meta-?\s?analy[sz]|meta-?regression|umbrella\s+review"
    r"|scoping\s+review|overview\s+of\s+(?:systematic\s+)?reviews|review\s+and\s+meta",
    re.IGNORECASE,
)
# what follows a search verb (found by a literal scan of the lower-cased text, see below)
_SEARCH_TAIL = re.compile(
    r"(?:search(?:ed|es|ing)?|retriev(?:ed|al)|screen(?:ed|ing))\b[^.;]{0,160}?"
    r"\b(?:PubMed|MEDLINE|EMBASE|Cochrane|Web\s+of\s+Science|Scopus|CINAHL|PsycINFO|CNKI|Wanfang|"
    r"electronic\s+databases|bibliographic\s+databases|literature)\b",
    re.IGNORECASE,
)
_SEARCH_STEMS = ("search", "retriev", "screen")
_INCLUDED_CUE = re.compile(
    r"\b(?:studies|trials|RCTs|articles|publications|reports)\b[^.;]{0,60}?"
    r"\b(?:were|was|met|fulfilled|being)?\s*(?:included|eligible|identified|pooled|retained|selected)\b"
    r"|\bincluded\s+(?:\w+\s+){0,3}(?:studies|trials|RCTs|articles)\b",
    re.IGNORECASE,
)
_TITLE_CHARS = 400


def study_design(text: str, lower: str | None = None) -> str | None:
    """``"review"`` when ``text`` reads as a systematic review or meta-analysis, else ``None``.

    ``lower`` is ``text.lower()`` when the caller has it already (same length as ``text``).
    """
    if lower is None or len(lower) != len(text):
        lower = aligned_lower(text)
    cut = lower.find("\n", 0, _TITLE_CHARS)
    if cut > 0 and ("review" in lower[:cut] or "meta" in lower[:cut]) and _TITLE_CUE.search(text, 0, cut):
        return REVIEW
    if _searches_literature(text, lower) and _INCLUDED_CUE.search(text):
        return REVIEW
    return None


def _searches_literature(text: str, lower: str) -> bool:
    # the regex is only tried where a search verb starts a word: most abstracts have none
    for stem in _SEARCH_STEMS:
        pos = lower.find(stem)
        while pos >= 0:
            if (pos == 0 or not text[pos - 1].isalnum()) and _SEARCH_TAIL.match(text, pos):
                return True
            pos = lower.find(stem, pos + 1)
    return False
