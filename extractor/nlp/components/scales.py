"""``extractor_pain_scales``: named pain scales, canonicalised (VAS, NRS, VRS, BPI, MPQ, WOMAC, FPS,
other), and ``unspecified`` when pain is scored with no scale named.

A scale used for something else (a VAS for nausea or satisfaction) does not count: rules with
``"context": "pain"`` need a pain word in the sentence (or another counted mention of the same
scale). ``weak`` rules (a bare "0-10 scale" next to pain) count only when no other named scale
is found, and ``fallback`` rules (a pain score with no scale) only when nothing else is.

Candidates: ``kind="scale"`` with ``scale``; span group ``extractor.scales`` (label = scale).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.context import DocContext, add_candidates, doc_lower, doc_mentions_pain, doc_text
from extractor.nlp.fastre import Scanner
from extractor.nlp.lexicon import (
    NON_PAIN_TARGET_LOWER_SCAN,
    PAIN_LOWER_RE,
    PAIN_LOWER_SCAN,
    doc_about_pain,
)
from extractor.nlp.rules import Rule
from extractor.records import SCALES


@dataclass(frozen=True, slots=True)
class ScaleMatch:
    start: int
    end: int
    scale: str
    rule_id: str
    confidence: float


_REST_MOVEMENT_RE = re.compile(
    r"[^.;]{0,15}?\b(?:at|on|during|with)\s+(?:rest|movement|mobili[sz]ation|cough\w*|walking|"
    r"deep\s+breathing|swallowing|injection)\b")


def _trigger_order(triggers: set[str]) -> list[tuple[str, tuple[str, ...], str | None]]:
    """The triggers, each with the shorter triggers it contains, shortest first (so that the
    check of "behavioural pain" is skipped whenever "pain" is absent), and with the first word it
    shares with other triggers of several words, when that word is no trigger itself (the checks
    of "point scale", "point rating", ... are skipped whenever "point" is absent, which is looked
    for once)."""
    ordered = sorted(triggers, key=lambda t: (len(t), t))
    firsts = {t: _first_word(t) for t in ordered}
    counts = Counter(firsts.values())
    out: list[tuple[str, tuple[str, ...], str | None]] = []
    for t in ordered:
        first = firsts[t]
        shared_first = first if first != t and counts[first] >= 2 and first not in triggers else None
        out.append((t, tuple(u for u in ordered if len(u) < len(t) and u in t), shared_first))
    return out


def _lower_triggers_in(ordered: list[tuple[str, tuple[str, ...], str | None]], lower: str) -> set[str]:
    """The triggers (in ``_trigger_order``) that occur in ``lower``."""
    present: set[str] = set()
    first_words: dict[str, bool] = {}  # is the first word of longer triggers there?
    for t, inner, first in ordered:
        # a trigger containing another one cannot be there when that one is not
        if inner and not present.issuperset(inner):
            continue
        if first is not None:
            there = first_words.get(first)
            if there is None:
                there = first_words[first] = first in lower
            if not there:
                continue
        if t in lower:
            present.add(t)
    return present


def _first_word(trigger: str) -> str:
    """ "point scale" → "point", "-point " → "point", "numer" → "numer"."""
    words = re.split(r"[\s-]+", trigger.strip())
    return next((w for w in words if w), trigger)


class _TriggerScan:
    """Which of some triggers occur in a text, from one regular-expression scan instead of one
    substring search per trigger (for the exact-case acronyms: their upper-case first letters are
    rare, so the engine skips most of the text; about 3x faster than 28 ``in`` checks).

    The pattern tries the longest trigger first, so at every position where triggers start it
    matches the longest of them, and every other trigger starting there is a prefix of it. Each
    match adds the triggers contained in the matched one, and the next search starts one
    character further: every trigger that occurs is found, and only those.
    """

    __slots__ = ("_search", "_contained")

    def __init__(self, triggers: set[str]) -> None:
        ordered = sorted(triggers, key=lambda t: (-len(t), t))
        self._search = re.compile("|".join(map(re.escape, ordered))).search if ordered else None
        self._contained = {t: frozenset(u for u in ordered if u in t) for t in ordered}

    def add_present(self, text: str, present: set[str]) -> None:
        search = self._search
        if search is None:
            return
        pos = 0
        while (m := search(text, pos)) is not None:
            present |= self._contained[m.group()]
            pos = m.start() + 1


_COORDINATION_RE = re.compile(r"\s*(?:,\s*)?(?:and|or|&|/|,)\s*(?:the\s+)?")


class PainScaleMatcher(RuleComponent):
    rules_name = "scales"

    def compile_rules(self, rules: list[Rule]) -> None:
        compiled: list[tuple[Rule, Scanner, bool, tuple[str, ...]]] = []
        for r in rules:
            label = r.get("label")
            if label not in SCALES:
                raise ValueError(f"{self.name}: rule {r['id']}: unknown scale {label!r}")
            if r.get("context", "pain") not in ("pain", "any", "pain_near"):
                raise ValueError(f"{self.name}: rule {r['id']}: unknown context {r.get('context')!r}")
            lower = r.get("case", "i") == "i"
            pattern = str(r["pattern"])
            if lower and pattern != pattern.lower():
                raise ValueError(f"{self.name}: rule {r['id']}: a case 'i' pattern must be lower case")
            triggers = tuple(str(t) for t in r.get("triggers") or ())
            compiled.append((r, Scanner(re.compile(pattern)), lower, triggers))
        # rules whose scale is a pain instrument by name (WOMAC, McGill Pain Questionnaire) count
        # with no pain word around; with ``require_pain`` they are all that runs on an abstract
        # without any pain word (the others could not be judged to be used for pain there)
        any_context = [c for c in compiled if c[0].get("context", "pain") == "any"]
        self._rule_sets = {
            key: (rules_, _trigger_order({t for _, _, low, ts in rules_ if low for t in ts}),
                  _TriggerScan({t for _, _, low, ts in rules_ if not low for t in ts}))
            for key, rules_ in (("all", compiled), ("any", any_context))
        }

    def match(self, doc: Doc) -> list[ScaleMatch]:
        no_pain = self.cfg.get("require_pain", True) and not doc_mentions_pain(doc)
        compiled, lower_triggers, exact_triggers = self._rule_sets["any" if no_pain else "all"]
        text = doc_text(doc)
        lower = doc_lower(doc)
        found: list[tuple[ScaleMatch, Rule]] = []
        taken: list[tuple[int, int]] = []
        # every distinct trigger is checked once per document
        present = _lower_triggers_in(lower_triggers, lower)
        exact_triggers.add_present(text, present)
        if not present:
            return []
        lazy: list[tuple[Rule, Scanner, bool, tuple[str, ...]]] = []
        for r, rx, is_lower, triggers in compiled:  # file order = priority
            subject = lower if is_lower else text
            if triggers and present.isdisjoint(triggers):
                continue
            if r.get("weak") or r.get("fallback"):
                lazy.append((r, rx, is_lower, triggers))  # only needed when nothing else counts
                continue
            _add_matches(rx.finditer(subject), r, taken, found)
        ctx = DocContext(doc)
        strong = self._judge(found, lower, ctx)
        counted = {sm.scale for sm, r, ok in strong if ok}
        if counted:
            return [sm for sm, r, ok in strong if sm.scale in counted]
        for r, rx, is_lower, _ in lazy:
            subject = lower if is_lower else text
            _add_matches(rx.finditer(subject), r, taken, found)
        judged = self._judge(found, lower, ctx)
        weak = [sm for sm, r, ok in judged if r.get("weak") and ok]
        return weak or [sm for sm, r, ok in judged if r.get("fallback") and ok]

    def _judge(self, found: list[tuple[ScaleMatch, Rule]], lower: str,
               ctx: DocContext) -> list[tuple[ScaleMatch, Rule, bool]]:
        """Each mention with whether it is used for pain (``context`` of its rule)."""
        if not found:
            return []
        found.sort(key=lambda x: x[0].start)
        judged: list[tuple[ScaleMatch, Rule, bool]] = []
        for sm, r in found:
            context = r.get("context", "pain")
            if context == "pain_near":
                ok = PAIN_LOWER_RE.search(lower, max(0, sm.start - 60), sm.end + 20) is not None
            elif context == "pain":
                ok = self._pain_use(lower, ctx, sm)
            else:
                ok = True
            judged.append((sm, r, ok))
        return judged

    @staticmethod
    def _pain_use(lower: str, ctx: DocContext, sm: ScaleMatch) -> bool:
        """Does this mention measure pain? The nearest of a pain word and another target (nausea,
        anxiety, satisfaction, quality of life...) within its sentence decides; with neither in
        the sentence, a scale counts in an abstract that talks about pain."""
        s, e = ctx.sentence_at(sm.start)
        if "pain" in lower[sm.start:sm.end] or _REST_MOVEMENT_RE.match(lower, sm.end, min(e, sm.end + 40)):
            return True  # "visual analogue pain scale", "VAS scores at rest and on coughing"

        def nearest(rx: Scanner) -> tuple[int, int, int] | None:
            best: tuple[int, int, int] | None = None
            for m in rx.finditer(lower, s, e):
                if sm.start <= m.start() < sm.end:
                    continue  # a word inside the mention itself ("visual analogue discomfort scale")
                d = sm.start - m.end() if m.end() <= sm.start else m.start() - sm.end
                if best is None or d < best[0]:
                    best = (d, m.start(), m.end())
            return best

        pain = nearest(PAIN_LOWER_SCAN)
        other = nearest(NON_PAIN_TARGET_LOWER_SCAN)
        if pain is not None:
            if other is None or pain[0] <= other[0] or pain[0] <= 25:
                return True
            # "pain and itching were scored on a VAS": both targets of one scale
            a, b = (pain, other) if pain[1] < other[1] else (other, pain)
            return _COORDINATION_RE.fullmatch(lower, a[2], b[1]) is not None
        if other is not None:
            return False
        return doc_about_pain(lower, 1)

    def set_annotations(self, doc: Doc, matches: list[ScaleMatch]) -> None:
        if not matches:
            return
        ctx = DocContext(doc)
        items: list[dict[str, Any]] = [{
            "kind": "scale", "scale": m.scale,
            **ctx.provenance(m.start, m.end, producer=self.name, producer_id=m.rule_id,
                             confidence=m.confidence),
            "features": {"rule": m.rule_id}, "accept": True,
        } for m in matches]
        add_candidates(doc, items)
        if self.span_key:
            set_span_group(doc, self.span_key, ((m.start, m.end, m.scale, m.rule_id) for m in matches))


def _add_matches(matches: Iterable[re.Match[str]], rule: Rule, taken: list[tuple[int, int]],
                 found: list[tuple[ScaleMatch, Rule]]) -> None:
    """Add a rule's matches that overlap nothing found before (earlier rules win)."""
    for m in matches:
        s, e = m.start(), m.end()
        if s == e or any(a < e and s < b for a, b in taken):
            continue
        taken.append((s, e))
        found.append((ScaleMatch(s, e, str(rule["label"]), str(rule["id"]),
                                 float(rule.get("confidence", 0.9))), rule))


@Language.factory(
    "extractor_pain_scales",
    assigns=["doc._.candidates", "doc.spans"],
    requires=["token.is_sent_start"],
    default_config={
        "span_key": "extractor.scales",
        "require_pain": True,
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.scales"},
    },
    default_score_weights={"spans_extractor.scales_f": 1.0},
)
def make_pain_scales(nlp: Language, name: str, span_key: str, require_pain: bool,
                     scorer: Scorer | None) -> PainScaleMatcher:
    """Pain-scale mentions (rules in ``patterns/scales.jsonl``); with ``require_pain`` only the
    rules with ``"context": "any"`` run on an abstract without any pain word."""
    return PainScaleMatcher(nlp, name, span_key=span_key, scorer=scorer, require_pain=require_pain)
