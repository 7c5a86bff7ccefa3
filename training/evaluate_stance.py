"""Evaluate the stance classifier and write ``reports/stance.md`` (and ``reports/stance.json``).

1. Gold quotes: the test split (SpkAtt-news dev, 654 quotes) through the same code path as
   ``quotestance classify`` (``StanceClassifier.classify_records``), with speed (quotes/s).
2. End to end: the default pipeline (detector, speakers, stance) on the 148 dev articles; each
   found gold quote is scored with the stance of its best-matching predicted quote
   (metrics.md, 8a).
3. Targets: on test quotes whose gold target was found in the text, whether the end-to-end
   target shares a character span with it.
4. The baselines of ``training/stance_baselines.py`` (``reports/stance_baselines.json``) and
   the calibration figures of ``training/train_stance.py`` (``reports/stance_model.json``).

Run: ``python training/evaluate_stance.py`` (≈ 1 minute).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from quotestance.document import STANCE_LABELS
from quotestance.evaluation.stance import dev_stance_gold, stance_report
from quotestance.hf_data import rows_of, stance_dataset, stance_splits

REPO = Path(__file__).resolve().parents[1]
REPORTS = REPO / "reports"


def gold_quote_figures(rows: list[dict]) -> dict:
    from quotestance.stance.classifier import StanceClassifier
    from quotestance.stance.data import classify_record

    clf = StanceClassifier.load()
    records = [classify_record(r) for r in rows]
    started = time.perf_counter()
    results = clf.classify_records(records)
    seconds = time.perf_counter() - started
    probs = StanceClassifier.score_matrix(results)
    report = stance_report([r["label"] for r in rows], probs)
    report["quotes_per_second"] = round(len(rows) / seconds, 1)
    return report


def end_to_end(gold: dict[str, str], rows: list[dict]) -> dict:
    from quotestance.evaluation.evaluate import evaluate
    from quotestance.pipeline import Pipeline

    pipeline = Pipeline.default()
    captured: dict[str, object] = {}

    def annotate(doc):
        out = pipeline(doc)
        captured[doc.name] = out
        return out

    result = evaluate(annotate, ["spkatt-news-dev"], stance_gold=gold)["corpora"]["spkatt-news-dev"]
    figures = result.get("stance_e2e", {})
    figures["quote_f1"] = result["quote"]["f1"]
    figures["found_with_label"] = figures.get("n", 0)
    figures["targets"] = target_agreement(rows, captured)
    return figures


def target_agreement(rows: list[dict], docs: dict) -> dict:
    """Of test quotes with a located gold target and a matching predicted quote with the
    gold's (non-none) label: how often the predicted target overlaps the gold target."""
    n = hit = 0
    for row in rows:
        if row["target_start"] is None or row["label"] == "none":
            continue
        doc = docs.get(row["document"])
        if doc is None:
            continue
        quotes = [q for q in doc.quotes if q.start < row["end"] and q.end > row["start"]]
        quotes = [q for q in quotes if q.stance == row["label"]]
        if not quotes:
            continue
        n += 1
        target = quotes[0].target
        hit += bool(
            target and target.start < row["target_end"] and target.end > row["target_start"]
        )
    return {"n": n, "overlap": hit, "accuracy": round(hit / n, 4) if n else None}


