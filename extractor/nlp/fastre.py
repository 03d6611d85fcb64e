"""Cheaper ways to get exactly what a compiled regular expression would give (pure, no spaCy).

Python's regex engine tries a pattern at every position of the text unless the pattern starts
with literal text, so a pattern that starts with ``\\b`` or a look-around and ends in an
alternation of words costs about 20 ns per character, whether or not anything matches. These tools
cut that cost without changing a single result:

* :class:`LiteralFilter`: the literal strings one of which every match must contain (computed
  from the parsed pattern); when none of them is in the text, the pattern cannot match there.
* :class:`Scanner`: ``finditer``/``search`` of a pattern of the form ``LEAD (?:ALT1|ALT2|...)
  REST`` (``LEAD``: ``\\b``, look-behinds and one-character look-aheads) run as one sub-pattern
  per first character of the alternatives, each starting with that character (so the engine
  skips ahead to it at C speed), with the matches merged back into the order and overlaps the
  single pattern gives.
* :class:`LeadFilter`: ``finditer`` of a pattern led by one-character look-arounds, tried only
  where a one-character pattern built from them (which the engine skips ahead to) matches.
* :class:`EdgeSearcher` and :class:`FirstCharSearcher`: the tokenizer's affix patterns (hundreds
  of alternatives, each tried at every character of a word) cut to the alternatives that can
  start or end with the characters the word has.

All read the pattern's parse tree through ``re._parser`` (CPython's own parser). If a pattern
uses anything they do not handle, or the parser is not there, they fall back to the pattern
itself.
"""

from __future__ import annotations

import heapq
import re
import time
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

try:  # CPython >= 3.11
    import _sre
    from re import _compiler as _sre_compile  # type: ignore[attr-defined]
    from re import _constants as _C  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another implementation: use the patterns as they are
    _sre = _sre_compile = _C = _sre_parse = None

__all__ = ["EdgeSearcher", "FirstCharSearcher", "LeadFilter", "LiteralFilter", "Scanner", "all_characters",
           "best_time", "char_class", "finditer_merged", "required_literals", "skip_to_lead", "suffix_gates"]

_MAXREPEAT = getattr(_C, "MAXREPEAT", None)


# ---------------------------------------------------------------------------------------------
# Required literals


