"""Sentence boundaries for abstracts: one regular expression over the text, no per-token work.

A sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets) before whitespace and
an upper-case letter, a digit or an opening bracket — unless the word before the full stop is an
abbreviation (``vs.``, ``e.g.``, ``i.v.``, ``et al.``, ``Fig.``, initials, ...). Pre-tokenised
texts (``word . Next``) follow the same rule. A new sentence also starts at a line break that
follows a full stop or colon or the title line, and before an upper-case section label
(``METHODS``, ``RESULTS:``) written without a full stop in front of it.
"""

from __future__ import annotations

import re

ABBREVIATIONS: frozenset[str] = frozenset({
    # abbreviations that rarely end a sentence ("min.", "pts." or "IV." often do: not listed)
    "vs", "v", "al", "e.g", "eg", "i.e", "ie", "cf", "approx", "appr", "ca", "fig", "figs", "dr",
    "mr", "mrs", "ms", "prof", "st", "jr", "inc", "ltd", "vol", "ref", "refs", "resp", "incl",
    "i.v", "i.m", "s.c", "p.o", "b.i.d", "t.i.d", "q.i.d", "q.d", "o.d", "eq", "dept", "univ",
    "spp", "sp", "u.s", "u.k", "n.s", "no", "nos",
})

# labels of structured abstracts (upper case in the text)
SECTION_LABELS = (
    r"BACKGROUND(?: AND (?:AIMS?|OBJECTIVES?|PURPOSE))?|OBJECTIVES?|AIMS?|PURPOSE|INTRODUCTION|"
    r"CONTEXT|(?:MATERIALS?|PATIENTS|SUBJECTS|PARTICIPANTS) AND METHODS|METHODS?|METHODOLOGY|"
    r"STUDY DESIGN|DESIGN|SETTINGS?|PARTICIPANTS|PATIENTS|SUBJECTS|INTERVENTIONS?|"
    r"MAIN OUTCOME MEASURES?|OUTCOME MEASURES?|MEASUREMENTS?|RESULTS?|FINDINGS|"
    r"CONCLUSIONS?(?: AND (?:CLINICAL )?(?:RELEVANCE|IMPLICATIONS))?|INTERPRETATION|"
    r"LIMITATIONS|IMPLICATIONS|CLINICAL RELEVANCE|SIGNIFICANCE|TRIAL REGISTRATION|"
    r"UNLABELLED|SUMMARY|DISCUSSION|LEVEL OF EVIDENCE"
)

_BOUNDARY_RE = re.compile(
    rf"""
    (?P<stop>[.!?]+)["'”’)\]]*[ \t]*(?:\n\s*|[ \t]+)(?=[A-Z0-9(\["“'‘•])   # full stop + space
  | (?P<colon>[.:;])[ \t]*\n\s*(?=\S)                                     # line break after . :
  | (?<=[a-z0-9)%\]])[ \t]+(?=(?:{SECTION_LABELS})(?:[ \t]*:|[ \t]+[A-Z(]))  # "... pain METHODS We"
  | (?<=[a-z0-9)%\]])[ \t]*\n\s*(?=(?:{SECTION_LABELS})\b)                  # line break + label
    """,
    re.VERBOSE,
)
_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)\s*$")


def _is_abbreviation(text: str, stop: int) -> bool:
    """Is the word that ends right before the full stop at ``stop`` an abbreviation?"""
    m = _WORD_BEFORE_RE.search(text, max(0, stop - 12), stop)
    if not m:
        return False
    word = m.group(1)
    if len(word) == 1 and word.isupper():
        return True  # an initial: "G. kola", "J. Smith"
    return word.lower().rstrip(".") in ABBREVIATIONS


def sentence_starts(text: str) -> list[int]:
    """Character offsets where a sentence begins (0 excluded), in order."""
    starts: list[int] = []
    first_newline = text.find("\n")
    if 0 < first_newline < len(text) - 1 and text[first_newline + 1:].strip():
        # the title line is its own sentence
        nxt = first_newline + 1
        while nxt < len(text) and text[nxt].isspace():
            nxt += 1
        if nxt < len(text):
            starts.append(nxt)
    for m in _BOUNDARY_RE.finditer(text):
        if m.group("stop") is not None:
            stop = m.start("stop")
            if m.group("stop") == "." and _is_abbreviation(text, stop):
                continue
            # a decimal number split by the tokenizer of the source ("p < 0. 05") is rare; a
            # full stop directly between digits never reaches here (no whitespace after it)
        end = m.end()
        if 0 < end < len(text):
            starts.append(end)
    if not starts:
        return starts
    starts = sorted(set(starts))
    return starts
