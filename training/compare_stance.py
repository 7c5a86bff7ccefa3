"""Compare stance models on one held-out test: the evaluate step of issue 13's comparison.

Each model directory (``train_stance.py --out``) is scored on the same rows, through the code
path of ``quotestance classify``: the test split (every gold quote of the SpkAtt-news dev
articles, never trained on), the calibration split (what a model is *chosen* on) and the seed
article; optionally the held-out parliament check (``evaluate_parliament.py``'s utterances of
``umanlp/speechact``). ``--ensemble [NAME ...]`` adds the mean of the (named) models'
probabilities as one more row (repeat it for several ensembles). For the model named by
``--thresholds`` the per-label precision/recall at several values of
``annotate --min-stance-score`` is tabulated. ``--merge JSON ...`` puts the rows of earlier
runs (same rows, same code) first, so one report covers runs scored at different times.

Run: ``python training/compare_stance.py NAME=DIR ... [--ensemble] [--thresholds NAME]
[--speechact TSV ...]``. Writes ``reports/stance_comparison.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from quotestance.document import STANCE_LABELS
from quotestance.evaluation.stance import stance_report
from quotestance.stance.data import classify_record, read_rows

REPO = Path(__file__).resolve().parents[1]
THRESHOLDS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8)


def probabilities(model_dir: Path, records: list[dict]) -> np.ndarray:
    """Calibrated probabilities (``STANCE_LABELS`` order) of ``classify`` records."""
    from quotestance.stance.classifier import StanceClassifier

    return StanceClassifier.score_matrix(StanceClassifier.load(model_dir).classify_records(records))


def threshold_table(gold: list[str], probs: np.ndarray) -> list[dict]:
    """Per P: each non-``none`` label's precision and recall when labels scored under P
    become ``none`` (what ``--min-stance-score P`` does)."""
    table = []
    for p in THRESHOLDS:
        pred = [STANCE_LABELS[i] if row.max() >= p else "none"
                for i, row in zip(probs.argmax(1), probs, strict=True)]  # fmt: skip
        entry: dict = {"min_stance_score": p}
        for label in STANCE_LABELS[:-1]:
            tp = sum(g == label and q == label for g, q in zip(gold, pred, strict=True))
            n_pred = sum(q == label for q in pred)
            n_gold = sum(g == label for g in gold)
            entry[label] = {"precision": round(tp / n_pred, 3) if n_pred else None,
                            "recall": round(tp / n_gold, 3) if n_gold else None,
                            "predicted": n_pred}  # fmt: skip
        table.append(entry)
    return table


def markdown(result: dict) -> str:
    lines = [
        "# Stance models compared",
        "",
        "Test: every gold quote of the SpkAtt-news dev split (never trained on), labels as in "
        "`data/stance/stance.jsonl` after the contrast re-read; 95 % bootstrap intervals over "
        "quotes. Calibration split: 10 % of the training documents, held out, used to choose. "
        "Parliament: accusation F1 on held-out `umanlp/speechact` utterances "
        "(`training/evaluate_parliament.py`).",
        "",
        "| model | test macro-F1 [95% CI] | threat | cooperation | accusation | none | ECE "
        "| calibration macro-F1 | seed (of 15) | parliament accusation F1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in result["models"].items():
        t, c = row["test"], row["calibration"]
        per = t["per_label_f1"]
        ci = t["per_label_f1_ci"]
        cells = [f"{per[label]:.3f} [{ci[label][0]:.2f}, {ci[label][1]:.2f}]"
                 for label in STANCE_LABELS]  # fmt: skip
        parliament = row.get("parliament", {}).get("accusation", {}).get("f1")
        lines.append(
            f"| {name} | {t['macro_f1']:.3f} "
            f"[{t['macro_f1_ci'][0]:.3f}, {t['macro_f1_ci'][1]:.3f}] "
            f"| {' | '.join(cells)} | {t['ece']:.3f} | {c['macro_f1']:.3f} "
            f"| {row['seed_correct']} | {'' if parliament is None else f'{parliament:.3f}'} |"
        )
    if result.get("thresholds"):
        name, table = result["thresholds"]
        lines += ["", f"## `--min-stance-score P` ({name}, test, gold quotes)", "",
                  "| P | threat P / R (n) | cooperation P / R (n) | accusation P / R (n) |",
                  "|---|---|---|---|"]  # fmt: skip
        for entry in table:
            cells = []
            for label in STANCE_LABELS[:-1]:
                e = entry[label]
                cells.append(f"{e['precision']} / {e['recall']} ({e['predicted']})")
            lines.append(f"| {entry['min_stance_score']} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="NAME=DIR")
    parser.add_argument(
        "--ensemble",
        nargs="*",
        action="append",
        metavar="NAME",
        help="add the mean of these models (or of all); repeat for several ensembles",
    )
    parser.add_argument("--thresholds", help="NAME of the model for the threshold table")
    parser.add_argument("--speechact", type=Path, nargs="*", default=[])
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="*",
        default=[],
        help="earlier comparison JSON files whose rows (same data, same code) come first",
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "stance_comparison")
    a = parser.parse_args(argv)
    rows = list(read_rows())
    splits = {s: [r for r in rows if r["stance_split"] == s]
              for s in ("test", "calibration", "seed")}  # fmt: skip
    parliament_rows = []
    if a.speechact:
        from training.evaluate_parliament import _key, read_utterances, trained_documents

        seen = trained_documents()
        parliament_rows = [r for p in a.speechact for r in read_utterances(p)
                           if _key(r["document"]) not in seen]  # fmt: skip
    models = dict(item.split("=", 1) for item in a.models)
    probs: dict[str, dict[str, np.ndarray]] = {}
    for name, directory in models.items():
        probs[name] = {
            s: probabilities(Path(directory), [classify_record(r) for r in part])
            for s, part in splits.items()
        }
        if parliament_rows:
            probs[name]["parliament"] = probabilities(Path(directory), parliament_rows)
        print(f"scored {name}", flush=True)
    for group in a.ensemble or []:
        members = group or list(models)
        if len(members) > 1:
            probs["ensemble of " + " + ".join(members)] = {
                s: np.mean([probs[n][s] for n in members], axis=0) for s in probs[members[0]]
            }
    result: dict = {"models": {}}
    commands = []
    for path in a.merge:
        earlier = json.loads(path.read_text(encoding="utf-8"))
        result["models"].update(earlier["models"])
        commands.append(earlier["command"])
        if earlier.get("thresholds"):
            result["thresholds"] = earlier["thresholds"]
    for name, by_split in probs.items():
        row = {s: stance_report([r["label"] for r in splits[s]], by_split[s])
               for s in splits}  # fmt: skip
        seed_pred = [STANCE_LABELS[i] for i in by_split["seed"].argmax(1)]
        row["seed_correct"] = sum(
            g["label"] == p for g, p in zip(splits["seed"], seed_pred, strict=True)
        )
        row["seed_labels"] = {g["id"]: p for g, p in zip(splits["seed"], seed_pred, strict=True)}
        if "parliament" in by_split:
            from training.evaluate_parliament import parliament_report

            pred = [STANCE_LABELS[i] for i in by_split["parliament"].argmax(1)]
            row["parliament"] = parliament_report(parliament_rows, pred)
        result["models"][name] = row
    if a.thresholds:
        gold = [r["label"] for r in splits["test"]]
        result["thresholds"] = (a.thresholds, threshold_table(gold, probs[a.thresholds]["test"]))
    import sys

    command = "python training/compare_stance.py " + " ".join(argv or sys.argv[1:])
    result["command"] = command if not commands else " ; ".join([*commands, command])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    a.out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(REPO))  # training.evaluate_parliament when run as a script
    main()
