"""Trained components and the shipped model that holds their weights.

``extractor_sample_size_ranker`` (:mod:`.sample_size_ranker`) re-decides the headline sample size
among the rule candidates. Its weights are trained by ``extractor train`` (see ``training/``) and
shipped in ``extractor/models/<MODEL_NAME>-<MODEL_VERSION>/`` next to ``meta.json`` and
``BUILD.md`` (data, seeds, commands and scores of the build).

:func:`add_trained_components` puts the shipped components into a rules pipeline (before
``extractor_resolve``); :func:`extractor.nlp.load_pipeline` does this unless ``rules_only``.
Reading the weights happens once, at pipeline construction; extraction itself does no I/O.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spacy.language import Language

from extractor.nlp.trained import sample_size_ranker  # noqa: F401  (registers the factory)

MODEL_NAME = "extractor_trained"
MODEL_VERSION = "1.0.0"
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"

# (factory, sub-directory of the model) in pipeline order, all placed before extractor_resolve
TRAINED_PIPES: tuple[str, ...] = ("extractor_sample_size_ranker",)


def default_model_dir() -> Path:
    """Where the shipped model of this version lives (it may be absent in a fresh checkout)."""
    return MODELS_DIR / f"{MODEL_NAME}-{MODEL_VERSION}"


def read_meta(model_dir: Path) -> dict[str, Any]:
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError(f"{model_dir}/meta.json is not a JSON object")
    return meta


def add_trained_components(nlp: Language, model_dir: Path) -> Language:
    """Add the trained components found in ``model_dir`` before ``extractor_resolve``."""
    meta = read_meta(model_dir)
    model_id = f"{meta.get('name', MODEL_NAME)}-{meta.get('version', MODEL_VERSION)}"
    for factory in TRAINED_PIPES:
        sub = model_dir / factory
        if not sub.is_dir():
            continue
        if factory in nlp.pipe_names:
            nlp.remove_pipe(factory)
        before = "extractor_resolve" if "extractor_resolve" in nlp.pipe_names else None
        pipe = nlp.add_pipe(factory, before=before)
        pipe.from_disk(sub)  # type: ignore[attr-defined]
        pipe.cfg["model_id"] = model_id  # type: ignore[attr-defined]
    nlp.meta["name"] = MODEL_NAME
    nlp.meta["version"] = str(meta.get("version", MODEL_VERSION))
    nlp.meta["description"] = "Rule-based extraction with trained components (extractor)."
    return nlp
