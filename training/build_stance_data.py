"""Merge the stance annotations into the dataset the classifier trains and is tested on.

Inputs (``data/stance/``): ``items.jsonl`` (from ``build_stance_items.py``) and the
annotation files in ``annotation/``:
- ``first_pass.tsv``: every item, labelled by reading (id, label, target);
- ``second_annotator.tsv``: an independent second annotation of 450 items (300 test, 150 train);
- ``adjudicated.tsv``: the final decision where the two disagreed;
- ``review.tsv``: a second reading, under the clarified guideline, of every first-pass
  ``threat`` and ``cooperation``;
- ``contrast_review.tsv``: a third reading of the round-one items the contrasts of issue 13
  touch (every threat, accusations without a target, cooperation in words of partnership,
  ``none`` with words of condition) under the guideline's "Contrasts" section.
Round two (active learning, ``round2_items.jsonl`` from ``build_stance_pool.py``):
- ``round2_first_pass.tsv``: every item, labelled by reading;
- ``round2_second.tsv``: an independent second annotation of 420 of them;
- ``round2_adjudicated.tsv``: the decision where the two disagreed.
Round three (``round3_items.jsonl``, ``build_stance_pool.py --round 3``: threat and
cooperation candidates from Redewiedergabe and GermEval posts): ``round3_first_pass.tsv``.
Round four (``round4_items.jsonl``, ``build_stance_pool.py --round 4``: what rounds two and
three left unread, re-scored by the shipped model): ``round4_first_pass.tsv``,
``round4_second.tsv`` (an independent second annotation of 150 of them) and
``round4_adjudicated.tsv``.
Final label: contrast review, else adjudication, else review, else first pass. Writes
``stance.jsonl`` (one row per item: the item's fields plus ``label``, ``target`` with document
offsets where found, and ``label_source``) and ``agreement.json`` (Cohen's kappa, overall and
per label, and confusion of each double annotation).

Run: ``python training/build_stance_data.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from quotestance.document import STANCE_LABELS

REPO = Path(__file__).resolve().parents[1]
STANCE = REPO / "data" / "stance"


def read_labels(path: Path, column: int = 1) -> dict[str, tuple[str, str]]:
    """``{id: (label, target)}`` of an annotation TSV (label in ``column``, target after it);
    a missing file is empty, a header line is skipped."""
    out: dict[str, tuple[str, str]] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) <= column or not parts[0].strip() or parts[0] == "id":
            continue
        parts = [parts[0], *parts[column:]]
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


def agreement_of(first: dict, second: dict) -> dict:
    """Cohen's kappa (overall and per label, one label against the rest) and confusion."""
    common = [k for k in second if k in first]
    a = [first[k][0] for k in common]
    b = [second[k][0] for k in common]
    return {
        "items": len(common),
        "cohen_kappa": round(kappa(a, b), 4),
        "kappa_per_label": {
            label: round(kappa([x == label for x in a], [y == label for y in b]), 4)
            for label in STANCE_LABELS
        },
        "observed_agreement": round(
            sum(x == y for x, y in zip(a, b, strict=True)) / max(1, len(common)), 4
        ),
        "disagreements": sum(x != y for x, y in zip(a, b, strict=True)),
        "confusion_first_vs_second": {
            f"{x}->{y}": n for (x, y), n in sorted(Counter(zip(a, b, strict=True)).items())
        },
    }


def main() -> None:
    items = [json.loads(line) for line in (STANCE / "items.jsonl").open(encoding="utf-8")]
    for item in items:
        item["selection_scores"] = ""  # round one chose by corpus and keywords, not scores
    for name in ("round2_items.jsonl", "round3_items.jsonl", "round4_items.jsonl"):
        if not (STANCE / name).exists():
            continue
        for line in (STANCE / name).open(encoding="utf-8"):
            item = json.loads(line)
            # the model's scores that chose the item, as JSON text (one column type for all rows)
            item["selection_scores"] = json.dumps(item.pop("model_scores", None))
            items.append(item)
    notes = STANCE / "annotation"
    first = read_labels(notes / "first_pass.tsv")
    first |= read_labels(notes / "round2_first_pass.tsv")
    first |= read_labels(notes / "round3_first_pass.tsv")
    first |= read_labels(notes / "round4_first_pass.tsv")
    second = read_labels(notes / "second_annotator.tsv")
    second2 = read_labels(notes / "round2_second.tsv")
    second4 = read_labels(notes / "round4_second.tsv")
    adjudicated = read_labels(notes / "adjudicated.tsv")
    adjudicated |= read_labels(notes / "round2_adjudicated.tsv")
    adjudicated |= read_labels(notes / "round4_adjudicated.tsv")
    review = read_labels(notes / "review.tsv")
    contrast = read_labels(notes / "contrast_review.tsv", column=2)
    missing = [i["id"] for i in items if i["id"] not in first]
    if missing:
        raise SystemExit(f"{len(missing)} items have no first-pass label, e.g. {missing[0]!r}")

    rows = []
    for item in items:
        key = item["id"]
        layers = (("contrast_review", contrast), ("adjudicated", adjudicated),
                  ("review", review), ("first_pass", first))  # fmt: skip
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
                "double_annotated": key in second or key in second2 or key in second4,
            }
        )
    with open(STANCE / "stance.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    agreement = agreement_of(first, second) | {
        "test_items": sum(1 for r in rows if r["split"] == "test" and r["id"] in second),
        "review_changed": sum(1 for k, (lab, _) in review.items() if first[k][0] != lab),
        "review_items": len(review),
    }
    before_contrast = {k: (adjudicated.get(k) or review.get(k) or first[k]) for k in contrast}
    agreement["contrast_review"] = {
        "items": len(contrast),
        "changed": dict(
            Counter(
                f"{before_contrast[k][0]}->{lab}"
                for k, (lab, _) in contrast.items()
                if before_contrast[k][0] != lab
            )
        ),
    }
    if second2:
        agreement["round2"] = agreement_of(first, second2)
    if second4:
        agreement["round4"] = agreement_of(first, second4)
    (STANCE / "agreement.json").write_text(json.dumps(agreement, indent=1) + "\n", encoding="utf-8")
    counts = Counter((r["split"], r["label"]) for r in rows)
    print(json.dumps(agreement, indent=1))
    for split in ("train", "test", "seed"):
        print(split, {lab: counts[(split, lab)] for lab in STANCE_LABELS})


if __name__ == "__main__":
    main()
