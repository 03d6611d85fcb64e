"""``extractor_sample_size``: counts of people — headline sample-size candidates and arm sizes.

Candidate generation and the final choice are separate. This component proposes every count of
people ("74 patients", "Thirty-one women", "n = 25", "a total of 406 cases") as a
``sample_size`` candidate with features (the role words around it — randomized, enrolled,
analysed, screened, lost, subset, per group — its position and noun) and a prior score from the
weighted cue rules; ``extractor_resolve`` (or a trained ranker before it) picks one. Counts of
lesions, studies, eyes or procedures are never candidates.

Arm sizes come from group-size constructions: "group 1 (n=41)", "53 patients in the study group
and 52 in the control group", "seven groups of 30 patients each", "(n=20 in each group)",
"54 and 59 patients in groups A and B, respectively". One size per arm is kept (the first
mentioned, i.e. the randomized one) and no more arms than the abstract says it has.

Span groups: ``extractor.sample_size`` (label ``SAMPLE_SIZE``) and ``extractor.arm_sizes``
(label ``ARM_SIZE``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.arms import arm_name_after, arm_name_before, stated_group_count
from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.components.numbers import numbers_from_doc
from extractor.nlp.context import DocContext, add_candidates, doc_lower, doc_text
from extractor.nlp.intervals import Intervals
from extractor.nlp.lexicon import NON_PERSON_NOUNS, PERSON_NOUNS
from extractor.nlp.numbers import Number
from extractor.nlp.rules import Rule

# up to four modifier words between a number and its noun ("112 consecutive adult patients");
# no function words, verbs or bare numbers ("2016 that included 62 patients" is not a count)
_MOD = (r"(?:(?!(?:of|in|at|to|from|for|on|by|per|were|was|are|is|and|or|with|than|that|who|which|"
        r"had|have|has|mg|ml|years?|months?|weeks?|days?|hours?|versus|vs|received|underwent|"
        r"but|while|whereas|however|between|after|before|during|into|under|over|among|each|"
        r"both|all|these|those|the|a|an)\b)(?!(?:" + NON_PERSON_NOUNS + r")\b)"
        r"(?![0-9.,]+\s)[a-z0-9][\w/'’+-]*\s*,?\s+){0,4}?")
# "80 ASA physical status I and II", "34 American Society of Anesthesiologists (ASA) I-III"
_ASA = (r"(?:american\s+society\s+of\s+ana?esthesiolog\w*\s*(?:\(\s*asa\s*\)\s*)?|asa\s*)"
        r"(?:physical\s+status\s*|grade\s*|class\s*|status\s*|ps\s*)?"
        r"(?:(?:[ivx]+|[0-9])(?:\s*(?:-|–|to|and|or|,|/)\s*(?:[ivx]+|[0-9]))*\s*)?,?\s*")
SUBPATTERNS = {"PERSON": f"(?:{PERSON_NOUNS})", "MOD": _MOD, "ASA": _ASA}
_NON_PERSON_AFTER = re.compile(rf"\s*(?:[-–]\s*)?(?:[a-z0-9][\w/'’+-]*\s+){{0,2}}?(?:{NON_PERSON_NOUNS})\b")
_UNIT_AFTER = re.compile(r"\s*(?:%|percent|mg|µg|mcg|ml|mm|cm|kg|g\b|years?|yrs?|months?|weeks?|days?|hours?|"
                         r"h\b|min)")
_PERSON_BEFORE = re.compile(rf"\b(?:{PERSON_NOUNS})\s*[(\[]?\s*$")
_EACH_AFTER = re.compile(
    rf"\s*(?:[a-z]+\s+)?(?:{PERSON_NOUNS})\s+(?:(?:were|was)\s+)?(?:in\s+each|per|each|in\s+every)\b"
    r"|\s*(?:in\s+each|per|in\s+every)\s+(?:group|arm|cohort)\b|\s*(?:for\s+|in\s+)?each\b")
_GROUPS_OF = re.compile(
    r"\b(?P<k>two|three|four|five|six|seven|eight|both|2|3|4|5|6|7|8)\s+(?:(?:equal|treatment|study|parallel)\s+)?"
    r"(?:groups|arms|cohorts)\s+(?:of|with|including|containing|comprising)\s+(?:each\s+)?$")
_IN_GROUP_VERB = (r"(?:who\s+|were\s+|was\s+)?(?:randomly\s+)?"
                  r"(?:in|into|to|for|received|receiving|allocated\s+to|assigned\s+to|randomi[sz]ed\s+to|"
                  r"treated\s+with|underwent|on|with|given)\s+(?!each\b|every\b|both\b|all\b|whom\b)")
_IN_GROUP_PERSON = re.compile(
    r"\s*(?:(?:[a-z0-9][\w/'’+-]*\s+){0,3}?(?:" + PERSON_NOUNS + r")\s+)?" + _IN_GROUP_VERB)
_IN_GROUP_PLAIN = re.compile(r"\s*" + _IN_GROUP_VERB)
_WORD_AHEAD_RE = re.compile(r"\s*[a-z0-9]")


class _InGroup:
    """``_IN_GROUP.match(lower, pos)``: the person-noun branch only when a person word is near.

    Both branches start, after white space, with a word ([a-z0-9]: a modifier, a person noun or
    the verb), so without one there is no match (a count followed by ")", ",", "%"...).
    """

    @staticmethod
    def match(lower: str, pos: int) -> re.Match[str] | None:
        if _WORD_AHEAD_RE.match(lower, pos) is None:
            return None
        if not PERSON_WORDS.isdisjoint(_WORD_SPLIT_RE.findall(lower, pos, pos + 60)):
            return _IN_GROUP_PERSON.match(lower, pos)
        return _IN_GROUP_PLAIN.match(lower, pos)


_IN_GROUP = _InGroup()
# how much an arm-size rule is trusted when two rules propose different sets (lower first)
_ARM_RULE_CLASS = {"n_equals": 0, "groups_of": 0, "each_group": 0, "respectively": 0, "group_of": 1,
                   "count_in_group": 1, "sum_split": 2}
_N_EQ_ARM_RE = re.compile(r"(?:[(\[]\s*|,\s*|;\s*|:\s*)?\bn\s*[=:]\s*$")
_OUTCOME_LOCUS_RE = re.compile(r"\b(?:occurred|observed|seen|noted|reported|found|developed|recorded|"
                               r"experienced|present)\s+(?:\w+\s+)?(?:in|among|by)\s+(?:the\s+|only\s+)?$")
_SPREAD_BEFORE_RE = re.compile(r"[±]\s*$|\(\s*$")
_PERSON_NEAR_AFTER_RE = re.compile(r"\s*(?:[a-z]+\s+)?(?:" + PERSON_NOUNS + r")")
_LETTER_AFTER_RE = re.compile(r"\s+[A-Za-z]")
_NUMERATOR_RE = re.compile(r"\s*(?:\(\s*[\d.]+\s*%\s*\)\s*)?(?:out\s+)?of\s+(?:the\s+)?\d")
_OUTCOME_COUNT_RE = re.compile(
    r"[^.;]{0,40}?\b(?:had|developed|experienced|reported|achieved|showed|required|died|complained|suffered|"
    r"obtain\w*|failed|needed|noted|were\s+observed|were\s+followed|occurred|withdr\w+|dropped|"
    r"discontinued|excluded|lost)\b")
_ALLOCATION_WORDS = ("randomi", "assign", "allocat", "divid", "group", "arm", "receiv", "treated",
                     "versus", " vs", "control", "placebo", "each", "enrol", "includ", "consist", "compris",
                     ";")
_RATIO_AFTER_RE = re.compile(r"\s?[:×x*]\s?\d")  # "randomized 2:1", "a 2 × 2 factorial design"
_RATIO_BEFORE_RE = re.compile(r"\d\s?[:×x*]\s?$")
_HYPHEN_WORD_AFTER_RE = re.compile(r"[-–‐]([a-z]+)")  # "2-tablet dose", "3-arm trial"
_RANGE_DASH_BEFORE_RE = re.compile(r"\d\s?-\s?$")
_YEAR_PERSON_RE = re.compile(rf"\s+(?:{PERSON_NOUNS})\b")
_WORD_SPLIT_RE = re.compile(r"[a-z]+")
# single words of the person-noun list (multi-word entries contribute their last word), for a
# quick set lookup before the full regular expression runs


def _word_forms(alternatives: str) -> frozenset[str]:
    forms: set[str] = set()
    for alt in alternatives.split("|"):
        word = alt.split("\\s+")[-1]
        if word.endswith("?"):
            forms.update({word[:-2], word[:-2] + word[-2]})
        else:
            forms.add(word)
    return frozenset(forms)


PERSON_WORDS = _word_forms(PERSON_NOUNS)
_LEAD_WORDS = ("total", "overall", "altogether", "sample", "consist", "compris", "involv", "enrol",
               "recruit", "randomi", "includ", "studied", "evaluated")
_PCT_CLOSE_RE = re.compile(r"\s*%?\s*\)")
_YEARS_OLD_RE = re.compile(r"\s*(?:[-–]\s*)?(?:years?|yrs?)[\s-]+old")
_RANGE_BEFORE_RE = re.compile(r"(?:\d\s?[-–]|[<>≤≥=]|\bto)\s?$")
_N_EQ_BEFORE_RE = re.compile(r"\bn\s*=\s*$")
_NOT_COUNT_AFTER_RE = re.compile(r"\s*(?:mg|ml|mm|cm|kg|µg|mcg|g|%|[-–]\s*\d|/\s*\d|:\s*\d|\.\d)")
_ARM_WORDS = ("group", " arm", "each", " per ", "respectively", "receiv", "assign", "allocat", "randomi",
              "treated", "underwent", "n =", "n=", "(n", "versus", " vs")
_K_N_GROUPS = re.compile(r"\b(?P<k>two|three|four|five|six|seven|eight|2|3|4|5|6|7|8)\s*\(\s*n\s*=\s*$")
_GENDER_AFTER = re.compile(r"\s*(?:[a-z]+\s+)?(?:women|woman|men|man|males?|females?|boys?|girls?)\b")


# patterns of the arm-size rules below (compiled once: a module-level re call looks its pattern up
# in re's cache every time, which for the person-noun ones means hashing a 900-character string)
_GROUP_LABEL_BEFORE_RE = re.compile(r"\b([Gg]roup\s+(?:[A-Z]{1,3}|[IVX]{1,4}|\d))\b[^.;,()]{0,25}$")
_PERSON_WERE_AFTER_RE = re.compile(rf"\s*(?:[a-z]+\s+)?(?:{PERSON_NOUNS})\b\s*(?:were\s+|as\s+|"
                                   rf"who\s+)?")
_N_EQUALS_END_RE = re.compile(r"[\s(\[,;]*n\s*[=:]\s*$")
_ARM_WORD_RE = re.compile(r"\b(?:group|arm|cohort|placebo|control|sham)\b")
_PERSON_THEN_RE = re.compile(rf"\b(?:{PERSON_NOUNS})\b([^.;()]*)$")
_ALLOCATION_VERB_RE = re.compile(r"\b(?:were|was|received?|receiving|randomi\w+|assigned|allocated|to|"
                                 r"treated)\b")
_PAREN_NAME_END_RE = re.compile(r"\(\s*([^()]{1,40}?)\s*[;,]\s*$")
_DIGIT_FIRST_RE = re.compile(r"\W*\d")
_PAREN_OPEN_END_RE = re.compile(r"(?:\(\s*([^()]{1,40}?)\s*;|"
                                r"\()\s*$")
_PERSON_CLOSE_RE = re.compile(rf"\s*(?:{PERSON_NOUNS})\s*\)")
_GROUP_OR_ARM_RE = re.compile(r"(?i)\b(?:group|arm)\b")
_SHARE_NAME_RE = re.compile(r"(?i)\bper\s*cent|%|^\W*\d")
_GROUP_OF_END_RE = re.compile(r"\b(?:group|arm|cohort)(?:\s+[a-z0-9]{1,3})?\s+(?:of|consisted\s+of|included|"
                              r"comprised|"
                              r"contained|had|with)\s+$")
_PERSON_AFTER_RE = re.compile(rf"\s*(?:[a-z]+\s+)?(?:{PERSON_NOUNS})\b")
_ALLOCATED_VERB_RE = re.compile(r"receiv|allocated|assigned|randomi|treated|given|"
                                r"underwent")
_RANDOMIZED_RE = re.compile(r"randomi|assigned|allocated")
_GROUP_WORD_RE = re.compile(r"\b(?:group|arm|cohort)\b")
_OUTCOME_VERB_RE = re.compile(r"[^.;]{0,40}?\b(?:had|developed|experienced|reported|achieved|showed|required|"
                              r"died|complained|suffered|obtain\w*|failed|needed|noted)\b")
_PERCENT_PAREN_RE = re.compile(r"\s*\(\s*[\d.]+\s*%")
_OUT_OF_RE = re.compile(r"\s*(?:out\s+)?of\s+\d")
_ALLOCATION_SENTENCE_RE = re.compile(r"randomi|assign|allocat|divided|received|receiving|treated|enrol|"
                                     r"includ|consist|compris|underwent|given|group|arm")


def _gender_after(lower: str, n: Number) -> bool:
    return _GENDER_AFTER.match(lower, n.end) is not None


def _distinct_group_labels(text: str) -> list[str]:
    """ "group I", "group II", ... in order of first mention, without repeats."""
    seen: list[str] = []
    for m in re.finditer(r"\b[Gg]roups?\s+([A-Z]{1,3}|[IVX]{1,4}|\d)\b", text):
        label = f"group {m.group(1)}"
        if label not in seen:
            seen.append(label)
    return seen


def _subset_sum(pool: list[Number], total: int) -> list[Number] | None:
    """The first (by position, then fewest items) subset of 2-4 counts that adds up to ``total``."""
    best: list[Number] | None = None
    best_key: tuple[int, int] | None = None
    for size in range(2, min(4, len(pool)) + 1):
        for combo in combinations(pool, size):
            if abs(sum(x.value for x in combo) - total) > 0.5:
                continue
            key = (combo[0].start, size)
            if best_key is None or key < best_key:
                best, best_key = list(combo), key
    return best


def _arm_name_near(text: str, lower: str, n: Number) -> str | None:
    """The arm a count belongs to: a "group X" label just before it, else the words after it."""
    before = text[max(0, n.start - 40):n.start]
    m = _GROUP_LABEL_BEFORE_RE.search(before)
    if m:
        return m.group(1)
    m_in = _IN_GROUP.match(lower, n.end)
    pos = m_in.end() if m_in else n.end
    if not m_in:
        m_p = _PERSON_WERE_AFTER_RE.match(lower[pos:pos + 40])
        if m_p:
            pos += m_p.end()
    return arm_name_after(text, pos)
_NUM_WORD = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "both": 2}


def expand(pattern: str) -> str:
    return re.sub(r"<<([A-Z]+)>>", lambda m: SUBPATTERNS[m.group(1)], pattern)


@dataclass
class Candidate:
    number: Number
    start: int
    end: int
    rule_id: str
    noun: str | None
    score: float = 0.0
    features: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ArmSizeMatch:
    start: int
    end: int
    n: int
    arm: str | None
    rule_id: str
    confidence: float


# the text windows a cue can read (see ``_score``), and the other scopes
_WINDOW_SCOPES = ("before", "before_raw", "after", "after_long", "span", "sentence")
_POSITION, _NOUN, _SENTENCE_INDEX = 10, 11, 12


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class SampleSizeExtractor(RuleComponent):
    rules_name = "sample_size"

    def compile_rules(self, rules: list[Rule]) -> None:
        self._count: list[tuple[str, re.Pattern[str], float]] = []
        self._no_span_cues: set[str] = set()
        self._lead: list[tuple[str, re.Pattern[str], float]] = []
        self._n_eq: list[tuple[str, re.Pattern[str], float]] = []
        self._cues: list[tuple[str, str, float, re.Pattern[str], tuple[str, ...]]] = []
        self._arm_conf: dict[str, float] = {}
        for r in rules:
            kind = r.get("type")
            conf = float(r.get("confidence", 0.6))
            if kind == "count":
                self._count.append((r["id"], re.compile(expand(r["pattern"])), conf))
                if r.get("span_cues") is False:
                    # the words matched after the number describe another count ("Thirty of 40
                    # eligible subjects"): span cues are not read for this rule
                    self._no_span_cues.add(r["id"])
            elif kind == "lead":
                self._lead.append((r["id"], re.compile(expand(r["pattern"])), conf))
            elif kind == "n_equals":
                self._n_eq.append((r["id"], re.compile(expand(r["pattern"])), conf))
            elif kind == "cue":
                scope = str(r.get("scope", "sentence"))
                if scope not in ("before", "before_raw", "after", "after_long", "sentence", "noun", "span",
                                 "sentence_index", "position"):
                    raise ValueError(f"{self.name}: rule {r['id']}: unknown scope {scope!r}")
                self._cues.append((r["id"], scope, float(r.get("weight", 0.0)),
                                   re.compile(expand(r["pattern"])),
                                   tuple(str(t) for t in r.get("triggers") or ())))
            elif kind == "arm":
                self._arm_conf[str(r["pattern"])] = conf
                self._arm_conf[r["id"]] = conf
            else:
                raise ValueError(f"{self.name}: rule {r['id']}: unknown type {kind!r}")
        self._arm_ids = {str(r["pattern"]): r["id"] for r in rules if r.get("type") == "arm"}
        # How ``_score`` runs the cues, in file order: the window a cue reads (an index into
        # _WINDOW_SCOPES, or _POSITION / _NOUN / _SENTENCE_INDEX), its weight, its regex and its
        # trigger words. The trigger words of all the cues of one window are looked for once per
        # candidate, and each cue then checks its own in the result.
        codes = {scope: i for i, scope in enumerate(_WINDOW_SCOPES)}
        codes.update({"position": _POSITION, "noun": _NOUN, "sentence_index": _SENTENCE_INDEX})
        scope_triggers: list[set[str]] = [set() for _ in _WINDOW_SCOPES]
        self._cue_plan: list[tuple[str, int, float, Any, frozenset[str] | None]] = []
        for rule_id, scope, weight, rx, triggers in self._cues:
            code = codes[scope]
            trig = frozenset(triggers) if triggers and code < len(_WINDOW_SCOPES) else None
            if trig is not None:
                scope_triggers[code].update(trig)
            self._cue_plan.append((rule_id, code, weight, rx.search, trig))
        self._window_triggers = [tuple(sorted(t)) for t in scope_triggers]
        self._sets: list[list[ArmSizeMatch]] | None = None  # arm-size sets of the doc being processed
        self._k_groups: int | None = None  # the number of arms it states (0: none)

    # -- headline candidates ------------------------------------------------------------------

    def _candidates(self, text: str, lower: str, ctx: DocContext,
                    numbers: list[Number]) -> list[Candidate]:
        out: list[Candidate] = []
        # every person noun of the text, found in one pass; a number is a count of people only
        # with one of them close after it (or a lead-in such as "a total of" / "n =" before it)
        for num in numbers:
            if not num.is_int or num.percent or num.signed or num.sci or not 2 <= num.value < 1e6:
                continue
            person_ahead = not PERSON_WORDS.isdisjoint(_WORD_SPLIT_RE.findall(lower, num.end, num.end + 90))
            ahead = lower[num.end:num.end + 40]
            verb_ahead = "were " in ahead[:30] or "was " in ahead[:30]
            before = lower[max(0, num.start - 45):num.start]
            eq_before = "=" in before[-8:] or ":" in before[-8:]
            if not (person_ahead or verb_ahead or eq_before or any(w in before for w in _LEAD_WORDS)):
                continue
            if text[num.end:num.end + 1] in ("/", "-", "–") and text[num.end + 1:num.end + 2].isdigit():
                continue  # "34/64", "18-65"
            hyphen = _HYPHEN_WORD_AFTER_RE.match(lower, num.end)
            if hyphen is not None and hyphen.group(1) not in PERSON_WORDS:
                continue  # a compound modifier ("2-tablet dose"), not a count of people
            if _RATIO_AFTER_RE.match(text, num.end) or \
                    _RATIO_BEFORE_RE.search(text, max(0, num.start - 4), num.start):
                continue  # a ratio ("randomized 2:1:1")
            if num.start > 0 and (text[num.start - 1] in "/–" or
                                  _RANGE_DASH_BEFORE_RE.search(text, max(0, num.start - 3), num.start)):
                continue  # the second number of a range or fraction
            if 1900 <= num.value <= 2030 and not _YEAR_PERSON_RE.match(lower, num.end):
                continue  # a calendar year
            cand: Candidate | None = None
            if person_ahead or verb_ahead:
                for rule_id, rx, _conf in self._count:
                    m = rx.match(lower, num.end)
                    if m:
                        cand = Candidate(num, num.start, m.end(), rule_id, m.group("noun") or None)
                        break
            if cand is None and (_UNIT_AFTER.match(lower, num.end)
                                 or _NON_PERSON_AFTER.match(lower, num.end)):
                continue
            if cand is None and eq_before:
                for rule_id, rx, _conf in self._n_eq:
                    if rx.search(lower, max(0, num.start - 8), num.start):
                        if self._n_equals_is_total(lower, num.start):
                            cand = Candidate(num, num.start, num.end, rule_id, None)
                        break
            if cand is None and any(w in before for w in _LEAD_WORDS):
                for rule_id, rx, _conf in self._lead:
                    if rx.search(lower, max(0, num.start - 45), num.start):
                        cand = Candidate(num, num.start, num.end, rule_id, None)
                        break
            if cand is None:
                continue
            out.append(cand)
        starts = [n.start for n in numbers]
        for i, cand in enumerate(out):
            # the windows stop at the neighbouring counts (one may sit inside this one's span:
            # "Thirty of 40 eligible subjects")
            lo = max((c.end for c in out[:i] if c.end <= cand.start), default=0)
            hi = min((c.start for c in out[i + 1:] if c.start >= cand.end), default=len(lower))
            nxt = next((s for s in starts if s >= cand.end), len(lower))
            self._score(cand, lower, ctx, lo, hi, nxt)
        return out

    @staticmethod
    def _n_equals_is_total(lower: str, start: int) -> bool:
        """Is "(n = N)" at ``start`` the size of the whole sample (after people), not of an arm?"""
        before = lower[max(0, start - 60):start]
        before = _N_EQUALS_END_RE.sub("", before)
        tail = before[-25:]
        if _ARM_WORD_RE.search(tail):
            return False
        m = _PERSON_THEN_RE.search(before)
        if m is None:
            return False
        # "patients ( n = 25 )", "patients with acute NP ( n = 72 )" — but not "patients were
        # randomised to receive oxaprozin ( n = 49 )"
        return len(m.group(1)) <= 30 and _ALLOCATION_VERB_RE.search(m.group(1)) is None

    def _score(self, cand: Candidate, lower: str, ctx: DocContext, lo: int, hi: int,
               next_number: int) -> None:
        s_start, s_end = ctx.sentence_at(cand.start)
        # cue windows stop at the neighbouring counts: their words describe them, not this one; the
        # "before" window also stops at the last comma or conjunction ("310 were screened and |150")
        before_raw = lower[max(s_start, lo, cand.start - 90):cand.start]
        cut = max(before_raw.rfind(", "), before_raw.rfind(" and "), before_raw.rfind(";"),
                  before_raw.rfind(": "))
        before = before_raw[cut + 2:] if cut >= 0 else before_raw
        after_long = lower[cand.end:max(cand.end, min(s_end, hi, cand.end + 80))]
        after = after_long[:max(0, next_number - cand.end)]
        span = "" if cand.rule_id in self._no_span_cues else lower[cand.number.end:cand.end]
        position = cand.start / max(1, len(lower))
        sentence = lower[s_start:s_end]
        score = 0.0
        feats: dict[str, Any] = {"n": int(cand.number.value), "rule": cand.rule_id,
                                 "words": cand.number.words, "noun": cand.noun or "",
                                 "sentence_index": ctx.sentence_index(cand.start)}
        windows = (before, before_raw, after, after_long, span, sentence)  # as _WINDOW_SCOPES
        n_windows = len(windows)
        present: list[frozenset[str] | None] = [None] * n_windows  # trigger words in each window
        for rule_id, code, weight, search, trig in self._cue_plan:
            if code < n_windows:
                window = windows[code]
                if trig is not None:
                    found = present[code]
                    if found is None:
                        found = present[code] = frozenset(
                            t for t in self._window_triggers[code] if t in window)
                    if found.isdisjoint(trig):  # none of the cue's triggers is in its window
                        feats[rule_id] = False
                        continue
                hit = search(window) is not None
            elif code == _POSITION:
                feats[rule_id] = round(position, 3)
                score += weight * position
                continue
            elif code == _NOUN:
                hit = cand.noun is not None and search(cand.noun) is not None
            else:  # _SENTENCE_INDEX
                hit = search(str(feats["sentence_index"])) is not None
            feats[rule_id] = hit
            if hit:
                score += weight
        cand.score = score
        cand.features = feats

    # -- arm sizes -----------------------------------------------------------------------------

    def _arm_sizes(self, text: str, lower: str, ctx: DocContext, numbers: list[Number],
                   cands: list[Candidate], headline: Candidate | None,
                   blocked: list[tuple[int, int]]) -> list[ArmSizeMatch]:
        """Group sizes: build every set of arm sizes the rules see, then keep one set.

        A set is one construction naming two or more arms ("(n = 15) ... (n = 16)", "groups of
        30 each", "23 PVP; 16 NaCl" adding up to the total). The kept set is the first one whose
        sizes add up to the headline sample size, else the first one in the text.
        """
        if self._sets is None:
            spans = Intervals(blocked)
            counts = [n for n in numbers if self._count_like(text, lower, n, spans)]
            sets: list[list[ArmSizeMatch]] = []
            if len(counts) >= 2 and any(w in lower for w in _ARM_WORDS):
                sets += self._sets_equal_groups(text, lower, counts)
                sets += self._sets_n_equals(text, lower, ctx, counts)
                sets += self._sets_allocation(text, lower, ctx, counts)
                sets += self._sets_group_of(text, lower, counts)
                sets += self._sets_sum_split(text, lower, ctx, counts, cands)
                sets += self._sets_respectively(text, lower, counts)
            self._sets = sets  # the sets do not depend on the headline: built once per doc
        sets = self._sets
        total = int(headline.number.value) if headline is not None else None
        good: list[list[ArmSizeMatch]] = []
        for arm_set in sets:
            if len(arm_set) < 2:
                continue
            # an arm cannot be bigger than the whole sample (but it may be the count that was
            # wrongly taken as the whole sample: same offset)
            if total is not None and headline is not None and \
                    all(a.start != headline.start for a in arm_set) and any(
                    a.n > total or a.n == total for a in arm_set):
                continue  # (a set the headline belongs to says the headline is one arm)
            good.append(arm_set)
        if not good:
            return []
        k_groups = self._stated_k(lower)

        def rank(arm_set: list[ArmSizeMatch]) -> tuple[int, int, int, int]:
            adds_up = total is not None and sum(a.n for a in arm_set) == total and \
                all(a.start != headline.start for a in arm_set if headline is not None)
            right_k = k_groups is not None and len(arm_set) == k_groups
            rule_class = _ARM_RULE_CLASS.get(arm_set[0].rule_id.split(".")[-2], 1)
            return (rule_class, 0 if adds_up else 1, 0 if right_k else 1, arm_set[0].start)

        best = min(good, key=rank)
        return best[: k_groups] if k_groups and len(best) > k_groups else best

    @staticmethod
    def _count_like(text: str, lower: str, n: Number, blocked: Intervals) -> bool:
        if not n.is_int or n.percent or n.signed or n.sci or not 1 <= n.value < 1e6:
            return False
        if 1900 <= n.value <= 2030 or n.words and n.value < 2:
            return False
        if n.start in blocked:
            return False  # inside a time point or a p-value
        if _UNIT_AFTER.match(lower, n.end) and not _PCT_CLOSE_RE.match(lower, n.end):
            return False
        if _YEARS_OLD_RE.match(lower, n.end):
            return False
        if _RANGE_BEFORE_RE.search(lower, max(0, n.start - 4), n.start) and \
                not _N_EQ_BEFORE_RE.search(lower, max(0, n.start - 5), n.start):
            return False  # "0-10", "VAS > 2", "6 to 4": a range or a threshold
        return not _NOT_COUNT_AFTER_RE.match(lower, n.end)

    def _set(self, name: str, items: list[tuple[Number, str | None]]) -> list[ArmSizeMatch]:
        rid = self._arm_ids.get(name, f"sample_size.arm.{name}.v1")
        conf = self._arm_conf.get(name, 0.6)
        return [ArmSizeMatch(n.start, n.end, int(n.value), arm, rid, conf) for n, arm in items]

    def _stated_k(self, lower: str) -> int | None:
        """The number of arms the doc being processed states (``stated_group_count``), looked
        for once and only when asked: most docs have no arm-size set that needs it."""
        if self._k_groups is None:
            self._k_groups = (stated_group_count(lower)
                              if ("groups" in lower or "arms" in lower or "cohorts" in lower) else 0)
        return self._k_groups or None

    def _sets_equal_groups(self, text: str, lower: str, counts: list[Number]) -> list[list[ArmSizeMatch]]:
        """ "seven groups of 30 patients each", "30 patients in each group", "two (n = 30) groups"."""
        out: list[list[ArmSizeMatch]] = []
        labels: list[str] | None = None
        for num in counts:
            before = lower[max(0, num.start - 45):num.start]
            after = lower[num.end:num.end + 40]
            if "group" not in before and "arm" not in before and "cohort" not in before and \
                    "each" not in after and "per" not in after and "every" not in after:
                continue
            # (each pattern only where its literal words are: "groups of 30", "two (n = 30)")
            g = (_GROUPS_OF.search(before) if "groups" in before or "arms" in before or "cohorts" in before
                 else None) or (_K_N_GROUPS.search(before) if "=" in before else None)
            k: int | None = None
            if g is not None and "groups_of" in self._arm_ids and (
                    g.re is _GROUPS_OF or re.match(r"\s*\)?\s*(?:groups|arms)", lower[num.end:num.end + 12])):
                k_raw = g.group("k")
                k = int(k_raw) if k_raw.isdigit() else _NUM_WORD.get(k_raw, 2)
                rule = "groups_of"
            elif _EACH_AFTER.match(lower, num.end) and "each_group" in self._arm_ids:
                k = self._stated_k(lower) or 2
                rule = "each_group"
            if k is None or not 2 <= k <= 12:
                continue
            if labels is None:
                labels = _distinct_group_labels(text)
            names: list[str | None] = (list(labels) if len(labels) == k
                                       else [f"group {i + 1}" for i in range(k)])
            out.append(self._set(rule, [(num, names[i]) for i in range(k)]))
        return out

    def _sets_n_equals(self, text: str, lower: str, ctx: DocContext,
                       counts: list[Number]) -> list[list[ArmSizeMatch]]:
        """ "Experimental group ( n = 15 ) ... controls ( n = 16 )", "(group L; n = 37)"."""
        if "n_equals_after_arm" not in self._arm_ids:
            return []
        found: list[tuple[Number, str | None]] = []
        n_eq_re = _N_EQ_ARM_RE
        n_eq_sentences: dict[int, int] = {}
        for num in counts:
            near = lower[max(0, num.start - 6):num.start]
            if ("=" in near or ":" in near) and n_eq_re.search(lower, max(0, num.start - 12), num.start):
                i = ctx.sentence_index(num.start)
                n_eq_sentences[i] = n_eq_sentences.get(i, 0) + 1
        for num in counts:
            before = lower[max(0, num.start - 40):num.start]
            near = before[-6:]
            if "=" not in near and ":" not in near and "(" not in before and ";" not in before:
                continue
            m_eq = n_eq_re.search(before) if ("=" in near or ":" in near) else None
            name: str | None = None
            if m_eq:
                pos = num.start - (len(before) - m_eq.start())
                several = n_eq_sentences.get(ctx.sentence_index(num.start), 0) >= 2
                if not several and self._n_equals_is_total(lower, num.start):
                    continue
                inner = _PAREN_NAME_END_RE.search(text[max(0, pos - 45):pos + 1])
                name = inner.group(1) if inner else arm_name_before(text, pos)
                if inner and _DIGIT_FIRST_RE.match(name or ""):
                    # "dipyridamole (200 mg b.i.d., n = 198)": a dose inside, the arm before it
                    name = arm_name_before(text, max(0, pos - 45) + inner.start())
            else:
                # "Group B (betamethasone; 37 pts)", "group ( 120 cases )"
                if not _PERSON_CLOSE_RE.match(lower[num.end:num.end + 20]):
                    continue
                m_par = _PAREN_OPEN_END_RE.search(text[max(0, num.start - 45):num.start])
                if not m_par:
                    continue
                pos = num.start - len(m_par.group(0))
                name = arm_name_before(text, pos) or m_par.group(1)
                if name is None or not _GROUP_OR_ARM_RE.search(text[max(0, pos - 30):pos]):
                    continue
            if name and _SHARE_NAME_RE.search(name):
                name = None  # "Eight percent (n = 7)" is a share, not an arm
            if name:
                found.append((num, name))
        # arms of one description sit close together ("Group I (n = 25) ... Group II (n = 25)")
        groups: list[list[tuple[Number, str | None]]] = []
        for item in found:
            if groups and item[0].start - groups[-1][-1][0].end < 400:
                groups[-1].append(item)
            else:
                groups.append([item])
        return [self._set("n_equals_after_arm", items) for items in groups]

    def _sets_group_of(self, text: str, lower: str, counts: list[Number]) -> list[list[ArmSizeMatch]]:
        """ "A control group of 26 patients", "Group I consisted of 329 patients, and group II
        included 318" — arms named right before the count."""
        if "group_of" not in self._arm_ids:
            return []
        found: list[tuple[Number, str | None]] = []
        for num in counts:
            window = lower[max(0, num.start - 40):num.start]
            if "group" not in window and "arm" not in window and "cohort" not in window:
                continue
            m = _GROUP_OF_END_RE.search(lower[max(0, num.start - 40):num.start])
            if not m or not _PERSON_AFTER_RE.match(lower[num.end:num.end + 30]):
                continue
            verb = re.search(r"\s+(?:of|consisted\s+of|included|comprised|contained|had|"
                             r"with)\s+$", m.group(0))
            assert verb is not None
            label_end = num.start - len(verb.group(0))
            found.append((num, arm_name_before(text, label_end)))
        if len(found) < 2:
            return []
        return [self._set("group_of", found)]

    def _sets_allocation(self, text: str, lower: str, ctx: DocContext,
                         counts: list[Number]) -> list[list[ArmSizeMatch]]:
        """ "Forty patients were assigned to X and 40 patients to Y", "53 patients in group A and 49
        patients in group B", "Fourteen subjects receiving BTX-A and 12 receiving saline"."""
        if "count_in_group" not in self._arm_ids:
            return []
        by_sentence: dict[int, list[tuple[Number, str | None]]] = {}
        allocated_sentences: set[int] = set()
        for num in counts:
            m_in = _IN_GROUP.match(lower, num.end)
            if not m_in:
                continue
            tail = lower[m_in.end():m_in.end() + 50]
            verb = m_in.group(0)
            sent_i = ctx.sentence_index(num.start)
            allocated = _ALLOCATED_VERB_RE.search(verb) is not None
            if not allocated and verb.strip().endswith("to"):
                s0, s1 = ctx.sentence_at(num.start)
                allocated = _RANDOMIZED_RE.search(lower[s0:num.start]) is not None
            grouped = _GROUP_WORD_RE.search(tail[:40]) is not None
            if allocated:
                allocated_sentences.add(sent_i)
            elif not grouped and sent_i not in allocated_sentences:
                continue
            if _OUTCOME_VERB_RE.match(tail):
                continue  # an outcome count ("9 patients in group A had nausea")
            if _PERCENT_PAREN_RE.match(lower[num.end:num.end + 12]) or \
                    _OUT_OF_RE.match(lower[num.end:num.end + 12]):
                continue  # "8 (19.5%) in group 1": an outcome count
            if _OUTCOME_LOCUS_RE.search(lower, max(0, num.start - 30), num.start):
                continue  # "nausea occurred in 12 patients in the placebo group": an outcome count
            sentence = lower[slice(*ctx.sentence_at(num.start))]
            if not _ALLOCATION_SENTENCE_RE.search(sentence):
                continue
            name = arm_name_after(text, m_in.end())
            by_sentence.setdefault(sent_i, []).append((num, name))
        return [self._set("count_in_group", items) for items in by_sentence.values()]

    def _sets_sum_split(self, text: str, lower: str, ctx: DocContext, counts: list[Number],
                        cands: list[Candidate]) -> list[list[ArmSizeMatch]]:
        """Counts in one sentence that add up to a total count: "39 subjects (23 PVP; 16 NaCl)"."""
        if "sum_split" not in self._arm_ids:
            return []
        ranked = sorted((c for c in cands if c.score > -1.5), key=lambda c: -c.score)[:3]
        totals = sorted({int(c.number.value) for c in ranked}, reverse=True)
        out: list[list[ArmSizeMatch]] = []
        by_sentence: dict[int, list[Number]] = {}
        for num in counts:
            by_sentence.setdefault(ctx.sentence_index(num.start), []).append(num)
        for sent_nums_all in by_sentence.values():
            if len(sent_nums_all) < 2:
                continue
            s_start, s_end = ctx.sentence_at(sent_nums_all[0].start)
            sentence = lower[s_start:s_end]
            if not any(w in sentence for w in _ALLOCATION_WORDS):
                continue
            sent_nums = [n for n in sent_nums_all if self._splittable(text, lower, n)]
            if not 2 <= len(sent_nums) <= 10:
                continue
            local = [int(n.value) for n in sent_nums]
            for total in [*totals, *sorted(set(local), reverse=True)]:
                pool = [n for n in sent_nums if n.value < total and not _gender_after(lower, n)]
                found = _subset_sum(pool, total)
                if found and found[-1].end - found[0].start <= 200:
                    if total in local and total not in totals:
                        # a count in the same sentence is a total only when it comes first
                        first_total = next(n for n in sent_nums if n.value == total)
                        if first_total.start > found[0].start:
                            continue
                    items = [(n, _arm_name_near(text, lower, n)) for n in found]
                    out.append(self._set("sum_split", items))
                    break
        return out

    @staticmethod
    def _splittable(text: str, lower: str, num: Number) -> bool:
        """Can this count be one arm of a split (not a spread, a numerator or an outcome count)?"""
        if _SPREAD_BEFORE_RE.search(text, max(0, num.start - 3), num.start) and \
                not _PERSON_NEAR_AFTER_RE.match(lower, num.end) and not _LETTER_AFTER_RE.match(text, num.end):
            return False  # "(± 2)", "(12)": a spread or a footnote, not a group
        if _NUMERATOR_RE.match(lower, num.end):
            return False  # "39 of 41": a numerator
        return not _OUTCOME_COUNT_RE.match(lower, num.end, num.end + 60)  # an outcome or loss count

    def _sets_respectively(self, text: str, lower: str, counts: list[Number]) -> list[list[ArmSizeMatch]]:
        """ "54 and 59 patients were allocated to groups A and B, respectively"."""
        if "respectively" not in lower or "respectively" not in self._arm_ids:
            return []
        out: list[list[ArmSizeMatch]] = []
        for m in re.finditer(r"respectively", lower):
            s = lower.rfind(".", 0, m.start())
            seg_start = max(s + 1, m.start() - 200)
            seg = [n for n in counts if seg_start <= n.start < m.start()]
            if len(seg) < 2:
                continue
            first, last = seg[0], seg[-1]
            between = re.sub(r"\d+", "", lower[first.start:last.end])
            if not re.fullmatch(r"[\s,and&]*", between):
                continue
            after = lower[last.end:m.start()]
            if not re.match(rf"\s*(?:{PERSON_NOUNS})\b", after):
                continue
            if not re.search(r"\b(?:group|arm|placebo|control)", after):
                continue
            names = re.findall(r"group\s+([a-z0-9]{1,4})\b", after)
            out.append(self._set("respectively", [
                (n, f"group {names[i].upper()}" if i < len(names) else None) for i, n in enumerate(seg)]))
        return out

    # -- component API -------------------------------------------------------------------------

    def match(self, doc: Doc) -> tuple[list[Candidate], list[ArmSizeMatch]]:
        text = doc_text(doc)
        lower = doc_lower(doc)
        ctx = DocContext(doc)
        numbers = numbers_from_doc(doc)
        cands = self._candidates(text, lower, ctx, numbers)
        # a count that equals the sum of two or more later counts (its arms) is a headline
        ints = [c.number.value for c in cands]
        for c in cands:
            later = [v for v in ints if v < c.number.value]
            if any(abs(a + b - c.number.value) < 0.5 for i, a in enumerate(later) for b in later[i + 1:]):
                c.score += 1.0
                c.features["sum_of_arms"] = True
        blocked = [(c["start"], c["end"]) for c in (doc._.candidates or [])
                   if c.get("kind") in ("timepoint", "p_value")]
        self._sets = None
        self._k_groups = None
        best = max(cands, key=lambda c: (c.score, -c.start), default=None)
        arms = self._arm_sizes(text, lower, ctx, numbers, cands, best, blocked)
        arm_starts = {a.start for a in arms}
        if best is not None and best.start in arm_starts:
            # the best count is one arm of a split: it is not the whole sample
            best.features["is_arm"] = True
            best.score -= 4.0
            best = max(cands, key=lambda c: (c.score, -c.start))
        if best is None or best.start in arm_starts or best.score <= -1.5:
            arms_alone = self._arm_sizes(text, lower, ctx, numbers, cands, None, blocked)
            if arms_alone:
                arms = arms_alone
        for c in cands:
            if c.start in {a.start for a in arms} and not c.features.get("is_arm"):
                c.features["is_arm"] = True
                c.score -= 4.0
        return cands, arms

    def set_annotations(self, doc: Doc, matches: tuple[list[Candidate], list[ArmSizeMatch]]) -> None:
        cands, arms = matches
        ctx = DocContext(doc)
        items: list[dict[str, Any]] = []
        for c in cands:
            items.append({
                "kind": "sample_size", "n": int(c.number.value),
                **ctx.provenance(c.number.start, c.number.end, producer=self.name,
                                 producer_id=c.rule_id, confidence=_logistic(c.score)),
                "features": {**c.features, "score": round(c.score, 3)},
                "accept": c.score > -1.5 and not c.features.get("is_arm"),
            })
        for a in arms:
            items.append({
                "kind": "arm_size", "arm": a.arm, "n": a.n,
                **ctx.provenance(a.start, a.end, producer=self.name, producer_id=a.rule_id,
                                 confidence=a.confidence),
                "features": {"rule": a.rule_id}, "accept": True,
            })
        add_candidates(doc, items)
        if self.span_key:
            set_span_group(doc, self.span_key, ((c.number.start, c.number.end, "SAMPLE_SIZE", c.rule_id)
                                                for c in cands))
            set_span_group(doc, "extractor.arm_sizes", ((a.start, a.end, "ARM_SIZE", a.rule_id)
                                                        for a in arms))


@Language.factory(
    "extractor_sample_size",
    assigns=["doc._.candidates", "doc.spans"],
    requires=["doc._.numbers", "token.is_sent_start", "doc._.candidates"],
    default_config={
        "span_key": "extractor.sample_size",
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.sample_size"},
    },
    default_score_weights={"spans_extractor.sample_size_f": 1.0},
)
def make_sample_size(nlp: Language, name: str, span_key: str,
                     scorer: Scorer | None) -> SampleSizeExtractor:
    """Sample-size candidates (with features) and arm sizes (rules in ``patterns/sample_size.jsonl``)."""
    return SampleSizeExtractor(nlp, name, span_key=span_key, scorer=scorer)