def _f(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _row(name: str, r: dict) -> str:
    per = r["per_label_f1"]
    ci = r.get("macro_f1_ci") or [None, None]
    return (
        f"| {name} | {_f(r['macro_f1'])} [{_f(ci[0])}, {_f(ci[1])}] | "
        + " | ".join(_f(per[label]) for label in STANCE_LABELS)
        + f" | {_f(r.get('ece'))} |"
    )


def confusion_table(r: dict) -> list[str]:
    lines = ["| gold \\ predicted | " + " | ".join(STANCE_LABELS) + " |"]
    lines.append("|---" * (len(STANCE_LABELS) + 1) + "|")
    for g in STANCE_LABELS:
        lines.append(
            f"| {g} | " + " | ".join(str(r["confusion"][g][p]) for p in STANCE_LABELS) + " |"
        )
    return lines


def render(gold_fig: dict, e2e: dict, baselines: dict, model: dict, agreement: dict) -> str:
    support = gold_fig["support"]
    lines = [
        "# Stance evaluation",
        "",
        f"Test set: every gold quote of the SpkAtt-news dev split (148 articles, {gold_fig['n']} "
        f"quotes: {', '.join(f'{k} {v}' for k, v in support.items())}), labelled by reading "
        "(`data/stance/`), never trained on. Labels and rules: `shared/spec/stance-labels.md` "
        "and `docs/stance-guidelines.md`. Intervals: 95 % bootstrap over quotes (1000 "
        "resamples). ECE: expected calibration error of the top label (15 bins).",
        "",
        f"Annotation agreement: Cohen's kappa {agreement['cohen_kappa']} on "
        f"{agreement['items']} items annotated twice independently ({agreement['test_items']} "
        f"of them test items), observed agreement {agreement['observed_agreement']}; "
        f"{agreement['disagreements']} disagreements adjudicated"
        + (
            f"; in round two (active learning) kappa {agreement['round2']['cohen_kappa']} on "
            f"{agreement['round2']['items']} new items."
            if agreement.get("round2")
            else "."
        ),
        "",
        "## Gold quotes (`quotestance classify`)",
        "",
        "| system | macro-F1 [95% CI] | " + " | ".join(STANCE_LABELS) + " | ECE |",
        "|---" * (len(STANCE_LABELS) + 3) + "|",
    ]
    for name, r in baselines.items():
        lines.append(_row(name, r))
    lines.append(_row("**fine-tuned e5-small + LoRA (shipped)**", gold_fig))
    lines += ["", "Confusion matrix of the fine-tuned model (gold quotes):", ""]
    lines += confusion_table(gold_fig)
    cal = model.get("calibration", {})
    lines += [
        "",
        f"Calibration: temperature {cal.get('temperature')} fitted on the calibration split "
        f"({cal.get('calibration_rows')} quotes held out of training); ECE there "
        f"{cal.get('ece_before')} before, {cal.get('ece_after')} after; on test "
        f"{gold_fig['ece']}. Reliability (test, top label):",
        "",
        "| confidence bin | quotes | mean confidence | accuracy |",
        "|---|---|---|---|",
    ]
    for b in gold_fig["reliability"]:
        lines.append(
            f"| {b['low']:.1f}–{b['high']:.1f} | {b['n']} | {b['confidence']:.3f} "
            f"| {b['accuracy']:.3f} |"
        )
    lines += [
        "",
        f"Speed of `classify`: {gold_fig['quotes_per_second']} quotes/s "
        "(batch 32, bf16, 2 CPU cores).",
        "",
        "## End to end (`quotestance annotate`)",
        "",
        f"Default pipeline on the 148 dev articles (quote F1 {_f(e2e.get('quote_f1'))}); "
        f"stance of the best-matching predicted quote for the {e2e.get('n', 0)} found gold quotes.",
        "",
        "| system | macro-F1 | " + " | ".join(STANCE_LABELS) + " |",
        "|---" * (len(STANCE_LABELS) + 2) + "|",
    ]
    if e2e.get("per_label_f1"):
        lines.append(
            f"| end to end | {_f(e2e['macro_f1'])} | "
            + " | ".join(_f(e2e["per_label_f1"][label]) for label in STANCE_LABELS)
            + " |"
        )
        lines += ["", "Confusion matrix (end to end):", "", *confusion_table(e2e)]
    t = e2e.get("targets", {})
    lines += [
        "",
        f"Targets: of {t.get('n')} test quotes with a gold target in the text whose predicted "
        f"quote has the gold label, the predicted target overlaps the gold one in "
        f"{t.get('overlap')} ({_f(t.get('accuracy'))}).",
        "",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    rows = rows_of(stance_splits(stance_dataset())["test"])  # datasets: load, split, cached
    baselines = json.loads((REPORTS / "stance_baselines.json").read_text(encoding="utf-8"))
    model = json.loads((REPORTS / "stance_model.json").read_text(encoding="utf-8"))
    agreement = json.loads(
        (REPO / "data" / "stance" / "agreement.json").read_text(encoding="utf-8")
    )
    gold_fig = gold_quote_figures(rows)
    e2e = end_to_end(dev_stance_gold(rows), rows)
    (REPORTS / "stance.json").write_text(
        json.dumps({"gold_quotes": gold_fig, "end_to_end": e2e}, indent=1) + "\n", encoding="utf-8"
    )
    (REPORTS / "stance.md").write_text(
        render(gold_fig, e2e, baselines, model, agreement), encoding="utf-8"
    )
    print(f"gold quotes macro-F1 {gold_fig['macro_f1']:.3f} {gold_fig['macro_f1_ci']}")
    print(f"end to end macro-F1 {e2e.get('macro_f1', 0):.3f}; targets {e2e.get('targets')}")


if __name__ == "__main__":
    main()
