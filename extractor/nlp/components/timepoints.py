"""``extractor_timepoints``: time points of measurements, with days (see :mod:`extractor.nlp.timepoints`).

Candidates: ``kind="timepoint"`` with ``timepoint`` (as written), ``days`` and ``group`` (items of
one list such as "at 1, 4 and 8 weeks" share a group id, used to expand "respectively" lists);
span group ``extractor.timepoints`` (label ``TIMEPOINT``). Time points are context for scores
and proportions; they are not values of their own in the record.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.context import DocContext, add_candidates, doc_lower, doc_mentions_pain, doc_text
from extractor.nlp.rules import Rule
from extractor.nlp.timepoints import TimePoint, TimepointFinder


class TimepointExtractor(RuleComponent):
    rules_name = "timepoints"

    def compile_rules(self, rules: list[Rule]) -> None:
        try:
            self._finder = TimepointFinder(rules)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from exc

    def match(self, doc: Doc) -> list[TimePoint]:
        if self.cfg.get("require_pain", True) and not doc_mentions_pain(doc):
            return []  # time points are only read for pain scores and proportions
        return self._finder.find(doc_text(doc), doc_lower(doc))

    def set_annotations(self, doc: Doc, matches: list[TimePoint]) -> None:
        if not matches:
            return
        ctx = DocContext(doc)
        items: list[dict[str, Any]] = [{
            "kind": "timepoint", "timepoint": t.text, "days": t.days, "group": t.group,
            "tp_kind": t.kind,
            **ctx.provenance(t.start, t.end, producer=self.name, producer_id=t.rule,
                             confidence=0.9),
            "features": {"rule": t.rule}, "accept": True,
        } for t in matches]
        add_candidates(doc, items)
        if self.span_key:
            set_span_group(doc, self.span_key, ((t.start, t.end, "TIMEPOINT", t.rule) for t in matches))


@Language.factory(
    "extractor_timepoints",
    assigns=["doc._.candidates", "doc.spans"],
    requires=["token.is_sent_start"],
    default_config={
        "span_key": "extractor.timepoints",
        "require_pain": True,
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.timepoints"},
    },
    default_score_weights={"spans_extractor.timepoints_f": 0.0},
)
def make_timepoints(nlp: Language, name: str, span_key: str, require_pain: bool,
                    scorer: Scorer | None) -> TimepointExtractor:
    """Time points ("baseline", "24 h", "week 12", "at 1, 4 and 8 weeks") with days (rules in
    ``patterns/timepoints.jsonl``)."""
    return TimepointExtractor(nlp, name, span_key=span_key, scorer=scorer, require_pain=require_pain)
