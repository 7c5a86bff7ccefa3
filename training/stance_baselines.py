"""Stance baselines on the same splits as the fine-tuned model (test = SpkAtt-news dev).

- majority: every quote ``none``;
- cue lexicon: the speech act the cue names (``quotestance/resources/cues/speech_acts.tsv``:
  *drohen mit*, *vorwerfen*, *Bereitschaft erklären*, ...), else ``none``;
- TF-IDF + logistic regression (scikit-learn; word 1-2-grams, balanced class weights);
- frozen backbone embeddings (mean-pooled e5-small, no fine-tuning) + logistic regression.
The regularisation of both regressions is chosen on the calibration split.

Run: ``python training/stance_baselines.py`` (≈ 5 minutes; the embeddings dominate).
Writes ``reports/stance_baselines.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from quotestance.document import STANCE_LABELS, Document
from quotestance.evaluation.stance import stance_report
from quotestance.hf_data import rows_of, stance_dataset, stance_splits
from quotestance.stance.data import row_text

REPO = Path(__file__).resolve().parents[1]
LABELS = list(STANCE_LABELS)


def one_hot(labels: list[str]) -> np.ndarray:
    out = np.zeros((len(labels), len(LABELS)))
    for i, label in enumerate(labels):
        out[i, LABELS.index(label)] = 1.0
    return out


def cue_lexicon_labels(rows: list[dict]) -> list[str]:
    """The act of the cue verb in its sentence, by the speech-act lexicon."""
    from quotestance.detect.lexicon import CueLexicon
    from quotestance.morphology import MoodAnalyser
    from quotestance.text import TextSegmenter

    lexicon = CueLexicon.load()
    segment, analyse = TextSegmenter(), MoodAnalyser()
    out = []
    for row in rows:
        doc = analyse(segment(Document(text=row["context"] or row["quote"])))
        words = [t.text.lower() for t in doc.tokens]
        cue_words = set(row["cue"].replace("…", " ").split())
        act = None
        for tok in doc.tokens:
            if tok.text in cue_words and act is None:
                act = lexicon.speech_act_of(tok.lemma or tok.text, words)
        out.append(act or "none")
    return out


def fit_logistic(x_train, y_train, x_cal, y_cal) -> tuple[object, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    best, best_f1, best_c = None, -1.0, 0.0
    for c in (0.1, 0.3, 1.0, 3.0, 10.0):
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=13)
        model.fit(x_train, y_train)
        f1 = f1_score(y_cal, model.predict(x_cal), labels=LABELS, average="macro", zero_division=0)
        if f1 > best_f1:
            best, best_f1, best_c = model, f1, c
    return best, best_c


def ordered_probs(model, x) -> np.ndarray:
    probs = model.predict_proba(x)
    return probs[:, [list(model.classes_).index(label) for label in LABELS]]


def embeddings(texts: list[str], batch_size: int = 32) -> np.ndarray:
    import torch

    from quotestance.backbone import load_backbone, text_prefix

    encoder, tokenizer = load_backbone(None)
    encoder.eval()
    prefix = text_prefix(None)
    out = []
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for k in range(0, len(order), batch_size):
            idx = order[k : k + batch_size]
            enc = tokenizer([prefix + texts[i] for i in idx], truncation=True, max_length=160,
                            padding=True, return_tensors="pt")  # fmt: skip
            hidden = encoder(**enc)[0].float()
            mask = enc["attention_mask"].unsqueeze(-1).float()
            vectors[idx] = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    out.append(vectors)
    return vectors


def main() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    parts = stance_splits(stance_dataset())  # load, split by document (datasets, cached)
    split = {name: rows_of(parts[name]) for name in ("train", "calibration", "test")}
    gold = {name: [r["label"] for r in part] for name, part in split.items()}
    results: dict[str, dict] = {}
    results["majority (none)"] = stance_report(gold["test"], one_hot(["none"] * len(gold["test"])))
    results["cue lexicon"] = stance_report(gold["test"], one_hot(cue_lexicon_labels(split["test"])))

    texts = {name: [row_text(r) for r in part] for name, part in split.items()}
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform(texts["train"])
    model, c = fit_logistic(
        x_train, gold["train"], vectorizer.transform(texts["calibration"]), gold["calibration"]
    )
    results["TF-IDF + logistic regression"] = stance_report(
        gold["test"], ordered_probs(model, vectorizer.transform(texts["test"]))
    )
    results["TF-IDF + logistic regression"]["C"] = c

    vectors = {name: embeddings(t) for name, t in texts.items()}
    model, c = fit_logistic(
        vectors["train"], gold["train"], vectors["calibration"], gold["calibration"]
    )
    results["frozen e5 embeddings + logistic regression"] = stance_report(
        gold["test"], ordered_probs(model, vectors["test"])
    )
    results["frozen e5 embeddings + logistic regression"]["C"] = c

    out = REPO / "reports" / "stance_baselines.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, r in results.items():
        print(f"{name:45s} macro-F1 {r['macro_f1']:.3f} {r['macro_f1_ci']} {r['per_label_f1']}")


if __name__ == "__main__":
    main()
