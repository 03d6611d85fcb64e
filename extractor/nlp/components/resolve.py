"""``extractor_resolve``: turn candidates into the final, JSON-safe ``doc._.extractions``.

Candidate generation (the rule components) and the final choice are separate on purpose: a
trained component placed before ``extractor_resolve`` may rescore candidates (set ``accept`` or
``confidence`` in ``doc._.candidates``) and this component then decides:

* ``sample_size``: the accepted candidate with the highest ``confidence`` (ties: earliest);
* every other kind: each accepted candidate, checked against the record types of
  :mod:`extractor.records` (a candidate that does not validate is dropped, never guessed).
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer
from extractor.nlp.context import SHARED_KEY
from extractor.records import KINDS, value_from_dict

KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def candidate_to_extraction(cand: dict[str, Any]) -> dict[str, Any] | None:
    """The extraction dict of one candidate (``kind`` + ``Value.to_dict()``), or None if invalid."""
    kind = cand.get("kind")
    if kind not in KIND_ORDER:
        return None
    try:
        value = value_from_dict(str(kind), cand)
    except (KeyError, TypeError, ValueError):
        return None
    return {"kind": kind, **value.to_dict()}


class Resolver(RuleComponent):
    def match(self, doc: Doc) -> list[dict[str, Any]]:
        cands = [c for c in (doc._.candidates or []) if c.get("accept")]
        out: list[dict[str, Any]] = []
        sample = [c for c in cands if c.get("kind") == "sample_size"]
        if sample:
            best = max(sample, key=lambda c: (float(c.get("confidence") or 0.0), -int(c["start"])))
            ext = candidate_to_extraction(best)
            if ext is not None:
                out.append(ext)
        for c in cands:
            if c.get("kind") == "sample_size":
                continue
            ext = candidate_to_extraction(c)
            if ext is not None:
                out.append(ext)
        out.sort(key=lambda e: (KIND_ORDER[e["kind"]], e["start"], e["end"]))
        return out

    def set_annotations(self, doc: Doc, matches: list[dict[str, Any]]) -> None:
        doc._.extractions = matches
        doc.user_data.pop(SHARED_KEY, None)  # an older version cached text on the doc


@Language.factory(
    "extractor_resolve",
    assigns=["doc._.extractions"],
    requires=["doc._.candidates"],
    default_config={"scorer": {"@scorers": "extractor.extractions_scorer.v1"}},
    default_score_weights={"extractions_sample_size_acc": 1.0, "extractions_scores_f": 1.0,
                           "extractions_p_values_f": 1.0, "extractions_proportions_f": 1.0,
                           "extractions_scales_f": 1.0, "extractions_arm_sizes_f": 1.0},
)
def make_resolve(nlp: Language, name: str, scorer: Scorer | None) -> Resolver:
    """Choose the headline sample size and validate every value; writes ``doc._.extractions``."""
    component = Resolver(nlp, name, span_key="", scorer=scorer)
    component.set_rules([])
    return component
