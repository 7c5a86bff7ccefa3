"""The evaluation report's figures, drawn with matplotlib (Agg, no display) as PNG bytes.

Each function takes plain figures (the dicts of ``metrics.json`` / ``stance.json`` /
``benchmark-corpus.json``) and returns the image, so the HTML report embeds it as a data URI
and stays one self-contained file.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    errors: Mapping[str, Sequence[tuple[float, float] | None]] | None = None,
    ylabel: str = "",
    notes: Sequence[str] | None = None,
) -> bytes:
    """Bars per category, one colour per series; optional [low, high] intervals as error
    bars and a note (e.g. counts) under each category."""
    plt = _pyplot()
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(categories) + 2), 3.4))
    for k, (name, values) in enumerate(series.items()):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(categories))]
        heights = [v or 0.0 for v in values]
        yerr = None
        if errors and errors.get(name):
            low = [h - iv[0] if iv else 0.0 for h, iv in zip(heights, errors[name], strict=True)]
            high = [iv[1] - h if iv else 0.0 for h, iv in zip(heights, errors[name], strict=True)]
            yerr = [low, high]
        ax.bar(
            xs, heights, width, label=name, color=PALETTE[k % len(PALETTE)], yerr=yerr, capsize=3
        )
    labels = [f"{c}\n{notes[i]}" if notes and notes[i] else c for i, c in enumerate(categories)]
    ax.set_xticks(range(len(categories)), labels, fontsize=8)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", ncols=min(len(series), 4))
    return _png(fig)


def confusion(title: str, labels: Sequence[str], matrix: Mapping[str, Mapping[str, int]]) -> bytes:
    """A confusion matrix (rows gold, columns predicted), counts in the cells, colour by the
    share of the gold row so that rare labels stay visible."""
    plt = _pyplot()
    counts = [[int(matrix[g][p]) for p in labels] for g in labels]
    shares = [[c / max(1, sum(row)) for c in row] for row in counts]
    fig, ax = plt.subplots(figsize=(4.4, 3.8))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(counts):
        for j, c in enumerate(row):
            ax.text(
                j,
                i,
                str(c),
                ha="center",
                va="center",
                color="white" if shares[i][j] > 0.6 else "black",
                fontsize=9,
            )
    ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def reliability(title: str, bins: Sequence[Mapping[str, float]], ece: float | None) -> bytes:
    """Reliability diagram: accuracy against mean confidence per bin (marker size = count),
    the diagonal is perfect calibration."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.0, 3.8))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
    kept = [b for b in bins if b.get("n")]
    if kept:
        xs = [b["confidence"] for b in kept]
        ys = [b["accuracy"] for b in kept]
        sizes = [20 + 2 * b["n"] ** 0.8 for b in kept]
        ax.plot(xs, ys, color=PALETTE[0], linewidth=1)
        ax.scatter(xs, ys, s=sizes, color=PALETTE[0], label="bins (size = quotes)", zorder=3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence of the top label")
    ax.set_ylabel("accuracy")
    suffix = f" (ECE {ece:.3f})" if ece is not None else ""
    ax.set_title(title + suffix, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return _png(fig)


def scaling(title: str, runs: Sequence[Mapping[str, Any]]) -> bytes:
    """Seconds against articles (log-log) per set-up: a straight line of slope 1 is linear
    growth; a flat start is the model load."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    by_setup: dict[str, list[tuple[int, float]]] = {}
    for run in runs:
        key = f"{run['setup']}, {run['workers']} worker(s)"
        by_setup.setdefault(key, []).append((run["articles"], run["seconds"]))
    for k, (name, points) in enumerate(sorted(by_setup.items())):
        points.sort()
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            label=name,
            color=PALETTE[k % len(PALETTE)],
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("articles")
    ax.set_ylabel("seconds (load included)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return _png(fig)
