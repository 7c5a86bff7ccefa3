"""Batches whose padding never changes a result.

In bf16 (and in fp32 too, by a last bit) an encoder's output for a sequence depends on how
far it is padded: the kernels sum over the padded width in another order. Padding each batch
to its longest member therefore made a document's labels depend on the other documents of
its batch (``--batch-size``, ``--workers``, where a ``--resume`` restarted). Here a
sequence's padded width depends on its own length alone (rounded up to a multiple of
``PAD_STEP``), and a batch holds sequences of one width only, so each row is computed the
same way whatever shares its batch (checked bit for bit: ``tests/test_robustness.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

PAD_STEP = 32  # subwords; the cost is at most PAD_STEP - 1 padded positions per sequence


def padded_width(length: int, step: int = PAD_STEP) -> int:
    """The width a sequence of ``length`` tokens is padded to: the next multiple of ``step``."""
    return max(step, -(-length // step) * step)


def fixed_width_batches(
    lengths: Sequence[int], batch_size: int, step: int = PAD_STEP
) -> list[tuple[int, list[int]]]:
    """``(width, indices)`` batches of at most ``batch_size`` sequences of one padded width,
    narrow widths first, input order within a width."""
    by_width: dict[int, list[int]] = {}
    for index, length in enumerate(lengths):
        by_width.setdefault(padded_width(length, step), []).append(index)
    return [
        (width, members[k : k + batch_size])
        for width, members in sorted(by_width.items())
        for k in range(0, len(members), batch_size)
    ]
