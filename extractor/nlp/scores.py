"""Pain-score values with their statistic, spread, time point and arm (pure functions, no spaCy).

``ScoreFinder(rules).find(text, sentences, numbers, blocked, timepoints, scales)`` returns
:class:`ScoreValue` items. The work is done per sentence, and only in sentences about pain:

1. **Value expressions** are read at each number: ``V ± S`` (``+/-``, ``+ /-``, a mis-encoded
   ``?``; an ``SD``/``SE`` label), ``V (S)`` / ``V [S]``, ``V (A-B)`` / ``V (IQR A-B)`` /
   ``V [A, B]`` / ``V (range, A-B)`` / ``V (95% CI A to B)``, ``V, 95% CI A to B``, and plain
   values in comparisons (``5.3 vs 7.9``), ``from V to W``, ``decreased by V points``,
   ``score of V``, lists (``5.8, 3.1, 2.5 and 2.4, respectively``), ``(19.5 mm)`` and ``2.9/10``.
2. **Is it a pain score?** The nearest measure named before the value decides ("pain score",
   "VAS" vs "morphine consumption", "heart rate"); values with other units (mg, min, days, mmHg),
   p-values, time points, counts of people, doses, thresholds (``> 3``) and scale ranges
   (``0-10``) are never scores.
3. **Statistic**: the nearest ``mean``/``median`` word, change words (``decreased by``, ``change
   from baseline``) and difference words (``difference``, ``points lower than``); a percent change
   is ``other``. An unlabelled ``±`` is SD (guideline).
4. **Time points and arms**: "respectively" lists are expanded in order against a list of time
   points ("at 6, 12, 18 and 24 hour", "at baseline, 1 week and 4 weeks", "before, immediately
   after and 30 minutes after"; a "Corresponding values ..." sentence reuses the previous list) or
   arms ("in groups 1 and 2"). Otherwise the time point written right after the value (past a
   bracket such as "(range, 0-9; p < 0.001)"; "7.6 ± 1.3 before" = baseline; "four weeks after"),
   shared by the values compared with it; the time point right before the bracket the value sits
   in ("at 30 min (49.5 vs 36.6)"); the time point opening the sentence ("At 12 weeks, ...",
   "From baseline to 6 weeks, ...") or the sentence's only one ("from baseline" of a change does
   not count); else the nearest one before the value with its preposition.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from extractor.nlp.arms import arm_name_after
from extractor.nlp.fastre import Scanner
from extractor.nlp.intervals import NumberIndex
from extractor.nlp.lexicon import pain_acronyms
from extractor.nlp.numbers import Number
from extractor.nlp.rules import split_expression_rules

__all__ = ["ScoreValue", "ScoreFinder", "TimeInfo", "ScaleInfo"]


@dataclass(frozen=True, slots=True)
class TimeInfo:
    start: int
    end: int
    text: str
    days: float | None
    group: int
    kind: str


@dataclass(frozen=True, slots=True)
class ScaleInfo:
    start: int
    end: int
    scale: str


@dataclass(slots=True)
class ScoreValue:
    start: int  # evidence
    end: int
    value: float
    value_start: int  # the number itself
    value_end: int
    stat: str = "mean"
    spread: str | None = None
    spread_values: tuple[float, ...] = ()
    unit: str | None = None
    rule: str = ""
    confidence: float = 0.6
    timepoint: str | None = None
    days: float | None = None
    arm: str | None = None
    scale: str = "unspecified"
    n: int | None = None
    label: str | None = None  # a spread label written with the value (SD, IQR, range, CI)
    features: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# building blocks (regexes run on the original text unless noted)

_SP = r"[ \t\u00a0\u2009\u202f\u200a]"
_UNIT_OK = r"(?:mm|cm|points?|pts|%|/10|/100|units?)"
_UNIT_OK_RE = re.compile(rf"{_SP}*(?P<unit>mm|cm|points?|pts|%|/{_SP}?10(?:0)?\b)(?![a-zA-Z])")
_BAD_UNIT_RE = re.compile(
    rf"{_SP}*(?:mg|µg|μg|mcg|ug|g\b|kg|ml|mL|l\b|L\b|min|mins|minutes?|h\b|hr|hrs|hours?|days?|d\b|"
    r"weeks?|wk|months?|years?|yrs?|y\b|s\b|sec|seconds?|mmhg|mm\s?hg|bpm|beats|breaths|°|times|"
    r"cases|patients|subjects|participants|women|men|children|sessions?|mmol|µmol|nmol|pg|ng|iu|IU|"
    r"units/|cm2|mm2|kcal|cal|mEq|fold|x\b|×|µm|μm|\bm\b|meters?|steps|tablets?|doses?|injections?)",
    re.IGNORECASE)
_PM_RE = re.compile(
    rf"(?P<unit1>{_SP}*{_UNIT_OK})?{_SP}*(?:±|∓|\+{_SP}?/{_SP}?[-−]|\?(?={_SP}*\d)){_SP}*"
    rf"(?P<label>(?:SD|SEM?|S\.D\.|S\.E\.(?:M\.)?|sd|se|sem)\b{_SP}*[:=,]?{_SP}*)?")
_PAREN_OPEN_RE = re.compile(
    rf"(?P<unit1>{_SP}*{_UNIT_OK})?{_SP}*(?P<br>[(\[]){_SP}*"
    rf"(?P<label>(?:SD|SEM?|sd|se|sem|s\.d\.|s\.e\.|standard\s+deviation|standard\s+error|"
    rf"IQR|iqr|interquartile\s+range|inter-quartile\s+range|quartiles?|range|Range|"
    rf"95{_SP}?%{_SP}?(?:CI|ci|confidence\s+intervals?|Cl)(?:{_SP}*[\[(]CI[\])])?|CI|confidence\s+interval)"
    rf"{_SP}*[:=,;]?{_SP}*)?")
_PAIR_SEP_RE = re.compile(rf"{_SP}*(?:%|mm|points?)?{_SP}*(?:-|–|—|‒|to|,|;|and){_SP}*")
_CLOSE_RE = re.compile(rf"{_SP}*(?:%|mm|cm|points?)?{_SP}*[)\]]")
_CI_AFTER_RE = re.compile(
    rf"(?P<unit1>{_SP}*{_UNIT_OK})?{_SP}*(?:(?:higher|lower|greater|less|more)\b[^.;()\[\]]{{0,100}}?)?"
    rf"{_SP}*[,;(\[]?{_SP}*95{_SP}?%{_SP}?(?:CI|Cl|ci|confidence\s+intervals?)"
    rf"(?:{_SP}*(?:for|of)\s+(?:the\s+)?(?:difference|change|mean))?"
    rf"(?:{_SP}*[\[(]CI[\])])?{_SP}*[:=,]?{_SP}*[(\[]?{_SP}*")
_THRESHOLD_BEFORE_RE = re.compile(
    r"(?:[<>≤≥=]|\bat\s+least|\bmore\s+than|\bless\s+than|\bgreater\s+than|\bover|\bunder|\babove|"
    r"\bbelow|\bexceed\w*|\bof\s+at\s+least|\bcut-?\s?off|\bthreshold|\bscale\s+of|\bfrom\s+0\s+to|"
    r"\branging\s+from|\branges?\s+from|\bbetween|\bscore\s+range|\brange\s*[:,]?|≥|≤|\bgrade|\bstep|"
    r"\bphase|\bgroups?|\barms?|\btype|\bclass|\bstage|\bday|\bweek|\bmonth|\bvisit|\bpod|\blevel|\bn\s*[=:]|"
    r"\bversion|\bitem|\bnumber|\bno\.|\bfigure|\btable|[a-z]-)\s*$", re.IGNORECASE)
# The characters a match of _THRESHOLD_BEFORE_RE can end with (before the trailing whitespace its
# "\s*$" allows), on lower-cased text: its operators, the last letters of its words ("least",
# "than", "range", "groups", ...; "ſ" is an "s" to IGNORECASE), ":" "," "." "-". Only "exceed\w*"
# can end with any word character.
_THRESHOLD_LAST_CHARS = frozenset("<>≤≥=:,.-tnrewdfompsykhlſ")


# _THRESHOLD_BEFORE_RE read backwards: it matches at the start of the reversed text exactly when
# _THRESHOLD_BEFORE_RE matches somewhere in the text (every match of it ends the text, give or take
# whitespace). Searching tries the ~45 alternatives at every position (about 20 µs on 25
# characters); matching the reversed text tries them once. Each alternative is reversed item by
# item, and ``\b`` before a word becomes ``\b`` after it (the same two characters either side).
_THRESHOLD_BEFORE_REVERSED_RE = re.compile(
    r"\s*(?:[<>≤≥=]|tsael\s+ta\b|naht\s+erom\b|naht\s+ssel\b|naht\s+retaerg\b|revo\b|rednu\b|evoba\b|"
    r"woleb\b|\w*deecxe\b|tsael\s+ta\s+fo\b|ffo\s?-?tuc\b|dlohserht\b|fo\s+elacs\b|ot\s+0\s+morf\b|"
    r"morf\s+gnignar\b|morf\s+s?egnar\b|neewteb\b|egnar\s+erocs\b|[:,]?\s*egnar\b|≥|≤|edarg\b|pets\b|"
    r"esahp\b|s?puorg\b|s?mra\b|epyt\b|ssalc\b|egats\b|yad\b|keew\b|htnom\b|tisiv\b|dop\b|level\b|[=:]\s*n\b|"
    r"noisrev\b|meti\b|rebmun\b|\.on\b|erugif\b|elbat\b|-[a-z])", re.IGNORECASE)


def _threshold_before(before: str) -> bool:
    """``_THRESHOLD_BEFORE_RE.search(before) is not None`` for a lower-cased ``before``, without
    running the regular expression when the last character rules every match out, and else with
    its reversed form matched once at the end (see ``_THRESHOLD_BEFORE_REVERSED_RE``)."""
    tail = before.rstrip()
    if not tail or (tail[-1] not in _THRESHOLD_LAST_CHARS and "exceed" not in tail):
        return False
    return _THRESHOLD_BEFORE_REVERSED_RE.match(before[::-1]) is not None


_POINT_CHANGE_AFTER_RE = re.compile(r"[\s-]*(?:mm|cm|points?)[\s-]+(?:decrease|reduction|improvement|"
                                    r"increase|drop|decline|change|fall)\b")
_AVERAGE_BEFORE_RE = re.compile(r"\b(?:mean|average|median)\s*$")
_THRESHOLD_AFTER_RE = re.compile(
    r"\s*(?:or\s+(?:more|less|higher|lower|greater|above|below)|\+|-point|[-\s]point\s+(?:scale|likert|decrease|"
    r"reduction|improvement|change|difference|increase)|(?:-|\s)?(?:mm|cm)\s+(?:vas|scale|line|visual)|"
    r"\s*(?:-|–|to)\s*\d+\s*(?:mm|cm|points?)?\s*(?:scale|vas|nrs|range|\))|\s*(?:-|–)\s*\d|-item|-day|-week|"
    r"-month|-year|th\b|st\b|nd\b|rd\b|\s*/\s*(?:\d+\s*)?(?:day|week|month|h\b))", re.IGNORECASE)
_PERSON_AFTER_RE = re.compile(
    r"\s*(?:(?!in\b|for\b|among\b|of\b|with\b)[a-z-]+\s+){0,2}(?:patients?|subjects?|participants?|women|men|children|volunteers|"
    r"individuals|cases|pts|infants|adults|persons|people|responders)\b|\s*(?:of|"
    r"out\s+of)\s+\d", re.IGNORECASE)
# "(n = 22)" after the value, or after its unit ("35 mm [n = 22]")
_N_AFTER_RE = re.compile(rf"(?:{_SP}*(?:mm|cm|points?|%))?{_SP}*[\[(]{_SP}*n{_SP}*={_SP}*(?P<n>\d+)"
                         rf"{_SP}*[\])]", re.IGNORECASE)
_GROUP_WORDS = (r"(?:patients|participants|subjects|women|men|children|adults|individuals|people|persons|"
                r"volunteers|completers|responders)")
# a group named before the values of a sentence: "Among the 64 (64/74; 86.5%) patients with ...",
# "In 40 randomized participants", "Overall (n = 108)", "In the whole sample (n = 52)"
_GROUP_SIZE_RE = re.compile(
    rf"(?:^|[,;:]\s*|\b(?-i:[A-Z]{{3,}}):?\s+)(?:among|in|of)\s+(?:the\s+|all\s+|these\s+|those\s+)?"
    rf"(?P<n>\d+)\s+(?:[(\[][^()\[\]]{{0,40}}[)\]]\s+)?(?:[a-z-]+\s+){{0,2}}?{_GROUP_WORDS}\b|"
    rf"\b(?:overall|in\s+total|in\s+the\s+(?:whole|entire|total)\s+(?:sample|cohort|population)|"
    rf"all\s+{_GROUP_WORDS})\s*[(\[]\s*n\s*=\s*(?P<n2>\d+)\s*[)\]]", re.IGNORECASE)
_DECLARED_RE = re.compile(
    r"\(\s*(?P<a>mean|median)\s*(?:±|\+/-|\(|\[|,)?\s*(?P<b>sd|se|sem|iqr|range|95%\s*ci|standard\s+deviation)?",
    re.IGNORECASE)
_RESPECTIVELY_RE = re.compile(r"\brespectively\b", re.IGNORECASE)
_COMPARE_RE = re.compile(
    rf"{_SP}*(?:{_UNIT_OK})?{_SP}*[)\]]?{_SP}*"
    rf"(?:(?:for|in|with|on)\s+(?:the\s+)?[\w+/-]+(?:\s+[\w+/-]+){{0,3}}?{_SP}*[)\]]?{_SP}*)?,?{_SP}*"
    rf"(?P<conj>vs\.?|versus|v\.?|compared\s+(?:with|to)|against|and|or){_SP}*[(\[]?{_SP}*"
    rf"(?:[A-Za-z][\w+-]*{_SP}+){{0,3}}")
_RANGE_AFTER_RE = re.compile(r"\s*(?:-|–|to)\s*\d")
_CLAUSE_END_RE = re.compile(r"\)[^(]*(?:\band\b|,)|\b[Pp]\s*[<=>≤≥]")
_OPERATOR_BEFORE_RE = re.compile(r"(?:[<>≤≥]|=<|>=)\s*$")
_FREE_DIGIT_RE = re.compile(r"(?<![a-z])\d")  # a number, not the digit of a label like "T0"
_CHANGED_BY_RE = re.compile(r"\b(?:decreas|reduc|declin|improv|increas|fell|dropped|lowered|diminish)\w*\s+"
                            r"(?:[a-z-]+\s+){0,4}?by\s+(?:an?\s+)?(?:(?:mean|average)\s+(?:of\s+)?)?$")
_NO_DIFFERENCE_RE = re.compile(r"\bno\s+(?:\w+\s+){0,2}?differen\w*\s+(?:\w+\s+){0,3}$|"
                               r"\b(?:did|does|do)\s+not\s+differ\w*\s+(?:\w+\s+){0,2}$")
_NUM_TEXT = rf"[-–−]?{_SP}?\d+(?:[.,·]\d+)?"
_RANGE_THEN_MEAN_RE = re.compile(
    rf"\brang(?:e|ed|ing)\s+(?:from\s+|between\s+)?(?P<a>{_NUM_TEXT}){_SP}*(?:to|-|–|and){_SP}*"
    rf"(?P<b>{_NUM_TEXT}){_SP}*[(\[]{_SP}*(?P<stat>mean|median|average){_SP}*[:=,]?{_SP}*"
    rf"(?P<v>{_NUM_TEXT}){_SP}*[)\]]")
_BY_BEFORE_RE = re.compile(r"\bby\s+$")
# the plain-value expressions (``ScoreFinder._plain_values``, ``_lists``, ``_bad_plain``)
_FROM_BEFORE_RE = re.compile(r"\bfrom\s+(?:an?\s+)?(?:(?:mean|median|average)\s+(?:(?:score|"
                             r"value)\s+)?(?:of\s+)?)?"
                             r"(?:(?:the\s+)?baseline\s+(?:values?\s+|scores?\s+|levels?\s+)?(?:of\s+)?)?$")
_BRACKET_BEFORE_RE = re.compile(r"[(\[]\s*$")
_PEOPLE_RE = re.compile(r"\b(?:patients|subjects|participants|women|men|cases|children)\b")
_FROM_TO_RE = re.compile(rf"{_SP}*(?:{_UNIT_OK})?(?:\s+(?:at|on)\s+(?:the\s+)?baseline)?{_SP}*(?:to|–|→|"
                         rf"->){_SP}*")
_AND_TO_RE = re.compile(rf"{_SP}*(?:{_UNIT_OK})?[^.;0-9]{{0,25}}?\b(?:and\s+)?"
                        rf"(?:finally\s+)?to{_SP}+")
_CHANGE_BY_BEFORE_RE = re.compile(
    r"\b(?:decreas\w*|reduc\w*|declin\w*|improv\w*|increas\w*|fell|dropped|lowered|"
    r"diminished|changed|change|reduction|decrease|improvement|increase)\s+"
    r"(?:significantly\s+|by\s+an?\s+(?:mean|average|median)\s+of\s+|on\s+average\s+)?"
    r"(?:by|of)\s+(?:an?\s+)?(?:(?:mean|average|median)\s+(?:of\s+)?)?$")
_AND_BY_BEFORE_RE = re.compile(r"(?:,|\band)\s+(?:and\s+)?by\s+$")
_PERCENT_CHANGE_AFTER_RE = re.compile(r"\s*%?\s*(?:decrease|reduction|improvement|increase|lower|higher|"
                                      r"change)")
_SCORE_OF_BEFORE_RE = re.compile(
    r"(?:\b(?:scores?|vas|nrs|vrs|nprs|bpi|intensity|ratings?|severity|levels?)"
    r"(?:\s*\([^)]{0,25}\))?\s*(?:of|was|were|=|:|is|reached|averaged|remained)?"
    r"|\bwas|\bwere)\s*(?:an?\s+)?(?:(?:mean|median|"
    r"average)\s+(?:(?:score\s+)?of\s+)?)?$")
_PER_TEN_RE = re.compile(rf"{_SP}*/{_SP}*10(?:0)?\b")
_MM_RE = re.compile(r"\s*(?:mm|cm)\b")
_SCALE_WORD_BEFORE_RE = re.compile(r"(?:score|vas|nrs|scale|rating|intensity)[^.;]{0,30}$")
_LIST_GAP_RE = re.compile(rf"{_SP}*(?:{_UNIT_OK})?{_SP}*(?:,|,?{_SP}*and|;){_SP}*")
_SLASH_BEFORE_RE = re.compile(r"/\s*$")
_NAME_DASH_AFTER_RE = re.compile(r"-[a-z]")
_RANGE_SECOND_RE = re.compile(r"\d\s*%?\s*(?:-|–|to)\s*$")
# acronyms in the pain-cue lexicon that name a scale: they count only if that scale is in pain use
_ACRONYM_SCALE = {"vas": "VAS", "nrs": "NRS", "nprs": "NRS", "vrs": "VRS", "fps": "FPS", "fps-r": "FPS",
                  "visual analog": "VAS", "visual analogue": "VAS", "numeric rating": "NRS",
                  "numerical rating": "NRS", "rating scale": None}
# a difference within the same patients over time, not between arms (guideline: a change)
_WITHIN_DIFFERENCE_RE = re.compile(
    r"\bdifferen\w*\s+(?:[a-z]+\s+){0,2}?(?:between|from)\s+(?:the\s+)?(?:pre-?\s*(?:and|/|-|vs\.?|to)\s*post\b|"
    r"pre-?\s*(?:treatment|operative|procedur\w+|intervention|injection|therapy)\s+(?:and|to|vs\.?)\s+"
    r"post\b|baseline\s+(?:and|to)\b|before\s+and\s+after\b)")
_STAT_WORDS_BEFORE = re.compile(r"\b(mean|average|median|averaged|"
                                r"least[\s-]squares?\s+mean)\b", re.IGNORECASE)


_TIME_NUMBERS_RE = re.compile(
    r"\b\d+(?:\s*(?:,|and|or|&)\s*(?:and\s+)?\d+)*\s*-?\s*(?:weeks?|wks?|months?|days?|hours?|hrs?|h|"
    r"min(?:utes?)?|years?)\b|\b(?:week|day|month|year|visit|pod)\s+\d+\b")
# "median" / "mean" as the subject of a sentence (before any number in it), not of an age etc.
_SENTENCE_STAT_RE = re.compile(r"\b(median|mean|average)\s+(?!age|duration|time|follow|length|"
                               r"number|dose|consumption|use|interval|delay|onset)")
_DECLARED_FORMAT_RE = re.compile(r"\b(mean|median)\s*(?:[a-z]+\s+)?(?:\(|\[|±|\+/-|,)\s*(sd|se|sem|iqr|"
                                 r"interquartile range|range|95\s*%\s*ci|"
                                 r"quartiles|standard deviation|standard error)\b", re.IGNORECASE)


_CONTINUATION_RE = re.compile(
    r"\b(?:correspond\w*|respective\w*|similarly|whereas|while|control|placebo|scores?)\b")
_CONTINUATION_SCAN = Scanner(_CONTINUATION_RE)


def _declared_format(sentence: str) -> tuple[str | None, str | None]:
    """A format stated in the sentence, e.g. "(mean ± SD)" → ("mean", "sd")."""
    found = list(_DECLARED_FORMAT_RE.finditer(sentence))
    if not found:
        return None, None
    m = found[-1]
    label = m.group(2).lower()
    spread = _label_spread(label)
    return m.group(1).lower(), spread


def _label_spread(label: str | None) -> str | None:
    if not label:
        return None
    lab = label.lower().strip(" :=,;")
    if lab.startswith(("sd", "s.d", "standard deviation")):
        return "sd"
    if lab.startswith(("se", "s.e", "standard error")):
        return "se"
    if lab.startswith(("iqr", "interquartile", "inter-quartile", "quartile")):
        return "iqr"
    if lab.startswith("range"):
        return "range"
    if "ci" in lab or "confidence" in lab or lab.startswith("cl"):
        return "ci95"
    return None


class ScoreFinder:
    """Finds pain-score values; built from the ``scores.jsonl`` rules."""

    def __init__(self, rules: Sequence[dict[str, Any]]) -> None:
        self.rule_ids, self.confidence, lex = split_expression_rules(
            rules, "scores", ("pain_cue", "other_measure", "median", "mean", "change", "change_noun",
                              "difference", "summary", "share"))
        self.pain_re = re.compile(lex["pain_cue"])
        self.other_re = re.compile(lex["other_measure"])
        self.median_re = re.compile(lex["median"])
        self.mean_re = re.compile(lex["mean"])
        self.change_re = re.compile(lex["change"])
        self.diff_re = re.compile(lex["difference"])
        self.change_noun_re = re.compile(lex["change_noun"])
        self.summary_re = re.compile(lex["summary"])
        self.share_re = re.compile(lex["share"])
        # the same patterns as Scanners (same matches, found faster; see fastre)
        self._pain_scan = Scanner(self.pain_re)
        self._other_scan = Scanner(self.other_re)
        self._median_scan = Scanner(self.median_re)
        self._mean_scan = Scanner(self.mean_re)
        self._change_scan = Scanner(self.change_re)
        self._diff_scan = Scanner(self.diff_re)
        self._change_noun_scan = Scanner(self.change_noun_re)
        self._summary_scan = Scanner(self.summary_re)
        self._share_scan = Scanner(self.share_re)
        # per-document state, reset by ``find``
        self._sentence_end: dict[int, int] = {}
        self._cue_cache_key: tuple[int, int] | None = None
        self._cue_cache: tuple[list[int], list[int]] = ([], [])
        self._acronym_re: re.Pattern[str] | None = None
        self._text = ""
        self._by_start: tuple[dict[int, Number], Sequence[Number]] = ({}, ())
        # the time points of the last sentence's "respectively" list (see ``_times``)
        self._time_list: list[tuple[str, float | None]] | None = None

    # -- entry point --------------------------------------------------------------------------

    def find(self, text: str, sentences: Sequence[tuple[int, int]], numbers: Sequence[Number],
             blocked: Sequence[tuple[int, int]], timepoints: Sequence[TimeInfo],
             scales: Sequence[ScaleInfo]) -> list[ScoreValue]:
        lower = text.lower()
        # every pain cue of the abstract, found once; sentences look them up by position
        cue_starts = [m.start() for m in self._pain_scan.finditer(lower)]
        if not cue_starts:
            return []
        # a named pain scale the scale matcher accepted is a pain cue too ("Median FACES scores"),
        # and so is an acronym the abstract defines for a pain condition ("headache (CTTH)")
        acronyms = pain_acronyms(text)
        self._acronym_re = (re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(acronyms))) + r")\b")
                            if acronyms else None)
        self._text = text
        extra = [s.start for s in scales if s.scale != "unspecified"]
        if self._acronym_re is not None:
            extra += [m.start() for m in self._acronym_re.finditer(text)]
        cue_starts = sorted({*cue_starts, *extra})
        self._sentence_end = dict(sentences)
        self._cue_cache_key = None
        self._time_list = None
        doc_scales = sorted({s.scale for s in scales if s.scale != "unspecified"})
        accepted = frozenset(s.scale for s in scales)
        named_scales = [s for s in scales if s.scale != "unspecified"]
        skip = [(t.start, t.end) for t in timepoints]
        free = NumberIndex(numbers, blocked)
        self._by_start = ({n.start: n for n in numbers}, numbers)
        out: list[ScoreValue] = []
        prev_had_scores = False
        for s_start, s_end in sentences:
            k = bisect_left(cue_starts, s_start)
            pain_here = k < len(cue_starts) and cue_starts[k] < s_end
            # "Corresponding numbers in the control group were 4.7, 4.7, 4.8 and 4.9"
            if not pain_here and not (prev_had_scores and _CONTINUATION_SCAN.search(lower[s_start:s_end])):
                prev_had_scores = False
                self._time_list = None
                continue
            nums = free.between(s_start, s_end)
            if not nums:
                prev_had_scores = False
                self._time_list = None
                continue
            found = self._sentence(text, lower, s_start, s_end, nums, numbers, blocked)
            found = [v for v in found if self._is_pain_value(
                text, lower, s_start, v, pain_here, prev_had_scores and not pain_here, skip, accepted,
                named_scales)]
            if found:
                self._assign_context(text, lower, s_start, s_end, found, timepoints, scales, doc_scales)
            prev_had_scores = bool(found)
            if not found:
                self._time_list = None
            out.extend(found)
        return out

    # -- value expressions ---------------------------------------------------------------------

    def _sentence(self, text: str, lower: str, s_start: int, s_end: int, nums: list[Number],
                  all_numbers: Sequence[Number], blocked: Sequence[tuple[int, int]]) -> list[ScoreValue]:
        by_start, of = self._by_start
        if of is not all_numbers:
            by_start = {n.start: n for n in all_numbers}
        # the format the sentence declares ("(mean ± SD)"), read when a spread expression needs it
        declared_format = cache(lambda: _declared_format(text[s_start:s_end]))
        used: set[int] = set()
        out: list[ScoreValue] = []

        def number_at(pos: int) -> Number | None:
            n = by_start.get(pos)
            if n is None:
                # allow a sign or space the number finder kept apart
                for k in range(pos, min(pos + 3, s_end)):
                    if k in by_start:
                        return by_start[k]
            return n

        # "graded in a range from 1.8 to 4.0 (mean: 3.2)": the value after its range
        ranges = _RANGE_THEN_MEAN_RE.finditer(lower, s_start, s_end) if "rang" in lower[s_start:s_end] else ()
        for m in ranges:
            low, high, val = (number_at(m.start(g)) for g in ("a", "b", "v"))
            if low is None or high is None or val is None or {low.start, high.start, val.start} & used:
                continue
            # "from –0.8 to 2.6": a dash right after "from" is a minus sign
            a, b, x = (-abs(n.value) if m.group(g)[0] in "-–−" else n.value
                       for n, g in ((low, "a"), (high, "b"), (val, "v")))
            if not a <= x <= b:
                continue
            rid, conf = self._rule("range_then_mean")
            v = ScoreValue(m.start(), val.end, x, val.start, val.end, spread="range",
                           spread_values=(a, b), rule=rid, confidence=conf, label="range")
            v.features["stat_hint"] = m.group("stat")
            v.features["range_first"] = True  # its "from" is the range's, not a level's
            nouns = list(self._change_noun_scan.finditer(lower, s_start, m.start()))
            if nouns and _FREE_DIGIT_RE.search(lower, nouns[-1].end(), m.start()) is None:
                v.features["change"] = True  # "the reduction in pain ranged from -0.8 to 2.6 (mean: 1.1)"
            used.update({low.start, high.start, val.start})
            out.append(v)
        for num in nums:
            if num.start in used or num.sci:
                continue
            expr = self._spread_expression(text, num, number_at, s_end, declared_format)
            if expr is not None:
                for k in expr.features.pop("consumed", []):
                    used.add(k)
                used.add(num.start)
                declared_stat = declared_format()[0]
                if declared_stat and "stat_hint" not in expr.features:
                    expr.features["stat_hint"] = declared_stat
                out.append(expr)
        # plain values (no spread) in structures that mark a score
        plain = self._plain_values(text, lower, s_start, s_end,
                                   [n for n in nums if n.start not in used])
        for v in plain:
            if v.value_start not in used:
                used.add(v.value_start)
                out.append(v)
        out.sort(key=lambda v: v.value_start)
        for i, v in enumerate(out):
            if v.spread is None:
                continue
            if re.search(r"\bfrom\s+(?:an?\s+)?(?:(?:mean|median|"
                         r"average)\s+(?:of\s+)?)?(?:(?:the\s+)?baseline\s+"
                         r"(?:values?\s+|"
                         r"scores?\s+)?(?:of\s+)?)?$", lower[max(s_start, v.value_start - 40):v.value_start]):
                v.features["from_value"] = True
                if i + 1 < len(out) and re.match(r"[^.;0-9]{0,30}?\bto\s*$|"
                                                 r"\s*[-–]\s*$", lower[v.end:out[i + 1].value_start]):
                    out[i + 1].features["to_value"] = True
        if out and self._summary_scan.search(lower, s_start, s_end):
            for v in out:
                if self._summary_scan.search(lower, s_start, v.value_start):
                    v.features["summary"] = True
        return [v for v in out if not self._excluded_value(text, lower, v)
                and not _OPERATOR_BEFORE_RE.search(lower, max(s_start, v.value_start - 6), v.value_start)]

    def _rule(self, name: str) -> tuple[str, float]:
        return self.rule_ids.get(name, f"score.{name}.v1"), self.confidence.get(name, 0.6)

    def _spread_expression(self, text: str, num: Number, number_at: Any, s_end: int,
                           declared_format: Callable[[], tuple[str | None, str | None]]
                           ) -> ScoreValue | None:
        end = num.end
        # V ± S
        m = _PM_RE.match(text, end)
        if m and m.end() < s_end:
            s = number_at(m.end())
            if s is not None and s.start - m.end() <= 2 and not s.percent or (
                    s is not None and num.percent and s.percent):
                label = _label_spread(m.group("label")) if m.group("label") else None
                spread = label or ("se" if declared_format()[1] == "se" else "sd")
                stop = s.end
                unit = (m.group("unit1") or "").strip() or None
                if re.match(rf"{_SP}*\){_SP}*%", text[stop:stop + 5]) and \
                        re.search(r"\({_SP}*$".replace("{_SP}", _SP), text[max(0, num.start - 3):num.start]):
                    unit = "%"
                um = _UNIT_OK_RE.match(text, stop)
                if um:
                    unit = unit or um.group("unit")
                    stop = um.end()
                rid, conf = self._rule("plus_minus")
                v = ScoreValue(num.start, s.end, num.value, num.start, num.end, spread=spread,
                               spread_values=(abs(s.value),), unit=unit, rule=rid, confidence=conf,
                               label=label)
                v.features["consumed"] = [s.start]
                self._range_after(text, v, stop, number_at)
                return v
        # V (A-B) / V (S) / V [A, B] / V (IQR A-B) / V (95% CI A to B)
        m = _PAREN_OPEN_RE.match(text, end)
        if m and m.end() < s_end:
            a = number_at(m.end())
            if a is not None and a.start - m.end() <= 1:
                declared_spread = declared_format()[1]
                label = _label_spread(m.group("label"))
                sep = _PAIR_SEP_RE.match(text, a.end)
                b = number_at(sep.end()) if sep else None
                by_before = re.search(r"\bby\s*$", text[max(0, num.start - 6):num.start],
                                      re.IGNORECASE)
                if b is not None and sep is not None and b.start - sep.end() <= 1 and \
                        _CLOSE_RE.match(text, b.end) \
                        and not (a.percent and not num.percent and label is None) \
                        and not (label is None and by_before and sep.group(0).strip() == "to"):
                    if label is None and sep.group(0).strip() in (",", ";", "and") and \
                            not re.search(r"[\[]", m.group("br")) and not declared_spread:
                        return None  # "4 (2, 6)" without a label is too ambiguous
                    spread = label or declared_spread or "interval"
                    rid, conf = self._rule("paren_pair")
                    v = ScoreValue(num.start, b.end, num.value, num.start, num.end, spread=spread,
                                   spread_values=(a.value, b.value),
                                   unit=(m.group("unit1") or "").strip() or None, rule=rid,
                                   confidence=conf, label=label)
                    v.features["consumed"] = [a.start, b.start]
                    return v
                close = _CLOSE_RE.match(text, a.end)
                if close and not a.percent and label not in ("iqr", "range", "ci95"):
                    if num.is_int and a.is_int and label is None and declared_spread not in ("sd", "se"):
                        return None  # "24 (12)" is as likely a count and a percent or a footnote
                    spread = label or (declared_spread if declared_spread in ("sd", "se") else "sd")
                    rid, conf = self._rule("paren_single")
                    v = ScoreValue(num.start, a.end, num.value, num.start, num.end, spread=spread,
                                   spread_values=(abs(a.value),),
                                   unit=(m.group("unit1") or "").strip() or None, rule=rid,
                                   confidence=conf if label else conf - 0.1, label=label)
                    v.features["consumed"] = [a.start]
                    return v
        # V, 95% CI A to B
        m = _CI_AFTER_RE.match(text, end)
        if m and m.end() < s_end:
            a = number_at(m.end())
            if a is not None and a.start - m.end() <= 1:
                sep = _PAIR_SEP_RE.match(text, a.end)
                b = number_at(sep.end()) if sep else None
                if b is not None and sep is not None and b.start - sep.end() <= 1 and not (
                        re.search(r"for\s+(?:the\s+)?difference", m.group(0), re.IGNORECASE)
                        and re.search(r"(?:compared\s+(?:with|to)|vs\.?|versus)\s*$",
                                      text[max(0, num.start - 20):num.start], re.IGNORECASE)):
                    rid, conf = self._rule("ci_after")
                    v = ScoreValue(num.start, b.end, num.value, num.start, num.end, spread="ci95",
                                   spread_values=(a.value, b.value),
                                   unit=(m.group("unit1") or "").strip() or None, rule=rid,
                                   confidence=conf, label="ci95")
                    v.features["consumed"] = [a.start, b.start]
                    if re.search(r"\b(?:higher|lower|greater|less|more)\b", m.group(0)):
                        v.features["difference_words"] = True
                    return v
        # "range from A to B (mean: V)" — the value is after its range
        return None

    @staticmethod
    def _range_after(text: str, v: ScoreValue, pos: int, number_at: Any) -> None:
        """Swallow a "(range, 0-9)" written after "V ± S" so its numbers are not read as values."""
        m = re.match(rf"{_SP}*[(\[]{_SP}*range{_SP}*[:,]?{_SP}*", text[pos:pos + 20], re.IGNORECASE)
        if not m:
            return
        a = number_at(pos + m.end())
        if a is None:
            return
        sep = _PAIR_SEP_RE.match(text, a.end)
        b = number_at(sep.end()) if sep else None
        consumed = v.features.setdefault("consumed", [])
        consumed.append(a.start)
        if b is not None:
            consumed.append(b.start)

    # -- plain values ----------------------------------------------------------------------------

    def _plain_values(self, text: str, lower: str, s_start: int, s_end: int,
                      nums: list[Number]) -> list[ScoreValue]:
        out: dict[int, ScoreValue] = {}

        def add(n: Number, name: str, **kw: Any) -> None:
            if n.start in out:
                return
            rid, conf = self._rule(name)
            unit = kw.pop("unit", None)
            if unit is None:
                um = _UNIT_OK_RE.match(text, n.end)
                unit = um.group("unit") if um else ("%" if n.percent else None)
            v = ScoreValue(n.start, n.end, n.value, n.start, n.end, unit=unit, rule=rid,
                           confidence=conf)
            v.features.update(kw)
            out[n.start] = v

        usable = [n for n in nums if not n.sci and not self._bad_plain(text, lower, n)]
        idx = {n.start: i for i, n in enumerate(usable)}

        def nxt(n: Number) -> Number | None:
            i = idx.get(n.start)
            return usable[i + 1] if i is not None and i + 1 < len(usable) else None

        # a change word in the sentence (looked for when a number needs it)
        clause_change = cache(lambda: self._change_scan.search(lower, s_start, s_end) is not None)
        for n in usable:
            if n.start in out:
                continue
            if _RANGE_SECOND_RE.search(lower, max(s_start, n.start - 8), n.start):
                continue  # the second number of a range ("0-10", "4 to 6")
            after = text[n.end:min(s_end, n.end + 80)]
            la = after.lower()
            w = nxt(n)
            before = lower[max(s_start, n.start - 40):n.start]
            # V vs W — optionally with units, an arm ("-1.3 in group H vs. +3.4") or a label
            # ("SEA 2.8 vs. EA 2.6") between
            m = _COMPARE_RE.match(after)
            if m and w is not None and w.start == n.end + m.end() and not (n.percent or w.percent) \
                    and (m.group("conj").strip().lower() != "and" or self._list_context(lower, n, w, s_end)) \
                    and abs(n.value) <= 1000 and abs(w.value) <= 1000:
                # "..., by 1.07 points in the sham group, and by 0.99 points in ...": changes
                for x in (n, w):
                    by = clause_change() and _BY_BEFORE_RE.search(lower, max(s_start, x.start - 8), x.start)
                    add(x, "comparison", **({"change": True} if by else {}))
                continue
            # from V to W (and to X); "(7.3 to 5.7, P < 0.01)" after a change verb
            from_before = _FROM_BEFORE_RE.search(before)
            paren_before = _BRACKET_BEFORE_RE.search(before) is not None and clause_change()
            # (a percent after "from" in a sentence about people is a share, not a level)
            if (from_before or paren_before) and (
                    not n.percent or _PEOPLE_RE.search(lower[s_start:n.start]) is None):
                m2 = _FROM_TO_RE.match(after)
                if m2 and w is not None and w.start == n.end + m2.end() and w.percent == n.percent:
                    add(n, "from_to", from_value=True)
                    add(w, "from_to", to_value=True)
                    cur = w
                    while True:
                        tail = text[cur.end:min(s_end, cur.end + 40)]
                        m3 = _AND_TO_RE.match(tail)
                        w2 = nxt(cur)
                        if not (m3 and w2 is not None and w2.start == cur.end + m3.end()):
                            break
                        add(w2, "from_to", to_value=True)
                        cur = w2
                    continue
            if _RANGE_AFTER_RE.match(lower, n.end):
                continue  # "a score of 4 to 6": a range
            # decreased by V (points); reduction of V%; "..., by 1.07 points in the sham group"
            if _CHANGE_BY_BEFORE_RE.search(before) or (
                    _AND_BY_BEFORE_RE.search(before) and clause_change()):
                add(n, "change_by", change=True)
                continue
            # V% decrease in pain score
            if n.percent and _PERCENT_CHANGE_AFTER_RE.match(la.replace("%", "", 1)):
                add(n, "change_by", change=True)
                continue
            if n.percent:
                continue
            # "an average 2.5-point decrease" (without "average": a threshold, see _bad_plain)
            if _POINT_CHANGE_AFTER_RE.match(lower, n.end):
                add(n, "change_by", change=True)
                continue
            # score of V / VAS V / NRS: V / pain score was V
            if _SCORE_OF_BEFORE_RE.search(before):
                add(n, "score_of")
                continue
            # V/10
            if _PER_TEN_RE.match(after):
                add(n, "unit_value", unit="/10")
                continue
            # (19.5 mm), 35 mm [n = 22]
            if _MM_RE.match(la) and _BRACKET_BEFORE_RE.search(lower[max(s_start, n.start - 3):n.start]):
                add(n, "unit_value")
                continue
        # lists: "5.8, 3.1, 2.5 and 2.4, respectively"; a value and its comparisons already added
        if len(usable) >= 2:  # (a list has two values at least)
            self._lists(text, lower, s_start, s_end, usable, out)
        return sorted(out.values(), key=lambda v: v.value_start)

    def _lists(self, text: str, lower: str, s_start: int, s_end: int, usable: list[Number],
               out: dict[int, ScoreValue]) -> None:
        rid, conf = self._rule("list")
        run: list[Number] = []

        def flush() -> None:
            if run and all(n.is_int for n in run) and (
                    _PERSON_AFTER_RE.match(lower, run[-1].end)
                    or not _SCALE_WORD_BEFORE_RE.search(lower[max(s_start, run[0].start - 40):run[0].start])):
                run.clear()  # "8, 9, 9, and 9 patients": counts, not scores
                return
            if any(n.percent for n in run):
                run.clear()
                return
            respectively = len(run) == 2 and _RESPECTIVELY_RE.search(text, run[-1].end,
                                                                      min(s_end, run[-1].end + 40))
            if len(run) >= 3 or respectively:
                for n in run:
                    if n.start not in out:
                        um = _UNIT_OK_RE.match(text, n.end)
                        out[n.start] = ScoreValue(n.start, n.end, n.value, n.start, n.end,
                                                  unit=um.group("unit") if um else None, rule=rid,
                                                  confidence=conf)
            run.clear()

        for n in usable:
            if run:
                gap = text[run[-1].end:n.start]
                if _LIST_GAP_RE.fullmatch(gap):
                    run.append(n)
                    continue
                flush()
            run.append(n)
        flush()

    @staticmethod
    def _list_context(lower: str, n: Number, w: Number, s_end: int) -> bool:
        """ "V and W" is a comparison only when followed by "respectively" or an arm list."""
        tail = lower[w.end:min(s_end, w.end + 60)]
        return re.search(r"\brespectively\b|\bin\s+(?:the\s+)?(?:\w+\s+){0,3}groups?\b|"
                         r"\bfor\b", tail) is not None

    def _bad_plain(self, text: str, lower: str, n: Number) -> bool:
        """Numbers that are never a plain score: units, thresholds, counts, scale ranges..."""
        if abs(n.value) > 1000 or n.sci:
            return True
        if _BAD_UNIT_RE.match(text, n.end) and not _UNIT_OK_RE.match(text, n.end):
            return True
        before = lower[max(0, n.start - 25):n.start]
        if _threshold_before(before):
            return True
        # "an average 2.5-point decrease" is a value, "a 2-point decrease" a threshold
        average_change = _POINT_CHANGE_AFTER_RE.match(lower, n.end) is not None and \
            _AVERAGE_BEFORE_RE.search(before) is not None
        if _THRESHOLD_AFTER_RE.match(lower, n.end) and not average_change:
            return True
        if n.is_int and _PERSON_AFTER_RE.match(lower, n.end):
            return True
        if _SLASH_BEFORE_RE.search(lower[max(0, n.start - 2):n.start]) or \
                (_NAME_DASH_AFTER_RE.match(lower[n.end:n.end + 2]) and not average_change):
            return True  # "1/10": a denominator; "1-QST", "2-tablet": part of a name
        if n.is_int and 1900 <= n.value <= 2030:
            return True
        # "two groups", "one patient"
        return bool(n.words and n.value != 0)

    def _excluded_value(self, text: str, lower: str, v: ScoreValue) -> bool:
        """Spread expressions whose value is clearly something else (a dose, a duration...)."""
        if v.spread is None:
            return False
        end = v.end
        close = re.match(r"[ \t]*[)\]]", text[end:end + 4])
        if close:
            end += close.end()
        if _BAD_UNIT_RE.match(text, end) and not _UNIT_OK_RE.match(text, end):
            return True
        return bool(_BAD_UNIT_RE.match(text, v.value_end) and not _UNIT_OK_RE.match(text, v.value_end))

    # -- is it about pain? -------------------------------------------------------------------------

    def _is_pain_value(self, text: str, lower: str, s_start: int, v: ScoreValue, pain_here: bool,
                       inherited: bool, skip: Sequence[tuple[int, int]],
                       accepted: frozenset[str], scale_spans: Sequence[ScaleInfo]) -> bool:
        """Is the value a pain score? The nearest measure named before it decides."""
        cues = self._sentence_cues(lower, s_start, accepted, skip, scale_spans)

        def pain_cues(seg: str, base: int) -> list[int]:
            out = []
            for m in self.pain_re.finditer(seg):
                scale = _ACRONYM_SCALE.get(m.group(0))
                if scale is not None and scale not in accepted:
                    continue  # "VAS" for nausea: not a pain scale in this abstract
                out.append(base + m.end())
            return out

        def other_cues(seg: str, base: int) -> list[int]:
            return [base + m.end() for m in self.other_re.finditer(seg)
                    if not any(a <= base + m.start() < b for a, b in skip)]

        # the last cue of each kind ending before the value (cue ends are sorted)
        k = bisect_right(cues[0], v.value_start) - 1
        last_pain = cues[0][k] if k >= 0 else -1
        k = bisect_right(cues[1], v.value_start) - 1
        last_other = cues[1][k] if k >= 0 else -1
        v.features["pain_cue_distance"] = v.value_start - last_pain if last_pain >= 0 else None
        clause = self._clause(lower, s_start, v.value_start)
        if self._share_scan.search(clause) is not None and not self._pain_scan.search(
                clause[self._last(self._share_scan, clause):]):
            return False  # "the proportion of patients ... was 0.69": a share, not a score
        if re.search(r"\b(?:RR|OR|HR|IRR|aOR|aHR)\b|relative\s+risk|odds\s+ratio|hazard\s+ratio",
                     text[max(s_start, v.value_start - 40):v.value_start]):
            return False
        after = lower[v.end:v.end + 30]
        if re.match(r"\s*%?\s*\)?\s*(?:of|out\s+of)\s+(?:the\s+|all\s+)?(?:patients|subjects|participants|"
                    r"cases|women|men|children|respondents)", after):
            return False  # "77.3% (95% CI ...) of patients": a proportion
        if last_pain >= 0 and last_pain > last_other:
            # "duration of chest pain", "time to pain relief": not a pain score
            return not (last_other >= 0 and re.fullmatch(r"\s*(?:of|to|until|in)\s+(?:[\w-]+\s+){0,3}\S*",
                                                          lower[last_other:last_pain]))
        if last_pain >= 0 and last_other - last_pain <= 45 and re.match(
                r"\w*\s+(?:[\w-]+\s+){0,3}?(?:related\s+to|associated\s+with|(?:on|during|with|at|upon|after)\s+"
                r"(?:[\w-]+\s+){0,2}?(?:movement|motion|flexion|extension|rest|cough\w*|walking|activity|"
                r"exercise|abduction|rotation|swallowing|injection|insertion|mobili\w+|function))",
                lower[last_pain:last_other + 1]):
            return True  # "pain on movement", "pain related to flexion"
        # "a 59% decrease in perceived pain score": the measure is named right after the value
        ahead = lower[v.end:v.end + 45]
        if pain_cues(ahead, v.end) and not other_cues(ahead[:max(0, min(pain_cues(ahead, 0)))], v.end):
            return re.match(r"\s*%?\s*(?:decrease|reduction|improvement|increase|change|lower|higher|"
                            r"less|more|on|in|of)\b", ahead) is not None
        if last_pain < 0:
            return inherited and last_other < 0
        return False

    def _sentence_cues(self, lower: str, s_start: int, accepted: frozenset[str],
                       skip: Sequence[tuple[int, int]], scale_spans: Sequence[ScaleInfo]
                       ) -> tuple[list[int], list[int]]:
        """End offsets of the pain cues and of the other-measure cues of the sentence at
        ``s_start``, found once per sentence (values look them up by position)."""
        if self._cue_cache_key == (id(lower), s_start):
            return self._cue_cache
        s_end = lower.find(". ", s_start)
        s_end = len(lower) if s_end < 0 else s_end + 1
        s_end = self._sentence_end.get(s_start, s_end)
        pains = []
        for m in self._pain_scan.finditer(lower, s_start, s_end):
            scale = _ACRONYM_SCALE.get(m.group(0))
            if scale is not None and scale not in accepted:
                continue  # "VAS" for nausea: not a pain scale in this abstract
            pains.append(m.end())
        pains += [sc.end for sc in scale_spans if s_start <= sc.start < s_end]
        if self._acronym_re is not None:
            pains += [m.end() for m in self._acronym_re.finditer(self._text, s_start, s_end)]
        others = [m.end() for m in self._other_scan.finditer(lower, s_start, s_end)
                  if not any(a <= m.start() < b for a, b in skip)]
        self._cue_cache_key = (id(lower), s_start)
        self._cue_cache = (sorted(pains), sorted(others))
        return self._cue_cache

    @staticmethod
    def _last(rx: re.Pattern[str] | Scanner, s: str) -> int:
        pos = 0
        for m in rx.finditer(s):
            pos = m.start()
        return pos

    @staticmethod
    def _bracket_label(lower: str, s_start: int, pos: int) -> str | None:
        """The words right before the bracket the value sits in ("adjusted mean difference: (")."""
        bracket = _open_bracket(lower, max(s_start, pos - 200), pos)
        if bracket < 0:
            return None
        head = re.match(r"\s*([a-z][a-z\s-]{0,40}?)\s*:", lower[bracket + 1:pos])
        return head.group(1) + ":" if head else lower[max(s_start, bracket - 40):bracket]

    @staticmethod
    def _clause(lower: str, s_start: int, pos: int) -> str:
        """The words that describe the value at ``pos``: back to the opening bracket the value sits
        in (and the label before it), else back to the last semicolon, at most 150 characters."""
        start = max(s_start, pos - 150)
        bracket = _open_bracket(lower, start, pos)
        if bracket >= 0:
            return lower[max(s_start, bracket - 80):pos]
        seg = lower[start:pos]
        cut = seg.rfind(";")
        return seg[cut + 1:] if cut >= 0 else seg

    # -- stat, time point, arm, scale ------------------------------------------------------------

    def _assign_context(self, text: str, lower: str, s_start: int, s_end: int,
                        values: list[ScoreValue], timepoints: Sequence[TimeInfo],
                        scales: Sequence[ScaleInfo], doc_scales: list[str]) -> None:
        tps = [t for t in timepoints if s_start <= t.start < s_end]
        for run in _stat_groups(text, values):
            self._stat(lower, s_start, run[0])
            for v in run[1:]:
                if v.features.get("from_value") or v.features.get("to_value") or v.features.get("change"):
                    self._stat(lower, s_start, v)
                else:
                    v.stat = run[0].stat
                    if v.spread == "interval":
                        v.spread = run[0].spread if run[0].spread not in (None, "sd", "se") else "range"
        self._times(text, lower, s_start, s_end, values, tps)
        self._arms(text, lower, s_start, s_end, values)
        in_sentence = [s for s in scales if s_start <= s.start < s_end and s.scale != "unspecified"]
        for v in values:
            before = [s for s in in_sentence if s.start < v.value_start]
            if before:
                v.scale = before[-1].scale
            elif in_sentence:
                v.scale = in_sentence[0].scale
            elif len(doc_scales) == 1:
                v.scale = doc_scales[0]
            else:
                v.scale = "unspecified"
            m = _N_AFTER_RE.match(text, v.end)
            if m:
                v.n = int(m.group("n"))
        # "Among the 64 patients who completed follow-up, the mean VAS fell from ...", "Overall
        # (n = 108), pain ...": the group behind the sentence's values (not an arm's values)
        group = _sentence_group_size(text, lower, s_start, values[0].value_start)
        if group is not None:
            for v in values:
                if v.n is None and v.arm is None and v.value_start > group[1]:
                    v.n = group[0]

    def _stat(self, lower: str, s_start: int, v: ScoreValue) -> None:
        clause = self._clause(lower, s_start, v.value_start)
        near = lower[max(s_start, v.value_start - 45):v.value_start]
        median_pos = self._last(self._median_scan, clause) if self._median_scan.search(clause) else -1
        mean_pos = self._last(self._mean_scan, clause) if self._mean_scan.search(clause) else -1
        if median_pos < 0 and mean_pos < 0:
            # "Median FACES scores were lower in A than in B at 10 minutes (0 vs 1; P = .04)":
            # the statistic named by the subject of the sentence, far before the bracket
            head = lower[s_start:v.value_start]
            m_stat = _SENTENCE_STAT_RE.search(head)
            if m_stat is not None and _FREE_DIGIT_RE.search(head, 0, m_stat.start()) is None:
                if m_stat.group(1) == "median":
                    median_pos = len(clause)
                else:
                    mean_pos = len(clause)
        level = bool(v.features.get("from_value") or v.features.get("to_value"))

        # numbers of time points ("at 16 and 32 weeks", "week 12") are not values in between
        clause_nt = _TIME_NUMBERS_RE.sub(lambda m: "t" * len(m.group(0)), clause) \
            if _FREE_DIGIT_RE.search(clause) else clause

        def no_number_between(rx: re.Pattern[str] | Scanner, s: str) -> bool:
            s = clause_nt if s is clause else s
            found = list(rx.finditer(s))
            m = found[-1] if found else None
            if m is None or re.search(r"\bno\s+(?:\w+\s+)?$", s[max(0, m.start() - 25):m.start()]) \
                    or _NO_DIFFERENCE_RE.search(s, max(0, m.start() - 60), m.start()):
                return False  # "no mean differences were found (between groups)": not a difference
            return _FREE_DIGIT_RE.search(s, m.end()) is None

        change = (bool(v.features.get("change")) or no_number_between(self._change_noun_scan, clause)
                  or _CHANGED_BY_RE.search(near) is not None)
        if change and not v.features.get("range_first"):
            last_change = self._last(self._change_scan, clause)
            if re.search(r"\bfrom\b(?![\s-]+baseline)", clause[last_change:]) or \
                    re.search(r"\bto\s*$", near):
                change = False  # "decreased from 6.8 to 4.1": levels, not changes
        label = self._bracket_label(lower, s_start, v.value_start)
        diff = (bool(v.features.get("difference_words")) or no_number_between(self._diff_scan, clause)
                or (label is not None
                    and re.search(r"differen\w*\s*(?:[\w-]+\s*){0,2}[:,]?\s*$", label) is not None)
                or re.match(r"\s*(?:mm|cm|points?)?\s*(?:lower|higher|less|more|greater|better|worse)\s+"
                            r"(?:for|in|than|with|among)", lower[v.value_end:v.value_end + 40]) is not None)
        hint = v.features.get("stat_hint")
        is_median = median_pos > mean_pos or (median_pos < 0 and mean_pos < 0 and
                                             (hint == "median" or v.spread == "iqr"))
        summary = self._summary_scan.search(clause) is not None or bool(v.features.get("summary"))
        if summary and (mean_pos > self._last(self._summary_scan, clause) or median_pos >= 0):
            summary = False  # "least squares mean [SEM]" of a summed score: a mean
        if summary or (v.unit == "%" and (change or diff)):
            v.stat = "other"
        elif diff and not level and _WITHIN_DIFFERENCE_RE.search(lower, s_start, v.value_start) is None:
            v.stat = "mean_difference"
        elif diff and not level:
            # "the difference between pre- and post-treatment pain scores was -3.7": a change
            v.stat = "median_change" if is_median else "mean_change"
        elif (change and not level) or (v.value < 0 and not level):
            # a pain score cannot be negative: a negative value is a change from baseline
            v.stat = "median_change" if is_median else "mean_change"
        else:
            v.stat = "median" if is_median else "mean"
        if v.spread == "interval":
            v.spread = "iqr" if v.stat in ("median", "median_change") else (
                "ci95" if v.stat in ("mean_difference", "mean_change") else "range")

    def _times(self, text: str, lower: str, s_start: int, s_end: int, values: list[ScoreValue],
               tps: list[TimeInfo]) -> None:
        """Time point of each value, the first rule that applies winning (``time_rule``)."""
        prev_list, self._time_list = self._time_list, None
        if not tps:
            # "Corresponding numbers in the control group were 4.7, 4.7, 4.8 and 4.9": the time
            # points of the previous sentence's list, in the same order
            if prev_list and _CONTINUATION_SCAN.search(lower, s_start, s_end):
                for r in _runs(text, values):
                    if len(r) == len(prev_list):
                        for v, (label, days) in zip(r, prev_list, strict=True):
                            v.timepoint, v.days = label, days
                            v.features["time_rule"] = "previous_list"
            return
        # 1) "respectively" expansion against a list of time points of the same length: one list
        # ("at 6, 12, 18 and 24 hour") or single time points written as one ("at baseline, 1 week
        # and 4 weeks", "before, immediately after, 30 minutes and one hour after the session")
        groups: dict[int, list[tuple[str, float | None]]] = {}
        for t in tps:
            if t.group >= 0:
                groups.setdefault(t.group, []).append((t.text, t.days))
        if _RESPECTIVELY_RE.search(lower, s_start, s_end):
            for k, seq in enumerate(_time_sequences(lower, s_start, tps)):
                groups[-1 - k] = seq
        runs = _runs(text, values)
        for items in groups.values():
            k = len(items)
            matched = [r for r in runs if len(r) == k]
            if matched:
                for r in matched:
                    for v, (label, days) in zip(r, items, strict=True):
                        v.timepoint, v.days = label, days
                        v.features["time_rule"] = "list"
                self._time_list = items
        singles = [t for t in tps if t.group < 0]
        own = [t for t in singles if not _reference_baseline(lower, s_start, t)]
        if len(own) >= 2 and _RESPECTIVELY_RE.search(lower, s_start, s_end):
            # "... by 1.74 points at 12 weeks and 2.22 points at 24 weeks with A and by 1.49 and
            # 1.81 points, respectively, with placebo": the sentence's time points in order
            for r in runs:
                if len(r) == len(own) and own[-1].end <= r[0].value_start \
                        and not any(v.features.get("time_rule") for v in r) \
                        and _RESPECTIVELY_RE.search(lower, r[-1].end, min(s_end, r[-1].end + 40)):
                    for v, t in zip(r, own, strict=True):
                        v.timepoint, v.days = t.text, t.days
                        v.features["time_rule"] = "list"
        # 2) a time point right after the value ("4.1 ± 2.4 at 24 h", "4.1 ± 2.4 (range 0-9;
        # p < 0.001) at 24h", "4.4 ± 2.7 four weeks after the procedure", "7.6 ± 1.3 before")
        for i, v in enumerate(values):
            if v.features.get("time_rule"):
                continue
            nxt_start = values[i + 1].value_start if i + 1 < len(values) else s_end
            found = self._time_after(text, lower, s_start, v, nxt_start, singles)
            if found is not None:
                v.timepoint, v.days = found
                v.features["time_rule"] = "after"
                continue
            if v.features.get("from_value"):
                v.timepoint, v.days = "baseline", 0.0
                v.features["time_rule"] = "from"
        # 3) values compared or listed together share the time point written after the last one
        # ("3.5 ± 1.2 vs 4.1 ± 1.3 at 48 h")
        for grp in _stat_groups(text, values):
            last = grp[-1]
            if len(grp) > 1 and last.features.get("time_rule") == "after":
                for v in grp[:-1]:
                    if not v.features.get("time_rule"):
                        v.timepoint, v.days = last.timepoint, last.days
                        v.features["time_rule"] = "after_group"
        # 4) values in brackets right after their time point ("at 30 min (49.5 vs 36.6, p = 0.01)")
        for v in values:
            if not v.features.get("time_rule"):
                opener = _time_before_bracket(text, lower, s_start, v, singles)
                if opener is not None:
                    v.timepoint, v.days = opener.text, opener.days
                    v.features["time_rule"] = "before_bracket"
        # 5) the time point that opens the sentence ("At 12 weeks, ...", "From baseline to 6 weeks,
        # ..."), else the sentence's only time point (a "from baseline" of a change is not one)
        lead = _leading_time(text, lower, s_start, singles)
        default = lead if lead is not None else (own[0] if len(own) == 1 and not groups else None)
        if default is not None:
            for v in values:
                if default.days == 0 and v.stat in _NOT_AT_BASELINE:
                    continue
                if not v.features.get("time_rule"):
                    v.timepoint, v.days = default.text, default.days
                    v.features["time_rule"] = "lead" if default is lead else "sentence"
        # 6) else the nearest time point before the value with its preposition, when nothing but
        # words, brackets and other values lies between ("at 24 hours, reported as median, was 20")
        if len(singles) > 1:
            for v in values:
                if v.features.get("time_rule"):
                    continue
                near = _time_just_before(text, lower, s_start, v, singles)
                if near is not None and not (near.days == 0 and v.stat in _NOT_AT_BASELINE):
                    v.timepoint, v.days = near.text, near.days
                    v.features["time_rule"] = "before"

    def _time_after(self, text: str, lower: str, s_start: int, v: ScoreValue, nxt_start: int,
                    singles: list[TimeInfo]) -> tuple[str, float | None] | None:
        """The time point written right after the value (see ``_times``), or None."""
        pos = _after_brackets(text, v.end, nxt_start)
        bare = _BEFORE_WORD_RE.match(lower, pos)
        if bare is not None and not any(t.start == pos + bare.start(1) for t in singles):
            return bare.group(1), 0.0  # "7.6 ± 1.3 before and 4.4 ± 2.7 after"
        for t in singles:
            if t.start < v.end or t.start >= nxt_start:
                continue
            if v.stat in _NOT_AT_BASELINE and _reference_baseline(lower, s_start, t):
                continue  # "improved by 55.8 % over baseline": the reference of the change
            if t.start >= pos:
                gap_start = pos
            elif t.start > v.end and lower[v.end:t.start].strip(" \t([") == "":
                gap_start = t.start  # "3.1 ± 1.2 (at 24 h)"
            else:
                gap_start = v.end
            gap = text[gap_start:t.start]
            if t.start - gap_start > 60 or ";" in gap or _CLAUSE_END_RE.search(gap):
                return None
            head = lower[max(s_start, t.start - 25):t.start] + " "
            if _PREP_BEFORE_TIME_RE.search(head) is not None:
                return t.text, t.days
            if gap.strip(" \t,") == "" and (t.kind == "baseline" or _POSTPOSED_RE.match(lower, t.end)):
                return t.text, t.days  # "4.4 ± 2.7 four weeks after", "7.2 ± 1.5 before treatment"
            return None
        return None

    def _arms(self, text: str, lower: str, s_start: int, s_end: int, values: list[ScoreValue]) -> None:
        # "in groups 1 and 2, respectively" / "in the X and Y groups, respectively"
        resp = _RESPECTIVELY_RE.search(lower, s_start, s_end)
        names: list[str] = []
        if resp:
            seg = text[max(s_start, resp.start() - 120):resp.start()]
            m = re.search(r"\b(?:in|for)\s+(?:the\s+)?groups?\s+([A-Za-z0-9]{1,4})\s*(?:,|"
                          r"and)\s*([A-Za-z0-9]{1,4})", seg)
            if m:
                names = [f"group {m.group(1)}", f"group {m.group(2)}"]
            else:
                m = re.search(r"\b(?:in|for)\s+(?:the\s+)?([\w+-]+(?:\s+[\w+-]+)?)\s+and\s+"
                              r"([\w+-]+(?:\s+[\w+-]+)?)\s+groups?\b", seg)
                if m:
                    names = [m.group(1), m.group(2)]
        if names:
            for r in _runs(text, values):
                if len(r) == len(names):
                    for v, name in zip(r, names, strict=True):
                        v.arm = name
        for i, v in enumerate(values):
            if v.arm:
                continue
            nxt_start = values[i + 1].value_start if i + 1 < len(values) else s_end
            seg = lower[v.end:nxt_start]
            m = re.match(r"[^.;]{0,25}?\b(?:in|for|with)\s+(?:the\s+)?", seg)
            if m and re.search(r"\b(?:group|arm)\b", seg[m.end():m.end() + 40]):
                v.arm = arm_name_after(text, v.end + m.end())


def _runs(text: str, values: list[ScoreValue]) -> list[list[ScoreValue]]:
    """Values written as one list ("6.4 ± 0.9, 3.4 ± 0.8, 1.9 ± 1.1, 0.5 ± 0.5")."""
    runs: list[list[ScoreValue]] = []
    for v in values:
        if runs:
            gap = text[runs[-1][-1].end:v.start]
            if re.fullmatch(r"[\s,;)\]]*(?:and|vs\.?|versus)?[\s,;]*(?:mm|%|"
                            r"points?)?[\s,;)\]]*(?:and)?\s*", gap) \
                    and len(gap) <= 14:
                runs[-1].append(v)
                continue
        runs.append([v])
    return runs


# statistics that are never "at baseline" (a change, a difference, a percent change)
_NOT_AT_BASELINE = frozenset({"mean_change", "median_change", "mean_difference", "other"})
_PREP_BEFORE_TIME_RE = re.compile(r"\b(?:at|after|on|by|in|during|within|over|post\w*)\s+(?:the\s+)?\S*\s*$")
# a time word after its number: "four weeks after (the procedure)", "24 h later"
_POSTPOSED_RE = re.compile(r"\s*(?:after|later|post\w*|following)\b")
# "before" right after a value, standing alone ("7.6 ± 1.3 before and 4.4 ± 2.7 after")
_BEFORE_WORD_RE = re.compile(r"[ \t]*,?[ \t]*(before|pre-?treatment|pre-?operatively|pre-?procedure)"
                             r"(?=[ \t]*(?:and\b|or\b|vs\b|versus\b|to\b|,|;|\(|\)|\.|$))")
_SEQUENCE_GAP_RE = re.compile(r"\s*(?:,|and|or|&|,\s*and)\s*(?:(?:at|after|on|in|by)\s+)?(?:the\s+)?")
# words that are items of a list of time points although no time point on their own, followed by
# the list's separator
_SEQUENCE_HEAD_RE = re.compile(r"\b(?P<word>(?P<pre>before|pre-?treatment|pre-?operatively|"
                               r"pre-?intervention)|immediately\s+after|right\s+after|post-?treatment|post-?operatively)"
                               r"\s*(?:,|and|,\s*and)\s*$")
_LEAD_RE = re.compile(r"(?:[A-Z][A-Za-z ]{2,30}:\s*|[A-Z]{3,}\s+)?(?:at|after|by|on|in|during|within|"
                      r"over|from\s+baseline\s+(?:to|until|through)|between\s+baseline\s+and)\s+"
                      r"(?:the\s+)?(?:end\s+of\s+(?:the\s+)?)?$", re.IGNORECASE)
_LEAD_AFTER_RE = re.compile(r"(?:\s+(?:of\s+)?(?:follow-?\s?up|post-?\w+|after\s+(?:the\s+)?\w+|"
                            r"of\s+(?:the\s+)?\w+))?\s*,")
_LIST_JOIN_BEFORE_RE = re.compile(r"(?:[,;)\]]|\band)\s*$")
_REFERENCE_BEFORE_RE = re.compile(r"\b(?:from|between|over|vs\.?|versus|than|relative\s+to|"
                                  r"compared\s+(?:with|to))\s+(?:the\s+)?$")


def _sentence_group_size(text: str, lower: str, s_start: int, first_value: int) -> tuple[int, int] | None:
    """The size of the group the sentence is about and where that statement ends, when it is
    stated once before the sentence's first value (see ``_GROUP_SIZE_RE``)."""
    head = text[s_start:first_value]
    found = list(_GROUP_SIZE_RE.finditer(head))
    if len(found) != 1:
        return None
    m = found[0]
    if re.search(r"\brespectively\b|\bgroups?\b|\barms?\b", head[m.end():].lower()):
        return None  # sizes of several groups follow
    return int(m.group("n") or m.group("n2")), s_start + m.end()


