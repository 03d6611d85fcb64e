"""The days / n diagnostics printed under the painbench table by ``extractor evaluate``."""

from __future__ import annotations

from typing import Any

from extractor.nlp.scorer import format_diagnostics, score_diagnostics, score_painbench


def score(value: float, days: float | None = None, n: int | None = None) -> dict[str, Any]:
    return {"value": value, "stat": "mean", "spread": "sd", "spread_values": [1.0], "days": days, "n": n}


def record(*scores: dict[str, Any]) -> dict[str, Any]:
    return {"id": "a", "scores": list(scores)}


def test_days_accuracy_counts_matched_scores_whose_gold_has_days() -> None:
    gold = {"a": record(score(6.0, days=0), score(3.0, days=28), score(2.0, days=84), score(1.0),
                        score(9.0, days=7))}
    pred = {"a": record(score(6.0, days=0.2), score(3.0), score(2.0, days=42), score(1.0, days=7))}
    diag = score_diagnostics(gold, pred)
    # 6.0: within half a day; 3.0: predicted null is wrong; 2.0: does not match at all (days
    # disagree), so it is not counted; 1.0: gold null, not counted; 9.0: not predicted
    assert diag["days"] == {"correct": 1, "total": 2, "accuracy": 0.5}
    assert score_painbench(gold, pred)["scores"]["tp"] == 3


def test_n_accuracy_counts_matched_scores_whose_gold_has_n() -> None:
    gold = {"a": record(score(6.0, n=40), score(3.0, n=40), score(2.0))}
    pred = {"a": record(score(6.0, n=40), score(3.0, n=38), score(2.0, n=12))}
    assert score_diagnostics(gold, pred)["n"] == {"correct": 1, "total": 2, "accuracy": 0.5}


def test_no_gold_values_give_no_accuracy() -> None:
    diag = score_diagnostics({"a": record(score(6.0))}, {})
    assert diag["days"]["accuracy"] is None and diag["n"]["total"] == 0
    text = format_diagnostics(diag)
    assert "days accuracy" in text and "- (0/0)" in text
