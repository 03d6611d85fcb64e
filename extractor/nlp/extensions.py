"""Every custom attribute of the pipeline, declared once (import this module to register them).

All values are plain JSON-safe Python objects (lists of dicts of str/int/float/bool/None), so
``DocBin(store_user_data=True)`` and ``nlp.pipe(n_process=N)`` carry them unchanged. No
``Span`` objects, rule objects or dataclasses are ever stored here.

``Doc._.numbers``
    ``[[start, end, value, flags], ...]`` — every number of the text, written by
    ``extractor_numbers``; ``flags`` is a string of letters: ``i`` integer, ``w`` written as words,
    ``s`` explicit sign, ``p`` followed by a percent sign, ``e`` scientific notation.
``Doc._.candidates``
    ``[dict, ...]`` — candidate values with their features, written by the rule components and
    read by ``extractor_resolve`` (or a trained component placed before it). Each dict has
    ``kind`` (``sample_size``, ``arm_size``, ``score``, ``proportion``, ...), the guideline's value
    fields, provenance (``start``, ``end``, ``evidence``, ``producer``, ``producer_id``,
    ``confidence``), ``features`` (a flat dict of JSON scalars) and ``accept`` (bool).
``Doc._.extractions``
    ``[dict, ...]`` — the final values: ``kind`` plus ``Value.to_dict()`` of
    :mod:`extractor.records` (guideline fields and provenance). ``doc_to_record`` reads these.
"""

from __future__ import annotations

from spacy.tokens import Doc

DOC_EXTENSIONS: tuple[str, ...] = ("numbers", "candidates", "extractions")


def register_extensions() -> None:
    """Declare the Doc extensions (idempotent). Defaults are ``None``; components set lists."""
    for name in DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


register_extensions()
