"""Train the target scorer of ``quotestance.stance.target`` on the annotated stance targets.

Data: ``data/stance/stance.jsonl`` rows with a stance other than ``none`` (gold quotes and
their gold labels), each read as a small document (its ``context``: the quote's sentences and
the one before) through the pipeline's text and morphology stages; candidates are the
mention layer's (``mentions_of``); a candidate is positive when it shares a character with
the annotated target (located nearest the quote). Rows whose target is empty teach the
threshold. Splits as the classifier's (``quotestance.stance.data``): fit on ``train``, the
threshold on ``calibration``, scores on ``test``.

Reported on test, for the learned scorer and the rules it replaces: **overlap** (of quotes
with a located gold target, how often the predicted target overlaps it: the issue's measure)
and precision/recall/F1 of targets (a predicted target where the gold is empty is a false
positive).

Writes ``quotestance/resources/stance_model/targets.json`` and ``reports/targets.json``.
Run: ``python training/train_targets.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from quotestance.document import Document, Mention, Quote, Span
from quotestance.morphology import MoodAnalyser
from quotestance.speakers.mentions import mentions_of
from quotestance.stance.data import read_rows
from quotestance.stance.target import TARGET_MODEL, TargetFinder, TargetScorer, head_noun
from quotestance.text import TextSegmenter

REPO = Path(__file__).resolve().parents[1]


def _pattern(part: str) -> re.Pattern[str]:
    """The tokens of a corpus string (joined by spaces, gaps as " … ") as a pattern over the
    detokenised text: any whitespace or none between tokens, anything short across a gap."""
    pieces = []
    for chunk in part.split(" … "):
        pieces.append(r"\s*".join(re.escape(token) for token in chunk.split()))
    return re.compile(r".{0,300}?".join(p for p in pieces if p), re.DOTALL)


def _locate(text: str, part: str, anchor: int) -> tuple[int, int] | None:
    """The occurrence of ``part`` in ``text`` nearest ``anchor`` (tokens matched loosely)."""
    if not part.strip():
        return None
    hits = [(m.start(), m.end()) for m in _pattern(part).finditer(text)]
    if not hits:
        return None
    return min(hits, key=lambda h: abs(h[0] - anchor))


def row_example(row: dict, stages) -> tuple[Document, Quote, tuple[int, int] | None] | None:
    """The row as a document with its gold quote (speaker, cue, addressee located in the
    context) and the gold target span (None: no target, or not found)."""
    text = row["context"]
    quote_span = _locate(text, row["quote"], len(text))
    if quote_span is None:
        return None
    doc = Document(text=text, name=row["id"])
    for stage in stages:
        doc = stage(doc)
    start, end = quote_span
    quote = Quote(start, end, text[start:end], row.get("form") or "indirect", stance=row["label"])
    for field, attr, kind in (("speaker", "speaker", Mention), ("addressee", "addressee", Mention),
                              ("cue", "cue", Span)):  # fmt: skip
        span = _locate(text, row.get(field) or "", start)
        if span is not None:
            setattr(quote, attr, kind(span[0], span[1], text[span[0] : span[1]]))
    doc.quotes = [quote]
    target = _locate(text, row.get("target") or "", start) if row.get("target") else None
    return doc, quote, target


def actor_heads(rows: list[dict], min_count: int = 2) -> frozenset[str]:
    """Head nouns that name actors: those of annotated speakers and targets (train rows of
    every label), seen at least ``min_count`` times, at least 4 letters."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for row in read_rows():
        if row["stance_split"] != "train" or row.get("language", "de") != "de":
            continue
        for field in ("speaker", "target"):
            head = head_noun(row.get(field) or "")
            if len(head) >= 4:
                counts[head] += 1
    return frozenset(h for h, n in counts.items() if n >= min_count)


