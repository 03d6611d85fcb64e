"""Dump-scale runs: whole PubMed baselines (or any fetch source) → Parquet, resumable, local or Dask.

Public API::

    from extractor.batch import BatchOptions, run_batch, read_values
    result = run_batch(BatchOptions(sources=(Path("baseline/"),), out=Path("out"), workers=2))
    table = read_values(Path("out"))       # pyarrow Table: the final values (deletions applied)

Modules: :mod:`~extractor.batch.prefilter` (the cheap pre-filter), :mod:`~extractor.batch.chunks`
(input files and chunks), :mod:`~extractor.batch.worker` (chunk → partition),
:mod:`~extractor.batch.journal` (what is done), :mod:`~extractor.batch.output` (layout, final
tables, manifest), :mod:`~extractor.batch.runner` (engines), :mod:`~extractor.batch.synth`
(PubMed-format XML writer for tests and benchmarks). ``batch`` imports spaCy only through
:mod:`extractor.nlp`, in the processes that extract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractor.batch.output import DELETED_NAME, MANIFEST_NAME, VALUES_NAME
from extractor.batch.prefilter import DEFAULT_PAIN_TERMS, Prefilter, PrefilterConfig
from extractor.batch.runner import BatchOptions, BatchResult, run_batch


def read_values(out: Path) -> Any:
    """The final values table of a finished run (``OUT/values.parquet``) as a pyarrow Table."""
    import pyarrow.parquet as pq

    from extractor.errors import InputError

    path = Path(out) / VALUES_NAME
    if not path.exists():
        raise InputError(f"{out}: no {VALUES_NAME}; run `extractor run ... --out {out}` first")
    return pq.read_table(path)


__all__ = ["DEFAULT_PAIN_TERMS", "DELETED_NAME", "MANIFEST_NAME", "VALUES_NAME", "BatchOptions",
           "BatchResult", "Prefilter", "PrefilterConfig", "read_values", "run_batch"]
