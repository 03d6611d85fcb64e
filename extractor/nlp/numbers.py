"""Find and normalise the numbers in a text: pure functions over strings, no spaCy.

``find_numbers(text)`` returns every number with its character offsets and value:

* digits with ``.`` or ``·`` (U+00B7) as the decimal point, a decimal comma (``0,03``,
  ``2,5 mg``), thousands separators (``1,600``; ``12 500`` with a thin or no-break space), a
  leading ``.`` (``.001``);
* signs: ``-``, ``+`` and ``−`` (U+2212) written against the digits count as a sign; a hyphen
  between two numbers (``0-9``, ``260 - 320``) is a range, not a sign;
* number words: ``Twenty-one``, ``one hundred five``, ``One thousand three hundred and twenty
  eight`` (1328), ``fourty`` (a common misspelling);
* scientific notation as written in p-values: ``1.2e-5``, ``1.2 × 10-5``, ``10(-4)``, ``10^-4``,
  ``10⁻⁴``.

Each :class:`Number` records whether it was written with digits or words, with a sign, as an
integer, and whether a percent sign follows. Offsets always slice to the number's text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from functools import lru_cache

from extractor.nlp.fastre import Scanner, skip_to_lead

__all__ = ["Number", "find_numbers", "parse_number", "parse_number_words", "WORD_NUMBER_RE"]

# A value in an abstract that is not finite, or is absurdly large, is not a statistic.
MAX_ABS_VALUE = 1e15


@dataclass(frozen=True, slots=True, init=False)
class Number:
    """One number found in a text. ``text == source[start:end]``."""

    start: int
    end: int
    value: float
    text: str
    is_int: bool
    words: bool = False  # written as words ("Twenty-one")
    signed: bool = False  # an explicit sign belongs to the number
    percent: bool = False  # followed by "%" / "percent"
    sci: bool = False  # scientific notation

    def __init__(self, start: int, end: int, value: float, text: str, is_int: bool, words: bool = False,
                 signed: bool = False, percent: bool = False, sci: bool = False) -> None:
        # What the __init__ of a frozen dataclass does (object.__setattr__ per field), through the
        # slots' own setters: half the cost, and every number of every abstract is built here.
        _SET_START(self, start)
        _SET_END(self, end)
        _SET_VALUE(self, value)
        _SET_TEXT(self, text)
        _SET_IS_INT(self, is_int)
        _SET_WORDS(self, words)
        _SET_SIGNED(self, signed)
        _SET_PERCENT(self, percent)
        _SET_SCI(self, sci)

    @property
    def int_value(self) -> int | None:
        """The value as an ``int`` when it is integral and was written without a decimal part."""
        return int(self.value) if self.is_int else None


(_SET_START, _SET_END, _SET_VALUE, _SET_TEXT, _SET_IS_INT, _SET_WORDS, _SET_SIGNED, _SET_PERCENT,
 _SET_SCI) = (Number.__dict__[f.name].__set__ for f in fields(Number))


# ---------------------------------------------------------------------------------------------
# Number words

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
_HYPHENS = "-\u2010\u2011\u2012\u2013"  # hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash
WORD_NUMBER_RE = re.compile(
    rf"(?<![\w-])(?:{_WORD})(?:(?:[ \t]*[{_HYPHENS}][ \t]*|[ \t]+(?:and[ \t]+)?)(?:{_WORD}))*(?![\w])",
    re.IGNORECASE,
)
# the same on lower-cased text (several times faster than IGNORECASE); offsets are unchanged
# because lower-casing keeps the length of these ASCII words
_WORD_NUMBER_LOWER_RE = re.compile(
    rf"(?<![\w-])(?:{_WORD})(?:(?:[ \t]*[{_HYPHENS}][ \t]*|[ \t]+(?:and[ \t]+)?)(?:{_WORD}))*(?![\w])")
_WORD_PIECE_RE = re.compile(rf"(?:{_WORD})", re.IGNORECASE)
_WORD_NUMBER_LOWER_SCAN = Scanner(_WORD_NUMBER_LOWER_RE)  # the same matches, found faster


def parse_number_words(text: str) -> list[tuple[int, int, int]]:
    """Split a run of number words into numbers: ``[(start, end, value), ...]`` (offsets in text).

    "Twenty-one" → 21; "one hundred and five" → 105; "two three" → 2 and 3 (two numbers);
    "One thousand three hundred and twenty eight" → 1328.
    """
    return list(_parse_number_words(text))


@lru_cache(maxsize=4096)
def _parse_number_words(text: str) -> tuple[tuple[int, int, int], ...]:
    out: list[tuple[int, int, int]] = []
    total = 0  # completed thousands
    current = 0  # below a thousand
    last_kind = ""  # "unit", "teen", "tens", "hundred", "thousand"
    start = end = -1

    def flush() -> None:
        nonlocal total, current, start, end, last_kind
        if start >= 0:
            out.append((start, end, total + current))
        total = current = 0
        start = end = -1
        last_kind = ""

    for m in _WORD_PIECE_RE.finditer(text):
        w = m.group(0).lower()
        if w in _UNITS:
            v = _UNITS[w]
            kind = "unit" if v < 10 else "teen"
            # a unit may follow tens ("twenty one"), a scale ("hundred five") or start a number
            if last_kind in ("unit", "teen") or (last_kind == "tens" and kind == "teen"):
                flush()
            current += v
        elif w in _TENS:
            if last_kind in ("unit", "teen", "tens"):
                flush()
            current += _TENS[w]
            kind = "tens"
        elif w == "hundred":
            if last_kind in ("", "hundred", "thousand"):
                # "hundred" alone or after another scale word is not a count we trust
                flush()
                continue
            current = (current or 1) * 100
            kind = "hundred"
        else:  # thousand
            if last_kind == "" or last_kind == "thousand":
                flush()
                continue
            total += (current or 1) * 1000
            current = 0
            kind = "thousand"
        if start < 0:
            start = m.start()
        end = m.end()
        last_kind = kind
    flush()
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Digits

_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_NBSP = "\u00a0\u2009\u202f\u2007"
# compiled with skip_to_lead: the regex engine skips ahead to the characters of the look-ahead
_DIGIT_RE = skip_to_lead(re.compile(
    r"""
    (?=[0-9.·])                                   # (the characters a number starts with)
    (?<![\w.·])                                   # not inside a word or another number
    (?:
        (?P<sci_only>10\s?(?:\^\s?|\(\s?)[-−–]\s?\d+\)?|10[⁻][⁰¹²³⁴⁵⁶⁷⁸⁹]+)  # 10^-4, 10(-4), 10⁻⁴
      | (?P<num>
            \d{1,3}(?:,\d{3})+(?![,\d])           # 1,600  12,500,000
          | \d{1,3}(?:[\u00a0\u2009\u202f]\d{3})+(?![\d])   # 12 500 (thin / no-break space)
          | (?<!\d,)\d+,\d{1,2}(?![\d,])(?!\s*(?:,|and\b|or\b|&|to\b)\s*\d)   # decimal comma 0,03  2,5
          | \d+(?:[.·]\d+)?                       # 12  6.8  6·8
          | [.·]\d+                               # .001
        )
        (?P<exp>
            [eE][-−+]?\d+                         # 1.2e-5
          | \s?[x×*]\s?10\s?(?:\^\s?|\(\s?)?[-−–]\s?\d+\)?   # 1.2 × 10-5, 3x10^-4, 2 x 10(-3)
          | \s?[x×*]\s?10[⁻][⁰¹²³⁴⁵⁶⁷⁸⁹]+         # 1.2 × 10⁻⁵
        )?
    )
    """,
    re.VERBOSE,
))
_NOT_INT_RE = re.compile(r"[.·]|(?<!\d),|,(?!\d{3}(?!\d))")
_PERCENT_RE = re.compile(r"\s?(?:%|per\s?cent\b|pct\b)", re.IGNORECASE)
_SIGN_CHARS = "-−+"
_ANY_SIGN = "-−+–"
_SIGN_SOFT = "–"  # en dash: a sign only right after an opening bracket, '=' or ':'


def _sign_before(text: str, start: int) -> int:
    """If a sign written against the number at ``start`` belongs to it, return its offset."""
    if start == 0:
        return -1
    c = text[start - 1]
    if c not in _SIGN_CHARS and c != _SIGN_SOFT:
        return -1
    before = text[start - 2] if start >= 2 else ""
    if c == _SIGN_SOFT:
        return start - 1 if before in "([=:" else -1
    if before == "/" and start >= 3 and text[start - 3] == "+":
        return -1  # "5.3+/-1.2": the "-" belongs to "+/-"
    if before == "" or before in " \t\n([{=:;,<>≤≥/" or before in _NBSP:
        # "0 -9"? a hyphen preceded by a number and a space then glued to the next number is
        # still a range in spaced (tokenised) texts such as "260 - 320"; we only reject when
        # the hyphen is spaced on both sides, which the check on ``c`` already excludes.
        if before in " \t" and start >= 3 and c == "-" and text[start - 3].isdigit():
            # "12 -15" is a range far more often than a negative number
            return -1
        return start - 1
    return -1


def _parse_digits(s: str) -> float:
    if "," not in s and s.isascii():
        return float(s)  # "6.8", ".001": nothing to normalise (the common case)
    s = s.replace("·", ".").replace("−", "-")
    if "," in s:
        head, _, tail = s.partition(",")
        # thousands separators, else a decimal comma
        s = s.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", s) else f"{head}.{tail}"
    for ch in _NBSP:
        s = s.replace(ch, "")
    return float(s)


def _parse_exp(s: str) -> int:
    s = s.translate(_SUP)
    m = re.search(r"([-−–+]?)\s?(\d+)\)?$", s)
    if not m:
        raise ValueError(s)
    sign = -1 if m.group(1) in ("-", "−", "–") else 1
    return sign * int(m.group(2))


@lru_cache(maxsize=65536)
def parse_number(text: str) -> float | None:
    """The value of one number as written (digits, words, signs, decimal comma); else None.

    >>> parse_number("−3.2"), parse_number("0,03"), parse_number("Twenty-one"), parse_number("6·8")
    (-3.2, 0.03, 21.0, 6.8)
    """
    found = find_numbers(text)
    if len(found) != 1:
        return None
    n = found[0]
    # the number must be the whole text (a trailing percent sign is allowed)
    if n.start != 0 or text[n.end:].strip() not in ("", "%"):
        return None
    return n.value


def find_numbers(text: str, lower: str | None = None) -> list[Number]:
    """Every number in ``text``, in order, with offsets (see the module docstring)."""
    out: list[Number] = []
    append = out.append
    for m in _DIGIT_RE.finditer(text):
        start, end = m.span()
        sci_only, raw_num, exp = m.groups()  # the groups "sci_only", "num", "exp"
        if raw_num is not None and exp is None and raw_num.isdigit() and len(raw_num) <= 15:
            value, is_int, sci = float(raw_num), True, False  # the common case: plain digits
        else:
            try:
                if sci_only:
                    value = 10.0 ** _parse_exp(sci_only[2:])
                    is_int, sci = False, True
                else:
                    assert raw_num is not None
                    value = _parse_digits(raw_num)
                    is_int = not _NOT_INT_RE.search(raw_num)
                    sci = False
                    if exp:
                        e = _parse_exp(exp[1:] if exp[0] in "eE" else exp.split("10", 1)[1])
                        value = value * 10.0 ** e
                        is_int, sci = False, True
            except (ValueError, OverflowError):
                continue
            if not math.isfinite(value) or abs(value) > MAX_ABS_VALUE:
                continue
        signed = False
        if start and text[start - 1] in _ANY_SIGN:
            s = _sign_before(text, start)
            if s >= 0:
                if text[s] in "-−–":
                    value = -value
                start, signed = s, True
        nxt = text[end:end + 1]
        pm = nxt == "%" or (nxt in " \u00a0\u2009pP" and _PERCENT_RE.match(text, end) is not None)
        append(Number(start, end, value + 0.0, text[start:end], is_int, False, signed, pm, sci))
    lower = text.lower() if lower is None else lower
    word_re = _WORD_NUMBER_LOWER_RE if len(lower) == len(text) else WORD_NUMBER_RE
    words = (_WORD_NUMBER_LOWER_SCAN.finditer(lower) if word_re is _WORD_NUMBER_LOWER_RE
             else word_re.finditer(text))
    for m in words:
        base = m.start()
        for a, b, v in _parse_number_words(text[m.start():m.end()]):
            start, end = base + a, base + b
            percent_sign = _PERCENT_RE.match(text, end)
            out.append(Number(start, end, float(v), text[start:end], True, True, False,
                              percent_sign is not None, False))
    if out and any(n.words for n in out):
        out.sort(key=lambda n: n.start)
    return out
