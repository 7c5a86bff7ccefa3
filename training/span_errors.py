"""Span-level errors of a quote detector on a held-out set: fragments, split claims, colon quotes.

Quote F1 hides the errors a reader notices first (issue 16): a four-word fragment that the
gold does not have (*General soll*), one claim cut in two around *laut X* / *X zufolge* /
*nach Angaben*, and colon quotes without quotation marks (*Stiftner: Das hat …*). This
script counts them with the token mapping of ``shared/spec/metrics.md``.

    .venv/bin/python training/span_errors.py [--system hybrid tagger rules]
        [--corpus spkatt-news-dev] [--out reports/span_errors.json]

Definitions (per predicted or gold quote):
- *short*: a predicted quote of at most four words that does not open with a quotation mark;
  *wrong* when no gold quote covers half of its tokens (the metric's precision test).
- *split*: a gold quote of which two or more predicted quotes each cover at least one token.
- *colon quote*: a gold quote whose text (before any quotation mark) follows a colon; found
  when a predicted quote covers half of its tokens.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

from quotestance.corpora.base import AnnotatedDocument, token_order
from quotestance.document import Document
from quotestance.evaluation.evaluate import iter_eval_set
from quotestance.evaluation.metrics import TokenIndex

REPO = Path(__file__).resolve().parents[1]
SHORT_WORDS = 4
OPENING_MARKS = set("„‚»«\"'“")
ATTRIBUTION_WORDS = ("laut", "zufolge", "Angaben")


def document_errors(gold: AnnotatedDocument, pred: Document) -> dict[str, list]:
    """The short, split and colon cases of one document, with their texts."""
    index = TokenIndex(gold.token_spans)  # the metric's own mapping (metrics.md, 2)
    predicted = [(q, set(index.covered(q.start, q.end))) for q in pred.quotes]
    out: dict[str, list] = {"short": [], "split": [], "colon": []}
    for quote, tokens in predicted:
        words = [w for w in quote.text.split() if any(ch.isalnum() for ch in w)]
        if len(words) > SHORT_WORDS or quote.text[:1] in OPENING_MARKS:
            continue
        correct = bool(tokens) and any(
            2 * len(tokens & g.message) >= len(tokens) for g in gold.gold
        )
        out["short"].append({"text": quote.text, "correct": correct})
    for g in gold.gold:
        ids = sorted(g.message, key=token_order)
        start, end = gold.token_spans[ids[0]][0], gold.token_spans[ids[-1]][1]
        touching = [q for q, tokens in predicted if tokens & g.message]
        if len(touching) >= 2:
            gaps = [gold.text[a.end : b.start] for a, b in pairwise(touching)]
            out["split"].append(
                {
                    "gold": gold.text[start:end],
                    "pieces": [q.text for q in touching],
                    "around_attribution": any(w in gap for gap in gaps for w in ATTRIBUTION_WORDS),
                }
            )
        before = gold.text[max(0, start - 3) : start].rstrip()
        if before.endswith(":") and gold.text[start : start + 1] not in OPENING_MARKS:
            found = any(2 * len(tokens & g.message) >= len(g.message) for _, tokens in predicted)
            out["colon"].append({"gold": gold.text[start:end][:120], "found": found})
    return out


def run(system: str, corpus: str, limit: int | None = None) -> dict:
    """Counts and examples for one detector (detection only: no speakers, no stance)."""
    from quotestance.pipeline import Pipeline

    pipeline = Pipeline.default(detector=system, speakers=False)
    cases: dict[str, list] = {"short": [], "split": [], "colon": []}
    predicted = gold_total = 0
    for gold in iter_eval_set(corpus, limit):
        pred = pipeline(gold.to_document())
        predicted += len(pred.quotes)
        gold_total += len(gold.gold)
        for key, items in document_errors(gold, pred).items():
            cases[key] += [{**item, "document": gold.name} for item in items]
    short_wrong = [c for c in cases["short"] if not c["correct"]]
    counts = Counter(c["around_attribution"] for c in cases["split"])
    return {
        "predicted_quotes": predicted,
        "gold_quotes": gold_total,
        "short_predicted": len(cases["short"]),
        "short_wrong": len(short_wrong),
        "split_gold_quotes": len(cases["split"]),
        "split_around_attribution": counts[True],
        "colon_gold_quotes": len(cases["colon"]),
        "colon_found": sum(c["found"] for c in cases["colon"]),
        "examples": {
            "short_wrong": short_wrong[:25],
            "split": cases["split"][:15],
            "colon_missed": [c for c in cases["colon"] if not c["found"]][:15],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", nargs="+", default=["hybrid", "tagger", "rules"])
    parser.add_argument("--corpus", default="spkatt-news-dev")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "span_errors.json")
    a = parser.parse_args(argv)
    results = {"corpus": a.corpus, "command": " ".join(["python", *sys.argv])}
    for system in a.system:
        results[system] = run(system, a.corpus, a.limit)
        summary = {k: v for k, v in results[system].items() if k != "examples"}
        print(system, json.dumps(summary), flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
