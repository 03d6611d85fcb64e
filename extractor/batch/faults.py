"""Fault injection for the resume tests (off unless ``EXTRACTOR_BATCH_KILL_AT`` is set).

``EXTRACTOR_BATCH_KILL_AT=<point>:<n>`` makes the coordinating process SIGKILL itself the n-th time
it passes ``point``:

* ``written`` — a partition has been renamed into place but not yet committed to the journal;
* ``committed`` — just after a chunk's journal commit;
* ``compacted`` — ``values.parquet`` has been replaced but the journal does not record it yet.

The tests also kill runs from outside at arbitrary moments; these points make sure the narrow
windows between the steps are hit too. In normal use this is one environment lookup per chunk.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "EXTRACTOR_BATCH_KILL_AT"
POINTS = ("written", "committed", "compacted")
_seen: Counter[str] = Counter()


def point(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    want, _, nth = spec.partition(":")
    if want != name:
        return
    _seen[name] += 1
    if _seen[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
