"""Experiment (issue 16): can stance be read off the tagger's own encoding?

The pipeline encodes each article once for the tagger and again, per quote, for the stance
model. If a head on the tagger's word states (``doc.encoding``: no second encoder pass) came
within 0.02 macro-F1 of the separate stance model, the second pass could go. This script
measures that: every stance row's context is tagged once, the states are pooled over the
quote, its cue, its speaker and the whole context (4 x 384 numbers), and a multinomial
logistic regression (class-balanced, C chosen on the calibration split) is fitted on the
train split. Scores on the test split (the SpkAtt-news dev quotes, never trained on) with the
same report as the stance model (``quotestance.evaluation.stance``).

Run: ``python training/stance_shared_encoding.py [--limit N]`` (about 10 minutes here);
writes ``reports/stance_shared_encoding.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from quotestance.document import STANCE_LABELS, Document
from quotestance.evaluation.stance import stance_report
from quotestance.stance.data import read_rows
from quotestance.text import TextSegmenter

REPO = Path(__file__).resolve().parents[1]
SPLITS = ("train", "calibration", "test")


def span_of(context: str, text: str) -> tuple[int, int] | None:
    if not text:
        return None
    start = context.find(text)
    return (start, start + len(text)) if start >= 0 else None


def encode_rows(batch: dict[str, list], tagger, segmenter) -> dict[str, list]:
    """``datasets`` map function: the pooled tagger states of each row (quote, cue, speaker,
    whole context)."""
    docs = [segmenter(Document(text=context)) for context in batch["context"]]
    tagger.detect_many(docs)
    features = []
    for k, doc in enumerate(docs):
        enc = doc.encoding
        if enc is None:  # an empty context
            features.append(np.zeros(4 * 384, dtype=np.float32).tolist())
            continue
        zeros = np.zeros(enc.size, dtype=np.float32)
        parts = []
        for field in ("quote", "cue", "speaker"):
            span = span_of(doc.text, batch[field][k])
            if span is None and field == "quote":
                span = (0, len(doc.text))
            parts.append(enc.pool(*span) if span else zeros)
        parts.append(enc.pool(0, len(doc.text), max_words=10_000))
        features.append(np.concatenate(parts).tolist())
    return {"features": features}


def main(argv: list[str] | None = None) -> None:
    from datasets import Dataset
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import StandardScaler

    from quotestance.detect.tagger import QuoteTagger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int)
    default_out = REPO / "reports" / "stance_shared_encoding.json"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    started = time.time()
    rows = [
        {key: row[key] or "" for key in ("id", "quote", "context", "cue", "speaker", "label")}
        | {"split": row["stance_split"]}
        for row in read_rows()
        if row["stance_split"] in SPLITS
    ][: args.limit]
    tagger, segmenter = QuoteTagger.load(), TextSegmenter()
    data = Dataset.from_list(rows).map(
        encode_rows,
        batched=True,
        batch_size=64,
        fn_kwargs={"tagger": tagger, "segmenter": segmenter},
        desc="tag contexts",
        load_from_cache_file=False,  # the tagger is not part of the cache's fingerprint
    )
    encoded_s = time.time() - started
    x = {s: np.array(data.filter(lambda r, s=s: r["split"] == s)["features"]) for s in SPLITS}
    y = {s: [r["label"] for r in data if r["split"] == s] for s in SPLITS}
    scaler = StandardScaler().fit(x["train"])
    x = {s: scaler.transform(v) for s, v in x.items()}
    search = {}
    for c in (0.001, 0.003, 0.01, 0.03):
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(x["train"], y["train"])
        search[c] = f1_score(y["calibration"], model.predict(x["calibration"]), average="macro")
        print(f"C={c}: calibration macro-F1 {search[c]:.4f}", flush=True)
    best = max(search, key=search.get)
    model = LogisticRegression(C=best, class_weight="balanced", max_iter=2000)
    model.fit(x["train"], y["train"])
    probs = model.predict_proba(x["test"])
    order = [list(model.classes_).index(label) for label in STANCE_LABELS]
    report = stance_report(y["test"], probs[:, order])
    result = {
        "experiment": "stance head (logistic regression) on the tagger's pooled word states",
        "rows": {s: len(y[s]) for s in SPLITS},
        "C": best,
        "calibration_macro_f1": {str(c): round(v, 4) for c, v in search.items()},
        "test": report,
        "encode_seconds": round(encoded_s, 1),
        "seconds": round(time.time() - started, 1),
        "command": "python training/stance_shared_encoding.py",
    }
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "test"}, indent=1))
    print("test macro-F1", report.get("macro_f1"), report.get("per_label_f1"))


if __name__ == "__main__":
    main()
