"""What the batch pre-filter costs in recall, and what it saves in time.

For each corpus, runs the extraction pipeline on EVERY abstract (as ``--no-prefilter`` would)
and counts the values found in the abstracts the default pre-filter skips, by kind. The
pain-relevant kinds are ``score``, ``scale`` and ``proportion`` (the guideline's pain outcomes);
``sample_size``, ``arm_size`` and ``p_value`` are found in any trial abstract, pain or not. For
painbench it also counts the hand-annotated gold values (``dev.jsonl``, adjudicated) and silver
values (``train_silver.jsonl``) in skipped abstracts.

    .venv/bin/python benchmarks/batch_prefilter.py [--shared ../shared]

Reads ``../shared`` (third-party, read-only); prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

from extractor.batch.prefilter import Prefilter
from extractor.nlp import extract, load_pipeline
from extractor.records import KINDS, Abstract

REPO = Path(__file__).resolve().parents[1]
PAIN_KINDS = ("score", "scale", "proportion")


def load(path: Path) -> list[Abstract]:
    with path.open(encoding="utf-8") as fh:
        return [Abstract.from_dict(json.loads(line)) for line in fh if line.strip()]


def gold_counts(path: Path, dropped: set[str]) -> tuple[Counter[str], Counter[str]]:
    """Gold values by kind: (all, in dropped abstracts)."""
    total: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            kinds = Counter({
                "sample_size": int(rec.get("sample_size") is not None),
                "arm_size": len(rec.get("arm_sizes") or ()),
                "scale": len(rec.get("scales") or ()),
                "score": len(rec.get("scores") or ()),
                "proportion": len(rec.get("proportions") or ()),
                "p_value": len(rec.get("p_values") or ()),
            })
            total.update(kinds)
            if rec["id"] in dropped:
                lost.update(kinds)
    return total, lost


def fmt(lost: Counter[str], total: Counter[str], kinds: tuple[str, ...]) -> str:
    return ", ".join(f"{k} {lost[k]}/{total[k]}" for k in kinds if total[k] or lost[k])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("EXTRACTOR_SHARED", REPO.parent / "shared")))
    args = parser.parse_args()
    shared: Path = args.shared
    nlp = load_pipeline()
    pre = Prefilter()
    corpora = {
        "painbench/pool.jsonl": shared / "painbench" / "pool.jsonl",
        "painbench/train_pool.jsonl": shared / "painbench" / "train_pool.jsonl",
        "data/abstracts_pool.jsonl": shared / "data" / "abstracts_pool.jsonl",
    }
    print("| corpus | abstracts | pass | skipped (reasons) | extractor values lost (pain kinds) | "
          "extractor values lost (other kinds) | time: pipeline on all / pre-filter + pipeline on passed |")
    print("|---|---|---|---|---|---|---|")
    dropped_ids: dict[str, set[str]] = {}
    for name, path in corpora.items():
        abstracts = load(path)
        reasons = {a.id: pre.reason(a) for a in abstracts}
        t0 = time.perf_counter()
        for a in abstracts:
            pre.reason(a)
        t_pre = time.perf_counter() - t0
        total: Counter[str] = Counter()
        lost: Counter[str] = Counter()
        t_pass = 0.0
        t0 = time.perf_counter()
        for a, record in zip(abstracts, extract(nlp, abstracts), strict=True):
            kinds = Counter(v.kind for v in record.values())
            total.update(kinds)
            if reasons[a.id] is not None:
                lost.update(kinds)
        t_all = time.perf_counter() - t0
        passed = [a for a in abstracts if reasons[a.id] is None]
        t0 = time.perf_counter()
        for _ in extract(nlp, passed):
            pass
        t_pass = time.perf_counter() - t0 + t_pre
        why = Counter(r for r in reasons.values() if r is not None)
        dropped_ids[name] = {i for i, r in reasons.items() if r is not None}
        print(f"| {name} | {len(abstracts):,} | {len(passed):,} ({len(passed) / len(abstracts):.1%}) | "
              f"{sum(why.values()):,} ({', '.join(f'{k} {v}' for k, v in why.most_common()) or '–'}) | "
              f"{fmt(lost, total, PAIN_KINDS) or '0'} | "
              f"{fmt(lost, total, tuple(k for k in KINDS if k not in PAIN_KINDS)) or '0'} | "
              f"{t_all:.1f} s / {t_pass:.1f} s |")
    print()
    for gold_name, pool_name in (("painbench/dev.jsonl (gold)", "painbench/pool.jsonl"),
                                 ("painbench/train_silver.jsonl (silver)", "painbench/train_pool.jsonl")):
        path = shared / gold_name.split(" ")[0]
        total, lost = gold_counts(path, dropped_ids[pool_name])
        print(f"{gold_name}: annotated values in skipped abstracts: "
              f"pain kinds {fmt(lost, total, PAIN_KINDS)}; "
              f"other kinds {fmt(lost, total, ('sample_size', 'arm_size', 'p_value'))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
