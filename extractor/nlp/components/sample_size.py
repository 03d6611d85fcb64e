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
from extractor.nlp.context import DocContext, add_candidates
from extractor.nlp.lexicon import NON_PERSON_NOUNS, PERSON_NOUNS
from extractor.nlp.numbers import Number
from extractor.nlp.rules import Rule

# up to four modifier words between a number and its noun ("112 consecutive adult patients");
# no function words, verbs or bare numbers ("2016 that included 62 patients" is not a count)
_MOD = (r"(?:(?!(?:of|in|at|to|from|for|on|by|per|were|was|are|is|and|or|with|than|that|who|which|"
        r"had|have|has|mg|ml|years?|months?|weeks?|days?|hours?|versus|vs|received|underwent|"
        r"but|while|whereas|however|between|after|before|during|into|under|over|among|each|"
        r"both|all|these|those|the|a|an)\b)(?![0-9.,]+\s)[a-z0-9][\w/'’+-]*\s*,?\s+){0,4}?")
# "80 ASA physical status I and II", "34 American Society of Anesthesiologists (ASA) I-III"
_ASA = (r"(?:american\s+society\s+of\s+ana?esthesiolog\w*\s*(?:\(\s*asa\s*\)\s*)?|asa\s*)"
        r"(?:physical\s+status\s*|grade\s*|class\s*|status\s*|ps\s*)?"
        r"(?:(?:[ivx]+|[0-9])(?:\s*(?:-|–|to|and|or|,|/)\s*(?:[ivx]+|[0-9]))*\s*)?,?\s*")
SUBPATTERNS = {"PERSON": f"(?:{PERSON_NOUNS})", "MOD": _MOD, "ASA": _ASA}
_NON_PERSON_AFTER = re.compile(rf"\s*(?:[-–]\s*)?(?:[a-z0-9][\w/'’+-]*\s+){{0,2}}?(?:{NON_PERSON_NOUNS})\b")
_UNIT_AFTER = re.compile(r"\s*(?:%|percent|mg|µg|mcg|ml|mm|cm|kg|g\b|years?|yrs?|months?|weeks?|days?|hours?|h\b|min)")
_PERSON_BEFORE = re.compile(rf"\b(?:{PERSON_NOUNS})\s*[(\[]?\s*$")
_EACH_AFTER = re.compile(
    rf"\s*(?:[a-z]+\s+)?(?:{PERSON_NOUNS})\s+(?:(?:were|was)\s+)?(?:in\s+each|per|each|in\s+every)\b"
    r"|\s*(?:in\s+each|per|in\s+every)\s+(?:group|arm|cohort)\b|\s*(?:for\s+|in\s+)?each\b")
_GROUPS_OF = re.compile(
    r"\b(?P<k>two|three|four|five|six|seven|eight|both|2|3|4|5|6|7|8)\s+(?:(?:equal|treatment|study|parallel)\s+)?"
    r"(?:groups|arms|cohorts)\s+(?:of|with|including|containing|comprising)\s+(?:each\s+)?$")
_IN_GROUP = re.compile(
    r"\s*(?:(?:[a-z0-9][\w/'’+-]*\s+){0,3}?(?:" + PERSON_NOUNS + r")\s+)?(?:who\s+|were\s+|was\s+)?"
    r"(?:randomly\s+)?"
    r"(?:in|into|to|for|received|receiving|allocated\s+to|assigned\s+to|randomi[sz]ed\s+to|treated\s+with|"
    r"underwent|on|with|given)\s+(?!each\b|every\b|both\b|all\b|whom\b)")
# how much an arm-size rule is trusted when two rules propose different sets (lower first)
_ARM_RULE_CLASS = {"n_equals": 0, "groups_of": 0, "each_group": 0, "respectively": 0, "group_of": 1,
                   "count_in_group": 1, "sum_split": 2}
