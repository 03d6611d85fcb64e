"""The pipeline components, one factory per module (importing this registers them all)."""

from extractor.nlp.components import (  # noqa: F401
    numbers,
    p_values,
    resolve,
    sample_size,
    scales,
    sentences,
    timepoints,
)
