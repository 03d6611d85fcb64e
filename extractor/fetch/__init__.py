"""The fetch stage: PubMed E-utilities, Europe PMC, PubMed dumps and exported files → ``Abstract``.

Other stages code against :func:`iter_source` (every file source, streamed) and the record types
in :mod:`extractor.records`. Nothing here imports spaCy.

* :func:`iter_source` — PubMed XML (``.xml``/``.xml.gz``, efetch output, baseline/update files,
  ``MedlineCitationSet``), Europe PMC responses, RIS, MEDLINE/nbib, CSV/TSV, JSONL, ``.txt``
  files and folders of them; yields ``Abstract``, ``Deletion`` and ``Problem``, and ``Skipped``
  for the records a ``prefilter`` hook turns down (:mod:`~extractor.fetch.hook`; for PubMed XML
  decided on raw bytes, :mod:`~extractor.fetch.pubmed_fast`).
* :class:`EUtils` — esearch/efetch client; :class:`EuropePMC` — cursor-paged search client.
* :class:`DumpMerger` — applies baseline + update files in order with bounded memory.
"""

from __future__ import annotations

from extractor.fetch.dump import DumpMerger
from extractor.fetch.europepmc import EuropePMC
from extractor.fetch.eutils import EUtils
from extractor.fetch.http import HttpClient, RateLimiter, RetryPolicy
from extractor.fetch.sources import FORMATS, detect_format, iter_source

__all__ = [
    "FORMATS",
    "DumpMerger",
    "EUtils",
    "EuropePMC",
    "HttpClient",
    "RateLimiter",
    "RetryPolicy",
    "detect_format",
    "iter_source",
]
