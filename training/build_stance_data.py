"""Merge the stance annotations into the dataset the classifier trains and is tested on.

Inputs (``data/stance/``): ``items.jsonl`` (from ``build_stance_items.py``) and the
annotation files in ``annotation/``:
- ``first_pass.tsv``: every item, labelled by reading (id, label, target);
- ``second_annotator.tsv``: an independent second annotation of 450 items (300 test, 150 train);
- ``adjudicated.tsv``: the final decision where the two disagreed;
- ``review.tsv``: a second reading, under the clarified guideline, of every first-pass
  ``threat`` and ``cooperation``.
Final label: adjudication, else review, else first pass. Writes ``stance.jsonl`` (one row per
item: the item's fields plus ``label``, ``target`` with document offsets where found, and
``label_source``) and ``agreement.json`` (Cohen's kappa and confusion of the double
annotation).

Run: ``python training/build_stance_data.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from quotestance.document import STANCE_LABELS

REPO = Path(__file__).resolve().parents[1]
STANCE = REPO / "data" / "stance"


def read_labels(path: Path) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip():
            continue
        label = parts[1].strip()
        if label not in STANCE_LABELS:
            raise ValueError(f"{path.name}: bad label {label!r} for {parts[0]!r}")
        out[parts[0]] = (label, parts[2].strip() if len(parts) > 2 else "")
    return out


def kappa(a: list[str], b: list[str]) -> float:
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(a, b))


def target_offsets(item: dict, target: str) -> tuple[int, int] | None:
    """Document offsets of the target: its occurrence in the item's context nearest the quote.
    The context is a stretch of the document ending at the quote's last sentence."""
    if not target:
        return None
    context = item["context"]
    quote_at = context.find(item["quote"][:30])
    hits = []
    start = context.find(target)
    while start >= 0:
        hits.append(start)
        start = context.find(target, start + 1)
    if not hits:
        return None
    anchor = quote_at if quote_at >= 0 else 0
    best = min(hits, key=lambda h: abs(h - anchor))
    context_start = item["start"] - quote_at if quote_at >= 0 else None
    if context_start is None:
        return None
    return context_start + best, context_start + best + len(target)


def main() -> None:
    items = [json.loads(line) for line in (STANCE / "items.jsonl").open(encoding="utf-8")]
    notes = STANCE / "annotation"
    first = read_labels(notes / "first_pass.tsv")
    second = read_labels(notes / "second_annotator.tsv")
    adjudicated = read_labels(notes / "adjudicated.tsv")
    review = read_labels(notes / "review.tsv")
    missing = [i["id"] for i in items if i["id"] not in first]
    if missing:
        raise SystemExit(f"{len(missing)} items have no first-pass label, e.g. {missing[0]!r}")

    rows = []
    for item in items:
        key = item["id"]
        layers = (("adjudicated", adjudicated), ("review", review), ("first_pass", first))
        source = next(name for name, table in layers if key in table)
        label, target = dict(layers)[source][key]
        if label == "none":
            target = ""
        span = target_offsets(item, target)
        rows.append(
            {
                **item,
                "label": label,
                "target": target,
                "target_start": span[0] if span else None,
                "target_end": span[1] if span else None,
                "label_source": source,
                "double_annotated": key in second,
            }
        )
    with open(STANCE / "stance.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    common = [k for k in second if k in first]
    a = [first[k][0] for k in common]
    b = [second[k][0] for k in common]
    agreement = {
        "items": len(common),
        "test_items": sum(1 for r in rows if r["double_annotated"] and r["split"] == "test"),
        "cohen_kappa": round(kappa(a, b), 4),
        "observed_agreement": round(
            sum(x == y for x, y in zip(a, b, strict=True)) / len(common), 4
        ),
        "disagreements": sum(x != y for x, y in zip(a, b, strict=True)),
        "confusion_first_vs_second": {
            f"{x}->{y}": n for (x, y), n in sorted(Counter(zip(a, b, strict=True)).items())
        },
        "review_changed": sum(1 for k, (lab, _) in review.items() if first[k][0] != lab),
        "review_items": len(review),
    }
    (STANCE / "agreement.json").write_text(json.dumps(agreement, indent=1) + "\n", encoding="utf-8")
    counts = Counter((r["split"], r["label"]) for r in rows)
    print(json.dumps(agreement, indent=1))
    for split in ("train", "test", "seed"):
        print(split, {lab: counts[(split, lab)] for lab in STANCE_LABELS})


if __name__ == "__main__":
    main()
