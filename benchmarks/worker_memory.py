"""Memory of a batch worker over a long stream of abstracts that keeps bringing new words.

Usage::

    python benchmarks/worker_memory.py [--abstracts 60000] [--every 5000] [--limit N | --no-limit]
        [--input ../shared/data/abstracts_pool.jsonl]

A worker's spaCy vocabulary keeps every string it has seen, and a run through PubMed never stops
meeting new ones (drug and gene names, misspellings, numbers). The real abstracts of ``--input``
are only a few thousand, so they are fed round and round, and from the second round on each comes
back altered the way new text differs from old: each word of six letters or more gets a random
three-letter tail with probability 0.1, and each number with a decimal point new decimals. Chunks of
500 go through :func:`extractor.batch.worker.process_chunk` in this process, taking the pipeline
from :func:`extractor.batch.worker.pipeline` before each chunk as the engines do (which renews it
once its vocabulary holds more than ``--limit`` strings, default
``extractor.nlp.pipeline.VOCAB_LIMIT``; ``--no-limit``: never). Prints, every ``--every``
abstracts, the strings in the vocabulary, the resident memory now and at its peak, and the CPU
milliseconds per abstract since the last line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "abstracts_pool.jsonl"
CHUNK = 500

_LONG_WORD = re.compile(r"\b[A-Za-z]{6,}\b")
_DECIMAL = re.compile(r"(?<=\d\.)\d+")


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), MB."""
    now = peak = 0.0
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return now, peak


def stream(texts: list[str], total: int, seed: int = 5) -> Iterator[str]:
    rng = random.Random(seed)

    def tail(m: re.Match[str]) -> str:
        if rng.random() >= 0.1:
            return m.group(0)
        return m.group(0) + "".join(rng.choices(string.ascii_lowercase, k=3))

    def decimals(m: re.Match[str]) -> str:
        return "".join(rng.choices(string.digits, k=len(m.group(0))))

    for n in range(total):
        text = texts[n % len(texts)]
        if n >= len(texts):
            text = _DECIMAL.sub(decimals, _LONG_WORD.sub(tail, text))
        yield text


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--abstracts", type=int, default=60_000)
    ap.add_argument("--every", type=int, default=5_000)
    limits = ap.add_mutually_exclusive_group()
    limits.add_argument("--limit", type=int, default=None, help="strings (default: VOCAB_LIMIT)")
    limits.add_argument("--no-limit", action="store_true", help="never renew the pipeline")
    args = ap.parse_args(argv)

    from extractor.batch import worker
    from extractor.batch.chunks import ChunkInput
    from extractor.nlp.pipeline import VOCAB_LIMIT
    from extractor.records import Abstract

    if not args.input.is_file():
        sys.exit(f"{args.input}: not found (this benchmark reads ../shared)")
    texts = [json.loads(line).get("text") or "" for line in args.input.open(encoding="utf-8") if line.strip()]
    limit = 10**12 if args.no_limit else (args.limit or VOCAB_LIMIT)
    print(f"{len(texts)} abstracts from {args.input.name}, fed {args.abstracts:,} times; "
          f"pipeline renewed past {'never' if args.no_limit else f'{limit:,} strings'}")
    print(f"{'abstracts':>10} {'strings':>10} {'RSS MB':>8} {'peak MB':>8} {'CPU ms/abstract':>16}")
    with tempfile.TemporaryDirectory(prefix="worker-memory-") as tmp:
        out = Path(tmp)
        (out / worker.PARTS_DIR).mkdir()
        batch: list[tuple[int, Abstract]] = []
        chunk_index = 0
        mark, mark_done = time.process_time(), 0

        def flush() -> None:
            nonlocal chunk_index
            chunk = ChunkInput(0, chunk_index, batch[0][0], len(batch), "stream", abstracts=list(batch))
            worker.process_chunk(worker.pipeline(None, vocab_limit=limit), chunk, out)
            (out / f"{worker.PARTS_DIR}/{chunk.name}.parquet").unlink()
            chunk_index += 1
            batch.clear()

        for done, text in enumerate(stream(texts, args.abstracts), start=1):
            batch.append((done - 1, Abstract(id=str(done - 1), text=text)))
            if len(batch) == CHUNK:
                flush()
            if done % args.every == 0 or done == args.abstracts:
                if batch:
                    flush()
                now, peak = rss_mb()
                strings = len(worker.pipeline(None, vocab_limit=10**12).vocab.strings)
                ms = (time.process_time() - mark) / (done - mark_done) * 1e3
                print(f"{done:>10,} {strings:>10,} {now:>8.0f} {peak:>8.0f} {ms:>16.2f}", flush=True)
                mark, mark_done = time.process_time(), done


if __name__ == "__main__":
    main()
