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
   points ("at 6, 12, 18 and 24 hour") or arms ("in groups 1 and 2"); otherwise the time point
   written right after (or before) the value in its clause, then the sentence's only time point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from extractor.nlp.arms import arm_name_after
from extractor.nlp.numbers import Number

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
    rf"95{_SP}?%{_SP}?(?:CI|ci|confidence\s+intervals?|Cl)(?:{_SP}*\[CI\])?|CI|confidence\s+interval)"
    rf"{_SP}*[:=,;]?{_SP}*)?")
_PAIR_SEP_RE = re.compile(rf"{_SP}*(?:%|mm|points?)?{_SP}*(?:-|–|—|‒|to|,|;|and){_SP}*")
_CLOSE_RE = re.compile(rf"{_SP}*(?:%|mm|cm|points?)?{_SP}*[)\]]")
_CI_AFTER_RE = re.compile(
    rf"(?P<unit1>{_SP}*{_UNIT_OK})?{_SP}*(?:(?:higher|lower|greater|less|more)\b[^.;()\[\]]{{0,60}}?)?"
    rf"{_SP}*[,;(\[]?{_SP}*95{_SP}?%{_SP}?(?:CI|Cl|ci|confidence\s+intervals?)"
    rf"(?:{_SP}*(?:for|of)\s+(?:the\s+)?(?:difference|change|mean))?"
    rf"(?:{_SP}*\[CI\])?{_SP}*[:=,]?{_SP}*[(\[]?{_SP}*")
_THRESHOLD_BEFORE_RE = re.compile(
    r"(?:[<>≤≥=]|\bat\s+least|\bmore\s+than|\bless\s+than|\bgreater\s+than|\bover|\bunder|\babove|"
    r"\bbelow|\bexceed\w*|\bof\s+at\s+least|\bcut-?\s?off|\bthreshold|\bscale\s+of|\bfrom\s+0\s+to|"
    r"\branging\s+from|\branges?\s+from|\bbetween|\bscore\s+range|\brange\s*[:,]?|≥|≤|\bgrade|\bstep|"
    r"\bphase|\bgroup|\barm|\btype|\bclass|\bstage|\bday|\bweek|\bmonth|\bvisit|\bpod|\blevel|\bn\s*[=:]|"
    r"\bversion|\bitem|\bnumber|\bno\.|\bfigure|\btable|[a-z]-)\s*$", re.IGNORECASE)
_THRESHOLD_AFTER_RE = re.compile(
    r"\s*(?:or\s+(?:more|less|higher|lower|greater|above|below)|\+|-point|[-\s]point\s+(?:scale|likert|decrease|"
    r"reduction|improvement|change|difference|increase)|(?:-|\s)?(?:mm|cm)\s+(?:vas|scale|line|visual)|"
    r"\s*(?:-|–|to)\s*\d+\s*(?:mm|cm|points?)?\s*(?:scale|vas|nrs|range|\))|\s*(?:-|–)\s*\d|-item|-day|-week|"
    r"-month|-year|th\b|st\b|nd\b|rd\b|\s*/\s*(?:\d+\s*)?(?:day|week|month|h\b))", re.IGNORECASE)
_PERSON_AFTER_RE = re.compile(
    r"\s*(?:[a-z-]+\s+){0,2}(?:patients?|subjects?|participants?|women|men|children|volunteers|"
    r"individuals|cases|pts|infants|adults|persons|people|responders)\b|\s*(?:of|out\s+of)\s+\d", re.IGNORECASE)
_N_AFTER_RE = re.compile(rf"{_SP}*[\[(]{_SP}*n{_SP}*={_SP}*(?P<n>\d+){_SP}*[\])]", re.IGNORECASE)
_DECLARED_RE = re.compile(
    r"\(\s*(?P<a>mean|median)\s*(?:±|\+/-|\(|\[|,)?\s*(?P<b>sd|se|sem|iqr|range|95%\s*ci|standard\s+deviation)?",
    re.IGNORECASE)
_RESPECTIVELY_RE = re.compile(r"\brespectively\b", re.IGNORECASE)
_STAT_WORDS_BEFORE = re.compile(r"\b(mean|average|median|averaged|least[\s-]squares?\s+mean)\b", re.IGNORECASE)


