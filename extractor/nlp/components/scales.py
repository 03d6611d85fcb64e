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
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.context import DocContext, add_candidates
from extractor.nlp.lexicon import NON_PAIN_TARGET_LOWER_RE, PAIN_LOWER_RE, doc_about_pain
from extractor.nlp.rules import Rule
from extractor.records import SCALES


@dataclass(frozen=True, slots=True)
class ScaleMatch:
    start: int
    end: int
    scale: str
    rule_id: str
    confidence: float


class PainScaleMatcher(RuleComponent):
    rules_name = "scales"

    def compile_rules(self, rules: list[Rule]) -> None:
        compiled: list[tuple[Rule, re.Pattern[str], bool, tuple[str, ...]]] = []
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
            compiled.append((r, re.compile(pattern), lower, triggers))
        self._compiled = compiled

    def match(self, doc: Doc) -> list[ScaleMatch]:
        text = doc.text
        lower = text.lower()
        found: list[tuple[ScaleMatch, Rule]] = []
        taken: list[tuple[int, int]] = []
        for r, rx, is_lower, triggers in self._compiled:  # file order = priority
            subject = lower if is_lower else text
            if triggers and not any(t in subject for t in triggers):
                continue
            for m in rx.finditer(subject):
                s, e = m.start(), m.end()
                if s == e or any(a < e and s < b for a, b in taken):
                    continue
                taken.append((s, e))
                found.append((ScaleMatch(s, e, str(r["label"]), str(r["id"]),
                                         float(r.get("confidence", 0.9))), r))
        if not found:
            return []
        found.sort(key=lambda x: x[0].start)
        ctx = DocContext(doc)
        judged: list[tuple[ScaleMatch, Rule, bool]] = []
        for sm, r in found:
            context = r.get("context", "pain")
            if context == "pain_near":
                ok = PAIN_LOWER_RE.search(lower, max(0, sm.start - 60), sm.end + 20) is not None
            elif context == "pain":
                s, e = ctx.sentence_at(sm.start)
                if PAIN_LOWER_RE.search(lower, s, e) is not None:
                    ok = True
                else:
                    # no pain word here: still a pain scale in an abstract about pain, unless
                    # the scale is said to measure something else
                    ok = (doc_about_pain(lower) and
                          NON_PAIN_TARGET_LOWER_RE.search(lower, s, e) is None)
            else:
                ok = True
            judged.append((sm, r, ok))
        # a scale counts when any of its (non-weak, non-fallback) mentions is in a pain context
        counted = {sm.scale for sm, r, ok in judged if ok and not r.get("weak") and not r.get("fallback")}
        keep = [sm for sm, r, ok in judged
                if sm.scale in counted and not r.get("weak") and not r.get("fallback")]
        if not counted:
            weak = [sm for sm, r, ok in judged if r.get("weak") and ok]
            keep = weak or [sm for sm, r, ok in judged if r.get("fallback") and ok]
        return keep

    def set_annotations(self, doc: Doc, matches: list[ScaleMatch]) -> None:
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


@Language.factory(
    "extractor_pain_scales",
    assigns=["doc._.candidates", "doc.spans"],
    requires=["token.is_sent_start"],
    default_config={
        "span_key": "extractor.scales",
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.scales"},
    },
    default_score_weights={"spans_extractor.scales_f": 1.0},
)
def make_pain_scales(nlp: Language, name: str, span_key: str,
                     scorer: Scorer | None) -> PainScaleMatcher:
    """Pain-scale mentions (rules in ``patterns/scales.jsonl``)."""
    return PainScaleMatcher(nlp, name, span_key=span_key, scorer=scorer)
