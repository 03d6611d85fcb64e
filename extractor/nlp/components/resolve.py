"""``extractor_resolve``: turn candidates into the final, JSON-safe ``doc._.extractions``.

Candidate generation (the rule components) and the final choice are separate on purpose: a
trained component placed before ``extractor_resolve`` may rescore candidates (set ``accept`` or
``confidence`` in ``doc._.candidates``) and this component then decides:

* ``sample_size``: the accepted candidate with the highest ``confidence`` (ties: earliest);
* every other kind: each accepted candidate, checked against the record types of
  :mod:`extractor.records` (a candidate that does not validate is dropped, never guessed).
"""

from __future__ import annotations

import weakref
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer
from extractor.nlp.context import SHARED_KEY
from extractor.records import KINDS, Value, value_from_dict

KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def _candidate_value(cand: dict[str, Any]) -> tuple[dict[str, Any], Value] | None:
    kind = cand.get("kind")
    if kind not in KIND_ORDER:
        return None
    try:
        value = value_from_dict(str(kind), cand)
    except (KeyError, TypeError, ValueError):
        return None
    return {"kind": kind, **value.to_dict()}, value


def candidate_to_extraction(cand: dict[str, Any]) -> dict[str, Any] | None:
    """The extraction dict of one candidate (``kind`` + ``Value.to_dict()``), or None if invalid."""
    found = _candidate_value(cand)
    return None if found is None else found[0]


# The values behind the extractions this component wrote to a doc, so that ``doc_to_record`` need
# not rebuild each one from its dict (as much work again as building it): kept beside the doc in a
# weak mapping (nothing is added to the doc) with a copy of every dict, and given out only while
# ``doc._.extractions`` is still the same list with the same contents.
_Resolved = tuple[list[dict[str, Any]], list[dict[str, Any]], list[Value]]
_RESOLVED: weakref.WeakKeyDictionary[Doc, _Resolved] = weakref.WeakKeyDictionary()


def _snapshot(ext: dict[str, Any]) -> dict[str, Any]:
    # the spread values, the one list ``to_dict`` writes, are copied too: a change made to them in
    # place must not go unseen
    snapshot = dict(ext)
    spread = snapshot.get("spread_values")
    if spread is not None:
        snapshot["spread_values"] = list(spread)
    return snapshot


def resolved_values(doc: Doc) -> list[Value] | None:
    """The values of ``doc._.extractions`` (in order) as this component built them, or None when
    the extractions are not, or no longer, exactly what it wrote. Each value's ``to_dict()`` is its
    extraction dict, as that of the value ``value_from_dict`` rebuilds from the dict."""
    entry = _RESOLVED.get(doc)
    if entry is None:
        return None
    exts, snapshots, values = entry
    current = doc._.extractions
    if current is not exts or len(current) != len(snapshots) or any(
            e != s for e, s in zip(current, snapshots, strict=False)):
        return None
    return values


class Resolver(RuleComponent):
    def match(self, doc: Doc) -> list[tuple[dict[str, Any], Value]]:
        cands = [c for c in (doc._.candidates or []) if c.get("accept")]
        out: list[tuple[dict[str, Any], Value]] = []
        sample = [c for c in cands if c.get("kind") == "sample_size"]
        if sample:
            best = max(sample, key=lambda c: (float(c.get("confidence") or 0.0), -int(c["start"])))
            found = _candidate_value(best)
            if found is not None:
                out.append(found)
        for c in cands:
            if c.get("kind") == "sample_size":
                continue
            found = _candidate_value(c)
            if found is not None:
                out.append(found)
        out.sort(key=lambda ev: (KIND_ORDER[ev[0]["kind"]], ev[0]["start"], ev[0]["end"]))
        return out

    def set_annotations(self, doc: Doc, matches: list[tuple[dict[str, Any], Value]]) -> None:
        exts = [ext for ext, _ in matches]
        doc._.extractions = exts
        _RESOLVED[doc] = (exts, [_snapshot(ext) for ext in exts], [value for _, value in matches])
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
