"""The pipeline components, one factory per module (importing this registers them all)."""

from extractor.nlp.components import (  # noqa: F401
    numbers,
    p_values,
    proportions,
    resolve,
    sample_size,
    scales,
    scores,
    sentences,
    timepoints,
)
