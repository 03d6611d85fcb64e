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

REVIEW = "review"

_TITLE_CUE = re.compile(
    r"systematic(?:al)?\s+(?:literature\s+)?review|meta-?\s?analy[sz]|meta-?regression|umbrella\s+review"
    r"|scoping\s+review|overview\s+of\s+(?:systematic\s+)?reviews|review\s+and\s+meta",
    re.IGNORECASE,
)
_SEARCH_CUE = re.compile(
    r"\b(?:search(?:ed|es|ing)?|retriev(?:ed|al)|screen(?:ed|ing))\b[^.;]{0,160}?"
    r"\b(?:PubMed|MEDLINE|EMBASE|Cochrane|Web\s+of\s+Science|Scopus|CINAHL|PsycINFO|CNKI|Wanfang|"
    r"electronic\s+databases|bibliographic\s+databases|literature)\b",
    re.IGNORECASE,
)
_INCLUDED_CUE = re.compile(
    r"\b(?:studies|trials|RCTs|articles|publications|reports)\b[^.;]{0,60}?"
    r"\b(?:were|was|met|fulfilled|being)?\s*(?:included|eligible|identified|pooled|retained|selected)\b"
    r"|\bincluded\s+(?:\w+\s+){0,3}(?:studies|trials|RCTs|articles)\b",
    re.IGNORECASE,
)
_TITLE_CHARS = 400


def study_design(text: str) -> str | None:
    """``"review"`` when ``text`` reads as a systematic review or meta-analysis, else ``None``."""
    head = text[:_TITLE_CHARS]
    cut = head.find("\n")
    if cut > 0 and _TITLE_CUE.search(head, 0, cut):
        return REVIEW
    if _SEARCH_CUE.search(text) and _INCLUDED_CUE.search(text):
        return REVIEW
    return None
