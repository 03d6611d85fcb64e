"""The shipped trained model must match the rules it reads (no ../shared needed).

The sample-size ranker scores the rules' candidates by their features. If a rule change alters
those candidates on the repository's own corpus, the shipped weights were fitted on other inputs:
retrain with `extractor train` (which records the new fingerprint) in the same change.
"""

from __future__ import annotations

import json
from pathlib import Path

from extractor.training.workflow import candidates_fingerprint

MODEL = Path(__file__).resolve().parents[2] / "extractor" / "models" / "extractor_trained-1.0.0"


def test_shipped_model_was_fitted_on_the_current_candidates() -> None:
    meta = json.loads((MODEL / "meta.json").read_text(encoding="utf-8"))
    recorded = meta["data"]["candidates_sha1"]
    assert candidates_fingerprint() == recorded, (
        "the rules' sample-size candidates changed since the shipped ranker was trained: "
        "re-run `extractor train` and commit the new artifact"
    )


def test_shipped_model_is_small_and_loads_without_network() -> None:
    size = sum(p.stat().st_size for p in MODEL.rglob("*") if p.is_file())
    assert size < 25 * 1024 * 1024
    from extractor.nlp import load_pipeline

    nlp = load_pipeline()
    assert "extractor_sample_size_ranker" in nlp.pipe_names
