"""Fixtures for the training tests: a tiny corpus made from the project's own written abstracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.language import Language

from extractor.nlp import build_pipeline

WRITTEN = Path(__file__).resolve().parents[2] / "corpus" / "written" / "abstracts.jsonl"


def written_entries() -> list[dict[str, object]]:
    with WRITTEN.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture()
def tiny_corpus(tmp_path: Path) -> Path:
    """Ten written abstracts: seven to train on, one to tune on, two held out."""
    entries = written_entries()[:10]
    splits = ["train"] * 7 + ["tune"] + ["dev"] * 2
    path = tmp_path / "corpus" / "tiny.jsonl"
    path.parent.mkdir()
    with path.open("w", encoding="utf-8") as fh:
        for entry, split in zip(entries, splits, strict=True):
            fh.write(json.dumps({**entry, "split": split}, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="session")
def rules_nlp() -> Language:
    return build_pipeline()