def _open_bracket(text: str, start: int, pos: int) -> int:
    """Where the innermost bracket still open at ``pos`` opens (looking back to ``start``), or -1."""
    depth = 0
    for i in range(pos - 1, start - 1, -1):
        c = text[i]
        if c in ")]":
            depth += 1
        elif c in "([":
            if depth == 0:
                return i
            depth -= 1
    return -1


def _after_brackets(text: str, pos: int, end: int) -> int:
    """The position after the bracketed groups that start at ``pos`` ("(range, 0-9; p < 0.001)")."""
    while True:
        i = pos
        while i < end and text[i] in " \t\u00a0":
            i += 1
        if i >= end or text[i] not in "([":
            return pos
        depth = 0
        for j in range(i, min(end, i + 150)):
            c = text[j]
            if c in "([":
                depth += 1
            elif c in ")]":
                depth -= 1
                if depth == 0:
                    pos = j + 1
                    break
        else:
            return pos


def _time_sequences(lower: str, s_start: int, tps: list[TimeInfo]) -> list[list[tuple[str, float | None]]]:
    """Single time points written as one list ("at baseline, 1 week and 4 weeks"), with list words
    before them that are no time point alone ("before, immediately after, 30 minutes and one hour
    after the session": before = baseline, "immediately after" = days unknown)."""
    seqs: list[list[TimeInfo]] = []
    for t in tps:
        if t.group >= 0:
            continue
        if seqs and _SEQUENCE_GAP_RE.fullmatch(lower, seqs[-1][-1].end, t.start):
            seqs[-1].append(t)
        else:
            seqs.append([t])
    out: list[list[tuple[str, float | None]]] = []
    for seq in seqs:
        items: list[tuple[str, float | None]] = [(x.text, x.days) for x in seq]
        pos = seq[0].start
        while True:
            m = _SEQUENCE_HEAD_RE.search(lower, max(s_start, pos - 40), pos)
            if m is None:
                break
            items.insert(0, (m.group("word"), 0.0 if m.group("pre") else None))
            pos = m.start("word")
        if len(items) >= 2:
            out.append(items)
    return out


