"""Evaluation abstracts never reach training: painbench pool (dev + hidden test) and held-out splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.training.corpus import Entry, LeakageGuard, load_corpus, partition, split_key

REPO = Path(__file__).resolve().parents[2]
TEXT = ("Forty-two consecutive patients with painful spinal metastases were treated with cryoablation "
        "between 2016 and 2021 and pain fell from 7.1 to 2.9 on the numeric rating scale at four weeks.")


def test_guard_matches_id_pmid_alias_and_same_text_under_another_id() -> None:
    guard = LeakageGuard()
    guard.add("eval", "ebm:123", TEXT)
    assert guard.reason("ebm:123", "x") is not None
    assert guard.reason("pico:123", "unrelated") is not None  # the same PMID in another corpus
    tokenised = TEXT.replace(",", " ,").replace(".", " .").upper()
    assert "same text as ebm:123" in (guard.reason("ei:PMC9", tokenised) or "")
    assert guard.reason("ei:PMC9", "Sixty women with dysmenorrhoea received heat patches.") is None


def test_partition_keeps_held_out_texts_out_of_training() -> None:
    dev = Entry("pico:5", TEXT, "pico_corpus", "dev")
    train_copy = Entry("ei:PMC7", TEXT + " Extra words.", "painbench-silver", "train")
    other = Entry("ebm:9", "Eighty women were randomized to methadone or pethidine after caesarean section "
                           "and pain was measured on a visual analogue scale.", "ebmnlp", "train")
    data = partition([dev, train_copy, other], LeakageGuard())
    assert [e.id for e in data.train] == ["ebm:9"] and [e.id for e in data.dev] == ["pico:5"]
    assert data.excluded[0][0] == "ei:PMC7" and "pico:5" in data.excluded[0][1]


def _pool(shared: Path) -> dict[str, str]:
    with (shared / "painbench" / "pool.jsonl").open(encoding="utf-8") as fh:
        return {str(o["id"]): str(o["text"]) for o in map(json.loads, fh)}


@pytest.mark.shared
def test_no_pool_abstract_in_any_training_entry(shared: Path) -> None:
    pool = _pool(shared)
    pool_keys = {split_key(i) for i in pool}
    guard = LeakageGuard.from_shared(shared)
    assert len(guard) == len(pool) == 209
    data = partition(load_corpus([REPO / "corpus"], shared), guard)
    trained_on = [*data.train, *data.tune]
    assert len(trained_on) > 1500
    for e in trained_on:
        assert e.id not in pool and e.key not in pool_keys, e.id
        assert guard.reason(e.id, e.text) is None, e.id
    # the overlaps the benchmark names: 37 EBM-NLP and 19 PICO training abstracts are pool abstracts
    with (shared / "data" / "ebmnlp" / "train.jsonl").open(encoding="utf-8") as fh:
        ebm_in_pool = {"ebm:" + str(json.loads(line)["pmid"]) for line in fh} & set(pool)
    with (shared / "data" / "pico_corpus" / "train.jsonl").open(encoding="utf-8") as fh:
        pico_in_pool = {"pico:" + str(json.loads(line)["pmid"]) for line in fh} & set(pool)
    assert (len(ebm_in_pool), len(pico_in_pool)) == (37, 19)
    every_id = {e.id for e in load_corpus([REPO / "corpus"], shared)}
    assert not (ebm_in_pool | pico_in_pool) & every_id


@pytest.mark.shared
def test_a_pool_abstract_under_another_id_is_excluded(shared: Path, tmp_path: Path) -> None:
    pool_id, pool_text = next(iter(_pool(shared).items()))
    disguised = " ".join(pool_text.replace(".", " . ").split())  # EBM-NLP-style tokenised copy
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "review:42", "text": disguised, "origin": "review",
                                  "split": "train"}) + "\n", encoding="utf-8")
    data = partition(load_corpus([corpus], shared), LeakageGuard.from_shared(shared))
    assert not data.train and data.excluded[0][0] == "review:42" and pool_id in data.excluded[0][1]
