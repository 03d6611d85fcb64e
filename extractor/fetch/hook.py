"""The pre-filter hook of the readers: ``iter_source(path, prefilter=...)``.

A caller that throws most records away (the batch stage's pre-filter) can hand the reader a
function ``prefilter(text, has_abstract) -> str | None``: ``None`` keeps the record, a string is
the reason to skip it. The reader then yields a :class:`~extractor.records.Skipped` (id, reason,
version) instead of the :class:`~extractor.records.Abstract`. The function must depend on nothing
but its two arguments: ``text`` is exactly ``Abstract.text`` and ``has_abstract`` exactly
``Abstract.has_abstract`` of the record the reader would have built.

Readers that can compute ``text`` more cheaply than the whole ``Abstract`` do so (PubMed XML:
:mod:`extractor.fetch.pubmed_fast`); the others build the ``Abstract`` and ask the hook then
(:func:`apply_prefilter`). Either way the items are the same. ``fetch`` never imports the batch
stage: the hook is passed in.

A hook may also have a method ``raw_reason(raw) -> str | None`` (see :data:`RawReason`): the
PubMed XML reader asks it first, with the raw XML of the record's title and abstract, and skips
decoding the text when it answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from extractor.records import Abstract, Skipped

PrefilterHook = Callable[[str, bool], "str | None"]
"""``prefilter(text, has_abstract)``: ``None`` to keep the record, else the reason to skip it."""

RawReason = Callable[[bytes], "str | None"]
"""``hook.raw_reason(raw)``: the reason the hook gives to every text (whatever ``has_abstract``)
that can be drawn from ``raw``, bytes of XML holding all of a record's title and abstract among
others; ``None`` when it cannot tell without the text."""

T = TypeVar("T")

SKIPPED_METADATA = ("version", "file", "line")


def skipped(abstract: Abstract, reason: str) -> Skipped:
    """The :class:`Skipped` that stands in for ``abstract``."""
    meta = abstract.metadata
    return Skipped(id=abstract.id, reason=reason, source=abstract.source,
                   metadata={k: meta[k] for k in SKIPPED_METADATA if k in meta})


def apply_prefilter(items: Iterable[T], prefilter: PrefilterHook) -> Iterator[T | Skipped]:
    """``items`` with every :class:`Abstract` the hook turns down replaced by its :class:`Skipped`."""
    for item in items:
        if isinstance(item, Abstract):
            reason = prefilter(item.text, item.has_abstract)
            if reason is not None:
                yield skipped(item, reason)
                continue
        yield item
