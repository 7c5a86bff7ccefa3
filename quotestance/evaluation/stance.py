"""Stance figures on labelled quotes: macro-F1 with a bootstrap interval, per-label F1, the
confusion matrix, and calibration (expected calibration error, reliability bins,
temperature fitting)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from quotestance.corpora.base import token_order
from quotestance.document import STANCE_LABELS
from quotestance.evaluation.metrics import stance_key, stance_metrics


def calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top label (equal-width confidence bins)."""
    if len(gold) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def reliability_bins(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per confidence bin: count, mean confidence, accuracy (for a reliability plot)."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            out.append({"low": float(low), "high": float(high), "n": int(inside.sum()),
                        "confidence": float(confidence[inside].mean()),
                        "accuracy": float(correct[inside].mean())})  # fmt: skip
    return out


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood (grid, then refine)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(gold)), gold].mean())

    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.9, best * 1.1, 41)
    return float(min(fine, key=nll))


def stance_report(
    gold: Sequence[str],
    probs: np.ndarray,
    labels: Sequence[str] = STANCE_LABELS,
    resamples: int = 1000,
    seed: int = 13,
) -> dict[str, Any]:
    """Every stance figure for one set of predictions (probabilities in ``labels`` order)."""
    labels = list(labels)
    pred = [labels[i] for i in probs.argmax(axis=1)] if len(gold) else []
    result = stance_metrics(gold, pred, labels)
    gold_idx = np.array([labels.index(g) for g in gold])
    rng = np.random.default_rng(seed)
    macro, per_label = [], {label: [] for label in labels}
    for _ in range(resamples if len(gold) else 0):
        pick = rng.integers(0, len(gold), len(gold))
        m = stance_metrics([gold[i] for i in pick], [pred[i] for i in pick], labels)
        macro.append(m["macro_f1"])
        for label in labels:
            per_label[label].append(m["per_label_f1"][label])
    result["macro_f1_ci"] = (
        [round(float(np.percentile(macro, q)), 4) for q in (2.5, 97.5)] if macro else None
    )
    result["per_label_f1_ci"] = {
        label: [round(float(np.percentile(v, q)), 4) for q in (2.5, 97.5)]
        for label, v in per_label.items() if v
    }  # fmt: skip
    result["ece"] = round(calibration_error(probs, gold_idx), 4) if len(gold) else None
    result["reliability"] = reliability_bins(probs, gold_idx) if len(gold) else []
    result["accuracy"] = (
        float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])) if gold else 0.0
    )
    return result


def dev_stance_gold(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Stance labels of annotated rows (``data/stance/stance.jsonl``) keyed like the
    ``Scorer``'s ``stance_gold`` (document, index of the gold quote), for the SpkAtt-news dev
    articles: what end-to-end stance is scored against."""
    from quotestance.corpora.spkatt import iter_spkatt
    from quotestance.corpora.split import corpus_path, is_dev

    by_tokens = {(r["document"], tuple(r["message_tokens"])): r["label"] for r in rows}
    out = {}
    for doc in iter_spkatt(corpus_path("spkatt-news"), corpus="news"):
        if not is_dev(doc.name):
            continue
        for index, quote in enumerate(doc.gold):
            key = (doc.name, tuple(sorted(quote.message, key=token_order)))
            if key in by_tokens:
                out[stance_key(doc.name, index)] = by_tokens[key]
    return out