def _time_before_bracket(text: str, lower: str, s_start: int, v: ScoreValue,
                         singles: list[TimeInfo]) -> TimeInfo | None:
    """The time point right before the bracket the value sits in ("at 30 minutes postoperatively
    (median score 2 compared with 4, P = .002)", ", 30 minutes (0 vs 1; P = .01)")."""
    bracket = _open_bracket(text, max(s_start, v.value_start - 120), v.value_start)
    if bracket < 0:
        return None
    before = [t for t in singles if t.end <= bracket and bracket - t.end <= 30]
    if not before:
        return None
    t = before[-1]
    gap = lower[t.end:bracket]
    if _FREE_DIGIT_RE.search(gap) or re.search(r"[;()\[\]]|\b(?:and|or|vs|versus|than|with)\b", gap):
        return None
    head = lower[max(s_start, t.start - 25):t.start] + " "
    if _PREP_BEFORE_TIME_RE.search(head) or \
            _LIST_JOIN_BEFORE_RE.search(lower, max(s_start, t.start - 8), t.start):
        return t  # "at 10 min (0 vs 1), 30 min (0 vs 2)": the later items have no preposition
    return None


def _leading_time(text: str, lower: str, s_start: int, singles: list[TimeInfo]) -> TimeInfo | None:
    """The time point that opens the sentence: "At 12 weeks, ...", "RESULTS: At day 15, ...",
    "From baseline to 6 weeks, ..."."""
    for t in singles:
        if t.start - s_start > 60:
            return None
        if t.days == 0 and lower.startswith("baseline", t.start) and \
                re.search(r"\bfrom\s+$", lower[max(s_start, t.start - 6):t.start]):
            continue  # "From baseline to 6 weeks": the time point is the second one
        if _LEAD_RE.fullmatch(text, s_start, t.start) and _LEAD_AFTER_RE.match(lower, t.end):
            return t
        return None
    return None


