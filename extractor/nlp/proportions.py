"""Proportions of patients reaching a pain outcome (pure functions, no spaCy).

Read at each number of a sentence that names a pain outcome (pain relief, pain-free, rescue
analgesia, responders, moderate/severe pain, ...):

* ``34/64 (53.1%)``, ``34/64; 53.1%``, ``97.3 % ( 146/150 )``, ``8 (19.5%)``, ``Twenty - four
  patients ( 77 % )``, ``442 (52%) of 856``, ``three [4%]``;
* ``11 of 31``, ``9 out of 13 patients``;
* ``44% vs 17%``, ``30 % of the subjects``, ``Fifty-nine percent``.

A percent that is not a share of patients is skipped: concentrations (``0.5 % bupivacaine``),
percent changes of a score ("reduced by 40%", "59% decrease": those are scores with
``stat: other``), thresholds that define the outcome ("≥50% reduction", "at least 30%"),
confidence levels (``95% CI``) and baseline characteristics (``56 % female``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from extractor.nlp.arms import arm_name_after
from extractor.nlp.fastre import Scanner
from extractor.nlp.intervals import NumberIndex
from extractor.nlp.lexicon import PAIN_LOWER_RE, doc_about_pain, pain_acronyms
from extractor.nlp.numbers import Number
from extractor.nlp.rules import split_expression_rules
from extractor.nlp.scores import TimeInfo
from extractor.nlp.segment import BACKGROUND_SECTIONS, section_of

__all__ = ["ProportionValue", "ProportionFinder"]


@dataclass(slots=True)
class ProportionValue:
    start: int
    end: int
    what: str
    events: int | None
    total: int | None
    percent: float | None
    rule: str
    confidence: float
    arm: str | None = None
    timepoint: str | None = None
    days: float | None = None
    features: dict[str, Any] = field(default_factory=dict)


_SP = r"[ \t\u00a0\u2009\u202f\u200a]"
_THRESHOLD_BEFORE = re.compile(r"(?:[<>≤≥]|=\s*|\bat\s+least|\bmore\s+than|\bless\s+than|\bgreater\s+than|"
                               r"\bover|\bunder|\babove|\bbelow|\bup\s+to|\bby|\bof\s+at\s+least|\bor)\s*$")
# "the (pooled) proportion of patients experiencing pain relief was": a share given as a fraction
_SHARE_FRACTION_BEFORE = re.compile(r"\b(?:proportion|fraction|share)\s+of\s+(?:the\s+|all\s+)?(?:\w+\s+)?"
                                    r"(?:patients|subjects|participants|women|men|children|cases|responders)"
                                    r"\b[^.;:\d]{0,80}?\b(?:was|were|is|reached|of)\s*$")
_OPERATOR_BEFORE = re.compile(r"(?:[<>≤≥]|=<|>=|\bat\s+least)\s*$")
# What ``_sentence`` reads right after a whole number (see there): "34/64", "8 (19.5%)", "9 patients
# (53%)", "1 patient (of 30)", "11 of 31", and the gap between the counts of a list ("8, 9 and 9")
_FRACTION_SEP_RE = re.compile(rf"{_SP}?/{_SP}?")
_COUNT_BRACKET = (rf"{_SP}*(?:(?:[a-z]+{_SP}+)?(?:patients|subjects|participants|women|men|children|"
                  rf"cases|pts|infants|volunteers|individuals){_SP}*)?[(\[]{_SP}*")
_COUNT_BRACKET_RE = re.compile(_COUNT_BRACKET, re.IGNORECASE)
_OF_BRACKET = (rf"{_SP}*(?:(?:patients?|subjects?|participants?|women|men|children|cases|pts){_SP}*)?"
               rf"[(\[]{_SP}*(?:out{_SP}+)?of{_SP}+")
_OF_BRACKET_RE = re.compile(_OF_BRACKET, re.IGNORECASE)
_OF_TOTAL = rf"{_SP}+(?:out{_SP}+)?of{_SP}+(?:the{_SP}+|all{_SP}+)?"
_OF_TOTAL_RE = re.compile(_OF_TOTAL)
_LIST_GAP_RE = re.compile(rf"{_SP}*,?{_SP}*(?:and{_SP}+)?")
# any of the four patterns after a whole number: ``_may_hold_proportion`` asks this once per number
_COUNT_LEAD_RE = re.compile(rf"{_FRACTION_SEP_RE.pattern}|(?i:{_COUNT_BRACKET})|(?i:{_OF_BRACKET})|"
                            rf"{_OF_TOTAL}")
_SHARE_WORDS = re.compile(r"proportion|fraction|share")  # literal start: a fast pre-check
_BACKGROUND_SECTION_RE = re.compile(r"\b(?:BACKGROUND|OBJECTIVES?|AIMS?|PURPOSE|INTRODUCTION|CONTEXT)\b")
_BACKGROUND_SECTION_SCAN = Scanner(_BACKGROUND_SECTION_RE)  # the same matches, found faster
# ``\b9[059]...`` written with the 9 first (``(?<!\w9)`` is the ``\b`` before it), so the regex
# engine skips ahead to each "9" instead of trying every position: the same matches, found faster
_CI_SPAN_RE = re.compile(r"9(?<!\w9)[059]\s?%\s?(?:CI|Cl|"
                         r"confidence\s+intervals?)\b[^)\];]{0,40}", re.IGNORECASE)
_OUTCOME_WHAT = re.compile(
    r"(?:complete(?:ly)?\s+|effective\s+|adequate\s+|meaningful\s+|significant\s+)?pain[\s-]+(?:relief|free(?:dom)?)"
    r"|relie(?:f|ved)(?:\s+of\s+pain)?|(?:moderate|severe|mild|no|chronic|persistent|postoperative|"
    r"moderate[\s/-]+(?:to[\s-]+)?severe)\s+(?:\w+\s+)?pain|rescue\s+(?:analgesi\w+|medication)"
    r"|(?:required|requiring|needed|received)\s+(?:\w+\s+){0,2}analgesi\w+|responders?|response|"
    r"(?:\w+\s+){0,2}pain|headache\w*|migraine\w*")


def _may_hold_proportion(text: str, lower: str, s_start: int, s_end: int, nums: Sequence[Number]) -> bool:
    """False only when ``ProportionFinder._sentence`` finds nothing among ``nums`` (the free numbers
    of a sentence): each of its expressions needs a percent, a share written as a fraction (a
    number in (0, 1] after "proportion", "fraction" or "share"), a whole number followed by one
    of the patterns of ``_COUNT_LEAD_RE``, or two whole numbers in a row of a count list."""
    prev: Number | None = None  # the previous number, when it can be an item of a count list
    for n in nums:
        if n.is_int and not n.percent and not n.words:
            if prev is not None and _LIST_GAP_RE.fullmatch(text[prev.end:n.start]):
                return True
            prev = n
        else:
            prev = None
        if n.sci or n.signed:
            continue  # read as nothing but an item of a count list
        if n.percent:
            return True
        if n.is_int:
            if _COUNT_LEAD_RE.match(text[n.end:min(s_end, n.end + 40)]):
                return True
        elif 0 < n.value <= 1 and _SHARE_WORDS.search(lower, s_start, n.start):
            return True
    return False


class ProportionFinder:
    def __init__(self, rules: Sequence[dict[str, Any]]) -> None:
        self.rule_ids, self.confidence, lex = split_expression_rules(
            rules, "proportions", ("outcome", "weak_outcome", "not_people"))
        self.outcome_re = re.compile(lex["outcome"])
        self.weak_re = re.compile(lex["weak_outcome"])
        self.not_people_re = re.compile(lex["not_people"])
        self._outcome_scan = Scanner(self.outcome_re)  # the same matches, found faster
        self._weak_scan = Scanner(self.weak_re)
        # optional: response words that count as a pain outcome anywhere in an abstract that talks
        # about pain at least ``pain_doc_mentions`` times
        self.response_re = re.compile(lex["response"]) if "response" in lex else None
        self._response_scan = Scanner(self.response_re) if self.response_re is not None else None
        self.pain_doc_mentions = 4

    def _rule(self, name: str) -> tuple[str, float]:
        return self.rule_ids.get(name, f"proportion.{name}.v1"), self.confidence.get(name, 0.6)

    def find(self, text: str, sentences: Sequence[tuple[int, int]], numbers: Sequence[Number],
             blocked: Sequence[tuple[int, int]], timepoints: Sequence[TimeInfo]) -> list[ProportionValue]:
        lower = text.lower()
        out: list[ProportionValue] = []
        by_start = {n.start: n for n in numbers}
        acronyms = pain_acronyms(text)
        acronym_re = (re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(acronyms))) + r")\b")
                      if acronyms else None)
        # the bounds of a confidence interval are not proportions of patients
        blocked = [*blocked, *((m.start(), m.end()) for m in _CI_SPAN_RE.finditer(text))]
        free = NumberIndex(numbers, blocked)
        pain_doc: bool | None = None  # computed when first needed: for a sentence with a response word
        for s_start, s_end in sentences:
            # a sentence without a free number has no proportion (checked before its cue words)
            nums = free.between(s_start, s_end)
            if not nums or not _may_hold_proportion(text, lower, s_start, s_end, nums):
                continue  # (two in three sentences with numbers: cheaper than their cue words)
            sent = lower[s_start:s_end]
            cues = [(m.start() + s_start, m.end() + s_start, True) for m in self._outcome_scan.finditer(sent)]
            cues += [(m.start() + s_start, m.end() + s_start, False) for m in self._weak_scan.finditer(sent)]
            if self._response_scan is not None:
                # "the response rate", "responders": in an abstract about pain, a pain response
                responses = [(m.start() + s_start, m.end() + s_start, True)
                             for m in self._response_scan.finditer(sent)]
                if responses and pain_doc is None:
                    pain_doc = doc_about_pain(lower, self.pain_doc_mentions)
                if responses and pain_doc:
                    cues += responses
            if acronym_re is not None:
                cues += [(m.start(), m.end(), True) for m in acronym_re.finditer(text, s_start, s_end)]
            if not cues or _BACKGROUND_SECTION_SCAN.search(text, max(0, s_start - 400), s_start + 30) and \
                    section_of(text, s_start + 25) in BACKGROUND_SECTIONS:
                continue
            pain_in_sentence = PAIN_LOWER_RE.search(sent) is not None or (
                acronym_re is not None and acronym_re.search(text, s_start, s_end) is not None)
            found = self._sentence(text, lower, s_start, s_end, nums, by_start)
            # the outcome must be named close to the number, in the same clause
            found = [p for p in found if self._near_cue(lower, p, cues, s_start, s_end, pain_in_sentence)]
            if found:
                tps = [t for t in timepoints if s_start <= t.start < s_end]
                for p in found:
                    p.what = self._what(lower, max(s_start, p.start - 120), min(s_end, p.end + 80),
                                        s_start, s_end)
                    self._context(text, lower, s_start, s_end, p, tps)
                out.extend(found)
        return out

    @staticmethod
    def _near_cue(lower: str, p: ProportionValue, cues: list[tuple[int, int, bool]], s_start: int, s_end: int,
                  pain_in_sentence: bool) -> bool:
        lo, hi = max(s_start, p.start - 250), min(s_end, p.end + 130)
        if re.search(r"\bbaseline\b|\bat\s+entry\b|\bbefore\s+(?:treatment|surgery|randomi)",
                     lower[max(s_start, p.start - 60):p.start]):
            return False  # a characteristic of the sample at baseline, not an outcome
        if re.search(r"\bpain\w*\s*[(\[]\s*$|\bpain\w*\s*(?:in|"
                     r":)\s*$", lower[max(s_start, p.start - 25):p.start]):
            return True  # "back pain (two [2%])", "pain (18%)"
        if re.search(r"(?:percentage|proportion|"
                     r"%)\s+of\s+(?:the\s+)?time", lower[max(s_start, p.start - 80):p.end + 20]):
            return False  # "mean percentage of time with pain": a score, not a share of patients
        for a, b, strong in cues:
            if lo <= a and b <= hi:
                between = lower[b:p.start] if b <= p.start else lower[p.end:a]
                if ";" in between or (not strong and not pain_in_sentence):
                    continue
                return True
        return False

    # -- expressions ------------------------------------------------------------------------------

    def _sentence(self, text: str, lower: str, s_start: int, s_end: int, nums: list[Number],
                  by_start: dict[int, Number]) -> list[ProportionValue]:
        used: set[int] = set()
        out: list[ProportionValue] = []

        def at(pos: int) -> Number | None:
            return by_start.get(pos)

        out.extend(self._count_lists(text, lower, s_end, nums, used))
        for n in nums:
            if n.start in used or n.sci or n.signed:
                continue
            after = text[n.end:min(s_end, n.end + 40)]
            # E/T (x%) or E/T; x%
            m = _FRACTION_SEP_RE.match(after)
            if m and n.is_int and not n.percent:
                t = at(n.end + m.end())
                if t is not None and t.is_int and not t.percent and 0 <= n.value <= t.value and t.value > 1 \
                        and not self._is_score_fraction(lower, n, t):
                    used.update({n.start, t.start})
                    pct, end = self._percent_after(text, t.end, s_end, at, used)
                    rid, conf = self._rule("fraction")
                    out.append(ProportionValue(n.start, end, "", int(n.value), int(t.value), pct, rid, conf))
                    continue
            # x% (E/T)
            if n.percent and self._share_percent(text, lower, n):
                m = re.match(rf"{_SP}*%?{_SP}*[(\[]{_SP}*", after)
                if m:
                    e = at(n.end + m.end())
                    if e is not None and e.is_int and not e.percent:
                        sep = re.match(rf"{_SP}?(?:/|of|out\s+of){_SP}?", text[e.end:e.end + 10])
                        t = at(e.end + sep.end()) if sep else None
                        if t is not None and t.is_int and e.value <= t.value:
                            used.update({n.start, e.start, t.start})
                            rid, conf = self._rule("fraction")
                            out.append(ProportionValue(n.start, t.end, "", int(e.value), int(t.value),
                                                       n.value, rid, conf))
                            continue
            # E (x%) [of T] / E patients (x%)
            if n.is_int and not n.percent and n.value >= 0:
                m = _COUNT_BRACKET_RE.match(after)
                if m:
                    p = at(n.end + m.end())
                    if p is not None and p.percent and 0 <= p.value <= 100 and \
                            re.match(rf"{_SP}*%?{_SP}*[)\]]", text[p.end:p.end + 6].replace("%", "", 0)):
                        used.update({n.start, p.start})
                        end = p.end + (1 if text[p.end:p.end + 1] == "%" else 0)
                        total = None
                        m_of = re.match(rf"{_SP}*%?{_SP}*[)\]]{_SP}*(?:of|out\s+of){_SP}+(?:the{_SP}+)?",
                                        text[p.end:p.end + 20])
                        if m_of:
                            t = at(p.end + m_of.end())
                            if t is not None and t.is_int and t.value >= n.value:
                                total, end = int(t.value), t.end
                                used.add(t.start)
                        rid, conf = self._rule("count_percent")
                        out.append(ProportionValue(n.start, end, "", int(n.value), total, p.value, rid, conf))
                        continue
                # "only 1 patient ( of 30 )"
                m = _OF_BRACKET_RE.match(after)
                if m:
                    t = at(n.end + m.end())
                    if t is not None and t.is_int and not t.percent and n.value <= t.value:
                        used.update({n.start, t.start})
                        rid, conf = self._rule("count_of_total")
                        close = re.match(rf"{_SP}*[)\]]", text[t.end:t.end + 3])
                        end = t.end + (close.end() if close else 0)
                        out.append(ProportionValue(n.start, end, "", int(n.value), int(t.value), None,
                                                   rid, conf))
                        continue
                # E of T (not "≥5 of 7 criteria": a threshold)
                m = _OF_TOTAL_RE.match(after)
                if m and _OPERATOR_BEFORE.search(lower, max(0, n.start - 12), n.start):
                    m = None
                if m and n.words and not re.search(r"\b(?:patients?|subjects?|participants?|women|men|"
                                                   r"children)\b",
                                                   lower[n.end:n.end + 60]):
                    m = None  # "one of three groups"
                if m:
                    t = at(n.end + m.end())
                    if t is not None and self._is_score_fraction(lower, n, t):
                        t = None
                    ok_digits = (t is not None and t.is_int and not t.percent and n.value <= t.value
                                 and t.value > 1 and not n.words)
                    ok_words = t is not None and n.words and t.is_int and n.value <= t.value
                    if ok_digits or ok_words:
                        assert t is not None
                        used.update({n.start, t.start})
                        pct, end = self._percent_after(text, t.end, s_end, at, used)
                        rid, conf = self._rule("count_of_total")
                        out.append(ProportionValue(n.start, end, "", int(n.value), int(t.value), pct,
                                                   rid, conf))
                        continue
            # "the proportion of patients with pain relief was 0.69 (95% CI ...)": a share as a
            # fraction, written as a percent (guideline)
            if not n.percent and not n.is_int and 0 < n.value <= 1 and \
                    _SHARE_WORDS.search(lower, s_start, n.start) and \
                    _SHARE_FRACTION_BEFORE.search(lower, s_start, n.start):
                used.add(n.start)
                rid, conf = self._rule("share_fraction")
                out.append(ProportionValue(n.start, n.end, "", None, None, round(n.value * 100, 6),
                                           rid, conf))
                continue
            # x% alone, or "4% (n = 54)"
            if n.percent and 0 <= n.value <= 100 and self._share_percent(text, lower, n):
                used.add(n.start)
                sign = re.match(rf"{_SP}?(?:%|per{_SP}?cent\b|pct\b)", text[n.end:n.end + 10], re.IGNORECASE)
                end = n.end + (len(sign.group(0)) if sign else 0)
                events = None
                m_n = re.match(rf"{_SP}*[(\[]{_SP}*n{_SP}*={_SP}*", text[end:end + 12], re.IGNORECASE)
                if m_n:
                    e = at(end + m_n.end())
                    if e is not None and e.is_int:
                        events, end = int(e.value), e.end + (1 if text[e.end:e.end + 1] in ")]" else 0)
                        used.add(e.start)
                rid, conf = self._rule("percent")
                out.append(ProportionValue(n.start, end, "", events, None, n.value, rid, conf))
        return out

    def _count_lists(self, text: str, lower: str, s_end: int, nums: list[Number],
                     used: set[int]) -> list[ProportionValue]:
        """ "8, 9, 9, and 9 patients in US group obtaining a reduction ...": one count per time point."""
        out: list[ProportionValue] = []
        run: list[Number] = []

        def flush() -> None:
            if len(run) >= 2:
                tail = lower[run[-1].end:min(s_end, run[-1].end + 60)]
                if re.match(r"\s*(?:(?:patients|subjects|participants|cases|"
                            r"pts)\s+)?(?:in\s+(?:the\s+)?[\w+-]+\s+"
                            r"(?:group|arm)\s+)?(?:obtain\w*|achiev\w*|report\w*|experienc\w*|had|with|were|"
                            r"needed|required|requested|developed)\b", tail) or re.match(
                                r"\s*in\s+(?:the\s+)?[\w+-]+\s+(?:group|arm)\b", tail):
                    rid, conf = self._rule("count_list")
                    for n in run:
                        used.add(n.start)
                        out.append(ProportionValue(n.start, n.end, "", int(n.value), None, None, rid, conf))
            run.clear()

        for n in nums:
            if not n.is_int or n.percent or n.words:
                flush()
                continue
            if run and _LIST_GAP_RE.fullmatch(text[run[-1].end:n.start]):
                run.append(n)
                continue
            flush()
            run.append(n)
        flush()
        return out

    def _share_percent(self, text: str, lower: str, n: Number) -> bool:
        """Is this percent a share of patients (not a concentration, change, threshold, CI)?"""
        if re.search(r"\d\s*%?\s*[-–]\s*$", lower[max(0, n.start - 4):n.start]) or \
                re.match(r"\s*%?\s*[-–]\s*\d", lower[n.end:n.end + 5]):
            return False  # "48-58 %": a range across groups
        m = re.match(r"\s?(?:%|per\s?cent|pct)", lower[n.end:n.end + 10])
        rest = lower[n.end + (m.end() if m else 0):n.end + 60]
        if self.not_people_re.match(rest):
            return False
        before = lower[max(0, n.start - 30):n.start]
        if _THRESHOLD_BEFORE.search(before):
            return False
        if re.search(r"(?:95|90|99)\s*$", before) or re.match(r"\s*(?:ci|confidence)", rest):
            return False
        if re.match(r"\s*[a-z]", rest) and not re.match(
                r"\s*(?:of|vs|versus|and|or|in|for|with|respectively|were|was|had|reported|experienced|"
                r"achieved|required|needed|received|patients|subjects|participants|women|men|children|"
                r"cases|pts|at|after|on|by|compared|than|among|who|from|to|during|within)\b", rest):
            return False
        return not (n.value == 95 and re.match(r"\s*(?:ci|confidence)", rest))

    @staticmethod
    def _is_score_fraction(lower: str, e: Number, t: Number) -> bool:
        """ "2.9/10", "1/10" after "score": a score on a 10- or 100-point scale, not a proportion."""
        if t.value not in (10, 100, 20):
            return False
        return re.search(r"(?:score|vas|nrs|pain|rating|"
                         r"intensity)[^.;]{0,40}$", lower[max(0, e.start - 60):e.start]) \
            is not None

    @staticmethod
    def _percent_after(text: str, pos: int, s_end: int, at: Any, used: set[int]) -> tuple[float | None, int]:
        m = re.match(rf"{_SP}*(?:(?:patients|subjects|participants|women|men|children|cases|pts|infants|"
                     rf"volunteers){_SP}*)?[;,]?{_SP}*[(\[]?{_SP}*", text[pos:min(s_end, pos + 30)],
                     re.IGNORECASE)
        if m:
            p = at(pos + m.end())
            if p is not None and p.percent and 0 <= p.value <= 100:
                used.add(p.start)
                end = p.end + (1 if text[p.end:p.end + 1] == "%" else 0)
                return p.value, end
        return None, pos

    # -- context ------------------------------------------------------------------------------------

    def _what(self, lower: str, lo: int, hi: int, s_start: int, s_end: int) -> str:
        for a, b in ((lo, hi), (s_start, s_end)):
            m = _OUTCOME_WHAT.search(lower, a, b)
            if m:
                return re.sub(r"\s+", " ", m.group(0)).strip()
            m = self._outcome_scan.search(lower, a, b)
            if m:
                return re.sub(r"\s+", " ", m.group(0)).strip()
        return "pain outcome"

    @staticmethod
    def _context(text: str, lower: str, s_start: int, s_end: int, p: ProportionValue,
                 tps: list[TimeInfo]) -> None:
        seg = lower[p.end:min(s_end, p.end + 50)]
        m = re.match(r"[^.;]{0,20}?\b(?:in|for|with|among)\s+(?:the\s+)?", seg)
        if m and re.search(r"\b(?:group|arm)\b", seg[m.end():m.end() + 40]):
            p.arm = arm_name_after(text, p.end + m.end())
        singles = [t for t in tps if t.group < 0]
        after = [t for t in singles if p.end <= t.start <= p.end + 40]
        if after:
            p.timepoint, p.days = after[0].text, after[0].days
        elif len(singles) == 1:
            p.timepoint, p.days = singles[0].text, singles[0].days
