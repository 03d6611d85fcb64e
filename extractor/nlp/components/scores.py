"""``extractor_scores``: pain-score values with statistic, spread, time point, arm and scale.

The rules are in :mod:`extractor.nlp.scores` (named expressions) and ``patterns/scores.jsonl``
(ids, priors and word lists). Reads the numbers, p-values, time points and scale mentions found
by the earlier components. Candidates: ``kind="score"`` with the guideline's fields and features
(rule, unit, distance to the pain cue, how the time point was assigned) for a trained
component to rescore; span group ``extractor.scores`` (label = statistic).
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.components.numbers import numbers_from_doc
from extractor.nlp.context import DocContext, add_candidates, doc_mentions_pain
from extractor.nlp.rules import Rule
from extractor.nlp.scores import ScaleInfo, ScoreFinder, ScoreValue, TimeInfo, finalize


class ScoreExtractor(RuleComponent):
    rules_name = "scores"

    def compile_rules(self, rules: list[Rule]) -> None:
        self._finder = ScoreFinder(rules)

    def match(self, doc: Doc) -> list[ScoreValue]:
        ctx = DocContext(doc)
        if self.cfg.get("require_pain", True) and not doc_mentions_pain(doc):
            return []
        cands = doc._.candidates or []
        blocked = [(c["start"], c["end"]) for c in cands if c.get("kind") in ("p_value", "timepoint")]
        timepoints = [TimeInfo(c["start"], c["end"], c["timepoint"], c.get("days"), c.get("group", -1),
                               c.get("tp_kind", "")) for c in cands if c.get("kind") == "timepoint"]
        scales = [ScaleInfo(c["start"], c["end"], c["scale"]) for c in cands if c.get("kind") == "scale"]
        values = self._finder.find(ctx.text, ctx.sentences(), numbers_from_doc(doc), blocked,
                                   timepoints, scales)
        return finalize(values)

    def set_annotations(self, doc: Doc, matches: list[ScoreValue]) -> None:
        if not matches:
            return
        ctx = DocContext(doc)
        items: list[dict[str, Any]] = []
        for v in matches:
            items.append({
                "kind": "score", "scale": v.scale, "arm": v.arm, "timepoint": v.timepoint,
                "days": v.days, "stat": v.stat, "value": v.value, "spread": v.spread,
                "spread_values": list(v.spread_values), "n": v.n,
                **ctx.provenance(v.start, v.end, producer=self.name, producer_id=v.rule,
                                 confidence=v.confidence),
                "features": {"rule": v.rule, "unit": v.unit, "label": v.label,
                             **{k: val for k, val in v.features.items()
                                if isinstance(val, (str, int, float, bool)) or val is None}},
                "accept": True,
            })
        add_candidates(doc, items)
        if self.span_key:
            set_span_group(doc, self.span_key, ((v.start, v.end, v.stat.upper(), v.rule) for v in matches))


@Language.factory(
    "extractor_scores",
    assigns=["doc._.candidates", "doc.spans"],
    requires=["doc._.numbers", "doc._.candidates", "token.is_sent_start"],
    default_config={
        "span_key": "extractor.scores",
        "require_pain": True,
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.scores"},
    },
    default_score_weights={"spans_extractor.scores_f": 1.0},
)
def make_scores(nlp: Language, name: str, span_key: str, require_pain: bool,
                scorer: Scorer | None) -> ScoreExtractor:
    """Pain-score values (rules in ``patterns/scores.jsonl`` and :mod:`extractor.nlp.scores`)."""
    return ScoreExtractor(nlp, name, span_key=span_key, scorer=scorer, require_pain=require_pain)
