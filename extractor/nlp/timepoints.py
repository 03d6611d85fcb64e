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
from dataclasses import dataclass

from extractor.nlp.numbers import parse_number_words

__all__ = ["TimePoint", "find_timepoints", "unit_days"]


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
_LIST_NUM = r"(?:\d+(?:\.\d+)?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve)\b)"
_UNIT = (r"(?:hours?|hrs?|h|minutes?|mins?|min|days?|d|weeks?|wks?|months?|mos?|years?|yrs?|y|seconds?|"
         r"secs?|s)")
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "1st": 1, "2nd": 2,
    "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10,
    "12th": 12, "24th": 24, "48th": 48,
}
_ORD = "|".join(sorted(_ORDINALS, key=len, reverse=True))

# All patterns run on lower-cased text. Each starts with a look-ahead for the first letters its
# words can start with, which lets the regex engine skip ahead quickly.
_LIST_RE = re.compile(
    rf"(?=[0-9otfsen])\b(?P<items>{_LIST_NUM}(?:\s*(?:,|and|&|or)\s*(?:and\s+)?{_LIST_NUM}){{1,12}})\s*-?\s*(?P<unit>{_UNIT})\b"
)
_UNIT_FIRST_LIST_RE = re.compile(
    r"(?=[dwmyhv])\b(?P<unit>days?|weeks?|months?|years?|hours?|visits?)\s+(?P<items>\d+(?:\s*(?:,|and|&)\s*(?:and\s+)?\d+){1,12})\b"
)
_ELAPSED_RE = re.compile(rf"(?=[0-9otfsenah])\b(?P<num>{_NUM})\s*-?\s*(?P<unit>{_UNIT})\b")
_LABEL_RE = re.compile(
    r"(?=[pdwmyv])\b(?P<label>postoperative\s+day|post-operative\s+day|pod|day|week|month|year|visit)\s*"
    r"(?P<num>\d+)\b"
)
_ORDINAL_RE = re.compile(
    rf"(?=[tfsen0-9])\b(?:the\s+)?(?P<ord>{_ORD})\s+(?P<unit>hour|day|week|month|year|postoperative\s+day)\b"
)
_BASELINE_RE = re.compile(
    r"(?=[bpat])\b(?:baseline|base-line|pre-?treatment|pretherapy|pre-?intervention|pre-?injection|"
    r"pre-?operative(?:ly)?|pre-?procedur(?:e|al)|pre-?op|pre-?randomi[sz]ation|at\s+entry|"
    r"at\s+inclusion|at\s+enrol(?:l)?ment|t0|"
    r"before\s+(?:the\s+)?(?:treatment|intervention|injection|surgery|operation|procedure|"
    r"therapy|randomi[sz]ation|block|start\s+of\s+treatment)|prior\s+to\s+(?:the\s+)?"
    r"(?:treatment|intervention|injection|surgery|randomi[sz]ation|therapy|procedure))\b"
)
_EVENT_RE = re.compile(
    r"(?=[tlfeaopr])\b(?:(?:the\s+)?(?:last|final|latest)\s+(?:available\s+)?follow-?\s?up|end\s+of\s+(?:the\s+)?"
    r"(?:study|treatment|trial|follow-?\s?up|therapy|intervention)|(?:at|on|after)\s+discharge|"
    r"(?:the\s+)?(?:pacu|post-?anesthe(?:tic|sia)\s+care\s+unit|recovery\s+room))\b"
)
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


