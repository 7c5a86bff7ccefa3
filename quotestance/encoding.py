"""The encoder's states per word of a document, kept by the stage that ran the encoder.

The tagger encodes every article once; later stages (the speaker scorer) read these states
instead of encoding the text again. One vector per word (its first subword's state after the
tagger's LayerNorm, from the window where the word is farthest from a cut edge), stored as
float16: 384 numbers per word for e5-small, about 0.75 KB.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np


@dataclass
class WordEncoding:
    """``starts``/``ends``: each word's character offsets; ``vectors``: (words, hidden)."""

    starts: list[int]
    ends: list[int]
    vectors: np.ndarray

    @classmethod
    def of(cls, words: list[tuple[int, int]], vectors: np.ndarray) -> WordEncoding:
        return cls([s for s, _ in words], [e for _, e in words], vectors.astype(np.float16))

    @property
    def size(self) -> int:
        return int(self.vectors.shape[1])

    def word_range(self, start: int, end: int) -> tuple[int, int]:
        """Indices [first, last) of the words that overlap the characters [start, end)."""
        return bisect_right(self.ends, start), bisect_left(self.starts, end)

    def pool(self, start: int, end: int, max_words: int = 64) -> np.ndarray:
        """Mean state of the span's words (at most its first ``max_words``); zeros when the
        span holds no word."""
        first, last = self.word_range(start, end)
        last = min(last, first + max_words)
        if last <= first:
            return np.zeros(self.size, dtype=np.float32)
        return self.vectors[first:last].astype(np.float32).mean(0)
