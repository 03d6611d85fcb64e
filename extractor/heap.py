"""The garbage collector's settings while a long extraction runs (:func:`quiet_gc`).

CPython's cyclic collector is tuned for programs whose heap is small. An extraction process holds a
loaded pipeline (about 180,000 tracked objects: patterns, look-up tables, spaCy's objects) and
allocates thousands of short-lived containers per abstract (tokens' spans, matches, values). With
the default settings, a young collection runs every 700 net allocations, and every few hundred
abstracts a full collection walks the whole pipeline again, although none of it is garbage.

Inside :func:`quiet_gc`:

* the objects alive on entry are moved to the collector's permanent generation (``gc.freeze``), so
  that no collection walks them; they go back on exit (``gc.unfreeze``), so that whatever of them
  becomes garbage later (an old pipeline, dropped when its vocabulary is full) is still collected;
* a young collection runs every :data:`YOUNG_THRESHOLD` net allocations instead of 700, which also
  keeps the objects of the docs in flight from being promoted to older generations.

Collection still runs (reference cycles are freed); only when and over what changes, so results do
not depend on it. The settings are the process's: nested and concurrent uses (threads of a Dask
worker) share one entry and one exit, and the caller's own settings come back on the last exit. A
process that has frozen objects itself keeps them frozen, and nothing more is frozen.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] = (700, 10, 10)
_froze = False


@contextmanager
def quiet_gc(young_threshold: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """Run the body with the objects alive now frozen and young collections every
    ``young_threshold`` allocations (see the module docstring)."""
    global _depth, _saved, _froze
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            # objects the caller froze itself stay as they are (unfreezing would thaw them too)
            _froze = gc.get_freeze_count() == 0
            if _froze:
                gc.freeze()
            young = _saved[0] and max(young_threshold, _saved[0])  # 0: the caller switched it off
            gc.set_threshold(young, _saved[1], _saved[2])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _froze:
                    gc.unfreeze()
                gc.set_threshold(*_saved)
