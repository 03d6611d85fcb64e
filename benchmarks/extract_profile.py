"""Time of each stage of the extraction pipeline per abstract (tokenizer, every component, record).

Usage::

    python benchmarks/extract_profile.py [--set pool|prefiltered|pain] [--limit N] [--repeat 3]
        [--chunk 128] [--json]

Sets of abstracts:

* ``pool``: every abstract of ``../shared/data/abstracts_pool.jsonl`` (5,127; what
  ``benchmarks/extract_throughput.py`` measures);
* ``prefiltered``: those of them that pass the batch pre-filter
  (:class:`extractor.batch.prefilter.Prefilter`; what ``extractor run`` sends to the pipeline);
* ``pain``: the abstracts of ``../shared/painbench/pool.jsonl`` and ``train_pool.jsonl``
  (pain trials, number-dense).

Each chunk of ``--chunk`` abstracts is processed ``--repeat`` times; each stage's time is the sum
over chunks of its best time for the chunk, in CPU time of this process (``time.process_time``),
so that other work on a shared machine spoils little. "whole pipeline" is timed the same way
(``extract``: ``nlp.pipe`` and record building), next to the bare ``spacy.blank("en")`` tokenizer.
The stages run one after the other over a whole chunk, so their sum is lower than "whole
pipeline" when the components process one doc at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def load_set(name: str, limit: int | None) -> list[Any]:
    from extractor.records import Abstract

    if name == "pain":
        paths = [SHARED / "painbench" / "pool.jsonl", SHARED / "painbench" / "train_pool.jsonl"]
    else:
        paths = [SHARED / "data" / "abstracts_pool.jsonl"]
    out: list[Any] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    obj = json.loads(line)
                    out.append(Abstract.from_dict({"id": str(obj.get("id") or len(out)),
                                                   "text": obj.get("text") or ""}))
    if name == "prefiltered":
        from extractor.batch.prefilter import Prefilter

        pre = Prefilter()
        out = [a for a in out if pre.reason(a) is None]
    return out[:limit] if limit else out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=("pool", "prefiltered", "pain"), default="pool")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=128)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import spacy

    from extractor.nlp import doc_to_record, extract, load_pipeline

    abstracts = load_set(args.set, args.limit)
    n = len(abstracts)
    texts = [a.text for a in abstracts]
    nlp = load_pipeline()
    bare = spacy.blank("en")
    names = ["tokenizer", *nlp.pipe_names, "doc_to_record"]

    def staged(part: list[str]) -> dict[str, float]:
        times = dict.fromkeys(names, 0.0)
        t = time.process_time()
        docs = [nlp.make_doc(x) for x in part]
        times["tokenizer"] = time.process_time() - t
        for name, proc in nlp.pipeline:
            t = time.process_time()
            for doc in docs:
                proc(doc)
            times[name] = time.process_time() - t
        t = time.process_time()
        for doc in docs:
            doc_to_record(doc, "x")
        times["doc_to_record"] = time.process_time() - t
        return times

    def whole(part: list[Any]) -> float:
        t = time.process_time()
        for _ in extract(nlp, part):
            pass
        return time.process_time() - t

    def bare_pass(part: list[str]) -> float:
        t = time.process_time()
        for _ in bare.tokenizer.pipe(part):
            pass
        return time.process_time() - t

    staged(texts)  # warm-up
    whole(abstracts)
    bare_pass(texts)
    totals = dict.fromkeys(names, 0.0)
    whole_total = bare_total = 0.0
    for i in range(0, n, args.chunk):
        best = dict.fromkeys(names, float("inf"))
        best_whole = best_bare = float("inf")
        for _ in range(args.repeat):
            best_bare = min(best_bare, bare_pass(texts[i:i + args.chunk]))
            for k, v in staged(texts[i:i + args.chunk]).items():
                best[k] = min(best[k], v)
            best_whole = min(best_whole, whole(abstracts[i:i + args.chunk]))
        for k in names:
            totals[k] += best[k]
        whole_total += best_whole
        bare_total += best_bare
    ms = {k: round(v / n * 1000, 4) for k, v in totals.items()}
    result = {
        "set": args.set, "abstracts": n,
        "ms_per_abstract": ms,
        "sum_of_stages_ms": round(sum(totals.values()) / n * 1000, 4),
        "whole_pipeline_ms": round(whole_total / n * 1000, 4),
        "whole_pipeline_abstracts_per_s": round(n / whole_total, 1),
        "bare_tokenizer_abstracts_per_s": round(n / bare_total, 1),
        "ratio_to_bare": round(bare_total / whole_total, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"set {args.set}: {n} abstracts; ms per abstract (best of {args.repeat} per chunk)")
        for k in names:
            print(f"  {k:24s} {ms[k]:8.3f}")
        print(f"  {'sum of stages':24s} {result['sum_of_stages_ms']:8.3f}")
        print(f"  {'whole pipeline':24s} {result['whole_pipeline_ms']:8.3f}  "
              f"({result['whole_pipeline_abstracts_per_s']}/s; bare tokenizer "
              f"{result['bare_tokenizer_abstracts_per_s']}/s; ratio {result['ratio_to_bare']})")
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
