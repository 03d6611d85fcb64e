"""``extractor_proportions``: patients reaching a pain outcome (see :mod:`extractor.nlp.proportions`).

Candidates: ``kind="proportion"`` with ``what``, ``events``, ``total``, ``percent``, ``arm``,
``timepoint`` and ``days``; span group ``extractor.proportions`` (label ``PROPORTION``).
Numbers already read as scores (a percent change of a pain score) are not proportions.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.components.numbers import numbers_from_doc
from extractor.nlp.context import DocContext, add_candidates, doc_mentions_pain
from extractor.nlp.proportions import ProportionFinder, ProportionValue
from extractor.nlp.rules import Rule
from extractor.nlp.scores import TimeInfo


class ProportionExtractor(RuleComponent):
    rules_name = "proportions"

    def compile_rules(self, rules: list[Rule]) -> None:
        self._finder = ProportionFinder(rules)

    def match(self, doc: Doc) -> list[ProportionValue]:
        ctx = DocContext(doc)
        if self.cfg.get("require_pain", True) and not doc_mentions_pain(doc):
            return []
        cands = doc._.candidates or []
        blocked = [(c["start"], c["end"]) for c in cands
                   if c.get("kind") in ("p_value", "timepoint", "score")]
        timepoints = [TimeInfo(c["start"], c["end"], c["timepoint"], c.get("days"), c.get("group", -1),
                               c.get("tp_kind", "")) for c in cands if c.get("kind") == "timepoint"]
        return self._finder.find(ctx.text, ctx.sentences(), numbers_from_doc(doc), blocked, timepoints)

    def set_annotations(self, doc: Doc, matches: list[ProportionValue]) -> None:
        if not matches:
            return
        ctx = DocContext(doc)
        items: list[dict[str, Any]] = [{
            "kind": "proportion", "what": p.what, "arm": p.arm, "timepoint": p.timepoint,
            "days": p.days, "events": p.events, "total": p.total, "percent": p.percent,
            **ctx.provenance(p.start, p.end, producer=self.name, producer_id=p.rule,
                             confidence=p.confidence),
            "features": {"rule": p.rule}, "accept": True,
        } for p in matches]
        add_candidates(doc, items)
        if self.span_key:
            set_span_group(doc, self.span_key, ((p.start, p.end, "PROPORTION", p.rule) for p in matches))


@Language.factory(
    "extractor_proportions",
    assigns=["doc._.candidates", "doc.spans"],
    requires=["doc._.numbers", "doc._.candidates", "token.is_sent_start"],
    default_config={
        "span_key": "extractor.proportions",
        "require_pain": True,
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.proportions"},
    },
    default_score_weights={"spans_extractor.proportions_f": 1.0},
)
def make_proportions(nlp: Language, name: str, span_key: str, require_pain: bool,
                     scorer: Scorer | None) -> ProportionExtractor:
    """Responder proportions (rules in ``patterns/proportions.jsonl``)."""
    return ProportionExtractor(nlp, name, span_key=span_key, scorer=scorer, require_pain=require_pain)
