"""Scoring: span-group scorers for ``spacy evaluate`` and the painbench table.

``score_painbench(gold, pred)`` implements the painbench scoring rules as documented in
``../shared/painbench/GUIDELINE.md`` ("Scoring"): sample-size accuracy (null = null is
correct), micro P/R/F1 of scale sets, greedy one-to-one matching of scores (value, statistic
family, spread and its values, days within 2 % or half a day, or either side null), a looser
value-only score match, proportions (events and total, else percent, else the one count given),
p-value multisets on (op, value), and arm sizes as a multiset of ``n``. Nothing here needs
``../shared`` at import or run time.

``score_diagnostics(gold, pred)`` adds two figures painbench does not score: among the scores the
greedy matching pairs, the share whose ``days`` agree (where the gold ``days`` is not null; a
predicted null counts as wrong) and the share whose ``n`` is equal (where the gold ``n`` is not
null).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import spacy
from spacy.scorer import Scorer as SpacyScorer
from spacy.tokens import Doc
from spacy.training import Example

FIELDS: tuple[str, ...] = ("scales", "scores", "scores_value", "proportions", "p_values", "arm_sizes")

_FAMILY = {"mean": "mean", "median": "median", "mean_change": "change", "median_change": "change",
           "mean_difference": "difference"}
_OPS = {"≤": "<=", "≥": ">=", "==": "="}


# --------------------------------------------------------------------------------------------
# spaCy scorers


@spacy.registry.scorers("extractor.spans_scorer.v1")
def make_spans_scorer(span_key: str) -> Callable[..., dict[str, Any]]:
    """P/R/F of the spans in ``doc.spans[span_key]`` (labelled, overlaps allowed)."""

    def score(examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        def getter(doc: Doc, attr: str) -> Any:
            return doc.spans.get(span_key, [])

        return SpacyScorer.score_spans(
            examples, f"spans_{span_key}", getter=getter,
            has_annotation=lambda doc: span_key in doc.spans, labeled=True, allow_overlap=True)

    return score


@spacy.registry.scorers("extractor.extractions_scorer.v1")
def make_extractions_scorer() -> Callable[..., dict[str, Any]]:
    """The painbench metrics of ``doc._.extractions`` against the reference docs' extractions."""

    def score(examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        gold: dict[str, dict[str, Any]] = {}
        pred: dict[str, dict[str, Any]] = {}
        for i, eg in enumerate(examples):
            gold[str(i)] = extractions_to_painbench(str(i), eg.reference._.extractions or [])
            pred[str(i)] = extractions_to_painbench(str(i), eg.predicted._.extractions or [])
        result = score_painbench(gold, pred)
        out: dict[str, Any] = {"extractions_sample_size_acc": result["sample_size_accuracy"]}
        for name in FIELDS:
            for k in ("precision", "recall", "f1"):
                out[f"extractions_{name}_{k[0] if k != 'f1' else 'f'}"] = result[name][k]
        return out

    return score


def extractions_to_painbench(record_id: str, extractions: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Group ``doc._.extractions`` dicts into one painbench-shaped record."""
    rec: dict[str, Any] = {"id": record_id, "sample_size": None, "arm_sizes": [], "scales": [],
                           "scores": [], "proportions": [], "p_values": []}
    scales: set[str] = set()
    for e in extractions:
        kind = e.get("kind")
        if kind == "sample_size":
            rec["sample_size"] = e.get("n")
        elif kind == "arm_size":
            rec["arm_sizes"].append(e)
        elif kind == "scale":
            scales.add(str(e.get("scale")))
        elif kind == "score":
            rec["scores"].append(e)
        elif kind == "proportion":
            rec["proportions"].append(e)
        elif kind == "p_value":
            rec["p_values"].append(e)
    rec["scales"] = sorted(scales)
    return rec


# --------------------------------------------------------------------------------------------
# painbench


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _equal(a: Any, b: Any) -> bool:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return x is None and y is None
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


def _equal_lists(a: Any, b: Any) -> bool:
    xs, ys = list(a or []), list(b or [])
    return len(xs) == len(ys) and all(_equal(x, y) for x, y in zip(xs, ys, strict=True))


def _days_agree(a: Any, b: Any) -> bool:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return True
    return abs(x - y) <= max(0.5, 0.02 * max(abs(x), abs(y)))


def score_matches(gold: Mapping[str, Any], pred: Mapping[str, Any]) -> bool:
    return (_equal(gold.get("value"), pred.get("value"))
            and _FAMILY.get(str(gold.get("stat")), "other") == _FAMILY.get(str(pred.get("stat")), "other")
            and (gold.get("spread") or None) == (pred.get("spread") or None)
            and _equal_lists(gold.get("spread_values"), pred.get("spread_values"))
            and _days_agree(gold.get("days"), pred.get("days")))


def score_value_matches(gold: Mapping[str, Any], pred: Mapping[str, Any]) -> bool:
    return _equal(gold.get("value"), pred.get("value"))


def proportion_matches(gold: Mapping[str, Any], pred: Mapping[str, Any]) -> bool:
    events, total = gold.get("events"), gold.get("total")
    if events is not None and total is not None and _equal(events, pred.get("events")) \
            and _equal(total, pred.get("total")):
        return True
    if gold.get("percent") is not None:
        return _equal(gold.get("percent"), pred.get("percent"))
    if events is not None and total is None:
        return _equal(events, pred.get("events"))
    if total is not None and events is None:
        return _equal(total, pred.get("total"))
    return False


def p_value_matches(gold: Mapping[str, Any], pred: Mapping[str, Any]) -> bool:
    g_op, p_op = gold.get("op"), pred.get("op")
    return (_OPS.get(str(g_op), g_op) == _OPS.get(str(p_op), p_op)
            and _equal(gold.get("value"), pred.get("value")))


def greedy_match(gold: list[Any], pred: list[Any],
                 match: Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
                 ) -> tuple[int, list[Any], list[Any]]:
    """Match each gold item, in order, to the first unused predicted item it matches."""
    used = [False] * len(pred)
    missed: list[Any] = []
    for g in gold:
        for i, p in enumerate(pred):
            if not used[i] and isinstance(p, Mapping) and match(g, p):
                used[i] = True
                break
        else:
            missed.append(g)
    extra = [p for i, p in enumerate(pred) if not used[i]]
    return len(gold) - len(missed), missed, extra


def matched_pairs(gold: list[Any], pred: list[Any],
                  match: Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
                  ) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """The (gold, predicted) pairs :func:`greedy_match` makes, in gold order."""
    used = [False] * len(pred)
    pairs: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    for g in gold:
        for i, p in enumerate(pred):
            if not used[i] and isinstance(p, Mapping) and match(g, p):
                used[i] = True
                pairs.append((g, p))
                break
    return pairs


def _days_correct(gold: Mapping[str, Any], pred: Mapping[str, Any]) -> bool:
    return _num(pred.get("days")) is not None and _days_agree(gold.get("days"), pred.get("days"))


def _n_correct(gold: Mapping[str, Any], pred: Mapping[str, Any]) -> bool:
    return _equal(gold.get("n"), pred.get("n"))


def score_diagnostics(gold: Mapping[str, Mapping[str, Any]],
                      pred: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Days and n accuracy among the matched scores (see the module doc): ``{"days": {"correct",
    "total", "accuracy"}, "n": {...}}``; ``accuracy`` is None when ``total`` is 0."""
    tallies = {"days": [0, 0], "n": [0, 0]}
    checks = (("days", _days_correct), ("n", _n_correct))
    for doc_id, g in gold.items():
        p = pred.get(doc_id) or {}
        for g_score, p_score in matched_pairs(list(g.get("scores") or []), list(p.get("scores") or []),
                                              score_matches):
            for name, correct in checks:
                if _num(g_score.get(name)) is None:
                    continue
                tallies[name][1] += 1
                tallies[name][0] += int(correct(g_score, p_score))
    return {name: {"correct": ok, "total": total,
                   "accuracy": round(ok / total, 4) if total else None}
            for name, (ok, total) in tallies.items()}


def format_diagnostics(diagnostics: Mapping[str, Mapping[str, Any]], markdown: bool = False) -> str:
    """The days / n accuracy lines printed under the painbench table."""
    lines = []
    for name, label in (("days", "days"), ("n", "n")):
        d = diagnostics[name]
        acc = "-" if d["accuracy"] is None else f"{d['accuracy']:.3f}"
        text = f"{label} accuracy (matched scores, gold not null): {acc} ({d['correct']}/{d['total']})"
        lines.append(f"- {text}" if markdown else text)
    return "\n".join(lines)


class Counts:
    """Micro-averaged precision / recall / F1 counts."""

    def __init__(self) -> None:
        self.tp = self.gold = self.pred = 0

    def add(self, tp: int, gold: int, pred: int) -> None:
        self.tp += tp
        self.gold += gold
        self.pred += pred

    def result(self) -> dict[str, Any]:
        precision = self.tp / self.pred if self.pred else (0.0 if self.gold else 1.0)
        recall = self.tp / self.gold if self.gold else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                "tp": self.tp, "gold": self.gold, "pred": self.pred}


def score_painbench(gold: Mapping[str, Mapping[str, Any]], pred: Mapping[str, Mapping[str, Any]],
                    errors: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """Score predicted records against gold records (both keyed by id); see the module doc."""
    counts = {name: Counts() for name in FIELDS}
    correct = 0
    for doc_id, g in gold.items():
        p = pred.get(doc_id) or {}
        if _equal(g.get("sample_size"), p.get("sample_size")):
            correct += 1
        elif errors is not None:
            errors.setdefault("sample_size", []).append((doc_id, g.get("sample_size"), p.get("sample_size")))
        gs, ps = set(g.get("scales") or []), set(p.get("scales") or [])
        counts["scales"].add(len(gs & ps), len(gs), len(ps))
        if errors is not None and gs != ps:
            errors.setdefault("scales", []).append((doc_id, sorted(gs), sorted(ps)))
        for name, key, match in (("scores", "scores", score_matches),
                                 ("scores_value", "scores", score_value_matches),
                                 ("proportions", "proportions", proportion_matches),
                                 ("p_values", "p_values", p_value_matches)):
            gl, pl = list(g.get(key) or []), list(p.get(key) or [])
            tp, missed, extra = greedy_match(gl, pl, match)
            counts[name].add(tp, len(gl), len(pl))
            if errors is not None and (missed or extra):
                errors.setdefault(name, []).append((doc_id, missed, extra))
        g_arms = Counter(_num(a.get("n")) for a in g.get("arm_sizes") or [] if isinstance(a, Mapping))
        p_arms = Counter(_num(a.get("n")) for a in p.get("arm_sizes") or [] if isinstance(a, Mapping))
        counts["arm_sizes"].add(sum((g_arms & p_arms).values()), sum(g_arms.values()), sum(p_arms.values()))
        if errors is not None and g_arms != p_arms:
            errors.setdefault("arm_sizes", []).append((doc_id, dict(g_arms), dict(p_arms)))
    result: dict[str, Any] = {
        "abstracts": len(gold),
        "predicted": sum(1 for k in gold if k in pred),
        "sample_size_accuracy": round(correct / len(gold), 4) if gold else 0.0,
    }
    result.update({name: c.result() for name, c in counts.items()})
    return result


def format_table(result: Mapping[str, Any]) -> str:
    """The painbench table as text."""
    lines = [f"abstracts: {result['abstracts']} (predicted {result['predicted']})",
             f"sample_size accuracy: {result['sample_size_accuracy']:.3f}",
             f"{'field':<14}{'P':>8}{'R':>8}{'F1':>8}{'gold':>7}{'pred':>7}"]
    for name in FIELDS:
        d = result[name]
        lines.append(f"{name:<14}{d['precision']:>8.3f}{d['recall']:>8.3f}{d['f1']:>8.3f}"
                     f"{d['gold']:>7}{d['pred']:>7}")
    return "\n".join(lines)


def format_markdown(result: Mapping[str, Any]) -> str:
    """The painbench table as a Markdown table (for the README)."""
    lines = [f"sample-size accuracy **{result['sample_size_accuracy']:.3f}** "
             f"({result['abstracts']} abstracts)", "",
             "| field | P | R | F1 | gold | pred |", "|---|---:|---:|---:|---:|---:|"]
    for name in FIELDS:
        d = result[name]
        lines.append(f"| {name} | {d['precision']:.3f} | {d['recall']:.3f} | {d['f1']:.3f} "
                     f"| {d['gold']} | {d['pred']} |")
    return "\n".join(lines)