def find_timepoints(text: str, lower: str | None = None) -> list[TimePoint]:
    """Every time point in ``text`` (see the module docstring), in order, non-overlapping."""
    if lower is None:
        lower = text.lower()
    out: list[TimePoint] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return not any(a < e and s < b for a, b in taken)

    def add(tp: TimePoint) -> None:
        out.append(tp)
        taken.append((tp.start, tp.end))

    group = 0
    # lists first: "at 1, 4 and 8 weeks", "6, 12, 18 and 24 hour"
    for m in _LIST_RE.finditer(lower):
        unit = m.group("unit")
        per = unit_days(unit)
        if per is None or unit in ("s", "y", "d") or _is_age_or_history(lower, m.start(), m.end()):
            continue
        items = list(re.finditer(_LIST_NUM, m.group("items")))
        if len(items) < 2:
            continue
        base = m.start("items")
        values = [_word_or_digit_value(i.group(0)) for i in items]
        if any(v is None for v in values):
            continue
        for i, v in zip(items, values, strict=True):
            s, e = base + i.start(), base + i.end()
            if i is items[-1]:
                e = m.end()
            assert v is not None
            add(TimePoint(s, e, f"{text[base + i.start():base + i.end()]} "
                                f"{text[m.start('unit'):m.end('unit')]}",
                          v * per, "list", group, "timepoint.list.v1"))
        group += 1
    for m in _UNIT_FIRST_LIST_RE.finditer(lower):
        if not free(m.start(), m.end()):
            continue
        unit = m.group("unit")
        per = None if unit.startswith("visit") else unit_days(unit)
        items = list(re.finditer(r"\d+", m.group("items")))
        base = m.start("items")
        for i in items:
            s, e = base + i.start(), base + i.end()
            v = float(i.group(0))
            add(TimePoint(s, e, f"{text[m.start('unit'):m.end('unit')]} {i.group(0)}",
                          None if per is None else v * per, "list", group, "timepoint.unit_first_list.v1"))
        group += 1
    for m in _LABEL_RE.finditer(lower):
        if not free(m.start(), m.end()):
            continue
        label = re.sub(r"\s+", " ", m.group("label"))
        n = float(m.group("num"))
        if label in ("day", "pod", "postoperative day", "post-operative day"):
            days: float | None = n
        elif label == "visit":
            days = None
        else:
            per = unit_days(label)
            days = None if per is None else n * per
        add(TimePoint(m.start(), m.end(), text[m.start():m.end()], days, "label", -1,
                      "timepoint.label_number.v1"))
    for m in _ORDINAL_RE.finditer(lower):
        if not free(m.start(), m.end()):
            continue
        n = _ORDINALS[m.group("ord")]
        unit = m.group("unit")
        per = 1.0 if unit.endswith("day") else unit_days(unit)
        # "the first hour" is the hour ending at 1 h; "first 12 hours" is a period (not here)
        add(TimePoint(m.start(), m.end(), text[m.start():m.end()],
                      None if per is None else n * per, "ordinal", -1, "timepoint.ordinal.v1"))
    for m in _ELAPSED_RE.finditer(lower):
        if not free(m.start(), m.end()):
            continue
        unit = m.group("unit")
        if unit in ("s", "y", "d") and not re.match(r"\d", m.group("num")):
            continue
        if m.group("num") in ("a", "an") and unit in ("s", "y", "d", "h", "min", "mo"):
            continue
        v = _word_or_digit_value(m.group("num"))
        per = unit_days(unit)
        if v is None or per is None or _is_age_or_history(lower, m.start(), m.end()):
            continue
        if re.match(r"\d{4}$", m.group("num")):
            continue  # "2010 y" is a calendar year
        add(TimePoint(m.start(), m.end(), text[m.start():m.end()], v * per, "elapsed", -1,
                      "timepoint.elapsed.v1"))
    for m in _BASELINE_RE.finditer(lower):
        if not free(m.start(), m.end()):
            continue
        add(TimePoint(m.start(), m.end(), text[m.start():m.end()], 0.0, "baseline", -1,
                      "timepoint.baseline.v1"))
    for m in _EVENT_RE.finditer(lower):
        if not free(m.start(), m.end()):
            continue
        add(TimePoint(m.start(), m.end(), text[m.start():m.end()], None, "event", -1,
                      "timepoint.event.v1"))
    out.sort(key=lambda t: t.start)
    return out