_K_N_GROUPS = re.compile(r"\b(?P<k>two|three|four|five|six|seven|eight|2|3|4|5|6|7|8)\s*\(\s*n\s*=\s*$")
_GENDER_AFTER = re.compile(r"\s*(?:[a-z]+\s+)?(?:women|woman|men|man|males?|females?|boys?|girls?)\b")


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
    m = re.search(r"\b([Gg]roup\s+(?:[A-Z]{1,3}|[IVX]{1,4}|\d))\b[^.;,()]{0,25}$", before)
    if m:
        return m.group(1)
    m_in = _IN_GROUP.match(lower, n.end)
    pos = m_in.end() if m_in else n.end
    if not m_in:
        m_p = re.match(rf"\s*(?:[a-z]+\s+)?(?:{PERSON_NOUNS})\b\s*(?:were\s+|as\s+|who\s+)?", lower[pos:pos + 40])
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


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class SampleSizeExtractor(RuleComponent):
    rules_name = "sample_size"

    def compile_rules(self, rules: list[Rule]) -> None:
        self._count: list[tuple[str, re.Pattern[str], float]] = []
        self._lead: list[tuple[str, re.Pattern[str], float]] = []
        self._n_eq: list[tuple[str, re.Pattern[str], float]] = []
        self._cues: list[tuple[str, str, float, re.Pattern[str]]] = []
        self._arm_conf: dict[str, float] = {}
        for r in rules:
            kind = r.get("type")
            conf = float(r.get("confidence", 0.6))
            if kind == "count":
                self._count.append((r["id"], re.compile(expand(r["pattern"])), conf))
            elif kind == "lead":
                self._lead.append((r["id"], re.compile(expand(r["pattern"])), conf))
            elif kind == "n_equals":
                self._n_eq.append((r["id"], re.compile(expand(r["pattern"])), conf))
            elif kind == "cue":
                scope = str(r.get("scope", "sentence"))
                if scope not in ("before", "after", "after_long", "sentence", "noun", "span",
                                 "sentence_index", "position"):
                    raise ValueError(f"{self.name}: rule {r['id']}: unknown scope {scope!r}")
                self._cues.append((r["id"], scope, float(r.get("weight", 0.0)),
                                   re.compile(expand(r["pattern"]))))
            elif kind == "arm":
                self._arm_conf[str(r["pattern"])] = conf
                self._arm_conf[r["id"]] = conf
            else:
                raise ValueError(f"{self.name}: rule {r['id']}: unknown type {kind!r}")
        self._arm_ids = {str(r["pattern"]): r["id"] for r in rules if r.get("type") == "arm"}

    # -- headline candidates ------------------------------------------------------------------

    def _candidates(self, text: str, lower: str, ctx: DocContext,
                    numbers: list[Number]) -> list[Candidate]:
        out: list[Candidate] = []
        for num in numbers:
            if not num.is_int or num.percent or num.signed or num.sci or not 2 <= num.value < 1e6:
                continue
            if num.end < len(text) and text[num.end:num.end + 1] in ("/", "-", "–") \
                    and text[num.end + 1:num.end + 2].isdigit():
                continue  # "34/64", "18-65"
            if re.match(r"\s?:\s?\d", text[num.end:num.end + 3]) or re.search(r"\d\s?:\s?$", text[max(0, num.start - 3):num.start]):
                continue  # a ratio ("randomized 2:1:1")
            if num.start > 0 and (text[num.start - 1] in "/–" or re.search(r"\d\s?-\s?$", text[max(0, num.start - 3):num.start])):
                continue  # the second number of a range or fraction
            if 1900 <= num.value <= 2030 and not re.match(r"\s+(?:" + PERSON_NOUNS + r")\b", lower[num.end:num.end + 20]):
                continue  # a calendar year
            cand: Candidate | None = None
            for rule_id, rx, _conf in self._count:
                m = rx.match(lower, num.end)
                if m:
                    cand = Candidate(num, num.start, m.end(), rule_id, m.group("noun"))
                    break
            if cand is None and (_UNIT_AFTER.match(lower, num.end) or _NON_PERSON_AFTER.match(lower, num.end)):
                continue
            if cand is None:
                for rule_id, rx, _conf in self._n_eq:
                    if rx.search(lower, max(0, num.start - 8), num.start):
                        if self._n_equals_is_total(lower, num.start):
                            cand = Candidate(num, num.start, num.end, rule_id, None)
                        break
            if cand is None:
                for rule_id, rx, _conf in self._lead:
                    if rx.search(lower, max(0, num.start - 45), num.start):
                        cand = Candidate(num, num.start, num.end, rule_id, None)
                        break
            if cand is None:
                continue
            out.append(cand)
        starts = [n.start for n in numbers]
        for i, cand in enumerate(out):
            lo = out[i - 1].end if i > 0 else 0
            hi = out[i + 1].start if i + 1 < len(out) else len(lower)
            nxt = next((s for s in starts if s >= cand.end), len(lower))
            self._score(cand, lower, ctx, lo, hi, nxt)
        return out

    @staticmethod
    def _n_equals_is_total(lower: str, start: int) -> bool:
        """Is "(n = N)" at ``start`` the size of the whole sample (after people), not of an arm?"""
        before = lower[max(0, start - 60):start]
        before = re.sub(r"[\s(\[,;]*n\s*[=:]\s*$", "", before)
        tail = before[-25:]
        if re.search(r"\b(?:group|arm|cohort|placebo|control|sham)\b", tail):
            return False
        m = re.search(rf"\b(?:{PERSON_NOUNS})\b([^.;()]*)$", before)
        if m is None:
            return False
        # "patients ( n = 25 )", "patients with acute NP ( n = 72 )" — but not "patients were
        # randomised to receive oxaprozin ( n = 49 )"
        return len(m.group(1)) <= 30 and re.search(
            r"\b(?:were|was|received?|receiving|randomi\w+|assigned|allocated|to|treated)\b", m.group(1)) is None

    def _score(self, cand: Candidate, lower: str, ctx: DocContext, lo: int, hi: int,
               next_number: int) -> None:
        s_start, s_end = ctx.sentence_at(cand.start)
        # cue windows stop at the neighbouring counts: their words describe them, not this one
        before = lower[max(s_start, lo, cand.start - 90):cand.start]
        after_long = lower[cand.end:max(cand.end, min(s_end, hi, cand.end + 80))]
        after = after_long[:max(0, next_number - cand.end)]
        span = lower[cand.number.end:cand.end]
        position = cand.start / max(1, len(lower))
        sentence = lower[s_start:s_end]
        score = 0.0
        feats: dict[str, Any] = {"n": int(cand.number.value), "rule": cand.rule_id,
                                 "words": cand.number.words, "noun": cand.noun or "",
                                 "sentence_index": ctx.sentence_index(cand.start)}
        for rule_id, scope, weight, rx in self._cues:
            if scope == "before":
                hit = rx.search(before) is not None
            elif scope == "after":
                hit = rx.search(after) is not None
            elif scope == "after_long":
                hit = rx.search(after_long) is not None
            elif scope == "span":
                hit = rx.search(span) is not None
            elif scope == "position":
                feats[rule_id] = round(position, 3)
                score += weight * position
                continue
            elif scope == "noun":
                hit = cand.noun is not None and rx.search(cand.noun) is not None
            elif scope == "sentence_index":
                hit = rx.search(str(feats["sentence_index"])) is not None
            else:
                hit = rx.search(sentence) is not None
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
        k_groups = stated_group_count(lower)
        counts = [n for n in numbers if self._count_like(text, lower, n, blocked)]
        sets: list[list[ArmSizeMatch]] = []
        sets += self._sets_equal_groups(text, lower, counts, k_groups)
        sets += self._sets_n_equals(text, lower, ctx, counts)
        sets += self._sets_allocation(text, lower, ctx, counts)
        sets += self._sets_group_of(text, lower, counts)
        sets += self._sets_sum_split(text, lower, ctx, counts, cands)
        sets += self._sets_respectively(text, lower, counts)
        total = int(headline.number.value) if headline is not None else None
        good: list[list[ArmSizeMatch]] = []
        for arm_set in sets:
            if len(arm_set) < 2:
                continue
            if total is not None and any(a.n >= total for a in arm_set):
                continue
            good.append(arm_set)
        if not good:
            return []

        def rank(arm_set: list[ArmSizeMatch]) -> tuple[int, int, int, int]:
            adds_up = total is not None and sum(a.n for a in arm_set) == total
            right_k = k_groups is not None and len(arm_set) == k_groups
            rule_class = _ARM_RULE_CLASS.get(arm_set[0].rule_id.split(".")[-2], 1)
            return (rule_class, 0 if adds_up else 1, 0 if right_k else 1, arm_set[0].start)

        best = min(good, key=rank)
        return best[: k_groups] if k_groups and len(best) > k_groups else best

    @staticmethod
    def _count_like(text: str, lower: str, n: Number, blocked: list[tuple[int, int]]) -> bool:
        if not n.is_int or n.percent or n.signed or n.sci or not 1 <= n.value < 1e6:
            return False
        if 1900 <= n.value <= 2030:
            return False
        if any(a <= n.start < b for a, b in blocked):
            return False  # inside a time point or a p-value
        if _UNIT_AFTER.match(lower, n.end) and not re.match(r"\s*%?\s*\)", lower[n.end:n.end + 3]):
            return False
        if re.match(r"\s*(?:[-–]\s*)?(?:years?|yrs?)[\s-]+old", lower[n.end:n.end + 12]):
            return False
        if re.search(r"(?:\d\s?[-–]|[<>≤≥=]|\bto)\s?$", lower[max(0, n.start - 4):n.start]) and \
                not re.search(r"\bn\s*=\s*$", lower[max(0, n.start - 5):n.start]):
            return False  # "0-10", "VAS > 2", "6 to 4": a range or a threshold
        after = lower[n.end:n.end + 25]
        return not re.match(r"\s*(?:mg|ml|mm|cm|kg|µg|mcg|g|%|[-–]\s*\d|/\s*\d|:\s*\d|\.\d)", after)

    def _set(self, name: str, items: list[tuple[Number, str | None]]) -> list[ArmSizeMatch]:
        rid = self._arm_ids.get(name, f"sample_size.arm.{name}.v1")
        conf = self._arm_conf.get(name, 0.6)
        return [ArmSizeMatch(n.start, n.end, int(n.value), arm, rid, conf) for n, arm in items]

    def _sets_equal_groups(self, text: str, lower: str, counts: list[Number],
                           k_groups: int | None) -> list[list[ArmSizeMatch]]:
        """ "seven groups of 30 patients each", "30 patients in each group", "two (n = 30) groups"."""
        out: list[list[ArmSizeMatch]] = []
        labels = _distinct_group_labels(text)
        for num in counts:
            before = lower[max(0, num.start - 45):num.start]
            g = _GROUPS_OF.search(before) or _K_N_GROUPS.search(before)
            k: int | None = None
            if g is not None and "groups_of" in self._arm_ids and (
                    g.re is _GROUPS_OF or re.match(r"\s*\)?\s*(?:groups|arms)", lower[num.end:num.end + 12])):
                k_raw = g.group("k")
                k = int(k_raw) if k_raw.isdigit() else _NUM_WORD.get(k_raw, 2)
                rule = "groups_of"
            elif _EACH_AFTER.match(lower, num.end) and "each_group" in self._arm_ids:
                k = k_groups or 2
                rule = "each_group"
            if k is None or not 2 <= k <= 12:
                continue
            names: list[str | None] = list(labels) if len(labels) == k else [f"group {i + 1}" for i in range(k)]
            out.append(self._set(rule, [(num, names[i]) for i in range(k)]))
        return out

    def _sets_n_equals(self, text: str, lower: str, ctx: DocContext,
                       counts: list[Number]) -> list[list[ArmSizeMatch]]:
        """ "Experimental group ( n = 15 ) ... controls ( n = 16 )", "(group L; n = 37)"."""
        if "n_equals_after_arm" not in self._arm_ids:
            return []
        found: list[tuple[Number, str | None]] = []
        n_eq_re = re.compile(r"(?:[(\[]\s*|,\s*|;\s*|:\s*)?\bn\s*[=:]\s*$")
        n_eq_sentences: dict[int, int] = {}
        for num in counts:
            if n_eq_re.search(lower, max(0, num.start - 12), num.start):
                i = ctx.sentence_index(num.start)
                n_eq_sentences[i] = n_eq_sentences.get(i, 0) + 1
        for num in counts:
            before = lower[max(0, num.start - 40):num.start]
            m_eq = n_eq_re.search(before)
            name: str | None = None
            if m_eq:
                pos = num.start - (len(before) - m_eq.start())
                several = n_eq_sentences.get(ctx.sentence_index(num.start), 0) >= 2
                if not several and self._n_equals_is_total(lower, num.start):
                    continue
                inner = re.search(r"\(\s*([^()]{1,40}?)\s*[;,]\s*$", text[max(0, pos - 45):pos + 1])
                name = inner.group(1) if inner else arm_name_before(text, pos)
            else:
                # "Group B (betamethasone; 37 pts)", "group ( 120 cases )"
                m_par = re.search(r"(?:\(\s*([^()]{1,40}?)\s*;|\()\s*$", text[max(0, num.start - 45):num.start])
                if not (m_par and re.match(rf"\s*(?:{PERSON_NOUNS})\s*\)", lower[num.end:num.end + 20])):
                    continue
                pos = num.start - len(m_par.group(0))
                name = arm_name_before(text, pos) or m_par.group(1)
                if name is None or not re.search(r"(?i)\b(?:group|arm)\b", text[max(0, pos - 30):pos]):
                    continue
            if name and re.search(r"(?i)\bper\s*cent|%|^\W*\d", name):
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
            m = re.search(r"\b(?:group|arm|cohort)(?:\s+[a-z0-9]{1,3})?\s+(?:of|consisted\s+of|included|comprised|"
                          r"contained|had|with)\s+$", lower[max(0, num.start - 40):num.start])
            if not m or not re.match(rf"\s*(?:[a-z]+\s+)?(?:{PERSON_NOUNS})\b", lower[num.end:num.end + 30]):
                continue
            verb = re.search(r"\s+(?:of|consisted\s+of|included|comprised|contained|had|with)\s+$", m.group(0))
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
            allocated = re.search(r"receiv|allocated|assigned|randomi|treated|given|underwent", verb) is not None
            if not allocated and verb.strip().endswith("to"):
                s0, s1 = ctx.sentence_at(num.start)
                allocated = re.search(r"randomi|assigned|allocated", lower[s0:num.start]) is not None
            grouped = re.search(r"\b(?:group|arm|cohort)\b", tail[:40]) is not None
            if allocated:
                allocated_sentences.add(sent_i)
            elif not grouped and sent_i not in allocated_sentences:
                continue
            if re.match(r"[^.;]{0,40}?\b(?:had|developed|experienced|reported|achieved|showed|required|"
                        r"died|complained|suffered|obtain\w*|failed|needed|noted)\b", tail):
                continue  # an outcome count ("9 patients in group A had nausea")
            if re.match(r"\s*\(\s*[\d.]+\s*%", lower[num.end:num.end + 12]) or \
                    re.match(r"\s*(?:out\s+)?of\s+\d", lower[num.end:num.end + 12]):
                continue  # "8 (19.5%) in group 1": an outcome count
            sentence = lower[slice(*ctx.sentence_at(num.start))]
            if not re.search(r"randomi|assign|allocat|divided|received|receiving|treated|enrol|includ|"
                             r"consist|compris|underwent|given|group|arm", sentence):
                continue
            name = arm_name_after(text, m_in.end())
            by_sentence.setdefault(sent_i, []).append((num, name))
        return [self._set("count_in_group", items) for items in by_sentence.values()]

    def _sets_sum_split(self, text: str, lower: str, ctx: DocContext, counts: list[Number],
                        cands: list[Candidate]) -> list[list[ArmSizeMatch]]:
        """Counts in one sentence that add up to a total count: "39 subjects (23 PVP; 16 NaCl)"."""
        if "sum_split" not in self._arm_ids:
            return []
        totals = sorted({int(c.number.value) for c in cands if c.score > -1.5}, reverse=True)
        out: list[list[ArmSizeMatch]] = []
        by_sentence: dict[int, list[Number]] = {}
        for num in counts:
            if re.search(r"[±]\s*$|\(\s*$", text[max(0, num.start - 3):num.start]) and \
                    not re.match(r"\s*(?:[a-z]+\s+)?(?:" + PERSON_NOUNS + r")", lower[num.end:num.end + 30]) and \
                    not re.match(r"\s+[A-Za-z]", text[num.end:num.end + 3]):
                continue  # "(± 2)", "(12)": a spread or a footnote, not a group
            if re.match(r"\s*(?:\(\s*[\d.]+\s*%\s*\)\s*)?(?:out\s+)?of\s+(?:the\s+)?\d", lower[num.end:num.end + 25]):
                continue  # "39 of 41": a numerator
            if re.match(r"[^.;]{0,40}?\b(?:had|developed|experienced|reported|achieved|showed|required|died|"
                        r"complained|suffered|obtain\w*|failed|needed|noted|were\s+observed|were\s+followed|"
                        r"occurred|withdr\w+|dropped|discontinued|excluded|lost)\b", lower[num.end:num.end + 60]):
                continue  # an outcome or loss count
            by_sentence.setdefault(ctx.sentence_index(num.start), []).append(num)
        for sent_i, sent_nums in by_sentence.items():
            if len(sent_nums) < 2 or len(sent_nums) > 10:
                continue
            s_start, s_end = ctx.sentence_at(sent_nums[0].start)
            if not re.search(r"randomi|assign|allocat|divid|group|arm\b|receiv|treated|versus|\bvs\b|"
                             r"control|placebo|each|enrol|includ|consist|compris|;", lower[s_start:s_end]):
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
        text = doc.text
        lower = text.lower()
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
                "accept": c.score > -1.5,
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
