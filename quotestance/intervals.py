"""Overlap queries over character spans in logarithmic time, for stages that relate every quote
(or mention) to the spans near it: one index per document instead of a scan per query, so a
stage stays linear in the length of the document.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any


class IntervalIndex:
    """Spans ``[start, end)`` of ``items`` (anything with ``.start``/``.end``, or pairs and
    triples when ``key`` says so), for "which of them may overlap ``[lo, hi)``?".

    ``candidates(lo, hi)`` gives, in the items' original order, the positions of every item
    with ``start < hi`` and ``end > lo`` — a superset of the items that overlap by at least
    one character (an empty item or query is included when it touches), so callers keep
    their own exact test. Cost: a binary search plus the items scanned back from ``hi``
    until none before can reach ``lo``: the hits alone when the spans do not nest.
    """

    def __init__(
        self, items: Sequence[Any], key: Callable[[Any], tuple[int, int]] | None = None
    ) -> None:
        key = key or (lambda item: (item.start, item.end))
        spans = [key(item) for item in items]
        self.order = sorted(range(len(spans)), key=lambda i: spans[i][0])
        self.starts = [spans[i][0] for i in self.order]
        self.ends = [spans[i][1] for i in self.order]
        self.reach: list[int] = []  # the largest end among the first k + 1 spans by start
        for end in self.ends:
            self.reach.append(max(end, self.reach[-1]) if self.reach else end)

    def __len__(self) -> int:
        return len(self.order)

    def candidates(self, lo: int | float, hi: int | float) -> list[int]:
        k = bisect_left(self.starts, hi)
        out = []
        while k > 0 and self.reach[k - 1] > lo:
            k -= 1
            if self.ends[k] > lo:
                out.append(self.order[k])
        out.sort()
        return out

    def covers(self, offset: int) -> bool:
        """Whether some span has ``start <= offset < end``."""
        k = bisect_left(self.starts, offset + 1)  # spans starting at or before offset
        return k > 0 and self.reach[k - 1] > offset
