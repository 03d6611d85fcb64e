"""The worker's pipeline: renewed when its vocabulary fills up, with the same partitions."""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from extractor.batch import worker
from extractor.batch.chunks import ChunkInput
from extractor.records import Abstract


def _abstract(rng: random.Random, n: int) -> Abstract:
    """A pain-trial abstract with about thirty words and numbers no other abstract has."""
    def word() -> str:
        return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(6, 11)))

    drug = word()
    filler = " ".join(word() for _ in range(24))
    text = (f"{drug.capitalize()} for knee pain: a randomised trial. We randomised {rng.randint(30, 400)} "
            f"patients to {drug} (n = {rng.randint(15, 200)}) or placebo. Pain on the VAS fell from "
            f"{rng.randint(50, 90)}.{rng.randint(0, 99)} ± {rng.randint(5, 25)}.{rng.randint(0, 99)} to "
            f"{rng.randint(10, 49)}.{rng.randint(0, 99)} at {rng.randint(2, 52)} weeks "
            f"(p = 0.0{rng.randint(1, 4)}). "
            f"{filler.capitalize()}.")
    return Abstract(id=f"r{n}", text=text)


def _chunks(n_chunks: int, per_chunk: int) -> list[ChunkInput]:
    rng = random.Random(11)
    chunks = []
    for c in range(n_chunks):
        first = c * per_chunk
        items = [(first + i, _abstract(rng, first + i)) for i in range(per_chunk)]
        chunks.append(ChunkInput(0, c, first, per_chunk, "in.jsonl", abstracts=items))
    return chunks


def test_pipeline_is_renewed_when_its_vocabulary_fills(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    chunks = _chunks(8, 25)
    for out in ("bounded", "one"):
        (tmp_path / out / worker.PARTS_DIR).mkdir(parents=True)
    monkeypatch.setattr(worker, "_PIPELINES", {})
    base = len(worker.pipeline(None).vocab.strings)
    limit = base + 1500  # each chunk brings ~25 × 30 new strings: renewed every other chunk or so
    sizes = []
    for chunk in chunks:
        nlp = worker.pipeline(None, vocab_limit=limit)
        worker.process_chunk(nlp, chunk, tmp_path / "bounded")
        sizes.append(len(nlp.vocab.strings))
    del nlp
    renewals = sum(after < before for before, after in zip(sizes, sizes[1:], strict=False))
    assert renewals >= 2, sizes
    # never more than the limit plus one chunk's new words
    assert max(sizes) < limit + max(b - a for a, b in zip([base, *sizes], sizes, strict=False) if b > a) + 1

    # a pipeline that is never renewed writes the same partitions
    monkeypatch.setattr(worker, "_PIPELINES", {})
    for chunk in chunks:
        worker.process_chunk(worker.pipeline(None, vocab_limit=10**9), chunk, tmp_path / "one")
    grown = len(worker.pipeline(None, vocab_limit=10**9).vocab.strings)
    assert grown > limit + 1500  # the words of all chunks stayed
    for chunk in chunks:
        name = f"{worker.PARTS_DIR}/{chunk.name}.parquet"
        bounded = pq.read_table(tmp_path / "bounded" / name)
        assert bounded.num_rows > chunk.n_items  # values were extracted
        assert bounded.equals(pq.read_table(tmp_path / "one" / name))


def test_a_chunk_runs_with_the_pipeline_frozen_and_a_full_one_is_still_freed(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The collector does not walk the pipeline during a chunk (``extractor.heap.quiet_gc``), its
    settings come back after the chunk, and a pipeline dropped for a new one is freed at once."""
    import gc
    import weakref

    from extractor.heap import YOUNG_THRESHOLD

    (tmp_path / worker.PARTS_DIR).mkdir()
    seen: list[tuple[int, int]] = []
    real = worker._extract_all

    def spy(*args: Any) -> Any:
        seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))
        return real(*args)

    monkeypatch.setattr(worker, "_extract_all", spy)
    monkeypatch.setattr(worker, "_PIPELINES", {})
    before = gc.get_threshold()
    first = worker.pipeline(None)
    limit = len(first.vocab.strings) + 10
    ref = weakref.ref(first)
    chunk = _chunks(1, 10)[0]
    worker.process_chunk(first, chunk, tmp_path)
    del first
    frozen, young = seen[0]
    assert frozen > 50_000  # the pipeline's objects, and those of the test run
    assert young == max(YOUNG_THRESHOLD, before[0])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    renewed = worker.pipeline(None, vocab_limit=limit)  # full: loaded anew, the old one collected
    assert ref() is None
    assert renewed is not None
