"""Extraction throughput and peak memory, side by side with a bare ``spacy.blank("en")`` tokenizer.

Usage::

    python benchmarks/extract_throughput.py [--input ../shared/data/abstracts_pool.jsonl]
        [--limit N] [--repeat 3] [--n-process 1] [--json]

Both passes run in this process over the same texts. The bare pass is ``spacy.blank("en")``
tokenising every text (``nlp.tokenizer.pipe``); the extraction pass is the full rules pipeline
(``extractor.nlp.extract``: tokenizer, components and record building), after one warm-up pass
each (so both tokenizers have a warm cache).

Timing is made fair on a machine shared with other work: the texts are cut into chunks of
``--chunk`` abstracts, each chunk is timed with the bare tokenizer and then with the pipeline
right after it, ``--repeat`` times, and each side's time is the sum over chunks of its best time
for the chunk (a burst of load elsewhere then spoils neither side's figure for long). With
``--n-process`` > 1 whole passes are timed instead (worker start-up would dominate chunks).
Peak memory is the process's maximum resident set size (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "abstracts_pool.jsonl"


def load_abstracts(path: Path, limit: int | None) -> list[Any]:
    from extractor.records import Abstract

    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            record = {"id": str(obj.get("id") or len(out)), "text": obj.get("text") or ""}
            out.append(Abstract.from_dict(record))
            if limit and len(out) >= limit:
                break
    return out


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0 / 1024.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--limit", type=int, default=None, help="use the first N abstracts only")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n-process", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--chunk", type=int, default=256, help="abstracts per timed chunk")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if not args.input.exists():
        sys.exit(f"{args.input}: not found (the benchmark reads ../shared/data/abstracts_pool.jsonl)")

    import spacy

    from extractor.nlp import extract, load_pipeline

    abstracts = load_abstracts(args.input, args.limit)
    texts = [a.text for a in abstracts]
    n = len(texts)
    rss_start = peak_rss_mb()

    bare = spacy.blank("en")
    nlp = load_pipeline()

    def bare_pass(part: list[str]) -> float:
        t = time.perf_counter()
        for _ in bare.tokenizer.pipe(part, batch_size=args.batch_size):
            pass
        return time.perf_counter() - t

    counts: dict[str, int] = {}

    def extract_pass(part: list[Any], count: bool = False) -> float:
        t = time.perf_counter()
        for record in extract(nlp, part, n_process=args.n_process, batch_size=args.batch_size):
            if count:
                for value in record.values():
                    counts[value.kind] = counts.get(value.kind, 0) + 1
        return time.perf_counter() - t

    bare_pass(texts)
    extract_pass(abstracts, count=True)  # warm-up (tokenizer caches, regex caches) and counts
    size = n if args.n_process > 1 else max(1, args.chunk)
    bare_total = extract_total = 0.0
    for i in range(0, n, size):
        bare_best = extract_best = float("inf")
        for _ in range(args.repeat):
            bare_best = min(bare_best, bare_pass(texts[i:i + size]))
            extract_best = min(extract_best, extract_pass(abstracts[i:i + size]))
        bare_total += bare_best
        extract_total += extract_best
    bare_times, extract_times = [bare_total], [extract_total]
    bare_rate = n / min(bare_times)
    extract_rate = n / min(extract_times)
    per_process = extract_rate / max(1, args.n_process)
    result = {
        "abstracts": n,
        "n_process": args.n_process,
        "bare_tokenizer_abstracts_per_s": round(bare_rate, 1),
        "extract_abstracts_per_s": round(extract_rate, 1),
        "extract_abstracts_per_s_per_process": round(per_process, 1),
        "ratio_extract_to_bare": round(per_process / bare_rate, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_pipelines_mb": round(rss_start, 1),
        "values": counts,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"abstracts:                 {n}")
        print(f"bare spacy.blank tokenizer: {bare_rate:9.1f} abstracts/s")
        print(f"extraction pipeline:        {extract_rate:9.1f} abstracts/s "
              f"({per_process:.1f} per process, n_process={args.n_process})")
        print(f"ratio (per process / bare): {per_process / bare_rate:9.3f}   (target >= 0.333)")
        print(f"peak RSS:                   {result['peak_rss_mb']:9.1f} MB")
        print(f"values extracted:           {counts}")
    return result


if __name__ == "__main__":
    main()