def _reference_baseline(lower: str, s_start: int, t: TimeInfo) -> bool:
    """ "(change) from baseline", "compared with baseline": the reference of a change, not the
    time point of a value."""
    return t.days == 0 and _REFERENCE_BEFORE_RE.search(lower, max(s_start, t.start - 25), t.start) is not None


def _time_just_before(text: str, lower: str, s_start: int, v: ScoreValue,
                      singles: list[TimeInfo]) -> TimeInfo | None:
    """The last time point before the value, with its preposition ("The BPI score at 24 hours,
    reported as median [quartiles], was 20 [7, 36]"), not past a semicolon."""
    before = [t for t in singles if t.end <= v.value_start]
    if not before:
        return None
    t = before[-1]
    if v.value_start - t.end > 120 or ";" in text[t.end:v.value_start]:
        return None
    if t.days == 0 and _reference_baseline(lower, s_start, t):
        return None
    head = lower[max(s_start, t.start - 25):t.start] + " "
    return t if _PREP_BEFORE_TIME_RE.search(head) else None


def _stat_groups(text: str, values: list[ScoreValue]) -> list[list[ScoreValue]]:
    """Values that share a statistic: a list, or two values compared ("(-1.55 ± 0.92) relative to
    indomethacin alone (-1.40 ± 0.96)")."""
    groups: list[list[ScoreValue]] = []
    for v in values:
        if groups:
            gap = text[groups[-1][-1].end:v.start]
            gap_no_p = re.sub(r"[Pp]\s*[<=>≤≥]\s*0?[.·]\d+|\(\s*95\s*%[^)]*\)", " ", gap)
            if len(gap) <= 90 and not re.search(r"(?<![a-z])\d", gap_no_p) and re.search(
                    r"\b(?:vs\.?|versus|compared\s+(?:with|to)|relative\s+to|than|and|while|whereas)\b", gap):
                groups[-1].append(v)
                continue
            if re.fullmatch(r"[\s,;)\]]*(?:and|vs\.?|versus)?[\s,;]*(?:mm|%|"
                            r"points?)?[\s,;)\]]*(?:and)?\s*", gap) \
                    and len(gap) <= 14:
                groups[-1].append(v)
                continue
        groups.append([v])
    return groups


def finalize(values: list[ScoreValue]) -> list[ScoreValue]:
    """Normalise spreads to the guideline's vocabulary and drop values that cannot be valid."""
    out: list[ScoreValue] = []
    for v in values:
        if v.spread == "interval":
            v = replace(v, spread="range")
        want = {None: 0, "sd": 1, "se": 1}.get(v.spread, 2)
        if len(v.spread_values) != want:
            continue
        out.append(v)
    return out
