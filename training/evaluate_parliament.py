"""Held-out parliament check of the stance classifier on ``umanlp/speechact`` (Bundestag).

Reinig, Rehbein & Ponzetto (LREC-COLING 2024) annotated Bundestag speeches with speech acts;
their test set's gold labels ship with their prediction files
(``classification/predictions/*/…_preds_test_set.tsv``: utterance tokens, document, gold
labels). Their ``Accusation`` is our ``accusation``; their other classes have no one-to-one
counterpart, so this reports accusation precision/recall/F1 (their BERT-base: F1 0.56–0.60)
and how our labels spread over their classes (e.g. how many ``Demand`` utterances we call
``threat``). The repository states no licence: it is used here to evaluate only, never to
train, and its files are not copied into this repository. The speeches are GePaDe's ``eval``
speeches, which the stance data leaves out for this reason.

Input per utterance: the utterance as quote, the previous utterance of the speech as context,
the speaker and party from the document name, no cue.

Run: ``python training/evaluate_parliament.py --tsv SPEECHACT/…_preds_dev_set.tsv
SPEECHACT/…_preds_test_set.tsv [--model DIR]``; writes ``reports/stance_parliament.json``
(or ``--out``).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
csv.field_size_limit(sys.maxsize)


def _join(tokens: list[str]) -> str:
    text = " ".join(tokens)
    for mark in (" ,", " .", " ?", " !", " :", " ;", " )"):
        text = text.replace(mark, mark[1:])
    return text.replace("( ", "(")


def _speaker(document: str) -> str:
    """``19036_Zusatzpunkt_3_AfD_Chrupalla_ID…`` -> ``Chrupalla (AfD)``."""
    parts = document.split("_ID")[0].split("_")
    for party in ("CDU_CSU", "CDUCSU", "AfD", "SPD", "FDP", "LINKE", "GRUENE", "Gruene"):
        key = party.split("_")
        for i in range(len(parts) - len(key)):
            if parts[i : i + len(key)] == key:
                return f"{' '.join(parts[i + len(key) :])} ({party.replace('_', '/')})"
    return ""


def read_utterances(path: Path) -> list[dict]:
    rows: list[dict] = []
    previous: dict[str, str] = defaultdict(str)
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            text = _join(ast.literal_eval(row["utterance_token_list"]))
            document = row["document"]
            rows.append({
                "text": text, "context": (previous[document] + " " + text).strip(),
                "speaker": _speaker(document), "cue": "", "document": document,
                "gold": ast.literal_eval(row["utterance_labels"]),
            })  # fmt: skip
            previous[document] = text
    return rows


def parliament_report(rows: list[dict], predicted: list[str]) -> dict:
    gold = ["Accusation" in r["gold"] for r in rows]
    pred = [p == "accusation" for p in predicted]
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    precision = tp / max(1, sum(pred))
    recall = tp / max(1, sum(gold))
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    spread: dict[str, Counter] = defaultdict(Counter)
    for row, label in zip(rows, predicted, strict=True):
        for act in row["gold"]:
            spread[act][label] += 1
    return {
        "utterances": len(rows), "gold_accusations": sum(gold),
        "accusation": {"precision": round(precision, 4), "recall": round(recall, 4),
                       "f1": round(f1, 4)},
        "predicted": dict(Counter(predicted)),
        "our_labels_per_speech_act": {k: dict(v) for k, v in sorted(spread.items())},
    }  # fmt: skip


def _key(document: str) -> str:
    return "".join(ch for ch in document.removesuffix(".json").lower() if ch.isalnum())


def trained_documents() -> set[str]:
    """Documents of the stance data (every round's items): not held out."""
    keys: set[str] = set()
    for name in ("items.jsonl", "round2_items.jsonl", "round3_items.jsonl"):
        path = REPO / "data" / "stance" / name
        with open(path, encoding="utf-8") as handle:
            keys.update(_key(json.loads(line)["document"]) for line in handle)
    return keys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, nargs="+", required=True)
    parser.add_argument("--model", type=Path, help="stance model directory (default: shipped)")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "stance_parliament.json")
    a = parser.parse_args(argv)
    from quotestance.stance.classifier import StanceClassifier

    seen = trained_documents()
    rows = [r for p in a.tsv for r in read_utterances(p) if _key(r["document"]) not in seen]
    clf = StanceClassifier.load(a.model)
    predicted = [label for label, _ in clf.classify_records(rows)]
    report = parliament_report(rows, predicted)
    report["documents"] = len({r["document"] for r in rows})
    report["left_out"] = "speeches in data/stance/items.jsonl or round*_items.jsonl"
    report["model"] = str(a.model or "shipped")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("utterances", "accusation", "predicted")}))


if __name__ == "__main__":
    main()
