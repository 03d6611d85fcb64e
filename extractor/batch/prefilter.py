"""The cheap pre-filter: skip abstracts the extractor cannot get pain numbers from, before spaCy.

An abstract passes when (each rule can be switched off):

* it names pain: one of the pain terms, matched case-insensitively at the start of a word
  (``no pain terms``);
* it has abstract text (``Abstract.has_abstract``; a title alone is skipped as ``no abstract``);
* it holds a number: a digit, or a number written as a word from "two" upwards (``no numbers``).

The first rule that fails gives the reason, in this order: so ``no abstract`` and ``no numbers``
count the records about pain that were skipped for want of an abstract or of numbers.

A term is a word or phrase; a trailing ``*`` matches any ending (``analges*`` → analgesia,
analgesic, …); a space matches any run of whitespace or a hyphen. The default list covers pain
words, pain conditions and the pain scales of the painbench guideline. ``--pain-terms FILE``
replaces it (one term per line, ``#`` starts a comment).

Cost: about 5 µs per 1.8-kB abstract, against about 5 ms for the spaCy pipeline: Hyperscan looks
for the first word of every term at word starts in one pass (see :func:`anchor_scan`), and most
abstracts have none; the others go on to a byte-level candidate test (one regular-expression pass
that stops at every space, about 12 µs; see :func:`candidate_pattern`) and then to the terms'
own regular expression, which decides. Without Hyperscan every abstract takes that path (the same
decisions). ``text_reason(text, has_abstract)`` (also the pre-filter's ``__call__``) is the same
decision from the two inputs alone: the batch stage hands the pre-filter to the reader
(``iter_source(..., prefilter=Prefilter())``), which for PubMed XML takes it on each record's raw
bytes and parses only the records that pass. There it first asks :meth:`Prefilter.raw_reason` on
the located bytes of the record's title and abstract: where Hyperscan finds no term there (a few
µs), the record is turned down without its text being decoded.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any

from extractor.errors import InputError
from extractor.records import Abstract

try:  # manylinux x86-64 wheels; elsewhere the regular expressions alone decide (the same decisions)
    import hyperscan
except ImportError:
    HAVE_HYPERSCAN = False
else:
    HAVE_HYPERSCAN = True

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
REASONS: tuple[str, ...] = (REASON_NO_PAIN, REASON_NO_ABSTRACT, REASON_NO_NUMBERS)  # checked in this order

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


# Bytes → the same bytes with ASCII letters lower-cased, ASCII letters, digits and "_" kept and every
# other byte (ASCII punctuation and white space, and all bytes of non-ASCII characters) made a space.
_FOLD = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 or c == 95 else 32
              for c in range(256))
# The only characters whose str.lower() holds an ASCII letter (U+0130 → "i̇", KELVIN SIGN → "k"):
# a text with one of them skips the byte-level test (tests/batch/test_prefilter.py checks the list).
LOWER_TO_ASCII = ("\u0130", "\u212a")


def _has_ascii_digit(text: str) -> bool:
    # ten substring tests (memchr) beat one regular-expression scan; other Unicode digits (\\d)
    # are looked for only in texts that are not ASCII
    return ("0" in text or "1" in text or "2" in text or "3" in text or "4" in text or "5" in text
            or "6" in text or "7" in text or "8" in text or "9" in text)


def _trie(branches: list[tuple[bytes, bytes]]) -> bytes:
    """One regular expression for ``literal + suffix`` branches, literals merged by common prefix
    (so that the engine tries a few letters per position, not every branch)."""
    node: dict[int | None, Any] = {}
    for literal, suffix in branches:
        at = node
        for byte in literal:
            at = at.setdefault(byte, {})
        at.setdefault(None, []).append(suffix)

    def emit(at: dict[int | None, Any]) -> bytes:
        alternatives = [re.escape(bytes([k])) + emit(at[k]) for k in sorted(k for k in at if k is not None)]
        ends = at.get(None, [])
        if b"" in ends:  # the literal alone suffices: the longer ones are optional
            return b"(?:" + b"|".join(alternatives) + b")?" if alternatives else b""
        alternatives += ends
        return alternatives[0] if len(alternatives) == 1 else b"(?:" + b"|".join(alternatives) + b")"

    return emit(node)


def _term_pieces(term: str) -> list[bytes]:
    """The words of a lower-cased ASCII term as the candidate test sees them (folded, split)."""
    words = [w for w in re.split(r"[\s\-]+", term.rstrip("*")) if w]
    return b" ".join(w.encode("ascii") for w in words).translate(_FOLD).split()


def candidate_pattern(terms: Iterable[str]) -> re.Pattern[bytes] | None:
    """A byte-level test that finds every abstract in which a term matches, and a few more.

    It runs on ``b" " + text.encode().translate(_FOLD)``: letters lower-cased, everything that is
    not an ASCII word character a space. A term matches the text only where it starts after a
    non-word character (a space there) and its words are separated by white space or hyphens
    (spaces there), so a text without a match of this pattern has no term. None when a term is not
    ASCII (the test would not hold).
    """
    branches: list[tuple[bytes, bytes]] = []
    for term in terms:
        term = term.strip().lower()
        if not term.isascii():
            return None
        words = [w for w in re.split(r"[\s\-]+", term.rstrip("*")) if w]
        pieces = _term_pieces(term)
        literal = b"\0".join(pieces)  # \0: one or more spaces, put in below
        suffix = b"" if term.endswith("*") or not words[-1][-1:].isalnum() and words[-1][-1:] != "_" \
            else b"(?![a-z0-9_])"
        branches.append((literal, suffix))
    if not branches:
        return None
    return re.compile(b" " + _trie(branches).replace(b"\\\x00", b" +").replace(b"\x00", b" +"))


def anchor_words(terms: Iterable[str]) -> tuple[bytes, ...] | None:
    """The first folded word of each term, without the words that start with another one: every
    match of :func:`candidate_pattern` starts with a space (in the folded text) and one of these.
    None when a term is not ASCII (as for :func:`candidate_pattern`)."""
    firsts: set[bytes] = set()
    for term in terms:
        term = term.strip().lower()
        if not term.isascii():
            return None
        firsts.add(_term_pieces(term)[0])
    return tuple(sorted(w for w in firsts if not any(o != w and w.startswith(o) for o in firsts)))


def _stop(_id: int, _start: int, _end: int, _flags: int, _context: object) -> bool:
    return True  # the first match answers the question: stop the scan


class HyperscanSet:
    """Whether any of a set of byte expressions matches, in one Hyperscan pass (the scan stops at
    the first match). The compiled database is shared (it is read-only); each thread scans with its
    own scratch space, as Hyperscan requires."""

    def __init__(self, patterns: Iterable[tuple[bytes, bool]]) -> None:
        """``patterns``: (expression, caseless?) pairs."""
        patterns = list(patterns)
        if not patterns or not HAVE_HYPERSCAN:
            raise ValueError("HyperscanSet needs hyperscan and at least one expression")
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(expressions=[e for e, _ in patterns], ids=list(range(len(patterns))),
                         elements=len(patterns),
                         flags=[hyperscan.HS_FLAG_CASELESS if caseless else 0 for _, caseless in patterns])
        self._local = threading.local()

    def found(self, data: bytes) -> bool:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        try:
            self._db.scan(data, match_event_handler=_stop, scratch=scratch)
        except hyperscan.ScanTerminated:
            return True
        return False


@functools.lru_cache(maxsize=16)
def anchor_scan(words: tuple[bytes, ...]) -> HyperscanSet:
    """Whether a text can hold a candidate at all, in one pass over its UTF-8 bytes (compiled once
    per process, about 10 ms).

    ``b" " + word`` occurs in the folded text (``b" " + data.translate(_FOLD)``) exactly where, in
    ``data``, ``word`` starts the data or follows a byte that is not an ASCII letter, digit or
    ``_``, ASCII letters in either case (the fold makes every other byte a space and lower-cases
    the letters; the words hold only ``[a-z0-9_]``). So ``found(data)`` is False only when no
    match of the candidate test, hence no term, can start anywhere in the text.
    """
    return HyperscanSet((rb"(?:^|[^A-Za-z0-9_])" + w, True) for w in words)


# Bytes of a record's XML between two words of a term in the reader's text: white space, hyphens
# (any byte that is no ASCII word character, UTF-8 of Unicode spaces included), references that
# stand for such characters, and markup the reader drops.
_GAP = (rb"(?:[^A-Za-z0-9_]|&(?:amp|lt|gt|quot|apos|#[0-9]+|#[xX][0-9A-Fa-f]+);"
        rb"|&amp;[A-Za-z][A-Za-z0-9]*;|<[^>]*>)+")
# What can hide a term from the record screen's expressions: (expression, caseless?)
_HIDING: tuple[tuple[bytes, bool], ...] = (
    # a character reference to an ASCII word character, to "&" (it may start another reference
    # once decoded) or to a character whose lower case holds an ASCII letter (İ, KELVIN SIGN)
    (rb"&#0*(?:4[89]|5[0-7]|6[5-9]|[78][0-9]|9[05-9]|1[01][0-9]|12[0-2]|38|304|8490);", False),
    (rb"&#x0*(?:3[0-9]|4[1-9a-f]|5[0-9af]|6[1-9a-f]|7[0-9a]|26|130|212a);", True),
    # escaped once more, which the reader decodes too ("&amp;#112;" → "&#112;" → "p"; "fj")
    (rb"&amp;#", False),
    (rb"&amp;fjlig;", False),
    # an entity other than the five predefined ones (an external DTD may declare it)
    (rb"&(?:[^#aglq]|a[^mp]|am[^p]|amp[^;]|ap[^o]|apo[^s]|apos[^;]|g[^t]|gt[^;]|l[^t]|lt[^;]"
     rb"|q[^u]|qu[^o]|quo[^t]|quot[^;])", False),
    # markup glued to a word character on both sides joins the two when the reader drops it:
    # "pa<i>in</i>", "<i>pa</i>in", "p<br/>ain"
    (rb"[A-Za-z0-9_]<[^/!?]", False),
    (rb"</[^>]*>[A-Za-z0-9_]", False),
    # the two characters whose lower case holds an ASCII letter (LOWER_TO_ASCII)
    ("\u0130".encode(), False),
    ("\u212a".encode(), False),
)


def screen_expressions(terms: Iterable[str]) -> list[bytes] | None:
    """For each term, its words as they can stand in a record's XML: at a word start, apart by
    :data:`_GAP`, and (unless the term ends in ``*``) followed by a byte that is no ASCII word
    character. None when a term is not ASCII."""
    out: set[bytes] = set()
    for term in terms:
        term = term.strip().lower()
        if not term.isascii():
            return None
        body = _GAP.join(re.escape(p) for p in _term_pieces(term))
        out.add(rb"(?:^|[^A-Za-z0-9_])" + body + (b"" if term.endswith("*") else rb"(?:[^A-Za-z0-9_]|$)"))
    return sorted(out)


@functools.lru_cache(maxsize=16)
def record_screen(expressions: tuple[bytes, ...]) -> HyperscanSet:
    """Whether a record's raw XML can hold a pain term in the text a reader draws from it
    (compiled once per process).

    The reader's text is the record's character data with markup dropped, references decoded and
    white space squashed. Where none of :data:`_HIDING` occurs, each word of that text is the same
    run of ASCII word bytes in the XML (case aside), after a byte that is no word character, and
    what separates two words in the text is, in the XML, a :data:`_GAP`. So a term in the text is
    a match of its expression (see :func:`screen_expressions`) in the XML. No match of any of them
    and nothing hiding one: no term in any text drawn from those bytes.
    """
    return HyperscanSet([*((e, True) for e in expressions), *_HIDING])


@dataclass
class Prefilter:
    """Compiled pre-filter: ``reason(abstract)`` is ``None`` (run the pipeline) or why it is skipped."""

    config: PrefilterConfig = field(default_factory=PrefilterConfig)
    # False: the regular expressions alone, as where hyperscan is not installed (the same decisions)
    use_hyperscan: InitVar[bool] = True

    def __post_init__(self, use_hyperscan: bool) -> None:
        if self.config.require_pain_term and not self.config.pain_terms:
            raise InputError("the pre-filter needs at least one pain term")
        terms = [t.lower() for t in self.config.pain_terms]
        # Matching runs on the lower-cased text. A byte-level test (one pass of a regular
        # expression that only stops at spaces, see candidate_pattern) rules most abstracts out
        # and, in ASCII texts, says where the terms' regular expression can match; other texts
        # get a plain substring test for the longest word of each term, then the expression.
        self._pain = re.compile("|".join(term_pattern(t) for t in terms) or "(?!)")
        heads = {max(re.split(r"[\s\-]+", t.rstrip("*")), key=len) for t in terms}
        self._heads = tuple(sorted(h for h in heads if not any(o != h and o in h for o in heads)))
        self._candidates = candidate_pattern(terms)
        anchors = anchor_words(terms) if use_hyperscan and HAVE_HYPERSCAN else None
        self._anchors = anchor_scan(anchors) if anchors else None
        screen = screen_expressions(terms) if anchors else None
        self._screen = record_screen(tuple(screen)) if screen else None
        self._digit = re.compile(r"\d")
        self._number_word = re.compile(rf"\b(?:{'|'.join(NUMBER_WORDS)})\b")

    def _has_pain_term(self, lowered: str) -> bool:
        return any(h in lowered for h in self._heads) and self._pain.search(lowered) is not None

    def has_pain_term(self, text: str) -> bool:
        """Whether a pain term matches ``text`` (case-insensitively, at the start of a word)."""
        if self._candidates is None or LOWER_TO_ASCII[0] in text or LOWER_TO_ASCII[1] in text:
            return self._has_pain_term(text.lower())
        encoded = text.encode("utf-8", "surrogatepass")
        if self._anchors is not None and not self._anchors.found(encoded):
            return False  # no term's first word at a word start: no candidate, no term
        folded = b" " + encoded.translate(_FOLD)
        found = self._candidates.search(folded)
        if found is None:
            return False  # no candidate: no term (see candidate_pattern)
        if not text.isascii():
            return self._has_pain_term(text.lower())
        # ASCII: a byte of `folded` is the character before the same index of the text, and every
        # match of a term starts where a candidate does: try the terms there only.
        lowered = text.lower()
        while found is not None:
            if self._pain.match(lowered, found.start()) is not None:
                return True
            found = self._candidates.search(folded, found.start() + 1)
        return False

    def reason(self, abstract: Abstract) -> str | None:
        return self.text_reason(abstract.text, abstract.has_abstract)

    def text_reason(self, text: str, has_abstract: bool) -> str | None:
        """``reason`` from an abstract's text and ``has_abstract`` alone: the hook that readers call
        (``iter_source(..., prefilter=Prefilter().text_reason)``, or the pre-filter itself)."""
        cfg = self.config
        if not cfg.enabled:
            return None
        if cfg.require_pain_term and not self.has_pain_term(text):
            return REASON_NO_PAIN
        if cfg.require_abstract and not has_abstract:
            return REASON_NO_ABSTRACT
        if cfg.require_number and not _has_ascii_digit(text) \
                and (text.isascii() or self._digit.search(text) is None) \
                and self._number_word.search(text.lower()) is None:
            return REASON_NO_NUMBERS
        return None

    __call__ = text_reason

    def raw_reason(self, raw: bytes) -> str | None:
        """The reason :meth:`text_reason` gives to *every* text that can be drawn from ``raw``, the
        bytes of XML that hold all of a record's title and abstract (the reader's located pieces,
        or more), or None when that cannot be told without the text. The fast PubMed reader asks
        it before decoding the text.

        It answers "no pain terms" (the first rule) when Hyperscan finds in the bytes no term and
        nothing that could hide one (see :func:`record_screen`); without Hyperscan, never.
        """
        cfg = self.config
        if cfg.enabled and cfg.require_pain_term and self._screen is not None and not self._screen.found(raw):
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
