"""fastre: Scanner and LiteralFilter give exactly what the compiled patterns give."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.nlp import lexicon, numbers, proportions, scores
from extractor.nlp.arms import _GROUP_COUNT_RE
from extractor.nlp.fastre import (
    EdgeSearcher,
    FirstCharSearcher,
    LiteralFilter,
    Scanner,
    required_literals,
    skip_to_lead,
    suffix_gates,
)
from extractor.nlp.rules import read_packaged_rules
from extractor.nlp.timepoints import TimepointFinder, expand

TEXT = (
    "Pain at 1, 4 and 8 weeks; day 3, POD 2, the first hour, baseline and the last follow-up. "
    "VAS, NRS-11, mVAS, pain-VAS and the WOMAC (Western Ontario and McMaster) index; SF-MPQ, "
    "FLACC. Headache, painful, analgesia, backache, hurting; nausea, itching, quality of life. "
    "Twenty-one patients, one hundred and five, three groups of 30; mean (SD) and median change "
    "from baseline; a reduction of 2 points; respectively, whereas the control group... "
    "apain painX _pain 2pain (pain) pain-free\nPAIN Pain\tpain BACKGROUND: AIMS, OBJECTIVE(S) and "
    "CONTEXTS; xAIM PURPOSE_ INTRODUCTION"
)


def _patterns() -> list[re.Pattern[str]]:
    pats = [lexicon.PAIN_LOWER_RE, lexicon.NON_PAIN_TARGET_LOWER_RE, numbers._WORD_NUMBER_LOWER_RE,
            _GROUP_COUNT_RE, scores._CONTINUATION_RE, scores._SENTENCE_STAT_RE,
            proportions._BACKGROUND_SECTION_RE]
    pats += [rx for _, _, rx in TimepointFinder(read_packaged_rules("timepoints")).rules]
    for rule in read_packaged_rules("scales"):
        pats.append(re.compile(str(rule["pattern"])))
    for rule in read_packaged_rules("scores") + read_packaged_rules("proportions"):
        if rule.get("type") == "lexicon":
            pats.append(re.compile(str(rule["pattern"])))
    pats += [re.compile(p) for p in (
        r"(?=[ab])\b(?:a|ab|abc)\b", r"\b(?P<x>one|two)\s*(?P<y>h|min)?", r"(?<![\w-])(?:x|xy)z?",
        r"(?:the\s+)?(?:first|second)\s+day", r"\b(?:c+d|cc)", r"\B(?:ab|ba)", r"(?<=[(\[])x",
        r"\b(?:≥|≤|<)\s*\d", r"(?:a|b)|(?:c|d)",
    )]
    return pats


PATTERNS = _patterns()
SCANNERS = [(p, Scanner(p)) for p in PATTERNS]


def _result(it: object) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in it]  # type: ignore[attr-defined]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.pattern[:40])
def test_scanner_finds_what_the_pattern_finds(pattern: re.Pattern[str]) -> None:
    scanner = Scanner(pattern)
    for text in (TEXT, TEXT.lower(), TEXT * 3, ""):
        assert _result(scanner.finditer(text)) == _result(pattern.finditer(text))
        for pos, endpos in ((5, len(text)), (0, 40), (37, 200), (200, 10_000)):
            found = _result(scanner.finditer(text, pos, endpos))
            assert found == _result(pattern.finditer(text, pos, endpos))
            a, b = scanner.search(text, pos, endpos), pattern.search(text, pos, endpos)
            assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups()))


def test_forced_split_matches_too() -> None:
    """Every pattern the splitter handles, split whether or not it pays."""
    from extractor.nlp.fastre import _split

    split_any = 0
    for pattern in PATTERNS:
        parts = _split(pattern)
        if not parts:
            continue
        split_any += 1
        scanner = Scanner(pattern)
        scanner.parts = [p for p, _ in parts]
        for text in (TEXT, TEXT.lower()):
            assert _result(scanner.finditer(text)) == _result(pattern.finditer(text))
    assert split_any >= 10


WORDS = ["pain", "painful", "ache", "the", "first", "day", "week", "weeks", "one", "two", "and",
         "vas", "VAS", "NRS", "womac", "baseline", "a", "an", "h", "min", "groups", "three", "ab",
         "abc", "x", "xy", "z", "cc", "d", "≥", "(", ")", "-", ",", " ", "  ", "\n", "1", "24", "_"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=60), st.integers(0, 80), st.integers(0, 400))
def test_scanner_property(words: list[str], pos: int, endpos: int) -> None:
    text = "".join(words)
    for pattern, scanner in SCANNERS:
        if scanner.parts is None:
            continue
        assert _result(scanner.finditer(text)) == _result(pattern.finditer(text))
        assert _result(scanner.finditer(text, pos, endpos)) == _result(pattern.finditer(text, pos, endpos))


def test_required_literals() -> None:
    assert required_literals(re.compile(r"\bsignific\w*\s+level|alpha")) == {"signific", "alpha"}
    assert required_literals(re.compile(r"[<>]|at\s+least")) is None
    assert required_literals(re.compile(r"(?i)Pain\s*<\s*0")) == {"pain"}


@pytest.mark.parametrize("text", ["significance was set at", "SIGNIFICANT", "nothing here", "ſet",
                                  "α = 0.05"])
def test_literal_filter_never_hides_a_match(text: str) -> None:
    rx = re.compile(r"(?:signific\w*|(?:defined|set)\s*(?:as|at)?|α\s*=?)[^.;]{0,25}$", re.IGNORECASE)
    filt = LiteralFilter(rx)
    assert (filt.search(text) is None) == (rx.search(text) is None)


# patterns with alternatives that start with a class next to ones that start with literal text:
# the class alternatives form one part of their own
CLASS_FIRST = [re.compile(p) for p in (
    r"\(\s*[01]\s*-\s*10\)|(?:on\s+)?a\s+scale|\b\d+(?:\.\d+)?\s*/\s*10\b(?!\s*of)",
    r"\b(?:x\d|\d+h|[ab]c|y)", r"(?P<n>\d+)\s*(?:mg|h)|(?P<w>one|two)\s*h",
)]
CLASS_WORDS = ["(", ")", "0", "1", "10", "٣", "/", " ", "of", "on", "a", "scale", "x", "h", "mg", "ac", "bc",
               "y", "one", "two", ".", "5", "-", "_"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CLASS_WORDS), max_size=50), st.integers(0, 40), st.integers(0, 200))
def test_class_first_alternatives_split_exactly(words: list[str], pos: int, endpos: int) -> None:
    from extractor.nlp.fastre import _split, finditer_merged

    text = "".join(words)
    for pattern in CLASS_FIRST:
        split = _split(pattern)
        assert split and any(prefix == "" for _, prefix in split)
        parts = [p for p, _ in split]  # merged directly: Scanner uses the pattern on short texts
        assert _result(finditer_merged(parts, text)) == _result(pattern.finditer(text))
        found = _result(finditer_merged(parts, text, pos, endpos))
        assert found == _result(pattern.finditer(text, pos, endpos))


GATE_PATTERNS = [p for p in PATTERNS if suffix_gates(p)] + [re.compile(p) for p in (
    r"(?:the\s+)?(first|second|third|1st|24th)\s+(hour|day)\b", r"x?(?:ab|cb|b)(?<=ab)c",
    r"(?i)(?:Ab|xB)\s*\d",
)]
GATE_WORDS = WORDS + ["first", "second", "third", "1st", "24th", "hour", "day", "the", "st", "th", "cb", "b",
                      "c", "xB", "AB"]


def test_suffix_gates_are_found() -> None:
    gates = suffix_gates(re.compile(r"(?=[tfsen0-9])\b(?:the\s+)?(?P<ord>first|second|third|24th)\s+"
                                    r"(?P<unit>hour|day)\b"))
    assert gates is not None and len(gates) == 4  # the ordinals cut to "st", "nd", "rd", "th"
    assert suffix_gates(re.compile(r"\d+\s*h")) is None
    assert len(GATE_PATTERNS) >= 4


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(GATE_WORDS), max_size=40), st.integers(0, 40), st.integers(0, 300))
def test_suffix_gates_never_hide_a_match(words: list[str], pos: int, endpos: int) -> None:
    text = "".join(words)
    for pattern in GATE_PATTERNS:
        gates = suffix_gates(pattern)
        assert gates is not None
        for a, b in ((0, len(text)), (pos, endpos)):
            if pattern.search(text, a, b) is not None:
                assert any(g.search(text, a, b) is not None for g in gates), (pattern.pattern, text)


# patterns led by a one-character look-ahead (the time point rules, the number finder) and others
LEAD_PATTERNS = [re.compile(expand(str(rule["pattern"]))) for rule in read_packaged_rules("timepoints")]
LEAD_PATTERNS += [re.compile(numbers._DIGIT_RE.pattern, numbers._DIGIT_RE.flags)] + [re.compile(p) for p in (
        r"(?=[ab])\b(?:a|ab|abc)\b", r"(?=x)(?P<g>x\d)y?", r"(?=٣)\d", r"(?=[^a])\w+",
        r"(?=x)(?P<g>x\d)?y?", r"(?=[xy])", r"(?i)(?=[a])a\w", r"(?<=a)b", r"ab(?=c)",
    )]
LEAD_WORDS = WORDS + ["٣", "2010", "0.5", "·5", "y", "xy", "x1", "A", "ab c", "six", "half an"]


def test_skip_to_lead_builds_a_faster_pattern_where_it_can() -> None:
    built = [skip_to_lead(p) is not p for p in LEAD_PATTERNS]
    assert built[:len(built) - 9] == [True] * (len(built) - 9)  # the rules and the number finder
    # "[^a]" (parsed as NOT_LITERAL: not handled), empty matches, a case-insensitive pattern,
    # no leading look-ahead: the pattern itself
    assert built[-9:] == [True, True, True, False, False, False, False, False, False]
    fast = skip_to_lead(numbers._DIGIT_RE)
    plain = re.compile(numbers._DIGIT_RE.pattern, numbers._DIGIT_RE.flags)
    assert (fast.pattern, fast.flags, fast.groups, fast.groupindex) == (
        plain.pattern, plain.flags, plain.groups, plain.groupindex)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LEAD_WORDS), max_size=60), st.integers(0, 40), st.integers(0, 300))
def test_skip_to_lead_finds_what_the_pattern_finds(words: list[str], pos: int, endpos: int) -> None:
    text = "".join(words)
    for pattern in LEAD_PATTERNS:
        plain = re.compile(pattern.pattern, pattern.flags)
        fast = skip_to_lead(pattern)
        for a, b in ((0, len(text)), (pos, endpos)):
            assert _result(fast.finditer(text, a, b)) == _result(plain.finditer(text, a, b))
            for f, p in ((fast.search(text, a, b), plain.search(text, a, b)),
                         (fast.match(text, a, b), plain.match(text, a, b))):
                assert (f and (f.span(), f.groups())) == (p and (p.span(), p.groups()))


def _tokenizer_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    from extractor.nlp.tokenizer import blank_clinical

    tokenizer = blank_clinical().tokenizer
    return (tokenizer.prefix_search.__self__, tokenizer.suffix_search.__self__,  # type: ignore[union-attr]
            tokenizer.infix_finditer.__self__)  # type: ignore[union-attr]


PREFIX_RE, SUFFIX_RE, INFIX_RE = _tokenizer_patterns()
EDGE_PATTERNS = [  # (pattern, anchored at the end?)
    (PREFIX_RE, False), (SUFFIX_RE, True),
    (re.compile(r"^(?:a|ab)|^\d+|^(?=x)xy?"), False), (re.compile(r"^(?i:k)|^[^a-z]"), False),
    (re.compile(r"(?:x|xy)$|\.\.+$|(?<=\d)(?P<unit>h|min)$|'s$|\bfoo\Z"), True),
    (re.compile(r"(?:ab|b)?$"), True), (re.compile(r"(?i)(?:k|ss)$|(?:cd)+$"), True),
]
FIRST_CHAR_PATTERNS = [INFIX_RE, re.compile(r"(?<=\d)[-–](?=\d)|\.\.+|(?<=[a-z]),(?=[a-z])|(?P<op>[<>]=?)"),
                       re.compile(r"(?i)k|(?:ab|b)c+")]
# the characters the tokenizer's rules are about, and some others
AFFIX_CHARS = "aAbcdhkKnsSxyz019²'’\".,;:!?()[]{}<>=≤±+-–—‒/%°$€*^…~_#&§·\u212a\u017f\n\t ε中😀"


def _match(m: re.Match[str] | None) -> tuple[tuple[int, int], tuple[str | None, ...]] | None:
    return None if m is None else (m.span(), m.groups())


def test_edge_searchers_split_the_tokenizer_patterns() -> None:
    assert EdgeSearcher(PREFIX_RE, at_end=False)._alternatives is not None
    assert EdgeSearcher(SUFFIX_RE, at_end=True)._alternatives is not None
    assert FirstCharSearcher(INFIX_RE).starts is not None
    # not anchored at that edge, or able to match anywhere empty: the pattern itself
    assert EdgeSearcher(SUFFIX_RE, at_end=False)._alternatives is None
    assert EdgeSearcher(re.compile(r"x$", re.MULTILINE), at_end=True)._alternatives is None
    assert FirstCharSearcher(re.compile(r"a|b?")).starts is None


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(AFFIX_CHARS, max_size=12), st.text(max_size=12),
                 st.lists(st.sampled_from(["pain", "mg", "24", "h", "'s", "...", "x", "xy", "ab", "cd", "foo",
                                           "min", "k", "ss", "0.5", "n=", "-", "(", ")"]),
                          max_size=6).map("".join)))
def test_affix_searchers_give_what_the_patterns_give(text: str) -> None:
    for pattern, at_end in EDGE_PATTERNS:
        searcher = EdgeSearcher(pattern, at_end=at_end)
        for _ in range(2):  # the alternatives by character are listed on first sight
            assert _match(searcher.search(text)) == _match(pattern.search(text)), (pattern.pattern, text)
    for pattern in FIRST_CHAR_PATTERNS:
        searcher = FirstCharSearcher(pattern)
        for _ in range(2):
            assert list(map(_match, searcher.finditer(text))) == list(map(_match, pattern.finditer(text)))