def _required(items: Any, ignorecase: bool) -> frozenset[str] | None:
    """A set of strings one of which every match of ``items`` (a parsed sequence) contains."""
    best: frozenset[str] | None = None

    def better(cand: frozenset[str] | None) -> None:
        nonlocal best
        if not cand:
            return
        if best is None or (min(map(len, cand)), -len(cand)) > (min(map(len, best)), -len(best)):
            best = cand

    run: list[str] = []
    for op, av in items:
        if op is _C.LITERAL:
            run.append(chr(av))
            continue
        if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            continue  # zero-width: the characters around it are still contiguous in the match
        if run:
            better(frozenset({"".join(run)}))
            run = []
        if op is _C.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if (add_flags | del_flags) & re.IGNORECASE and not ignorecase:
                return None  # a part with other case rules: give up
            better(_required(sub, ignorecase))
        elif op is _C.ATOMIC_GROUP:
            better(_required(av, ignorecase))
        elif op is _C.BRANCH:
            alts = [_required(alt, ignorecase) for alt in av[1]]
            if all(a is not None for a in alts):
                better(frozenset().union(*alts))  # type: ignore[arg-type]
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            if lo >= 1:
                better(_required(sub, ignorecase))
        # IN, ANY, NOT_LITERAL, GROUPREF, GROUPREF_EXISTS...: one unknown stretch of text
    if run:
        better(frozenset({"".join(run)}))
    return best


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains (lower-cased when the pattern
    ignores case), or None when no such set can be read from it."""
    if _sre_parse is None:
        return None
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - anything unexpected: no filter
        return None
    ignorecase = bool(parsed.state.flags & re.IGNORECASE)
    lits = _required(parsed.data, ignorecase)
    if not lits or any(not s for s in lits):
        return None
    if ignorecase:
        lits = frozenset(s.lower() for s in lits)
    # a literal that contains another one adds nothing
    return frozenset(s for s in lits if not any(o != s and o in s for o in lits))


class LiteralFilter:
    """``could_match(s)`` is False only when ``pattern.search(s)`` is certainly None.

    It is True when the pattern's required literals cannot be read (then it says nothing). For a
    pattern that ignores case, ``s`` is compared lower-cased, and only when it is ASCII (Unicode
    case folding has exceptions such as "ſ" matching "s").
    """

    __slots__ = ("pattern", "literals", "ignorecase")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.literals = required_literals(pattern)
        self.ignorecase = bool(pattern.flags & re.IGNORECASE)

    def could_match(self, s: str) -> bool:
        lits = self.literals
        if lits is None:
            return True
        if self.ignorecase:
            if not s.isascii():
                return True
            s = s.lower()
        return any(lit in s for lit in lits)

    def search(self, s: str) -> re.Match[str] | None:
        """``pattern.search(s)``."""
        return self.pattern.search(s) if self.could_match(s) else None


def all_characters() -> str:
    """Every code point, in order (surrogates included), built at C speed."""
    return array("I", range(0x110000)).tobytes().decode("utf-32-le", "surrogatepass")


class LeadFilter:
    """``finditer`` of a pattern that starts with one-character look-arounds (``(?=[Pp])``,
    ``(?<![A-Za-z0-9.\\-/])``, ``(?<=[(\\[])``), with exactly the pattern's matches.

    Such a pattern gives the regex engine nothing to skip ahead to, so it is tried at every
    character of the text (and a case-insensitive one cannot be given a first character to skip
    to). The look-arounds are turned into a case-sensitive pattern of one character, which the
    engine does skip ahead to, matching exactly where they hold (the characters they accept are
    listed one by one, under the pattern's own flags); the pattern is then only tried there.
    """

    __slots__ = ("pattern", "starts", "shift")

    # a class of more characters than this is not listed (the pattern then runs as it is)
    MAX_CHARS = 512

    def __init__(self, pattern: re.Pattern[str], characters: str) -> None:
        self.pattern = pattern
        self.starts: re.Pattern[str] | None = None
        self.shift = 0
        try:
            built = self._build(pattern, characters)
        except Exception:  # noqa: BLE001 - a structure this does not handle: no filter
            built = None
        if built is not None:
            self.starts, self.shift = built

    @classmethod
    def _build(cls, pattern: re.Pattern[str], characters: str) -> tuple[re.Pattern[str], int] | None:
        if _sre_parse is None or not isinstance(pattern.pattern, str):
            return None
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        if parsed.getwidth()[0] == 0:
            return None  # an empty match would make finditer step differently
        # (offset of the character looked at: 0 at the match start, -1 before it; accepted?; class)
        conditions: list[tuple[int, bool, str]] = []
        for op, av in parsed.data:
            if op is not _C.ASSERT and op is not _C.ASSERT_NOT:
                break
            direction, content = av
            if len(content.data) != 1 or content.data[0][0] not in (_C.LITERAL, _C.IN):
                break
            one = _sre_compile.compile(_sre_parse.SubPattern(parsed.state, list(content.data)),
                                       pattern.flags)
            chars = "".join(m.group() for m in one.finditer(characters))
            if len(chars) > cls.MAX_CHARS:
                break
            conditions.append((0 if direction > 0 else -1, op is _C.ASSERT, chars))
        anchors = [c for c in conditions if c[1]]
        if not anchors:
            return None
        # the character the filter consumes: the match start's own if a look-ahead gives it
        anchor = max(anchors, key=lambda c: c[0])
        offset = anchor[0]
        parts = [char_class(anchor[2])]
        for where, accepted, cond in conditions:
            if (where, accepted, cond) == anchor:
                continue
            look = ("(?<=" if accepted else "(?<!") if where <= offset else ("(?=" if accepted else "(?!")
            dot = "." if where < offset else ""
            parts.append(f"{look}{char_class(cond)}{dot})")
        return re.compile("".join(parts), re.DOTALL), -offset

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        starts = self.starts
        if starts is None:
            yield from self.pattern.finditer(text)
            return
        match = self.pattern.match
        shift = self.shift
        pos = 0
        for s in starts.finditer(text):
            at = s.start() + shift
            if at < pos:
                continue
            m = match(text, at)
            if m is not None:
                yield m
                pos = m.end()  # (never an empty match: see ``_build``)


def skip_to_lead(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` compiled so that the regex engine skips ahead to the characters its leading
    one-character look-ahead accepts (``(?=[0-9otfsen])\\b...``): the same pattern (same
    ``.pattern``, flags, groups and matches), often many times faster to search.

    The engine skips ahead only to a literal prefix or a set of first characters that it reads from
    the pattern's first consuming item; a look-ahead is not read, so a pattern led by one is tried
    in full at every position (about 25 ns a character). Every match of such a pattern starts with
    a character of the look-ahead's class, so that class is given to the engine as the set of first
    characters (the "info" block CPython's compiler writes for ``[0-9otfsen]...``). ``pattern``
    itself when it is not led by such a look-ahead, ignores case, can match the empty string, or
    the compiler's internals are not there.
    """
    if _sre is None or not isinstance(pattern.pattern, str):
        return pattern
    try:
        built = _with_lead_charset(pattern)
    except Exception:  # noqa: BLE001 - internals this does not know: the pattern as it is
        built = None
    return pattern if built is None else built


def _with_lead_charset(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    flags = pattern.flags
    if flags & (re.IGNORECASE | re.LOCALE):
        return None  # (the set would have to hold every case variant)
    parsed = _sre_parse.parse(pattern.pattern, flags)
    if not parsed.data or parsed.getwidth()[0] == 0:
        return None  # (the engine's set search assumes a match consumes a character)
    op, av = parsed.data[0]
    if op is not _C.ASSERT or av[0] != 1:
        return None
    content = list(av[1].data)
    if len(content) != 1 or content[0][0] not in (_C.LITERAL, _C.IN):
        return None
    code = _sre_compile._code(parsed, flags)
    # [INFO, skip, flags, min, max, ...]: a block without a prefix or a set has skip 4, flags 0
    if code[0] != _C.INFO or code[1] != 4 or code[2] != 0:
        return None
    items = content if content[0][0] is _C.LITERAL else content[0][1]
    charset, _cased = _sre_compile._optimize_charset(items)
    block: list[int] = []
    _sre_compile._compile_charset(charset, flags, block)
    code[1:3] = [4 + len(block), _C.SRE_INFO_CHARSET]
    code[5:5] = block
    state = parsed.state
    indexgroup: list[str | None] = [None] * state.groups
    for name, index in state.groupdict.items():
        indexgroup[index] = name
    compiled: re.Pattern[str] = _sre.compile(pattern.pattern, flags, code, state.groups - 1,
                                             state.groupdict, tuple(indexgroup))
    return compiled


def char_class(chars: str) -> str:
    """A character class matching exactly ``chars`` (each taken literally)."""
    return "[" + "".join("\\" + c if c in "\\]^-[" else c for c in chars) + "]"


def _literal_words(items: Any) -> list[str] | None:
    """The strings a parsed sequence can match when it is literal text or an alternation of literal
    texts, else None."""
    if len(items) == 1 and items[0][0] is _C.BRANCH:
        words = [_literal_words(list(alt)) for alt in items[0][1][1]]
        return None if any(w is None or len(w) != 1 for w in words) else [w[0] for w in words if w]
    if items and all(op is _C.LITERAL for op, _ in items):
        return ["".join(chr(av) for _, av in items)]
    return None


def suffix_gates(pattern: re.Pattern[str], width: int = 2) -> list[re.Pattern[str]] | None:
    """Patterns one of which finds a match in every text (and range ``pos:endpos``) where
    ``pattern`` does: a necessary condition, often much cheaper to check, as each starts with
    literal text. They are ``pattern`` from its first top-level group of literal alternatives on,
    with that group cut to one of the last ``width`` characters of its alternatives:
    ``(?:the\\s+)?(first|second|...|24th)\\s+(hour|day)\\b`` gives ``st\\s+(hour|day)\\b``,
    ``nd\\s+...``, ``rd\\s+...`` and ``th\\s+...``. A match of ``pattern`` holds a match of one of
    them where that group's match ends, and the rest sees the same text around it. None when the
    pattern has no such group or has back-references."""
    if _sre_parse is None or not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001
        return None
    if _has(parsed.data, (_C.GROUPREF, _C.GROUPREF_EXISTS, _C.GROUPREF_IGNORE,
                          _C.GROUPREF_LOC_IGNORE, _C.GROUPREF_UNI_IGNORE)):
        return None
    items = list(parsed.data)
    found = next(((j, words) for j, words in enumerate(map(_group_words, items)) if words), None)
    if found is None:
        return None
    j, words = found
    k = min(width, *map(len, words))
    state, rest = parsed.state, items[j + 1:]
    return [_sre_compile.compile(_sre_parse.SubPattern(state, [*((_C.LITERAL, ord(c)) for c in end), *rest]),
                                 pattern.flags)
            for end in sorted({w[-k:] for w in words})]


def _group_words(item: Any) -> list[str] | None:
    """The literal alternatives of a top-level group (numbered or not), none of them empty."""
    op, av = item
    words = None
    if op is _C.SUBPATTERN and not av[1] and not av[2]:
        words = _literal_words(list(av[3]))
    elif op is _C.BRANCH:  # a group without a number is read as its alternatives
        words = _literal_words([item])
    return words if words and all(words) else None


# ---------------------------------------------------------------------------------------------
# Scanner: one sub-pattern per first character


class _Alt:
    """One alternative of a pattern: zero-width ``asserts`` at its start, the ``first`` item that
    consumes its first character (a literal or a character class), the ``inner`` items after it,
    and the groups it sits in (``wraps``: ``(group, items after the group)``, innermost first)."""

    __slots__ = ("first", "asserts", "inner", "wraps")

    def __init__(self, first: Any, asserts: list[Any], inner: list[Any],
                 wraps: tuple[tuple[int | None, list[Any]], ...]) -> None:
        self.first, self.asserts, self.inner, self.wraps = first, asserts, inner, wraps


def _alternatives(items: list[Any], lead: list[Any]) -> list[_Alt] | None:
    """``lead + items`` as an ordered list of alternatives (first success wins, as in the
    pattern), each starting with one consuming item; None if the structure is not handled."""
    lead = list(lead)
    i = 0
    while i < len(items) and items[i][0] in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
        lead.append(items[i])
        i += 1
    if i == len(items):
        return None
    op, av = items[i]
    rest = list(items[i + 1:])
    if op is _C.LITERAL or op is _C.IN:
        return [_Alt((op, av), lead, rest, ())]
    if op is _C.BRANCH:
        # (?:A|B)R is AR|BR: each alternative followed by the rest, in order
        out: list[_Alt] = []
        for alt in av[1]:
            sub = _alternatives(list(alt) + rest, lead)
            if sub is None:
                return None
            out.extend(sub)
        return out
    if op is _C.SUBPATTERN:
        group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            return None
        if group is None:
            return _alternatives(list(sub) + rest, lead)
        inner = _alternatives(list(sub), lead)
        if inner is None:
            return None
        return [_Alt(a.first, a.asserts, a.inner, (*a.wraps, (group, rest))) for a in inner]
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
        # X?R is XR|R (greedy: with X first), X??R is R|XR
        with_x = _alternatives(list(av[2]) + rest, lead)
        without = _alternatives(rest, lead)
        if with_x is None or without is None:
            return None
        return with_x + without if op is _C.MAX_REPEAT else without + with_x
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
        lo, hi, sub = av
        if lo >= 1 and len(sub) == 1 and sub[0][0] in (_C.LITERAL, _C.IN):
            # x{lo,hi} is x x{lo-1,hi-1} (same order of choices, greedy or lazy)
            left = [] if hi == 1 else [(op, (lo - 1, hi if hi == _MAXREPEAT else hi - 1, sub))]
            return [_Alt(sub[0], lead, left + rest, ())]
    return None


def _word_chars(item: Any, flags: int) -> bool | None:
    """Are all characters ``item`` (a literal or a class) consumes word characters (True), none
    (False), or some (None)?"""
    word = re.compile(r"\w", flags & re.ASCII)
    op, av = item
    if op is _C.LITERAL:
        return word.fullmatch(chr(av)) is not None
    kinds: set[bool] = set()
    for sop, sav in av:
        if sop is _C.LITERAL:
            kinds.add(word.fullmatch(chr(sav)) is not None)
        elif sop is _C.RANGE and sav[1] - sav[0] <= 512:
            kinds.update(word.fullmatch(chr(c)) is not None for c in range(sav[0], sav[1] + 1))
        elif sop is _C.CATEGORY and sav in (_C.CATEGORY_DIGIT, _C.CATEGORY_WORD):
            kinds.add(True)  # every decimal digit is a word character
        elif sop is _C.CATEGORY and sav is _C.CATEGORY_SPACE:
            kinds.add(False)
        else:
            return None
    return kinds.pop() if len(kinds) == 1 else None


def _after_prefix(assertion: Any, prefix: list[Any], state: Any, flags: int) -> list[Any] | None:
    """The zero-width ``assertion`` made at the start of an alternative, rewritten to be checked
    right after the alternative's first characters (``prefix``: the items consuming them, one
    character each)."""
    op, av = assertion
    sp = _sre_parse.SubPattern
    if op is _C.AT:
        if av is not _C.AT_BOUNDARY and av is not _C.AT_NON_BOUNDARY:
            return None
        is_word = _word_chars(prefix[0], flags)
        if is_word is None:
            return None
        # \b before a word character: the character before it is not one (or there is none)
        prev_is_word = (av is _C.AT_BOUNDARY) != is_word
        kind = _C.ASSERT if prev_is_word else _C.ASSERT_NOT
        return [(kind, (-1, sp(state, [(_C.IN, [(_C.CATEGORY, _C.CATEGORY_WORD)]), *prefix])))]
    direction, content = av
    if direction < 0:  # a look-behind: the same, followed by the prefix
        return [(op, (-1, sp(state, [*content, *prefix])))]
    if len(content) == 1 and content[0][0] in (_C.LITERAL, _C.IN, _C.NOT_LITERAL):
        # a one-character look-ahead at the start checks the first character: look back at it
        return [(op, (-1, sp(state, [*content, *prefix[1:]])))]
    return None


def _has(items: Any, ops: tuple[Any, ...]) -> bool:
    for op, av in items:
        if op in ops:
            return True
        if op is _C.SUBPATTERN and _has(av[3], ops):
            return True
        if op is _C.BRANCH and any(_has(a, ops) for a in av[1]):
            return True
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT) and _has(av[2], ops):
            return True
        if op in (_C.ASSERT, _C.ASSERT_NOT) and _has(av[1], ops):
            return True
        if op is _C.ATOMIC_GROUP and _has(av, ops):
            return True
    return False


def _split(pattern: re.Pattern[str]) -> list[tuple[re.Pattern[str], str]] | None:
    """Sub-patterns whose matches, merged (see ``Scanner``), are the matches of ``pattern``, each
    with the literal text it starts with."""
    if _sre_parse is None or not isinstance(pattern.pattern, str):
        return None
    flags = pattern.flags
    if flags & (re.IGNORECASE | re.LOCALE | re.MULTILINE):
        return None
    try:
        parsed = _sre_parse.parse(pattern.pattern, flags)
    except Exception:  # noqa: BLE001
        return None
    if parsed.state.flags & (re.IGNORECASE | re.LOCALE | re.MULTILINE):
        return None
    if _has(parsed.data, (_C.GROUPREF, _C.GROUPREF_EXISTS, _C.GROUPREF_IGNORE,
                          _C.GROUPREF_LOC_IGNORE, _C.GROUPREF_UNI_IGNORE)):
        return None
    alts = _alternatives(list(parsed.data), [])
    if not alts or len(alts) > 400:
        return None
    state = parsed.state
    sp = _sre_parse.SubPattern
    by_key: dict[int | None, list[_Alt]] = {}
    for a in alts:
        key = a.first[1] if a.first[0] is _C.LITERAL else None
        by_key.setdefault(key, []).append(a)
    # a class that starts an alternative must not hold a character that starts another one:
    # at such a character both could match and the order between them would be lost
    literal_chars = [chr(k) for k in by_key if k is not None]
    for a in by_key.get(None, []):
        cls = _sre_compile.compile(sp(state, [a.first]), flags)
        if any(cls.fullmatch(c) for c in literal_chars):
            return None
    # the alternatives that start with a class share one part: it scans as slowly as the pattern,
    # but tries only them (Scanner measures whether the split pays)
    parts: list[tuple[re.Pattern[str], str]] = []
    for key, group in by_key.items():
        wraps = group[0].wraps
        same_wraps = key is not None and all(
            len(a.wraps) == len(wraps)
            and all(w[0] == v[0] and w[1] is v[1] for w, v in zip(a.wraps, wraps, strict=True))
            for a in group)
        if same_wraps:
            # c1..ck(?:A|B) inside the same groups: the part starts with the literal text the
            # alternatives share, and their look-arounds are checked after it
            k = 1
            while all(len(a.inner) >= k and a.inner[k - 1][0] is _C.LITERAL
                      and a.inner[k - 1] == group[0].inner[k - 1] for a in group):
                k += 1
            prefix = [group[0].first, *group[0].inner[:k - 1]]
            # the look-arounds all the alternatives start with are checked once, before them
            n_common = 0
            while all(len(a.asserts) > n_common and a.asserts[n_common] == group[0].asserts[n_common]
                      for a in group):
                n_common += 1
            common: list[Any] = []
            for assertion in group[0].asserts[:n_common]:
                moved = _after_prefix(assertion, prefix, state, flags)
                if moved is None:
                    return None
                common.extend(moved)
            bodies = []
            for a in group:
                head: list[Any] = []
                for assertion in a.asserts[n_common:]:
                    moved = _after_prefix(assertion, prefix, state, flags)
                    if moved is None:
                        return None
                    head.extend(moved)
                bodies.append(sp(state, head + a.inner[k - 1:]))
            inner = bodies[0].data if len(bodies) == 1 else [(_C.BRANCH, (None, bodies))]
            items: list[Any] = [*prefix, *common, *inner]
            for grp, rest in wraps:
                items = [(_C.SUBPATTERN, (grp, 0, 0, sp(state, items))), *rest]
            parts.append((_sre_compile.compile(sp(state, items), flags),
                          "".join(chr(it[1]) for it in prefix)))
        else:
            alts_items = []
            for a in group:
                head = []
                for assertion in a.asserts:
                    moved = _after_prefix(assertion, [a.first], state, flags)
                    if moved is None:
                        return None
                    head.extend(moved)
                items = [a.first, *head, *a.inner]
                for grp, rest in a.wraps:
                    items = [(_C.SUBPATTERN, (grp, 0, 0, sp(state, items))), *rest]
                alts_items.append(sp(state, items))
            body = alts_items[0].data if len(alts_items) == 1 else [(_C.BRANCH, (None, alts_items))]
            parts.append((_sre_compile.compile(sp(state, body), flags), "" if key is None else chr(key)))
    return parts


# A made-up abstract of typical length and wording, on which a Scanner checks at construction that
# its sub-patterns are faster than the pattern (the results are the same either way; whether a
# split pays depends on how often the sub-patterns' first characters occur in real text).
SAMPLE = (
    "Efficacy of intra-articular injection versus placebo for chronic knee pain: a randomised "
    "trial\nBACKGROUND: Knee osteoarthritis is a common cause of pain and disability in older "
    "adults. METHODS: In this double-blind trial, 124 patients aged 45 to 80 years with moderate "
    "to severe pain (VAS >= 40 mm) were randomly assigned to the treatment group (n = 62) or the "
    "control group (n = 61). Pain intensity was measured on a 100-mm visual analogue scale and a "
    "0-10 numeric rating scale at baseline, 2 weeks, 6 weeks and 12 weeks after the injection; the "
    "primary outcome was the change from baseline in the WOMAC pain subscale at week 12. "
    "Secondary outcomes included the proportion of responders (at least 50% reduction in pain), "
    "rescue analgesic consumption, patient satisfaction and adverse events. RESULTS: A total of "
    "118 participants completed the study. Mean pain scores decreased from 6.8 +/- 1.9 to 3.1 "
    "+/- 2.2 in the treatment group and from 6.6 +/- 2.0 to 4.9 +/- 2.4 in the control group "
    "(mean difference -1.7, 95% CI -2.5 to -0.9; P < 0.001). Thirty-four of 59 patients (57.6%) "
    "in the treatment group and 19 of 59 (32.2%) in the control group were responders at 12 "
    "weeks (p = 0.006). The median time to first rescue medication was 4 h (IQR 2-7) versus 2 h "
    "(IQR 1-4). Nausea, dizziness and headache were the most frequent adverse effects and did "
    "not differ between the groups. There were no serious adverse events. CONCLUSIONS: A single "
    "injection reduced pain and improved function for at least three months compared with "
    "placebo, with a good safety profile. Trial registration: NCT01234567."
)
_SAMPLE_LOWER = SAMPLE.lower()


def best_time(run: Any, repeat: int = 7) -> float:
    """The least wall time of ``repeat`` calls of ``run`` (for choosing between equivalent forms)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    return best


# Below this many characters per sub-pattern the pattern itself is cheaper than calling every
# sub-pattern. Measured on the pipeline's sentence-sized calls (the cue words of a sentence): the
# split already pays from about 4 characters per sub-pattern (16 left most sentences to the slow
# pattern: extractor_proportions 0.29 -> 0.27 ms per abstract with 4; 2 is no better).
_SHORT = 4


class Scanner:
    """``finditer`` and ``search`` with exactly the matches of ``pattern`` (same spans, same
    groups), usually several times faster for a pattern that starts with ``\\b`` or a look-around
    followed by alternatives that start with literal text.

    The alternatives are grouped by their first character into sub-patterns that start with that
    character (the look-arounds before it are rewritten as look-behinds after it). At a given
    position only the sub-pattern of the character there can match, and it tries the same
    alternatives in the same order as the pattern, so the pattern's next match from any position
    is the leftmost of the sub-patterns' next matches.
    """

    __slots__ = ("pattern", "parts", "prefixes")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        try:
            split = _split(pattern)
        except Exception:  # noqa: BLE001 - a structure the splitter does not know: no split
            split = None
        self.parts = [p for p, _ in split] if split is not None else None
        self.prefixes = [prefix for _, prefix in split] if split is not None else []
        if self.parts is not None and not self._pays():
            self.parts = None

    def _pays(self) -> bool:
        """Is the split at least 20% (with a class part: 50%) faster than the pattern on ``SAMPLE``?"""
        sample = SAMPLE if any(p != p.lower() for p in self.prefixes) else _SAMPLE_LOWER
        parts, self.parts = self.parts, None
        plain = best_time(lambda: list(self.finditer(sample)))
        self.parts = parts
        split = best_time(lambda: list(self.finditer(sample)))
        # a part that starts with a class scans as slowly as the pattern: on real abstracts such a
        # split pays only where it clearly pays on the sample (a measured 0.8 has been slower)
        margin = 0.5 if "" in self.prefixes else 0.8
        return split < margin * plain

    def finditer(self, string: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        end = len(string) if endpos is None else min(endpos, len(string))
        parts = self.parts
        if parts is None or end - pos < _SHORT * len(parts):
            return self.pattern.finditer(string, pos, end)
        if len(parts) == 1:
            return parts[0].finditer(string, pos, end)
        return finditer_merged(parts, string, pos, end)

    def search(self, string: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        end = len(string) if endpos is None else min(endpos, len(string))
        if self.parts is None or end - pos < _SHORT * len(self.parts):
            return self.pattern.search(string, pos, end)
        best: re.Match[str] | None = None
        for p in self.parts:
            m = p.search(string, pos, end)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best


class Searcher(Protocol):
    """What :func:`finditer_merged` needs of a part: ``re.Pattern.search`` (or a cheaper way to
    find the same next match)."""

    def search(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str] | None: ...


def finditer_merged(parts: Sequence[Searcher], string: str, pos: int = 0,
                    endpos: int | None = None) -> Iterator[re.Match[str]]:
    """The matches of ``(?:P1|P2|...).finditer`` from the patterns ``parts`` searched apart.

    Exact when no part can match the empty string and no two parts can match at the same position
    (then at every position at most one of them applies, and which one is first does not matter):
    the leftmost of the parts' next matches is taken, and the parts whose next match overlaps it
    search again from its end, as ``finditer`` does. The next matches are kept in a heap by start
    (no two share one), so a step costs a heap operation instead of a look at every part.
    """
    end = len(string) if endpos is None else min(endpos, len(string))
    heap: list[tuple[int, int, re.Match[str]]] = []
    for i, p in enumerate(parts):
        m = p.search(string, pos, end)
        if m is not None:
            heap.append((m.start(), i, m))
    heapq.heapify(heap)
    cursor = pos
    while heap:
        start, i, m = heap[0]
        if start >= cursor:  # the leftmost next match: every other part's starts later
            yield m
            cursor = m.end()
        # the part just used, or one whose next match overlaps the last one: look again from there
        nxt = parts[i].search(string, cursor, end)
        if nxt is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (nxt.start(), i, nxt))


# ---------------------------------------------------------------------------------------------
# Edge characters: which characters a match can start or end with


def _edge_items(items: Any, from_end: bool) -> tuple[list[Any], bool] | None:
    """The one-character items (literals and classes) one of which consumes the first character
    (``from_end``: the last) of every non-empty match of ``items`` (a parsed sequence), and whether
    a match can be empty; None for a structure not handled."""
    found: list[Any] = []
    for op, av in (reversed(items) if from_end else items):
        if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            continue  # zero-width: consumes nothing
        if op in (_C.LITERAL, _C.NOT_LITERAL, _C.IN, _C.ANY):
            found.append((op, av))
            return found, False
        if op is _C.SUBPATTERN:
            if av[1] or av[2]:
                return None  # a part with flags of its own
            sub = _edge_items(av[3], from_end)
        elif op is _C.ATOMIC_GROUP:
            sub = _edge_items(av, from_end)
        elif op is _C.BRANCH:
            subs = [_edge_items(alt, from_end) for alt in av[1]]
            if any(s is None for s in subs):
                return None
            sub = ([item for s in subs for item in s[0]],  # type: ignore[index]
                   any(s[1] for s in subs))  # type: ignore[index]
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            lo, _hi, body = av
            sub = _edge_items(body, from_end)
            if sub is not None and lo == 0:
                sub = (sub[0], True)
        else:  # back-references and the like
            return None
        if sub is None:
            return None
        found.extend(sub[0])
        if not sub[1]:
            return found, False
    return found, True


def _anchored(items: Any, at: tuple[Any, ...], from_end: bool) -> bool:
    """Does every match of ``items`` start (``from_end``: end) where an ``at`` assertion holds?"""
    if not items:
        return False
    op, av = items[-1] if from_end else items[0]
    if op is _C.AT:
        return av in at
    if op is _C.BRANCH:
        return all(_anchored(alt, at, from_end) for alt in av[1])
    if op is _C.SUBPATTERN and not av[1] and not av[2]:
        return _anchored(av[3], at, from_end)
    return False


class _Alternative:
    """A top-level alternative of a pattern: the classes one of which its first (or last)
    character matches, whether it can match the empty string, its greatest width (None when
    unbounded), and itself compiled on first use (with the pattern's group numbers)."""

    __slots__ = ("classes", "empty", "width", "parsed", "flags", "_compiled")

    def __init__(self, parsed: Any, flags: int, from_end: bool) -> None:
        edge = _edge_items(parsed.data, from_end)
        if edge is None:
            raise ValueError("an alternative whose edge characters cannot be read")
        items, self.empty = edge
        self.classes = [_sre_compile.compile(_sre_parse.SubPattern(parsed.state, [item]), flags)
                        for item in items]
        width = parsed.getwidth()[1]
        self.width: int | None = width if width < 1_000 else None
        self.parsed, self.flags = parsed, flags
        self._compiled: re.Pattern[str] | None = None

    def can_start(self, chars: str) -> bool:
        """Can a match begin (or end) with one of ``chars``, or be empty?"""
        return self.empty or any(c.fullmatch(char) for c in self.classes for char in chars)

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = _sre_compile.compile(self.parsed, self.flags)
        return self._compiled


def _edge_alternatives(pattern: re.Pattern[str], parsed: Any, from_end: bool) -> list[_Alternative]:
    """The top-level alternatives of a parsed pattern, in order, with the zero-width ``^`` or ``\\b``
    the parser moves in front of them when all of them start with it (a single one if the pattern
    is not an alternation)."""
    state = parsed.state
    data = list(parsed.data)
    lead = []
    while data and data[0][0] is _C.AT:
        lead.append(data.pop(0))
    if len(data) == 1 and data[0][0] is _C.BRANCH:
        alts = [_sre_parse.SubPattern(state, [*lead, *alt]) for alt in data[0][1][1]]
    else:
        alts = [parsed]
    return [_Alternative(alt, pattern.flags, from_end) for alt in alts]


class EdgeSearcher:
    """``search`` of a pattern whose every match starts at the start of the text (each alternative
    begins with ``^``: spaCy's prefix patterns) or ends at its end (each ends with ``$``: the suffix
    patterns), with the pattern's match (same span and groups), several times faster on words.

    Such a match consumes the text's first (last) character, so only the alternatives whose first
    (last) character can be that one, or that can match the empty string, can match; they are
    listed once per character met. The alternation's match is the leftmost of theirs, the one of
    the first alternative among those that match there. A match at the end starts at most an
    alternative's greatest width before it, so its search starts there (look-behinds still see
    the text before). A text ending in a line break (where ``$`` also matches before it) is
    searched with the pattern itself.
    """

    __slots__ = ("pattern", "at_end", "_alternatives", "_by_char")

    # more distinct edge characters than this empty the table of alternatives by character
    MAX_KEYS = 10_000

    def __init__(self, pattern: re.Pattern[str], at_end: bool) -> None:
        self.pattern = pattern
        self.at_end = at_end
        self._alternatives: list[_Alternative] | None = None
        self._by_char: dict[str, list[_Alternative]] = {}
        try:
            self._split()
        except Exception:  # noqa: BLE001 - a structure this does not know: use the pattern
            self._alternatives = None

    def _split(self) -> None:
        pattern = self.pattern
        if _sre_parse is None or not isinstance(pattern.pattern, str):
            return
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        if (pattern.flags | parsed.state.flags) & re.MULTILINE:
            return  # ^ and $ at every line
        at = (_C.AT_END, _C.AT_END_STRING) if self.at_end else (_C.AT_BEGINNING, _C.AT_BEGINNING_STRING)
        if _anchored(parsed.data, at, self.at_end):
            self._alternatives = _edge_alternatives(pattern, parsed, self.at_end)

    def search(self, text: str) -> re.Match[str] | None:
        """``pattern.search(text)``."""
        alternatives = self._alternatives
        at_end = self.at_end
        if alternatives is None or not text or (at_end and text[-1] == "\n"):
            return self.pattern.search(text)
        char = text[-1] if at_end else text[0]
        by_char = self._by_char
        kept = by_char.get(char)
        if kept is None:
            if len(by_char) >= self.MAX_KEYS:
                by_char.clear()
            kept = by_char[char] = [alt for alt in alternatives if alt.can_start(char)]
        if not at_end:  # every match starts at 0: the first alternative that matches gives it
            for alt in kept:
                m = alt.compiled.search(text)
                if m is not None:
                    return m
            return None
        best: re.Match[str] | None = None
        n = len(text)
        for alt in kept:
            width = alt.width
            m = alt.compiled.search(text, n - width if width is not None and width < n else 0)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best


class FirstCharSearcher:
    """``finditer`` of a pattern that cannot match the empty string, with exactly its matches,
    several times faster on words when its matches start with few different characters (spaCy's
    infix patterns: their matches start with punctuation, and most words hold none).

    A text without any of those characters has no match. Otherwise only the alternatives that can
    start with one of the characters it holds can match (listed once per set of characters), and
    they are run from the first of them (look-behinds still see the text before it): one alone
    gives the matches, several are merged by :func:`finditer_merged` (at a position where more
    than one match, the first of them in the pattern's order wins, as in the alternation).
    """

    __slots__ = ("pattern", "starts", "_alternatives", "_by_chars")

    MAX_KEYS = 10_000

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.starts: re.Pattern[str] | None = None
        self._alternatives: list[_Alternative] = []
        self._by_chars: dict[str, list[re.Pattern[str]]] = {}
        try:
            self._split()
        except Exception:  # noqa: BLE001 - a structure this does not know: use the pattern
            self.starts = None

    def _split(self) -> None:
        pattern = self.pattern
        if _sre_parse is None or not isinstance(pattern.pattern, str):
            return
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        if parsed.getwidth()[0] == 0:
            return  # an empty match can be anywhere
        edge = _edge_items(parsed.data, from_end=False)
        if edge is None or edge[1]:
            return
        items = edge[0]
        if any(op in (_C.ANY, _C.NOT_LITERAL) or (op is _C.IN and av and av[0][0] is _C.NEGATE)
               for op, av in items):
            return  # (almost) any character can start a match: nothing to skip
        self._alternatives = _edge_alternatives(pattern, parsed, from_end=False)
        # one class of all those characters, which the engine skips ahead to
        members: list[Any] = []
        for op, av in items:
            members.extend([(op, av)] if op is _C.LITERAL else av)
        state = _sre_parse.State()  # without the pattern's groups, so that findall gives the characters
        state.flags = parsed.state.flags
        self.starts = _sre_compile.compile(_sre_parse.SubPattern(state, [(_C.IN, members)]), pattern.flags)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """``pattern.finditer(text)``."""
        starts = self.starts
        if starts is None:
            return self.pattern.finditer(text)
        first = starts.search(text)
        if first is None:
            return iter(())
        pos = first.start()
        key = "".join(sorted(set(starts.findall(text, pos))))
        by_chars = self._by_chars
        parts = by_chars.get(key)
        if parts is None:
            if len(by_chars) >= self.MAX_KEYS:
                by_chars.clear()
            parts = by_chars[key] = [alt.compiled for alt in self._alternatives if alt.can_start(key)]
        if len(parts) == 1:
            return parts[0].finditer(text, pos)
        return finditer_merged(parts, text, pos)
