"""Headline sample-size accuracy on two third-party corpora (read from ``../shared``, never copied).

Usage::

    python benchmarks/extract_sample_size.py [--shared ../shared] [--limit N] [--json]

* **EBM-NLP** (``data/ebmnlp/train.jsonl``): crowd-annotated "Sample size" spans
  (``sample_size_spans``, strings). Crowd workers mark every count of participants (totals, arms,
  subgroups), not just the headline one.
* **PICO corpus** (``data/pico_corpus/train.jsonl``): ``total-participants`` entities.

The comparison, the same for both: an abstract is scored only when its gold spans hold at least
one number (digits or words, parsed with ``extractor.nlp.numbers``); the prediction is correct
when the predicted headline ``n`` **equals a number in a gold span** ("any"). A stricter variant
counts it correct only when it equals the **largest** gold number ("max": for EBM-NLP the
largest marked count is usually the total). ``coverage`` is the share of scored abstracts where a
sample size was predicted at all; abstracts without gold spans are not scored (the crowd often
leaves them unmarked) but the share of them with a prediction is shown.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def gold_numbers(spans: Iterable[str]) -> set[int]:
    from extractor.nlp.numbers import find_numbers

    out: set[int] = set()
    for span in spans:
        for n in find_numbers(str(span)):
            if n.is_int and not n.percent and n.value > 0:
                out.add(int(n.value))
    return out


def load_ebmnlp(path: Path, limit: int | None) -> list[tuple[str, str, set[int]]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            text = obj.get("text") or ""
            if not text:
                continue
            spans = obj.get("sample_size_spans") or []
            if isinstance(spans, str):
                spans = ast.literal_eval(spans)
            rows.append((f"ebm:{obj.get('pmid')}", text, gold_numbers(spans)))
            if limit and len(rows) >= limit:
                break
    return rows


def load_pico(path: Path, limit: int | None) -> list[tuple[str, str, set[int]]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            text = obj.get("text") or ""
            entities = obj.get("entities") or []
            if isinstance(entities, str):
                entities = ast.literal_eval(entities)
            spans = [e.get("text", "") for e in entities if e.get("label") == "total-participants"]
            rows.append((f"pico:{obj.get('pmid')}", text, gold_numbers(spans)))
            if limit and len(rows) >= limit:
                break
    return rows


def evaluate(rows: list[tuple[str, str, set[int]]], n_process: int) -> dict[str, Any]:
    from extractor.nlp import extract, load_pipeline
    from extractor.records import Abstract

    nlp = load_pipeline()
    predicted: dict[str, int | None] = {}
    abstracts = [Abstract(id=rid, text=text) for rid, text, _ in rows]
    for record in extract(nlp, abstracts, n_process=n_process, batch_size=128):
        predicted[record.id] = None if record.sample_size is None else record.sample_size.n
    scored = [(rid, gold) for rid, _, gold in rows if gold]
    unscored = [rid for rid, _, gold in rows if not gold]
    any_ok = sum(1 for rid, gold in scored if predicted[rid] in gold)
    max_ok = sum(1 for rid, gold in scored if predicted[rid] == max(gold))
    covered = sum(1 for rid, _ in scored if predicted[rid] is not None)
    n = len(scored)
    return {
        "abstracts": len(rows),
        "scored": n,
        "accuracy_any": round(any_ok / n, 4) if n else 0.0,
        "accuracy_max": round(max_ok / n, 4) if n else 0.0,
        "coverage": round(covered / n, 4) if n else 0.0,
        "precision_when_predicted_any": round(any_ok / covered, 4) if covered else 0.0,
        "unscored_with_prediction": round(sum(1 for r in unscored if predicted[r] is not None)
                                          / len(unscored), 4) if unscored else 0.0,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--n-process", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    ebm_path = args.shared / "data" / "ebmnlp" / "train.jsonl"
    pico_path = args.shared / "data" / "pico_corpus" / "train.jsonl"
    if not ebm_path.exists() or not pico_path.exists():
        sys.exit(f"{args.shared}: EBM-NLP or PICO corpus not found")
    result = {
        "ebmnlp": evaluate(load_ebmnlp(ebm_path, args.limit), args.n_process),
        "pico": evaluate(load_pico(pico_path, args.limit), args.n_process),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, r in result.items():
            print(f"{name:7s} scored {r['scored']:5d}/{r['abstracts']:5d}  accuracy(any) "
                  f"{r['accuracy_any']:.3f}  "
                  f"accuracy(max) {r['accuracy_max']:.3f}  coverage {r['coverage']:.3f}  "
                  f"precision {r['precision_when_predicted_any']:.3f}")
    return result


if __name__ == "__main__":
    main()