def build(rows: list[dict], finder: TargetFinder) -> list[dict]:
    """Per row: the candidates' features and whether each overlaps the gold target."""
    stages = [TextSegmenter(), MoodAnalyser()]
    out = []
    for row in rows:
        example = row_example(row, stages)
        if example is None:
            continue
        doc, quote, gold = example
        candidates = mentions_of(doc)
        scored = finder.scored(doc, quote, candidates)
        out.append({
            "row": row, "doc": doc, "quote": quote, "gold": gold,
            "has_gold_target": bool(row.get("target")), "candidates": candidates,
            "features": [f for _, f in scored],
            "positive": [gold is not None and c.start < gold[1] and c.end > gold[0]
                         for c, _ in scored],
        })  # fmt: skip
    return out


def _hit(mention: Mention | None, gold: tuple[int, int] | None) -> bool:
    return (
        mention is not None
        and gold is not None
        and mention.start < gold[1]
        and mention.end > gold[0]
    )


def score_predictions(examples: list[dict], predict) -> dict:
    """Overlap on located gold targets; precision/recall/F1 over all quotes."""
    located = hits = predicted = correct = gold_n = 0
    for ex in examples:
        target = predict(ex)
        gold = ex["gold"]
        located += gold is not None
        hits += _hit(target, gold)
        predicted += target is not None
        correct += _hit(target, gold)
        gold_n += ex["has_gold_target"]
    precision = correct / max(1, predicted)
    recall = correct / max(1, gold_n)
    return {
        "quotes": len(examples), "located_gold_targets": located,
        "overlap": round(hits / max(1, located), 4),
        "precision": round(precision, 4), "recall": round(recall, 4),
        "f1": round(2 * precision * recall / max(1e-9, precision + recall), 4),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TARGET_MODEL)
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "targets.json")
    a = parser.parse_args(argv)
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    started = time.time()
    rows = [r for r in read_rows() if r["label"] != "none" and r.get("language", "de") == "de"]
    finder = TargetFinder(scorer=None)
    finder.actor_heads = actor_heads([r for r in rows if r["stance_split"] == "train"])
    data = {
        split: build([r for r in rows if r["stance_split"] == split], finder)
        for split in ("train", "calibration", "test")
    }
    features = [f for ex in data["train"] for f in ex["features"]]
    labels = [y for ex in data["train"] for y in ex["positive"]]
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(features)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, labels)
    weights = {
        name: round(float(w), 6)
        for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
    }
    scorer = TargetScorer(weights, round(float(model.intercept_[0]), 6), 0.5, finder.actor_heads)

    def learned(threshold: float):
        def predict(ex: dict) -> Mention | None:
            scorer.threshold = threshold
            return TargetFinder(finder.registry, scorer).find(
                ex["doc"], ex["quote"], ex["candidates"]
            )

        return predict

    grid = [round(t, 2) for t in np.arange(0.05, 0.95, 0.05)]
    tuned = max(grid, key=lambda t: score_predictions(data["calibration"], learned(t))["f1"])
    scorer.threshold = tuned

    def rules(ex: dict) -> Mention | None:
        return finder.find_by_rules(ex["doc"], ex["quote"], ex["candidates"])

    report = {
        "train_quotes": len(data["train"]), "train_pairs": len(labels),
        "threshold": tuned,
        "calibration": {"learned": score_predictions(data["calibration"], learned(tuned)),
                        "rules": score_predictions(data["calibration"], rules)},
        "test": {"learned": score_predictions(data["test"], learned(tuned)),
                 "rules": score_predictions(data["test"], rules)},
        "seconds": round(time.time() - started, 1),
        "command": "python training/train_targets.py",
    }  # fmt: skip
    a.out.parent.mkdir(parents=True, exist_ok=True)
    saved = {"weights": weights, "bias": scorer.bias, "threshold": tuned,
             "actor_heads": sorted(finder.actor_heads)}  # fmt: skip
    a.out.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    a.report.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("threshold", "calibration", "test")}, indent=1))


if __name__ == "__main__":
    main()
