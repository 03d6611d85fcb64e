"""A tokenizer for clinical numerics, registered as ``extractor.clinical_tokenizer.v1``.

It is spaCy's English tokenizer with extra prefix, suffix and infix rules so that the pieces of a
reported statistic become separate tokens while numbers themselves stay whole:

* ``6.8±2.2`` / ``4.4+/-1`` → ``6.8`` ``±`` ``2.2``; ``6.8(2.2)`` → ``6.8`` ``(`` ``2.2`` ``)``
* ``p<.001`` / ``P≤0.05`` / ``n=41`` → ``p`` ``<`` ``.001``
* ``34/64`` → ``34`` ``/`` ``64``; ``0-9`` / ``1.50–2.04`` → ``1.50`` ``–`` ``2.04``
* ``24h`` / ``12mm`` → ``24`` ``h``; ``1,2,4`` → ``1`` ``,`` ``2`` ``,`` ``4``
* kept whole: ``0,03`` (decimal comma), ``1,600`` (thousands), ``−3.2`` (U+2212 minus), ``6·8``
  (middle-dot decimal point), ``-5.29``, ``.001``.

Thin and other Unicode spaces are whitespace tokens, as spaCy does for any non-ASCII space.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

import spacy
from spacy.attrs import ORTH
from spacy.lang.en import English
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex
from spacy.vocab import Vocab

from extractor.nlp.fastre import EdgeSearcher, FirstCharSearcher
from extractor.nlp.lex_attrs import faster_lex_attr_getters

# Operators and spread markers that should always stand alone next to numbers.
_OPS = r"±|∓|\+\s?/\s?-|\+\s?/\s?−|<=|>=|=<|=>|≤|≥|≦|≧|⩽|⩾|<|>|=|≈|~"
_DIGIT = r"[0-9]"

PunctRules = list[str | re.Pattern[Any]]

EXTRA_PREFIXES: list[str] = [
    r"±", r"∓", r"\+/-", r"≤", r"≥", r"≦", r"≧", r"⩽", r"⩾", r"<", r">", r"=", r"≈", r"~",
]
EXTRA_SUFFIXES: list[str] = [
    # 24h, 12mm, 5min, 1month -> number + unit
    r"(?<=[0-9])(?:h|hrs?|mins?|mm|cm|ml|mL|mg|kg|wks?|mo|yrs?|months?|weeks?|days?|years?|hours?)",
]
EXTRA_INFIXES: list[str] = [
    # statistic operators between anything and a number: 6.8±2.2, p<.001, n=41, P≤0.05
    rf"(?:{_OPS})(?=[-−+]?[0-9.·])",
    rf"(?<=[0-9A-Za-z%)\]])(?:{_OPS})",
    # fractions and ranges between numbers: 34/64, 0-9, 1.50–2.04, 67‒90.5
    rf"(?<={_DIGIT})/(?={_DIGIT})",
    r"(?<=[0-9%])[-–—‒](?=[0-9.])",
    # a bracket glued to a number: 6.8(2.2), 10(-4), 7[2
    r"(?<=[0-9%])[(\[](?=[-−+]?[0-9.])",
    # lists written without spaces: 1,2,4 (two or more commas), but not 1,600 or 0,03
    rf"(?<={_DIGIT}),(?={_DIGIT}{{1,2}},)",
    rf"(?<=,{_DIGIT}),(?={_DIGIT})",
    rf"(?<=,{_DIGIT}{_DIGIT}),(?={_DIGIT})",
    # semicolon / colon glued to numbers: 53.1%;p, 1:1 stays (ratios) but 12:30 stays too
    r"(?<=[0-9%]);",
]


def clinical_punctuation(nlp: Language) -> tuple[PunctRules, PunctRules, PunctRules]:
    """The prefix, suffix and infix rule lists (defaults plus the clinical ones)."""
    defaults = nlp.Defaults
    prefixes = list(EXTRA_PREFIXES) + list(defaults.prefixes or ())
    suffixes = list(EXTRA_SUFFIXES) + list(defaults.suffixes or ())
    infixes = list(EXTRA_INFIXES) + list(defaults.infixes or ())
    return prefixes, suffixes, infixes


# The text each doc was made from, for as long as the doc lives. ``Doc.text`` rebuilds the string
# token by token in Python, which costs as much as a component; the components read it from here
# (see ``extractor.nlp.context``). Nothing is stored on the doc itself.
SOURCE_TEXT: weakref.WeakKeyDictionary[Doc, str] = weakref.WeakKeyDictionary()


# A run of this many characters without whitespace is not prose (spaCy's affix splitting is
# quadratic in the length of a token: ten thousand brackets take seconds). Such runs become one
# token each; the text around them is tokenised normally.
LONG_RUN = 300
_LONG_RUN_RE = re.compile(rf"\S{{{LONG_RUN},}}")
_BLOCK = LONG_RUN // 2


def has_long_run(text: str) -> bool:
    """Does ``text`` hold a run of ``LONG_RUN`` or more non-whitespace characters?

    Such a run contains a whole block ``text[k:k + LONG_RUN // 2]`` with ``k`` a multiple of the
    block size, and that block holds no space; so the regular expression (which scans every
    character) only runs when some block has no space, which prose never has.
    """
    if len(text) < LONG_RUN:
        return False
    find = text.find
    for k in range(0, len(text) - _BLOCK + 1, _BLOCK):
        if find(" ", k, k + _BLOCK) < 0:
            return _LONG_RUN_RE.search(text) is not None
    return False

# How many distinct whitespace-separated chunks the tokenizer remembers (spaCy's default is
# 10,000). A chunk seen before is copied from the cache instead of going through the prefix,
# suffix and infix regular expressions, which are most of the tokenizer's cost. The 5,127 abstracts
# of ``abstracts_pool.jsonl`` hold about 82,000 distinct chunks: with 10,000 cached, one chunk in five
# still misses on a second pass; with this size almost none does, and a first pass over new text is
# about 1.8x faster too. The cache keeps the first chunks seen and costs about 150 bytes per entry
# (~30 MB when full). Caching does not change the tokens (spaCy never caches a chunk whose
# tokenisation involved a special case).
CACHE_SIZE = 200_000
# spaCy stops caching a text's chunks after the first special case in it (a "vs." or "e.g." early
# in an abstract means nothing after it is cached), so chunks of such texts go through the affix
# regular expressions again and again. Their results are memoised per string (at most this many
# strings per function; the memo is emptied when full and whenever spaCy flushes its cache).
AFFIX_MEMO_SIZE = 100_000


def _pattern_of(method: Callable[..., Any] | None, name: str) -> re.Pattern[str] | None:
    """The compiled pattern whose method ``name`` ``method`` is (``pattern.search``), else None."""
    pattern = getattr(method, "__self__", None)
    if isinstance(pattern, re.Pattern) and getattr(method, "__name__", None) == name:
        return pattern
    return None


def _faster_search(search: Callable[..., Any] | None, at_end: bool) -> Callable[..., Any] | None:
    """``search`` as a cheaper function with the same results, when it is a compiled pattern's
    ``search`` (see ``fastre.EdgeSearcher``; the searcher falls back to the pattern itself when
    the pattern is not anchored at that edge)."""
    pattern = _pattern_of(search, "search")
    return search if pattern is None else EdgeSearcher(pattern, at_end=at_end).search


def _faster_finditer(finditer: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """``finditer`` as a cheaper function with the same matches (see ``fastre.FirstCharSearcher``)."""
    pattern = _pattern_of(finditer, "finditer")
    return finditer if pattern is None else FirstCharSearcher(pattern).finditer


def _match_length(search: Callable[..., Any] | None, string: str) -> int:
    """What spaCy's ``find_prefix`` and ``find_suffix`` give: the length of ``search``'s match in
    ``string``, 0 when there is none (or no search)."""
    match = search(string) if search is not None else None
    return match.end() - match.start() if match is not None else 0


class ClinicalTokenizer(Tokenizer):
    """spaCy's tokenizer, remembering the text of every doc it makes (see ``SOURCE_TEXT``), and
    keeping very long whitespace-free runs as single tokens (see ``LONG_RUN``), with a larger
    cache (see ``CACHE_SIZE``).

    On a cache miss, spaCy tries each of the prefix, suffix and infix patterns (hundreds of
    alternatives) at every character of the chunk, the largest part of tokenizing text not seen
    before; here they are run cut to the alternatives the chunk's first or last characters allow
    (see ``fastre.EdgeSearcher`` and ``fastre.FirstCharSearcher``; same results).
    """

    def __init__(self, vocab: Vocab, rules: dict[str, Any] | None = None,
                 prefix_search: Callable[..., Any] | None = None,
                 suffix_search: Callable[..., Any] | None = None,
                 infix_finditer: Callable[..., Any] | None = None,
                 token_match: Callable[..., Any] | None = None,
                 url_match: Callable[..., Any] | None = None,
                 faster_heuristics: bool = True, max_cache_size: int = CACHE_SIZE) -> None:
        # prefix, suffix and infix results by string (filled while the special cases load, too)
        self._affix_memo: tuple[dict[str, int], dict[str, int], dict[str, list[re.Match[str]]]] = ({}, {}, {})
        # the affix functions spaCy was given, and the faster ones used in their place
        self._affix_sources: tuple[Any, Any, Any] = (None, None, None)
        self._affix_fast: tuple[Any, Any, Any] = (None, None, None)
        super().__init__(vocab, rules=rules, prefix_search=prefix_search,
                         suffix_search=suffix_search, infix_finditer=infix_finditer,
                         token_match=token_match, url_match=url_match,
                         faster_heuristics=faster_heuristics, max_cache_size=max_cache_size)

    def _flush_cache(self) -> None:
        # spaCy flushes its cache whenever the affix rules, special cases or settings change
        for memo in self._affix_memo:
            memo.clear()
        sources = (self.prefix_search, self.suffix_search, self.infix_finditer)
        if sources != self._affix_sources:
            old, fast = self._affix_sources, self._affix_fast
            self._affix_fast = (
                fast[0] if sources[0] is old[0] else _faster_search(sources[0], at_end=False),
                fast[1] if sources[1] is old[1] else _faster_search(sources[1], at_end=True),
                fast[2] if sources[2] is old[2] else _faster_finditer(sources[2]),
            )
            self._affix_sources = sources
        super()._flush_cache()

    def find_prefix(self, string: str) -> int:
        memo = self._affix_memo[0]
        found = memo.get(string)
        if found is None:
            if len(memo) >= AFFIX_MEMO_SIZE:
                memo.clear()
            found = memo[string] = _match_length(self._affix_fast[0], string)
        return found

    def find_suffix(self, string: str) -> int:
        memo = self._affix_memo[1]
        found = memo.get(string)
        if found is None:
            if len(memo) >= AFFIX_MEMO_SIZE:
                memo.clear()
            found = memo[string] = _match_length(self._affix_fast[1], string)
        return found

    def find_infix(self, string: str) -> list[re.Match[str]]:
        memo = self._affix_memo[2]
        found = memo.get(string)
        if found is None:
            if len(memo) >= AFFIX_MEMO_SIZE:
                memo.clear()
            finditer = self._affix_fast[2]
            found = memo[string] = list(finditer(string)) if finditer is not None \
                else super().find_infix(string)
        return found

    def __call__(self, text: str) -> Doc:
        doc = self._with_long_runs(text) if has_long_run(text) else super().__call__(text)
        SOURCE_TEXT[doc] = text
        return doc

    def _with_long_runs(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []

        def add_segment(segment: str) -> None:
            if not segment:
                return
            for token in super(ClinicalTokenizer, self).__call__(segment):
                words.append(token.text)
                spaces.append(bool(token.whitespace_))

        pos = 0
        for m in _LONG_RUN_RE.finditer(text):
            add_segment(text[pos:m.start()])
            if words and not spaces[-1] and pos < m.start() and text[m.start() - 1] == " " \
                    and words[-1] != " ":
                spaces[-1] = True
            words.append(m.group(0))
            spaces.append(False)
            pos = m.end()
        add_segment(text[pos:])
        doc = Doc(self.vocab, words=words, spaces=spaces)
        if doc.text != text:  # never expected; keep spaCy's own answer rather than a wrong text
            fallback: Doc = super().__call__(text)
            return fallback
        return doc


# spaCy stops caching a text's chunks after its first special case (see AFFIX_MEMO_SIZE), and the
# English exceptions hold the whitespace strings " ", "\t" and "\n" as special cases, each one
# token with no attribute but its text: every abstract's title ends with "\n", so without this
# nothing after the title would be cached. A run of whitespace is always a chunk of its own and no
# prefix, suffix or infix rule splits one, so the ordinary path gives the same single token: these
# exceptions are left out (the tokens are unchanged, tested; "\u00a0" has a NORM and stays).
def _plain_whitespace_exception(orth: str, tokens: list[dict[int, str]]) -> bool:
    return orth.isspace() and len(tokens) == 1 and set(tokens[0]) == {ORTH} and tokens[0][ORTH] == orth


def clinical_exceptions(nlp: Language) -> dict[str, Any]:
    """The tokenizer exceptions (special cases): the language's, less the plain whitespace ones."""
    rules = dict(nlp.Defaults.tokenizer_exceptions or {})
    return {orth: tokens for orth, tokens in rules.items() if not _plain_whitespace_exception(orth, tokens)}


def make_clinical_tokenizer(nlp: Language) -> Tokenizer:
    """Build the tokenizer for ``nlp`` (its vocab, exceptions and URL matcher are kept; the vocab
    gets the faster lexical attribute getters of ``extractor.nlp.lex_attrs``)."""
    prefixes, suffixes, infixes = clinical_punctuation(nlp)
    defaults = nlp.Defaults
    rules = clinical_exceptions(nlp)
    # The tokenizer creates the vocabulary's lexemes (about 20 new ones per abstract not seen
    # before); their attributes are computed by equivalent but cheaper functions (see lex_attrs).
    vocab: Any = nlp.vocab  # (spaCy's type stubs leave out lex_attr_getters)
    vocab.lex_attr_getters = faster_lex_attr_getters(vocab.lex_attr_getters)
    return ClinicalTokenizer(
        nlp.vocab,
        rules=rules,
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(suffixes).search,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


@spacy.registry.tokenizers("extractor.clinical_tokenizer.v1")
def create_clinical_tokenizer() -> Callable[[Language], Tokenizer]:
    """Registry entry used in ``[nlp.tokenizer]`` of the pipeline config."""
    return make_clinical_tokenizer


def blank_clinical() -> Language:
    """``spacy.blank("en")`` with the clinical tokenizer (no components)."""
    nlp = English()
    nlp.tokenizer = make_clinical_tokenizer(nlp)
    return nlp
