"""Time points of measurements and their days after treatment start (painbench guideline).

``find_timepoints(text)`` returns every time point with offsets, the words as written and
``days``: baseline / pre-treatment = 0; hours / 24; 1 week = 7; 1 month = 30; 1 year = 365;
``None`` when the time cannot be converted ("last follow-up", "discharge", "end of study").

Handles "24 h", "24h", "24-hour", "at 30 minutes", "day 15", "week 12", "POD 2", "six weeks",
"one hour", "fourth week", "first hour", "6-month follow-up", lists such as "at 1, 4 and 8
weeks", "at 6, 12, 18 and 24 hour", "weeks 6, 12, and 16", "15, 30, and 60 min and 12 and 24 h"
(one time point per item, sharing a ``group`` id), and baseline words. Ages ("aged 18 years",
"5-year-old") and calendar years are not time points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from extractor.nlp.fastre import SAMPLE, Scanner, best_time, skip_to_lead, suffix_gates
from extractor.nlp.numbers import parse_number_words

__all__ = ["TimePoint", "TimepointFinder", "default_finder", "find_timepoints", "unit_days"]


@dataclass(frozen=True, slots=True)
class TimePoint:
    start: int
    end: int
    text: str  # the time point as written (for a list item: the number plus the list's unit)
    days: float | None
    kind: str  # "baseline", "elapsed", "ordinal", "label", "list", "event"
    group: int = -1  # items of one list share a group id (>= 0)
    rule: str = ""


_UNIT_DAYS: dict[str, float] = {}
for _names, _days in (
    (("s", "sec", "secs", "second", "seconds"), 1 / 86400),
    (("min", "mins", "minute", "minutes"), 1 / 1440),
    (("h", "hr", "hrs", "hour", "hours"), 1 / 24),
    (("d", "day", "days"), 1.0),
    (("wk", "wks", "week", "weeks"), 7.0),
    (("mo", "mos", "month", "months"), 30.0),
    (("y", "yr", "yrs", "year", "years"), 365.0),
):
    for _n in _names:
        _UNIT_DAYS[_n] = _days


def unit_days(unit: str) -> float | None:
    """Days in one ``unit`` ("h" → 1/24, "week" → 7, "months" → 30)."""
    return _UNIT_DAYS.get(unit.lower().rstrip("."))


_NUM_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
              r"eighteen|twenty(?:[\s-]four)?|thirty|forty[\s-]eight|sixty|seventy[\s-]two|"
              r"ninety|a|an|half\s+an?")
_NUM = rf"(?:\d+(?:[.,]\d+)?|\b(?:{_NUM_WORDS})\b)"
_LIST_NUM_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve")
_LIST_NUM = rf"(?:\d+(?:\.\d+)?|\b(?:{'|'.join(_LIST_NUM_WORDS)})\b)"
_UNIT = (r"(?:hours?|hrs?|h|minutes?|mins?|min|days?|d|weeks?|wks?|months?|mos?|years?|yrs?|y|seconds?|"
         r"secs?|s)")
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "1st": 1, "2nd": 2,
    "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10,
    "12th": 12, "24th": 24, "48th": 48,
}
_ORD = "|".join(sorted(_ORDINALS, key=len, reverse=True))

# Shared sub-patterns of the rules in ``patterns/timepoints.jsonl`` (written ``<<NAME>>`` there).
SUBPATTERNS: dict[str, str] = {"NUM": _NUM, "LIST_NUM": _LIST_NUM, "UNIT": _UNIT, "ORD": _ORD}
_SUB_RE = re.compile(r"<<([A-Z_]+)>>")
KINDS = ("list", "unit_first_list", "label", "ordinal", "elapsed", "baseline", "event")


def expand(pattern: str) -> str:
    """Replace ``<<NAME>>`` placeholders with the shared sub-patterns."""
    return _SUB_RE.sub(lambda m: SUBPATTERNS[m.group(1)], pattern)


_AGE_BEFORE_RE = re.compile(r"(?:aged?|ages|old|older|younger|median age|mean age|age range|"
                            r"history|duration|lasting|for more than|over the past)\W*(?:\w+\W+){0,2}$")
_AGE_AFTER_RE = re.compile(r"\s*(?:-?\s*old|of\s+age|of\s+experience|history|duration|earlier|ago|"
                           r"before\s+(?:inclusion|enrol)|prior\s+to\s+(?:inclusion|enrol))")


def _word_or_digit_value(raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    if raw[0].isdigit():
        try:
            return float(raw.replace(",", "."))
        except ValueError:
            return None
    if raw in ("a", "an"):
        return 1.0
    if raw.startswith("half"):
        return 0.5
    words = parse_number_words(raw)
    return float(words[0][2]) if len(words) == 1 else None


def _is_age_or_history(lower: str, start: int, end: int) -> bool:
    return (_AGE_BEFORE_RE.search(lower[max(0, start - 40):start]) is not None
            or _AGE_AFTER_RE.match(lower, end) is not None)


class TimepointFinder:
    """Time points from rules (``{"id", "kind", "pattern"}`` dicts, tried in order)."""

    def __init__(self, rules: Sequence[dict[str, Any]]) -> None:
        self.rules: list[tuple[str, str, re.Pattern[str]]] = []
        for r in rules:
            kind = r.get("kind")
            if kind not in KINDS:
                raise ValueError(f"time point rule {r.get('id')!r}: unknown kind {kind!r} "
                                 f"(one of {', '.join(KINDS)})")
            try:
                # (the rules start with a look-ahead for their first letters, to skip ahead to)
                rx = skip_to_lead(re.compile(expand(str(r["pattern"]))))
            except (KeyError, re.error) as exc:
                raise ValueError(f"time point rule {r.get('id')!r}: bad pattern: {exc}") from exc
            self.rules.append((str(r["id"]), str(kind), rx))
        # same matches, faster: split by first character where that pays, else (number-led rules)
        # searched for behind the characters that can come before a word
        scanners = [Scanner(rx) for _, _, rx in self.rules]
        # a rule scanned with its whole pattern is skipped where none of its suffix gates (literal
        # text first, see fastre.suffix_gates) finds anything: "the first hour" needs "st", "nd",
        # "rd" or "th" before a unit, which most abstracts lack
        self._gates = [_gates(rx) if scanner.parts is None else None
                       for (_, _, rx), scanner in zip(self.rules, scanners, strict=True)]
        self._scanners: list[Scanner | WordStartScanner] = [
            WordStartScanner(rx) if scanner.parts is None and WordStartScanner.applies(rx) else scanner
            for (_, _, rx), scanner in zip(self.rules, scanners, strict=True)]
        self._checks = [_NECESSARY.get(rule_id) for rule_id, _, _ in self.rules]

    def find(self, text: str, lower: str | None = None) -> list[TimePoint]:
        """Every time point in ``text`` (see the module docstring), in order, non-overlapping."""
        if lower is None:
            lower = text.lower()
        out: list[TimePoint] = []
        taken: list[tuple[int, int]] = []
        group = 0
        for (rule_id, kind, _rx), scanner, gates, check in zip(self.rules, self._scanners, self._gates,
                                                               self._checks, strict=True):
            if gates is not None and not any(g.search(lower) for g in gates):
                continue  # no match anywhere (a necessary condition failed)
            if check is not None and not check(lower):
                continue  # the same
            for m in scanner.finditer(lower):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                found = _READERS[kind](text, lower, m, rule_id, group)
                if not found:
                    continue
                if kind in ("list", "unit_first_list"):
                    group += 1
                out.extend(found)
                taken.extend((t.start, t.end) for t in found)
        out.sort(key=lambda t: t.start)
        return out


class WordStartScanner:
    """``finditer`` of a pattern whose matches start with a word character after a word boundary
    (``(?=[0-9otfsenah])\\b...``), with exactly the pattern's matches.

    Such a pattern is tried at every character of its look-ahead's class, most of them inside
    words, and that costs about 20 ns each even where it fails at once. A match starts the text or
    follows a character that is not a word character, nearly always a space: the pattern is
    searched for behind a space (literal text, which the engine skips ahead to at C speed) and
    behind any other character than a space, a-z or 0-9 (a class, scanned as fast as the
    look-ahead's), and tried where the last match ended. The leftmost of these is the pattern's
    next match; it is matched again at its own start, for its groups.
    """

    __slots__ = ("pattern", "parts")

    _LEAD = re.compile(r"\(\?=\[(?:[0-9](?:-[0-9])?|[a-z](?:-[a-z])?)+\]\)\\b")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.parts = [re.compile(f"{lead}(?:{pattern.pattern})", pattern.flags)
                      for lead in (" ", "[^ a-z0-9]")]

    @classmethod
    def applies(cls, pattern: re.Pattern[str]) -> bool:
        """Is ``pattern`` led by a look-ahead for digits and lower-case ASCII letters (all word
        characters) and a word boundary, and can it not match the empty string (which
        ``fastre.skip_to_lead`` checks)?"""
        plain = re.compile(pattern.pattern, pattern.flags)
        return cls._LEAD.match(pattern.pattern) is not None and skip_to_lead(plain) is not plain

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        match = self.pattern.match
        parts = self.parts
        upcoming = [part.search(text) for part in parts]  # each part's next match
        pos = 0
        while True:
            m = match(text, pos)
            if m is None:
                first: re.Match[str] | None = None
                for i, part in enumerate(parts):
                    behind = upcoming[i]
                    if behind is not None and behind.start() < pos:
                        behind = upcoming[i] = part.search(text, pos)
                    if behind is not None and (first is None or behind.start() < first.start()):
                        first = behind
                if first is None:
                    return
                m = match(text, first.start() + 1)
                assert m is not None  # (the part matched the pattern there)
            yield m
            pos = m.end()


def _gates(rx: re.Pattern[str]) -> list[re.Pattern[str]] | None:
    """``fastre.suffix_gates(rx)`` when checking them costs less than half of a scan with ``rx``
    (timed on ``fastre.SAMPLE``), else None."""
    gates = suffix_gates(rx)
    if gates is None:
        return None
    sample = SAMPLE.lower()
    gate_time = best_time(lambda: any(g.search(sample) for g in gates))
    scan_time = best_time(lambda: list(rx.finditer(sample)))
    return gates if gate_time < 0.5 * scan_time else None


# A list ends with its last separator, item and unit (", and 8 weeks"): a match of one of these,
# which start with literal text (the engine skips ahead to it at C speed, where the rule itself is
# tried at every digit and every "o", "t", "f", "s", "e" and "n")
_LIST_TAIL_RES = [re.compile(expand(rf"{sep}\s*(?:and\s+)?<<LIST_NUM>>\s*-?\s*<<UNIT>>\b"))
                  for sep in (",", "and", "&", "or")]
_LIST_NUM_ENDS = frozenset(word[-1] for word in _LIST_NUM_WORDS)


def _list_may_match(lower: str) -> bool:
    """False only where ``timepoint.list.v1`` finds no list in ``lower``: no separator in it is
    followed by an item and a unit (a match of ``_LIST_TAIL_RES``) and preceded by an item (past
    white space, a digit or the last letter of a number word).

    ``finditer`` of the tail patterns gives the tail at a list's last separator: an earlier tail
    could only hold it in its ``(?:and\\s+)?``, after "and" and white space, where no item ends (no
    item, unit or white space holds a separator)."""
    for tail_re in _LIST_TAIL_RES:
        for m in tail_re.finditer(lower):
            k = m.start() - 1
            while k >= 0 and lower[k].isspace():  # (str.isspace is the regex engine's \s)
                k -= 1
            if k >= 0 and (lower[k].isdecimal() or lower[k] in _LIST_NUM_ENDS):  # (and its \d)
                return True
    return False


_POST_ANESTHESIA_RE = re.compile(r"post-?anesthe")
_RECOVERY_ROOM_RE = re.compile(r"recovery\s+room")
_LAST_FOLLOW_UP_RES = [re.compile(rf"{word}\s+(?:available\s+)?follow")
                       for word in ("last", "final", "latest")]
_END_OF_RE = re.compile(r"end\s+of\s")


def _event_may_match(lower: str) -> bool:
    """False only where ``timepoint.event.v1`` finds no event in ``lower``: each of its alternatives
    holds "discharge", "pacu", or a match of one of these patterns (which start with literal text,
    and are looked for only where the rarer word in them is). The rule itself is scanned for "the",
    "a", "p", "on" and "end" (about 0.02 ms per abstract); 14% of pain abstracts pass."""
    return ("discharge" in lower or "pacu" in lower
            or ("anesthe" in lower and _POST_ANESTHESIA_RE.search(lower) is not None)
            or ("recovery" in lower and _RECOVERY_ROOM_RE.search(lower) is not None)
            or ("follow" in lower and any(r.search(lower) for r in _LAST_FOLLOW_UP_RES))
            or _END_OF_RE.search(lower) is not None)


# Necessary conditions for a rule's match, checked on the whole text before it is scanned: a rule
# id names one pattern (a changed pattern gets a new id), so a check stays true to its rule.
_NECESSARY: dict[str, Callable[[str], bool]] = {
    "timepoint.list.v1": _list_may_match, "timepoint.event.v1": _event_may_match,
}


def _list(text: str, lower: str, m: re.Match[str], rule_id: str, group: int) -> list[TimePoint]:
    """ "at 1, 4 and 8 weeks", "6, 12, 18 and 24 hour": one time point per item."""
    unit = m.group("unit")
    per = unit_days(unit)
    if per is None or unit in ("s", "y", "d") or _is_age_or_history(lower, m.start(), m.end()):
        return []
    items = list(_LIST_ITEM_RE.finditer(m.group("items")))
    if len(items) < 2:
        return []
    base = m.start("items")
    values = [_word_or_digit_value(i.group(0)) for i in items]
    out: list[TimePoint] = []
    for i, v in zip(items, values, strict=True):
        if v is None:
            return []
        s, e = base + i.start(), base + i.end()
        if i is items[-1]:
            e = m.end()
        out.append(TimePoint(s, e, f"{text[base + i.start():base + i.end()]} "
                                   f"{text[m.start('unit'):m.end('unit')]}",
                             v * per, "list", group, rule_id))
    return out


def _unit_first_list(text: str, lower: str, m: re.Match[str], rule_id: str,
                     group: int) -> list[TimePoint]:
    """ "weeks 6, 12, and 16", "visits 1 and 2"."""
    unit = m.group("unit")
    per = None if unit.startswith("visit") else unit_days(unit)
    base = m.start("items")
    return [TimePoint(base + i.start(), base + i.end(),
                      f"{text[m.start('unit'):m.end('unit')]} {i.group(0)}",
                      None if per is None else float(i.group(0)) * per, "list", group, rule_id)
            for i in re.finditer(r"\d+", m.group("items"))]


def _label(text: str, lower: str, m: re.Match[str], rule_id: str, group: int) -> list[TimePoint]:
    """ "day 15", "week 12", "POD 2"."""
    label = re.sub(r"\s+", " ", m.group("label"))
    n = float(m.group("num"))
    days: float | None
    if label in ("day", "pod", "postoperative day", "post-operative day"):
        days = n
    elif label == "visit":
        days = None
    else:
        per = unit_days(label)
        days = None if per is None else n * per
    return [TimePoint(m.start(), m.end(), text[m.start():m.end()], days, "label", -1, rule_id)]


def _ordinal(text: str, lower: str, m: re.Match[str], rule_id: str, group: int) -> list[TimePoint]:
    """ "the first hour" (the hour ending at 1 h), "fourth week"."""
    n = _ORDINALS[m.group("ord")]
    unit = m.group("unit")
    per = 1.0 if unit.endswith("day") else unit_days(unit)
    return [TimePoint(m.start(), m.end(), text[m.start():m.end()],
                      None if per is None else n * per, "ordinal", -1, rule_id)]


def _elapsed(text: str, lower: str, m: re.Match[str], rule_id: str, group: int) -> list[TimePoint]:
    """ "24 h", "24-hour", "six weeks" — not ages ("aged 18 years") or calendar years."""
    unit, num = m.group("unit"), m.group("num")
    if unit in ("s", "y", "d") and not num[:1].isdigit():
        return []
    if num in ("a", "an") and unit in ("s", "y", "d", "h", "min", "mo"):
        return []
    v = _word_or_digit_value(num)
    per = unit_days(unit)
    if v is None or per is None or _is_age_or_history(lower, m.start(), m.end()):
        return []
    if re.match(r"\d{4}$", num):
        return []  # "2010 y" is a calendar year
    return [TimePoint(m.start(), m.end(), text[m.start():m.end()], v * per, "elapsed", -1, rule_id)]


def _baseline(text: str, lower: str, m: re.Match[str], rule_id: str, group: int) -> list[TimePoint]:
    return [TimePoint(m.start(), m.end(), text[m.start():m.end()], 0.0, "baseline", -1, rule_id)]


def _event(text: str, lower: str, m: re.Match[str], rule_id: str, group: int) -> list[TimePoint]:
    return [TimePoint(m.start(), m.end(), text[m.start():m.end()], None, "event", -1, rule_id)]


_Reader = Callable[[str, str, "re.Match[str]", str, int], list[TimePoint]]
_READERS: dict[str, _Reader] = {
    "list": _list, "unit_first_list": _unit_first_list, "label": _label, "ordinal": _ordinal,
    "elapsed": _elapsed, "baseline": _baseline, "event": _event,
}
_LIST_ITEM_RE = re.compile(_LIST_NUM)


@lru_cache(maxsize=1)
def default_finder() -> TimepointFinder:
    """A finder with the rules shipped in ``patterns/timepoints.jsonl``."""
    from extractor.nlp.rules import read_packaged_rules

    return TimepointFinder(read_packaged_rules("timepoints"))


def find_timepoints(text: str, lower: str | None = None) -> list[TimePoint]:
    """Every time point in ``text`` with the packaged rules (see the module docstring)."""
    return default_finder().find(text, lower)
