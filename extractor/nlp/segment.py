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

# Every pattern starts with a character class (or a literal), so the regex engine skips ahead quickly.
_STOP_RE = re.compile(r"[.!?][\"'”’)\]]*[ \t]*(?:\n\s*|[ \t]+)(?=[A-Z0-9(\[\"“'‘•])")
# the same for a text without "!" or "?" (most abstracts), where only "." can end a sentence: a
# pattern that starts with a literal character is searched for at C speed, one that starts with a
# class is tried character by character (2.5 times slower over an abstract)
_DOT_STOP_RE = re.compile(r"\.[\"'”’)\]]*[ \t]*(?:\n\s*|[ \t]+)(?=[A-Z0-9(\[\"“'‘•])")
_BREAK_RE = re.compile(r"[.:;][ \t]*\n\s*(?=\S)")
# "[A-Z]{2,}" written "[A-Z][A-Z]+": the same matches, but a pattern that starts with a repeat
# gives the engine no first character to skip ahead to (twice as fast this way)
_UPPER_RUN_RE = re.compile(r"[A-Z][A-Z]+(?:[ \t]+[A-Z]{2,}){0,4}")
_LABEL_PREFIX_RE = re.compile(rf"(?:{SECTION_LABELS})(?=[ \t]*:|[ \t]+[A-Z(]|[ \t]*$|[ \t]*\n)")
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
    n = len(text)
    stop_re = _STOP_RE if "!" in text or "?" in text else _DOT_STOP_RE
    for m in stop_re.finditer(text):
        stop = m.start()
        c = text[stop]
        if c == "?" and not text[m.end():m.end() + 1].isupper():
            continue  # "4.4 ? 1.6": a mis-encoded "±", not a question mark
        if c == "." and _is_abbreviation(text, stop):
            continue
        if 0 < m.end() < n:
            starts.append(m.end())
    if "\n" in text:
        for m in _BREAK_RE.finditer(text):
            if 0 < m.end() < n:
                starts.append(m.end())
    # "... low back pain METHODS We randomized": a section label with no full stop before it; also
    # right after an acronym ("... in the PACU RESULTS Median scores")
    for m in _UPPER_RUN_RE.finditer(text):
        pos = m.start()
        while pos < m.end():
            label = _LABEL_PREFIX_RE.match(text, pos)
            if label is not None and pos > 0:
                k = pos - 1
                while k >= 0 and text[k] in " \t\n":
                    k -= 1
                prev = text[k] if 0 <= k < pos - 1 else ""
                if prev and (prev.islower() or prev.isdigit() or prev in ")%]"
                             or (pos > m.start() and prev.isupper())):
                    starts.append(pos)
            if label is not None:
                pos = label.end()  # "MATERIALS AND METHODS" is one label
            nxt = text.find(" ", pos, m.end())
            if nxt < 0:
                break
            while nxt < m.end() and text[nxt] in " \t":
                nxt += 1
            pos = nxt
    if not starts:
        return starts
    starts = sorted(set(starts))
    return starts


BACKGROUND_SECTIONS = frozenset({"BACKGROUND", "OBJECTIVE", "OBJECTIVES", "AIM", "AIMS", "PURPOSE",
                                 "INTRODUCTION", "CONTEXT"})
_LABEL_RE = re.compile(rf"\b({SECTION_LABELS})\b(?=\s*[:.]|\s+[A-Z(])")


def section_of(text: str, pos: int) -> str | None:
    """The upper-case section label of a structured abstract in force at ``pos`` (None if none)."""
    label = None
    for m in _LABEL_RE.finditer(text, 0, pos + 1):
        label = m.group(1)
    if label is None:
        return None
    return label.split()[0] if label.startswith("BACKGROUND") else label
