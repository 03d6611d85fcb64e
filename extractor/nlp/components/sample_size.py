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
_EACH_AFTER = re.compile(r"\s*(?:[a-z0-9][\w/'’+-]*\s+){0,2}?(?:in\s+each|per|each|in\s+both|in\s+every)\s*(?:group|arm|cohort)?s?\b|\s*(?:[a-z]+\s+){0,2}each\b")
_GROUPS_OF = re.compile(
    r"\b(?P<k>two|three|four|five|six|seven|eight|both|2|3|4|5|6|7|8)\s+(?:(?:equal|treatment|study|parallel)\s+)?"
    r"(?:groups|arms|cohorts)\s+(?:of|with|including|containing|comprising)\s+(?:each\s+)?$")
_IN_GROUP = re.compile(
    r"\s*(?:(?:[a-z0-9][\w/'’+-]*\s+){0,3}?(?:" + PERSON_NOUNS + r")\s+)?(?:were\s+|was\s+)?"
    r"(?:in|into|to|for|received|receiving|allocated\s+to|assigned\s+to|randomi[sz]ed\s+to|treated\s+with|"
    r"underwent|on|with|given)\s+(?!each\b|every\b|both\b|all\b|whom\b)")
_RESPECTIVELY = re.compile(r"respectively")
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
        return re.search(rf"\b(?:{PERSON_NOUNS})\b[^.;()]*$", before) is not None

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

    def _arm_sizes(self, text: str, lower: str, numbers: list[Number],
                   headline: Candidate | None) -> list[ArmSizeMatch]:
        found: list[ArmSizeMatch] = []
        k_groups = stated_group_count(lower)
        ints = [n for n in numbers if n.is_int and not n.percent and not n.signed and 1 <= n.value < 1e6]
        used: set[int] = set()

        def conf(name: str) -> float:
            return self._arm_conf.get(name, 0.6)

        def rid(name: str) -> str:
            return self._arm_ids.get(name, f"sample_size.arm.{name}.v1")

        for num in ints:
            if num.start in used:
                continue
            after = lower[num.end:num.end + 60]
            if re.match(r"\s*(?:\(\s*[\d.]+\s*%|%|/\s*\d|of\s+(?:the\s+)?\d)", after):
                continue  # a proportion, not a group size
            before40 = lower[max(0, num.start - 40):num.start]
            # "groups of 30 (patients) each", "both groups of 50 patients", "four groups of ten"
            g = _GROUPS_OF.search(before40)
            if g and "groups_of" in self._arm_ids:
                k_raw = g.group("k")
                k = int(k_raw) if k_raw.isdigit() else _NUM_WORD.get(k_raw, 2)
                for i in range(k):
                    found.append(ArmSizeMatch(num.start, num.end, int(num.value), f"group {i + 1}",
                                              rid("groups_of"), conf("groups_of")))
                used.add(num.start)
                continue
            # "(n = 20 in each group)", "30 patients per group", "40 patients in each group"
            if _EACH_AFTER.match(lower, num.end) and "each_group" in self._arm_ids:
                k = k_groups or 2
                for i in range(k):
                    found.append(ArmSizeMatch(num.start, num.end, int(num.value), f"group {i + 1}",
                                              rid("each_group"), conf("each_group")))
                used.add(num.start)
                continue
            # "group 1 (n=41)", "controls ( n = 16 )", "Group P, n = 40", "(group L; n = 37"
            m_eq = re.search(r"(?:\(\s*|,\s*|;\s*|:\s*)?\bn\s*[=:]\s*$", before40)
            if m_eq and "n_equals_after_arm" in self._arm_ids:
                pos = num.start - (len(before40) - m_eq.start())
                pre = lower[max(0, pos - 30):pos]
                if _PERSON_BEFORE.search(pre + " ") and not re.search(r"group|arm", pre[-15:]):
                    continue  # "patients (n = 25)": a total, not an arm
                # "(group P; n = 34)": the arm is named inside the same brackets
                inner = re.search(r"\(\s*([^()]{1,40}?)\s*[;,]\s*$", text[max(0, pos - 45):pos + 1])
                name = inner.group(1) if inner else arm_name_before(text, pos)
                if name:
                    found.append(ArmSizeMatch(num.start, num.end, int(num.value), name,
                                              rid("n_equals_after_arm"), conf("n_equals_after_arm")))
                    used.add(num.start)
                continue
            # "Group B (betamethasone; 37 pts)"
            m_par = re.search(r"\(\s*([^()]{1,40}?)\s*;\s*$", text[max(0, num.start - 45):num.start])
            if m_par and re.match(rf"\s*(?:{PERSON_NOUNS})\s*\)", lower[num.end:num.end + 20]):
                name = arm_name_before(text, num.start - len(m_par.group(0)) + (num.start - max(0, num.start - 45)) * 0)
                label = m_par.group(1)
                found.append(ArmSizeMatch(num.start, num.end, int(num.value), name or label,
                                          rid("n_equals_after_arm"), conf("n_equals_after_arm")))
                used.add(num.start)
                continue
            # "53 patients in the study group", "14 subjects receiving BTX-A", "37 to placebo"
            m_in = _IN_GROUP.match(lower, num.end)
            if m_in and "count_in_group" in self._arm_ids:
                name = arm_name_after(text, m_in.end())
                tail = lower[m_in.end():m_in.end() + 50]
                looks_like_arm = name is not None and (
                    re.search(r"\b(?:group|arm|cohort)\b", tail[:40]) is not None
                    or re.match(r"\s*(?:the\s+)?(?:placebo|control|sham|saline|usual\s+care)", tail) is not None
                    or m_in.group(0).strip().startswith(("receiv", "allocated", "assigned", "randomi", "treated", "given"))
                )
                is_headline = headline is not None and headline.start == num.start
                if looks_like_arm and not is_headline and name is not None:
                    found.append(ArmSizeMatch(num.start, num.end, int(num.value), name,
                                              rid("count_in_group"), conf("count_in_group")))
                    used.add(num.start)
                    continue
        found.extend(self._respectively_arms(text, lower, ints, used))
        found.sort(key=lambda a: a.start)
        return self._dedupe_arms(found, k_groups, headline)

    def _respectively_arms(self, text: str, lower: str, ints: list[Number],
                           used: set[int]) -> list[ArmSizeMatch]:
        """ "54 and 59 patients were allocated to groups A and B, respectively"."""
        if "respectively" not in lower or "respectively" not in self._arm_ids:
            return []
        out: list[ArmSizeMatch] = []
        for m in re.finditer(r"respectively", lower):
            s = lower.rfind(".", 0, m.start())
            seg_start = max(s + 1, m.start() - 200)
            seg = [n for n in ints if seg_start <= n.start < m.start() and n.start not in used]
            if len(seg) < 2:
                continue
            # the numbers must be a list "N, M and K <persons>"
            first, last = seg[0], seg[-1]
            between = lower[first.start:last.end]
            if not re.fullmatch(r"[\d\s,and&]+", re.sub(r"\d+", "", between) or " "):
                continue
            after = lower[last.end:m.start()]
            if not re.match(rf"\s*(?:{PERSON_NOUNS})\b", after):
                continue
            if not re.search(r"\b(?:group|arm|placebo|control)", after):
                continue
            names = re.findall(r"group\s+([a-z0-9]{1,4})\b", after)
            for i, n in enumerate(seg):
                name = f"group {names[i].upper()}" if i < len(names) else None
                out.append(ArmSizeMatch(n.start, n.end, int(n.value), name,
                                        self._arm_ids["respectively"], self._arm_conf.get("respectively", 0.6)))
                used.add(n.start)
        return out

    @staticmethod
    def _dedupe_arms(found: list[ArmSizeMatch], k_groups: int | None,
                     headline: Candidate | None) -> list[ArmSizeMatch]:
        total = int(headline.number.value) if headline is not None else None
        seen: set[str] = set()
        kept: list[ArmSizeMatch] = []
        for a in found:
            if total is not None and a.n >= total:
                continue
            key = re.sub(r"\W+", " ", (a.arm or f"#{a.start}").lower()).strip()
            key = re.sub(r"\b(?:the|group|arm)\b", "", key).strip() or key
            if key in seen:
                continue
            seen.add(key)
            kept.append(a)
        if k_groups is not None and len(kept) > k_groups:
            kept = kept[:k_groups]
        return kept

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
        best = max(cands, key=lambda c: (c.score, -c.start), default=None)
        arms = self._arm_sizes(text, lower, numbers, best)
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
    requires=["doc._.numbers", "token.is_sent_start"],
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
