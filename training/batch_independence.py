"""Does a document's result depend on the other documents of its batch?

Annotates the SpkAtt-news dev split (the fixed sha256 split, ``quotestance.corpora.split``)
with the default pipeline at several batch sizes, in input order and in reverse order (so
each document meets other neighbours), and counts, against batch size 1, the documents
whose records differ: quote spans, speakers (span and actor), addressees, targets, actors,
stance labels, and the largest stance-score difference.

    .venv/bin/python training/batch_independence.py [--sizes 1 4 16] [--no-stance]

Writes ``reports/batch-independence.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path, is_dev
from quotestance.document import Document
from quotestance.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[1]
ROLES = ("speaker", "addressee", "target")


def annotate(pipeline: Pipeline, texts: list[tuple[str, str]], size: int) -> dict[str, dict]:
    docs = [Document(text=text, name=name) for name, text in texts]
    return {doc.name: doc.to_dict() for doc in pipeline.pipe(docs, batch_size=size)}


def compare(base: dict[str, dict], other: dict[str, dict]) -> dict[str, float]:
    """Documents whose layers differ from ``base``, per layer, and the largest score gap."""
    counts = dict.fromkeys(("quotes", *ROLES, "actors", "stance", "any"), 0)
    worst = 0.0
    for name, record in base.items():
        a, b = record["quotes"], other[name]["quotes"]
        layers = {
            "quotes": [(q["start"], q["end"], q["kind"]) for q in a]
            != [(q["start"], q["end"], q["kind"]) for q in b],
            "actors": record.get("actors") != other[name].get("actors"),
            "stance": [q.get("stance") for q in a] != [q.get("stance") for q in b],
        }
        for role in ROLES:
            layers[role] = [q.get(role) for q in a] != [q.get(role) for q in b]
        for layer, differs in layers.items():
            counts[layer] += differs
        counts["any"] += record != other[name]
        if not layers["quotes"]:
            for qa, qb in zip(a, b, strict=True):
                for label, score in (qa.get("stance_scores") or {}).items():
                    worst = max(worst, abs(score - (qb.get("stance_scores") or {})[label]))
    return {**counts, "max_score_difference": round(worst, 6)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--no-stance", action="store_true")
    parser.add_argument("--limit", type=int, help="the first N dev documents only")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "batch-independence.json")
    args = parser.parse_args()

    texts = [
        (doc.name, doc.text)
        for doc in iter_spkatt(corpus_path("spkatt-news"), "spkatt-news")
        if is_dev(doc.name)
    ][: args.limit]
    pipeline = Pipeline.default(stance=not args.no_stance)
    started = time.perf_counter()
    base = annotate(pipeline, texts, 1)
    rows = []
    for size in args.sizes:
        for order in ("input", "reversed"):
            chosen = texts if order == "input" else texts[::-1]
            row = {"batch_size": size, "order": order,
                   **compare(base, annotate(pipeline, chosen, size))}  # fmt: skip
            rows.append(row)
            print(json.dumps(row))
    result = {
        "split": "SpkAtt-news dev (sha256 split)",
        "documents": len(texts),
        "quotes": sum(len(r["quotes"]) for r in base.values()),
        "pipeline": pipeline.names,
        "compared_with": "batch size 1, input order",
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"{len(texts)} documents; written {args.out}")


if __name__ == "__main__":
    main()
