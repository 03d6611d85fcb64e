"""The NLP stage: a spaCy pipeline that extracts painbench values with provenance (no I/O).

Public API::

    nlp = load_pipeline()                 # rules pipeline on spacy.blank("en")
    nlp = load_pipeline("path/to/model")  # a pipeline saved with nlp.to_disk
    for record in extract(nlp, abstracts, n_process=2):
        ...                               # ExtractionRecord, in input order
    record = doc_to_record(nlp(text), "my-id")
"""

from extractor.nlp.pipeline import build_pipeline, doc_to_record, extract, load_pipeline

__all__ = ["build_pipeline", "doc_to_record", "extract", "load_pipeline"]
