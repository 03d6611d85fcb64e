"""The cheap pre-filter: skip abstracts the extractor cannot get pain numbers from, before spaCy.

An abstract passes when (each rule can be switched off):

* it has abstract text (``Abstract.has_abstract``; a title alone is skipped as ``no abstract``);
* it holds a number: a digit, or a number written as a word from "two" upwards (``no numbers``);
* it names pain: one of the pain terms, matched case-insensitively at the start of a word
  (``no pain terms``).

A term is a word or phrase; a trailing ``*`` matches any ending (``analges*`` → analgesia,
analgesic, …); a space matches any run of whitespace or a hyphen. The default list covers pain
words, pain conditions and the pain scales of the painbench guideline. ``--pain-terms FILE``
replaces it (one term per line, ``#`` starts a comment). Cost: about 30 µs per abstract (a
substring test per term rules most abstracts out before any regular expression runs), against
about 7 ms for the spaCy pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from extractor.errors import InputError
from extractor.records import Abstract

DEFAULT_PAIN_TERMS: tuple[str, ...] = (
    # pain words
    "pain*", "ache", "aches", "aching", "analges*", "nocicep*", "hyperalges*", "allodyn*",
    "sore", "soreness", "tender*", "discomfort",
    # pain conditions
    "headache*", "migrain*", "neuralg*", "dysmenorrh*", "fibromyalg*", "arthralg*", "myalg*",
    "sciatica", "colic*",
    # pain scales (painbench guideline)
    "VAS", "visual analog*", "NRS", "NPRS", "VRS", "numeric rating scale*", "numerical rating scale*",
    "verbal rating scale*", "McGill", "MPQ", "SF-MPQ", "WOMAC", "BPI", "BPI-SF", "faces scale*",
)

NUMBER_WORDS: tuple[str, ...] = (
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "dozen",
)

REASON_NO_ABSTRACT = "no abstract"
REASON_NO_NUMBERS = "no numbers"
REASON_NO_PAIN = "no pain terms"
REASONS: tuple[str, ...] = (REASON_NO_ABSTRACT, REASON_NO_NUMBERS, REASON_NO_PAIN)

_TERM = re.compile(r"^[\w][\w \-./'+]*\*?$", re.UNICODE)


def term_pattern(term: str) -> str:
    """The regular expression of one term (see the module docstring)."""
    term = term.strip()
    if not _TERM.match(term):
        raise InputError(f"pain term {term!r}: use letters, digits, spaces, '-', '.', '/', and an "
                         "optional trailing '*'")
    prefix = term.endswith("*")
    words = re.split(r"[\s\-]+", term.rstrip("*"))
    body = r"[\s\-]+".join(re.escape(w) for w in words if w)
    return rf"\b{body}" + (r"\w*" if prefix else r"(?!\w)")


def read_terms(path: Path) -> tuple[str, ...]:
    """Terms from a file: one per line, blank lines and ``#`` comments ignored."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the pain-terms file ({exc.strerror or exc})") from exc
    terms = tuple(t for t in (line.split("#", 1)[0].strip() for line in text.splitlines()) if t)
    if not terms:
        raise InputError(f"{path}: no pain terms in the file")
    return terms


@dataclass(frozen=True)
class PrefilterConfig:
    """What the pre-filter checks; ``enabled=False`` passes everything to the pipeline."""

    enabled: bool = True
    require_abstract: bool = True
    require_number: bool = True
    require_pain_term: bool = True
    pain_terms: tuple[str, ...] = DEFAULT_PAIN_TERMS

    def to_dict(self) -> dict[str, object]:
        return {"enabled": self.enabled, "require_abstract": self.require_abstract,
                "require_number": self.require_number, "require_pain_term": self.require_pain_term,
                "pain_terms": list(self.pain_terms)}


@dataclass
class Prefilter:
    """Compiled pre-filter: ``reason(abstract)`` is ``None`` (run the pipeline) or why it is skipped."""

    config: PrefilterConfig = field(default_factory=PrefilterConfig)

    def __post_init__(self) -> None:
        if self.config.require_pain_term and not self.config.pain_terms:
            raise InputError("the pre-filter needs at least one pain term")
        terms = [t.lower() for t in self.config.pain_terms]
        # Matching runs on the lower-cased text. A plain substring test for the longest word of
        # each term (C speed) rules most abstracts out before the regular expression runs.
        self._pain = re.compile("|".join(term_pattern(t) for t in terms) or "(?!)")
        heads = {max(re.split(r"[\s\-]+", t.rstrip("*")), key=len) for t in terms}
        self._heads = tuple(sorted(h for h in heads if not any(o != h and o in h for o in heads)))
        self._digit = re.compile(r"\d")
        self._number_word = re.compile(rf"\b(?:{'|'.join(NUMBER_WORDS)})\b")

    def _has_pain_term(self, lowered: str) -> bool:
        return any(h in lowered for h in self._heads) and self._pain.search(lowered) is not None

    def reason(self, abstract: Abstract) -> str | None:
        cfg = self.config
        if not cfg.enabled:
            return None
        if cfg.require_abstract and not abstract.has_abstract:
            return REASON_NO_ABSTRACT
        text = abstract.text
        lowered = text.lower()
        if cfg.require_number and self._digit.search(text) is None \
                and self._number_word.search(lowered) is None:
            return REASON_NO_NUMBERS
        if cfg.require_pain_term and not self._has_pain_term(lowered):
            return REASON_NO_PAIN
        return None

    def passes(self, abstract: Abstract) -> bool:
        return self.reason(abstract) is None

    def pain_terms_in(self, text: str) -> list[str]:
        """The pain-term matches in ``text`` (for explaining a decision)."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few Unicode letters change length when lower-cased
            return [m.group(0) for m in re.finditer(self._pain.pattern, text, re.IGNORECASE)]
        return [text[m.start():m.end()] for m in self._pain.finditer(lowered)]


def make_config(*, enabled: bool = True, terms: Iterable[str] | None = None, require_abstract: bool = True,
                require_number: bool = True, require_pain_term: bool = True) -> PrefilterConfig:
    return PrefilterConfig(enabled=enabled, require_abstract=require_abstract, require_number=require_number,
                           require_pain_term=require_pain_term,
                           pain_terms=DEFAULT_PAIN_TERMS if terms is None else tuple(terms))