def _declared_format(sentence: str) -> tuple[str | None, str | None]:
    """A format stated in the sentence, e.g. "(mean ± SD)" → ("mean", "sd")."""
    m = None
    for m in re.finditer(r"\b(mean|median)\s*(?:\(|\[|±|\+/-|,)\s*(sd|se|sem|iqr|interquartile range|range|95\s*%\s*ci|"
                         r"quartiles|standard deviation|standard error)\b", sentence, re.IGNORECASE):
        pass
    if m is None:
        return None, None
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
        self.rule_ids: dict[str, str] = {}
        self.confidence: dict[str, float] = {}
        lex: dict[str, str] = {}
        for r in rules:
            if r.get("type") == "expression":
                self.rule_ids[str(r["pattern"])] = str(r["id"])
                self.confidence[str(r["pattern"])] = float(r.get("confidence", 0.6))
            elif r.get("type") == "lexicon":
                lex[str(r["name"])] = str(r["pattern"])
            else:
                raise ValueError(f"scores rule {r.get('id')}: unknown type {r.get('type')!r}")
        missing = {"pain_cue", "other_measure", "median", "mean", "change", "difference"} - set(lex)
        if missing:
            raise ValueError(f"scores rules: missing lexicons {sorted(missing)}")
        self.pain_re = re.compile(lex["pain_cue"])
        self.other_re = re.compile(lex["other_measure"])
        self.median_re = re.compile(lex["median"])
        self.mean_re = re.compile(lex["mean"])
        self.change_re = re.compile(lex["change"])
        self.diff_re = re.compile(lex["difference"])

    # -- entry point --------------------------------------------------------------------------

    def find(self, text: str, sentences: Sequence[tuple[int, int]], numbers: Sequence[Number],
             blocked: Sequence[tuple[int, int]], timepoints: Sequence[TimeInfo],
             scales: Sequence[ScaleInfo]) -> list[ScoreValue]:
        lower = text.lower()
        if self.pain_re.search(lower) is None:
            return []
        doc_scales = sorted({s.scale for s in scales if s.scale != "unspecified"})
        out: list[ScoreValue] = []
        prev_had_scores = False
        for s_start, s_end in sentences:
            sent_lower = lower[s_start:s_end]
            pain_here = self.pain_re.search(sent_lower) is not None
            if not pain_here:
                # "Corresponding numbers in the control group were 4.7, 4.7, 4.8 and 4.9"
                if not (prev_had_scores and re.search(
                        r"\b(?:correspond\w*|respective\w*|similarly|whereas|while|control|placebo)\b",
                        sent_lower)):
                    prev_had_scores = False
                    continue
            nums = [n for n in numbers if s_start <= n.start < s_end
                    and not any(a <= n.start < b for a, b in blocked)]
            if not nums:
                prev_had_scores = False
                continue
            found = self._sentence(text, lower, s_start, s_end, nums, numbers, blocked)
            found = [v for v in found if self._is_pain_value(lower, s_start, v, pain_here)]
            if found:
                self._assign_context(text, lower, s_start, s_end, found, timepoints, scales, doc_scales)
            prev_had_scores = bool(found)
            out.extend(found)
        return out

    # -- value expressions ---------------------------------------------------------------------

    def _sentence(self, text: str, lower: str, s_start: int, s_end: int, nums: list[Number],
                  all_numbers: Sequence[Number], blocked: Sequence[tuple[int, int]]) -> list[ScoreValue]:
        by_start = {n.start: n for n in all_numbers}
        sentence = text[s_start:s_end]
        declared_stat, declared_spread = _declared_format(sentence)
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

        for i, num in enumerate(nums):
            if num.start in used or num.sci:
                continue
            expr = self._spread_expression(text, num, number_at, s_end, declared_spread)
            if expr is not None:
                for k in expr.features.pop("consumed", []):
                    used.add(k)
                used.add(num.start)
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
        return [v for v in out if not self._excluded_value(text, lower, v)]

    def _rule(self, name: str) -> tuple[str, float]:
        return self.rule_ids.get(name, f"score.{name}.v1"), self.confidence.get(name, 0.6)

    def _spread_expression(self, text: str, num: Number, number_at: Any, s_end: int,
                           declared_spread: str | None) -> ScoreValue | None:
        end = num.end
        # V ± S
        m = _PM_RE.match(text, end)
        if m and m.end() < s_end:
            s = number_at(m.end())
            if s is not None and s.start - m.end() <= 2 and not s.percent or (
                    s is not None and num.percent and s.percent):
                label = _label_spread(m.group("label")) if m.group("label") else None
                spread = label or ("se" if declared_spread == "se" else "sd")
                stop = s.end
                unit = (m.group("unit1") or "").strip() or None
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
                label = _label_spread(m.group("label"))
                sep = _PAIR_SEP_RE.match(text, a.end)
                b = number_at(sep.end()) if sep else None
                if b is not None and sep is not None and b.start - sep.end() <= 1 and \
                        _CLOSE_RE.match(text, b.end) and not (a.percent and not num.percent and label is None):
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
                if b is not None and sep is not None and b.start - sep.end() <= 1:
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

        for n in usable:
            after = text[n.end:min(s_end, n.end + 60)]
            la = after.lower()
            # V vs W  (with optional units, labels and closing brackets between)
            m = re.match(rf"{_SP}*(?:{_UNIT_OK})?{_SP}*[)\]]?{_SP}*,?{_SP}*(?:vs\.?|versus|v\.?|compared\s+(?:with|to)|"
                         rf"against|and){_SP}*[(\[]?{_SP}*(?:[A-Za-z][\w+-]*{_SP}+){{0,3}}", after)
            w = nxt(n)
            if m and w is not None and w.start == n.end + m.end() and \
                    (not re.match(r"\W*and\b", m.group(0).strip(" )]")) or self._list_context(lower, n, w, s_end)):
                if not (n.percent != w.percent) and abs(n.value) <= 1000 and abs(w.value) <= 1000:
                    add(n, "comparison")
                    add(w, "comparison")
                    continue
            # from V to W (and to X)
            before = lower[max(s_start, n.start - 40):n.start]
            if re.search(r"\bfrom\s+(?:a\s+)?(?:(?:mean|median|average)\s+(?:of\s+)?)?(?:baseline\s+(?:values?\s+)?(?:of\s+)?)?$",
                         before):
                m2 = re.match(rf"{_SP}*(?:{_UNIT_OK})?(?:\s+(?:at|on)\s+baseline)?{_SP}*(?:to|–|-){_SP}*", after)
                if m2 and w is not None and w.start == n.end + m2.end():
                    add(n, "from_to", from_value=True)
                    add(w, "from_to", to_value=True)
                    cur = w
                    while True:
                        tail = text[cur.end:min(s_end, cur.end + 40)]
                        m3 = re.match(rf"{_SP}*(?:{_UNIT_OK})?[^.;0-9]{{0,25}}?\b(?:and\s+)?(?:finally\s+)?to{_SP}+", tail)
                        w2 = nxt(cur)
                        if not (m3 and w2 is not None and w2.start == cur.end + m3.end()):
                            break
                        add(w2, "from_to", to_value=True)
                        cur = w2
                    continue
            # decreased by V (points); reduction of V%
            if re.search(r"\b(?:decreas\w*|reduc\w*|declin\w*|improv\w*|increas\w*|fell|dropped|lowered|"
                         r"diminished|changed|change|reduction|decrease|improvement|increase)\s+"
                         r"(?:significantly\s+|by\s+an?\s+(?:mean|average|median)\s+of\s+|on\s+average\s+)?"
                         r"(?:by|of)\s+(?:an?\s+)?(?:(?:mean|average|median)\s+(?:of\s+)?)?$", before):
                add(n, "change_by", change=True)
                continue
            # V% decrease in pain score
            if n.percent and re.match(r"\s*%?\s*(?:decrease|reduction|improvement|increase|lower|higher|change)",
                                      la.replace("%", "", 1)):
                add(n, "change_by", change=True)
                continue
            # score of V / VAS V / NRS: V / pain score was V
            if re.search(r"(?:\b(?:scores?|vas|nrs|vrs|nprs|bpi|intensity|ratings?|severity|levels?)"
                         r"(?:\s*\([^)]{0,25}\))?\s*(?:of|was|were|=|:|is|reached|averaged|remained)?"
                         r"|\bwas|\bwere)\s*(?:an?\s+)?(?:(?:mean|median|average)\s+(?:(?:score\s+)?of\s+)?)?$", before) \
                    and self.pain_re.search(before) is not None:
                add(n, "score_of")
                continue
            # V/10
            if re.match(rf"{_SP}*/{_SP}*10(?:0)?\b", after):
                add(n, "unit_value", unit="/10")
                continue
            # (19.5 mm), 35 mm [n = 22]
            if re.match(r"\s*(?:mm|cm)\b", la) and re.search(r"[(\[]\s*$", lower[max(s_start, n.start - 3):n.start]):
                add(n, "unit_value")
                continue
        # lists: "5.8, 3.1, 2.5 and 2.4, respectively"; a value and its comparisons already added
        self._lists(text, lower, s_start, s_end, usable, out)
        return sorted(out.values(), key=lambda v: v.value_start)

    def _lists(self, text: str, lower: str, s_start: int, s_end: int, usable: list[Number],
               out: dict[int, ScoreValue]) -> None:
        rid, conf = self._rule("list")
        run: list[Number] = []

        def flush() -> None:
            if len(run) >= 3 or (len(run) == 2 and _RESPECTIVELY_RE.search(text, run[-1].end, min(s_end, run[-1].end + 40))):
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
                if re.fullmatch(rf"{_SP}*(?:{_UNIT_OK})?{_SP}*(?:,|,?{_SP}*and|;){_SP}*", gap):
                    run.append(n)
                    continue
                flush()
            run.append(n)
        flush()

    @staticmethod
    def _list_context(lower: str, n: Number, w: Number, s_end: int) -> bool:
        """ "V and W" is a comparison only when followed by "respectively" or an arm list."""
        tail = lower[w.end:min(s_end, w.end + 60)]
        return re.search(r"\brespectively\b|\bin\s+(?:the\s+)?(?:\w+\s+){0,3}groups?\b|\bfor\b", tail) is not None

    def _bad_plain(self, text: str, lower: str, n: Number) -> bool:
        """Numbers that are never a plain score: units, thresholds, counts, scale ranges..."""
        if abs(n.value) > 1000 or n.sci:
            return True
        if _BAD_UNIT_RE.match(text, n.end) and not _UNIT_OK_RE.match(text, n.end):
            return True
        before = lower[max(0, n.start - 25):n.start]
        if _THRESHOLD_BEFORE_RE.search(before):
            return True
        if _THRESHOLD_AFTER_RE.match(lower, n.end):
            return True
        if _PERSON_AFTER_RE.match(lower, n.end):
            return True
        if n.is_int and 1900 <= n.value <= 2030:
            return True
        if n.words and n.value != 0:
            return True  # "two groups", "one patient"
        return False

    def _excluded_value(self, text: str, lower: str, v: ScoreValue) -> bool:
        """Spread expressions whose value is clearly something else (a dose, a duration...)."""
        if v.spread is None:
            return False
        end = v.end
        if _BAD_UNIT_RE.match(text, end) and not _UNIT_OK_RE.match(text, end):
            return True
        if _BAD_UNIT_RE.match(text, v.value_end) and not _UNIT_OK_RE.match(text, v.value_end):
            return True
        return False

    # -- is it about pain? -------------------------------------------------------------------------

    def _is_pain_value(self, lower: str, s_start: int, v: ScoreValue, pain_here: bool) -> bool:
        window = lower[s_start:v.value_start]
        last_pain = -1
        last_other = -1
        for m in self.pain_re.finditer(window):
            last_pain = m.start()
        for m in self.other_re.finditer(window):
            last_other = m.start()
        v.features["pain_cue_distance"] = len(window) - last_pain if last_pain >= 0 else None
        if last_pain < 0 and last_other < 0:
            return pain_here or v.rule.endswith("list.v1") or v.rule.endswith("comparison.v1")
        return last_pain >= last_other

    # -- stat, time point, arm, scale ------------------------------------------------------------

    def _assign_context(self, text: str, lower: str, s_start: int, s_end: int,
                        values: list[ScoreValue], timepoints: Sequence[TimeInfo],
                        scales: Sequence[ScaleInfo], doc_scales: list[str]) -> None:
        tps = [t for t in timepoints if s_start <= t.start < s_end]
        for v in values:
            self._stat(lower, s_start, v)
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

    def _stat(self, lower: str, s_start: int, v: ScoreValue) -> None:
        window = lower[max(s_start, v.value_start - 120):v.value_start]
        # the clause: back to the last semicolon or the start of a parenthesis that closed
        cut = max(window.rfind(";"), window.rfind(". "))
        clause = window[cut + 1:] if cut >= 0 else window
        median_pos = max((m.start() for m in self.median_re.finditer(clause)), default=-1)
        mean_pos = max((m.start() for m in self.mean_re.finditer(clause)), default=-1)
        change = self.change_re.search(clause) is not None or v.features.get("change")
        diff = (self.diff_re.search(clause) is not None or v.features.get("difference_words")
                or re.match(r"\s*(?:mm|cm|points?)?\s*(?:lower|higher|less|more|greater|better|worse)\s+"
                            r"(?:for|in|than|with|among)", lower[v.value_end:v.value_end + 40]) is not None)
        hint = v.features.get("stat_hint")
        is_median = median_pos > mean_pos or (median_pos < 0 and mean_pos < 0 and
                                             (hint == "median" or v.spread in ("iqr",)))
        if v.unit == "%" and (change or v.features.get("change")):
            v.stat = "other"
        elif diff and not v.features.get("from_value") and not v.features.get("to_value"):
            v.stat = "mean_difference"
        elif change and not v.features.get("from_value") and not v.features.get("to_value"):
            v.stat = "median_change" if is_median else "mean_change"
        else:
            v.stat = "median" if is_median else "mean"
        if v.spread == "interval":
            v.spread = "iqr" if v.stat in ("median", "median_change") else (
                "ci95" if v.stat in ("mean_difference", "mean_change") else "range")

    def _times(self, text: str, lower: str, s_start: int, s_end: int, values: list[ScoreValue],
               tps: list[TimeInfo]) -> None:
        if not tps:
            return
        # 1) "respectively" expansion against a list of time points of the same length
        groups: dict[int, list[TimeInfo]] = {}
        for t in tps:
            if t.group >= 0:
                groups.setdefault(t.group, []).append(t)
        runs = _runs(text, values)
        for items in groups.values():
            k = len(items)
            matched = [r for r in runs if len(r) == k]
            if matched:
                for r in matched:
                    for v, t in zip(r, items, strict=True):
                        v.timepoint, v.days = t.text, t.days
                        v.features["time_rule"] = "list"
        # 2) a time point right after the value ("4.1 ± 2.4 at 24 h") or before it ("at 4 weeks, 3.2")
        for i, v in enumerate(values):
            if v.features.get("time_rule"):
                continue
            nxt_start = values[i + 1].value_start if i + 1 < len(values) else s_end
            after = [t for t in tps if v.end <= t.start < nxt_start and t.group < 0
                     and t.start - v.end <= 60 and ";" not in text[v.end:t.start]]
            if after and re.search(r"\b(?:at|after|on|by|in|during|within|over|post\w*)\s+(?:the\s+)?\S*\s*$",
                                   lower[max(s_start, after[0].start - 25):after[0].start] + " ") is not None:
                t = after[0]
                v.timepoint, v.days = t.text, t.days
                v.features["time_rule"] = "after"
                continue
            if v.features.get("from_value"):
                v.timepoint, v.days = "baseline", 0.0
                v.features["time_rule"] = "from"
                continue
        # 3) the sentence's only (non-list) time point
        singles = [t for t in tps if t.group < 0]
        if len(singles) == 1 and not groups:
            t = singles[0]
            for v in values:
                if not v.features.get("time_rule"):
                    v.timepoint, v.days = t.text, t.days
                    v.features["time_rule"] = "sentence"

    def _arms(self, text: str, lower: str, s_start: int, s_end: int, values: list[ScoreValue]) -> None:
        # "in groups 1 and 2, respectively" / "in the X and Y groups, respectively"
        resp = _RESPECTIVELY_RE.search(lower, s_start, s_end)
        names: list[str] = []
        if resp:
            seg = text[max(s_start, resp.start() - 120):resp.start()]
            m = re.search(r"\b(?:in|for)\s+(?:the\s+)?groups?\s+([A-Za-z0-9]{1,4})\s*(?:,|and)\s*([A-Za-z0-9]{1,4})", seg)
            if m:
                names = [f"group {m.group(1)}", f"group {m.group(2)}"]
            else:
                m = re.search(r"\b(?:in|for)\s+(?:the\s+)?([\w+-]+(?:\s+[\w+-]+)?)\s+and\s+([\w+-]+(?:\s+[\w+-]+)?)\s+groups?\b", seg)
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
            if re.fullmatch(r"[\s,;]*(?:and|vs\.?|versus)?[\s,;]*(?:mm|%|points?)?[\s,;]*(?:and)?\s*", gap) \
                    and len(gap) <= 12:
                runs[-1].append(v)
                continue
        runs.append([v])
    return runs


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
