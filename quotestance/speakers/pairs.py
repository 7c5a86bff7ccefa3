"""What the learned speaker scorer reads for one quote (numpy only: the linker builds it
without importing torch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quotestance.encoding import WordEncoding


@dataclass
class PairInputs:
    """One quote's inputs: its states and its candidates' states and sparse features."""

    quote: np.ndarray  # (2H,): quote and cue
    cands: np.ndarray  # (C, H)
    feats: list[dict[str, float]]


def pair_inputs(
    encoding: WordEncoding, quote_span: tuple[int, int], cue_span: tuple[int, int] | None,
    cand_spans: list[tuple[int, int]], feats: list[dict[str, float]],
) -> PairInputs:  # fmt: skip
    cue = encoding.pool(*cue_span) if cue_span else np.zeros(encoding.size, dtype=np.float32)
    cands = (
        np.stack([encoding.pool(s, e) for s, e in cand_spans])
        if cand_spans
        else np.zeros((0, encoding.size), dtype=np.float32)
    )
    return PairInputs(np.concatenate([encoding.pool(*quote_span), cue]), cands, feats)
