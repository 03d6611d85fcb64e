"""Fast look-ups over character intervals and numbers (pure functions, no spaCy).

The components ask two questions many times per document: "is this offset inside one of these
spans?" (``any(a <= x < b for a, b in spans)``) and "which numbers start in this sentence and are
not inside one of these spans?". Both answers are computed here with bisection instead of a scan
of every span or number per question; the results are the same.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate

from extractor.nlp.numbers import Number

__all__ = ["Intervals", "NumberIndex"]


class Intervals:
    """Half-open intervals ``[a, b)``; ``x in intervals`` is ``any(a <= x < b for a, b in spans)``."""

    __slots__ = ("_starts", "_max_end")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [a for a, _ in ordered]
        # the largest end among the intervals that start at or before each one
        self._max_end = list(accumulate((b for _, b in ordered), max))

    def __contains__(self, x: int) -> bool:
        i = bisect_right(self._starts, x)
        return i > 0 and self._max_end[i - 1] > x

    def __bool__(self) -> bool:
        return bool(self._starts)


class NumberIndex:
    """The numbers of a document that are not inside any of ``blocked``, by position.

    ``between(lo, hi)`` is ``[n for n in numbers if lo <= n.start < hi and not blocked(n.start)]``
    (in the order of ``numbers``).
    """

    __slots__ = ("free", "_starts", "_sorted")

    def __init__(self, numbers: Sequence[Number], blocked: Iterable[tuple[int, int]]) -> None:
        spans = Intervals(blocked)
        self.free = [n for n in numbers if n.start not in spans] if spans else list(numbers)
        self._starts = [n.start for n in self.free]
        self._sorted = all(a <= b for a, b in zip(self._starts, self._starts[1:], strict=False))

    def between(self, lo: int, hi: int) -> list[Number]:
        if not self._sorted:
            return [n for n in self.free if lo <= n.start < hi]
        return self.free[bisect_left(self._starts, lo):bisect_left(self._starts, hi)]
