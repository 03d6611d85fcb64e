"""Build, load and run the extraction pipeline. No file I/O beyond ``spacy.load`` of a model dir.

``load_pipeline()`` builds the rules pipeline on ``spacy.blank("en")`` with the clinical tokenizer;
``load_pipeline(path)`` loads a pipeline saved with ``nlp.to_disk`` (the factories are found
through the package's entry points, so no ``--code`` is needed). ``extract`` runs it over
:class:`~extractor.records.Abstract` records and yields
:class:`~extractor.records.ExtractionRecord` in input order.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

import extractor
from extractor.errors import ExtractionError
from extractor.nlp import (
    components,  # noqa: F401  (registers the factories)
    extensions,  # noqa: F401  (registers the Doc extensions)
    scorer,  # noqa: F401  (registers the scorers)
    tokenizer,  # noqa: F401  (registers the tokenizer)
)
from extractor.nlp.context import doc_lower, doc_text
from extractor.nlp.design import study_design
from extractor.records import ExtractionRecord, Value, value_from_dict

PIPELINE_NAME = "extractor_rules"

# A pipeline's vocabulary (spaCy's ``Vocab`` and ``StringStore``) keeps every word and number it
# has ever seen: over millions of abstracts it grows without end (~380 bytes per new string; the
# 5,129 abstracts of ``abstracts_pool.jsonl`` add 60,000 strings, and PubMed's rare words, drug
# names and numbers keep coming). What a pipeline extracts does not depend on what its vocabulary
# has seen before, so a caller that runs one pipeline over a stream of any length loads it anew
# (0.25 s) once ``vocabulary_full`` says so: this many strings are ~150 MB. spaCy's own answer,
# ``Language.memory_zone``, was measured slower: inside a zone the tokenizer caches nothing, 0.06 to
# 0.26 ms more per abstract even after a warm-up, against ~0.01 ms for loading anew.
VOCAB_LIMIT = 500_000

# (factory, rule-file registry function or None), in pipeline order
DEFAULT_PIPES: tuple[tuple[str, str | None], ...] = (
    ("extractor_sentences", None),
    ("extractor_numbers", None),
    ("extractor_p_values", "extractor.p_value_patterns.v1"),
    ("extractor_pain_scales", "extractor.scale_patterns.v1"),
    ("extractor_timepoints", "extractor.timepoint_patterns.v1"),
    ("extractor_sample_size", "extractor.sample_size_patterns.v1"),
    ("extractor_scores", "extractor.score_patterns.v1"),
    ("extractor_proportions", "extractor.proportion_patterns.v1"),
    ("extractor_resolve", None),
)


def build_pipeline() -> Language:
    """The rules pipeline, initialised with the packaged rule files."""
    config = {"nlp": {"tokenizer": {"@tokenizers": "extractor.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = extractor.__version__
    nlp.meta["description"] = "Rule-based extraction of pain-trial numbers (extractor)."
    init_components: dict[str, Any] = {}
    for factory, patterns in DEFAULT_PIPES:
        nlp.add_pipe(factory)
        if patterns is not None:
            init_components[factory] = {"patterns": {"@misc": patterns}}
    nlp.config["initialize"]["components"] = init_components
    nlp.initialize()
    return nlp


def load_pipeline(path: str | Path | None = None, *, rules_only: bool = False) -> Language:
    """The default pipeline — the rules plus the shipped trained components (``rules_only=True``:
    the rules alone) — or the pipeline saved at ``path``."""
    if path is None:
        return build_pipeline() if rules_only else _with_trained(build_pipeline())
    path = Path(path)
    if not path.exists():
        raise ExtractionError(f"{path}: no such model directory")
    try:
        return spacy.load(path)
    except (OSError, ValueError, KeyError) as exc:
        raise ExtractionError(f"{path}: cannot load the spaCy pipeline: {exc}") from exc


def _with_trained(nlp: Language) -> Language:
    """Add the trained components shipped in ``extractor/models/`` (see ``extractor.nlp.trained``)."""
    from extractor.nlp.trained import add_trained_components, default_model_dir

    model_dir = default_model_dir()
    if not (model_dir / "meta.json").is_file():
        warnings.warn(f"no trained model at {model_dir}: using the rules alone (run `extractor train`)",
                      stacklevel=3)
        return nlp
    return add_trained_components(nlp, model_dir)


def vocabulary_full(nlp: Language, limit: int | None = None) -> bool:
    """Whether ``nlp``'s vocabulary holds more than ``limit`` strings (default ``VOCAB_LIMIT``):
    time to load the pipeline anew (see ``VOCAB_LIMIT``)."""
    return len(nlp.vocab.strings) > (VOCAB_LIMIT if limit is None else limit)


def doc_to_record(doc: Doc, record_id: str, meta: dict[str, Any] | None = None) -> ExtractionRecord:
    """The :class:`ExtractionRecord` of a processed doc (from ``doc._.extractions``)."""
    values: list[Value] = []
    sample_seen = False
    for ext in doc._.extractions or []:
        kind = ext.get("kind")
        if kind == "sample_size":
            if sample_seen:
                continue
            sample_seen = True
        values.append(value_from_dict(str(kind), ext))
    meta = dict(meta or {})
    design = study_design(doc_text(doc), doc_lower(doc))
    if design is not None:
        meta["design"] = design
    return ExtractionRecord.from_values(record_id, values, meta=meta)


def extract(nlp: Language, abstracts: Iterable[Any], *, n_process: int = 1,
            batch_size: int = 64) -> Iterator[ExtractionRecord]:
    """Run the pipeline over ``Abstract`` records; yields one record per abstract, in order.

    Pure: no I/O. The record keeps the abstract's ``id``; an abstract without text gets an empty
    record flagged ``meta["no_abstract"] = True``.
    """
    base_meta = {"pipeline": nlp.meta.get("name", PIPELINE_NAME),
                 "version": nlp.meta.get("version", extractor.__version__)}
    stream = ((a.text, (a.id, a.has_abstract)) for a in abstracts)
    for doc, (record_id, has_abstract) in nlp.pipe(stream, as_tuples=True, n_process=n_process,
                                                   batch_size=batch_size):
        meta = dict(base_meta)
        if not has_abstract:
            meta["no_abstract"] = True
        yield doc_to_record(doc, record_id, meta)
