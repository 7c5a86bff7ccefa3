"""Evaluate step: affiliation accuracy of named speakers on a hand-labelled news sample.

Inputs: ``data/affiliation/items.jsonl`` (``build_affiliation_sample.py``: 10kGNAD articles,
the first mention of a named speaker) and ``data/affiliation/gold.tsv`` (``id``,
``affiliation``, ``name_ok``, ``basis``: labelled from the text and general knowledge, without
the system's answer). Runs the default pipeline without stance on each item's article, takes
the actor with a mention at the item's mention, and compares its affiliation with the gold one
(both mapped to the actor registry's canonical names). Items whose gold is ``unknown`` are left
out of the accuracy and counted apart.

Run: ``python training/evaluate_affiliation.py [--out reports/affiliation.json]``
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training"))

from build_affiliation_sample import OUT as ITEMS  # noqa: E402
from build_affiliation_sample import SECTIONS  # noqa: E402
from build_stance_items import gnad_documents  # noqa: E402

from quotestance.pipeline import Pipeline  # noqa: E402
from quotestance.speakers.actors import ActorRegistry  # noqa: E402

GOLD = REPO / "data" / "affiliation" / "gold.tsv"


def canonical(name: str | None, registry: ActorRegistry) -> str | None:
    if not name or name == "unknown":
        return None
    entry = registry.lookup(name)
    return entry.name if entry is not None else name


def evaluate(items: list[dict], gold: dict[str, dict], pipeline: Pipeline) -> dict:
    registry = ActorRegistry.default()
    wanted = {item["document"] for item in items}
    docs = {d.name: d for d in gnad_documents(SECTIONS) if d.name in wanted}
    annotated = {d.name: d for d in pipeline.pipe(list(docs.values()), batch_size=8)}
    by_source: Counter = Counter()
    right_by_source: Counter = Counter()
    rows, unknown, seen = [], 0, set()
    for item in items:
        label = gold.get(item["id"])
        if label is None or item["id"] in seen:
            continue
        seen.add(item["id"])
        truth = canonical(label["affiliation"], registry)
        if truth is None:
            unknown += 1
            continue
        doc = annotated[item["document"]]
        actor = next(
            (a for a in doc.actors
             if any(m.start < item["mention_end"] and m.end > item["mention_start"]
                    for m in a.mentions)),
            None,
        )  # fmt: skip
        got = canonical(actor.affiliation, registry) if actor else None
        # getattr: the same script scores a release before ``affiliation_source`` existed
        source = getattr(actor, "affiliation_source", None) or ("unmarked" if got else "none")
        by_source[source] += 1
        right_by_source[source] += got == truth
        rows.append({"id": item["id"], "name": item["name"], "gold": truth, "predicted": got,
                     "source": source, "actor": actor.name if actor else None})  # fmt: skip
    right = sum(r["gold"] == r["predicted"] for r in rows)
    return {
        "items": len(rows),
        "gold_unknown_left_out": unknown,
        "accuracy": round(right / len(rows), 4) if rows else None,
        "right": right,
        "by_source": {
            s: {"n": n, "accuracy": round(right_by_source[s] / n, 4)}
            for s, n in sorted(by_source.items())
        },
        "errors": [r for r in rows if r["gold"] != r["predicted"]],
    }


def read_gold(path: Path) -> dict[str, dict]:
    """Gold rows by id; an id given twice (two system names for one mention) keeps its first."""
    gold: dict[str, dict] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            gold.setdefault(row["id"], row)
    return gold


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--items", type=Path, default=ITEMS)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "affiliation.json")
    args = parser.parse_args(argv)
    items = [json.loads(line) for line in args.items.read_text(encoding="utf-8").splitlines()]
    result = evaluate(items, read_gold(args.gold), Pipeline.default(stance=False))
    result["command"] = "python training/evaluate_affiliation.py " + " ".join(argv or sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "errors"}, indent=1))


if __name__ == "__main__":
    main()
