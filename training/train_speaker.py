"""Train the speaker linker (``quotestance/speakers/linker.py``) on gold speaker annotations.

Steps: run the quote detector over SpkAtt-news and GePaDe *train* documents (the fixed dev split
is never used for training), match each predicted quote to a gold quote (the half-cover rule
of metrics.md), generate the candidate mentions around it and label a candidate positive when it
shares a token with the gold ``Source``. A logistic regression (scikit-learn) is fitted on the
features; the no-speaker threshold is chosen on train for joint accuracy (a gold quote without
``Source`` wants no speaker). Writes ``quotestance/resources/speakers/linker.json`` (weights,
threshold, data, scores; ``--out`` to write elsewhere) and prints dev figures.

Run: ``python training/train_speaker.py`` (about 3 minutes here; detector output is cached in
``data/cache/``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from quotestance.corpora.base import AnnotatedDocument, GoldQuote
from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path, is_dev
from quotestance.document import Document, Quote
from quotestance.evaluation.metrics import Scorer, TokenIndex
from quotestance.speakers.linker import (
    DEFAULT_MODEL,
    SpeakerLinker,
    candidates_for,
    features,
    quote_context,
)
from quotestance.speakers.mentions import mentions_of
from quotestance.speakers.pairs import pair_inputs
from quotestance.speakers.scorer import (
    DEFAULT_SCORER,
    WEIGHTS_FILE,
    SpeakerScorer,
    SpeakerScorerModel,
    collate,
)

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "data" / "cache"
CORPORA = ("spkatt-news", "spkatt-gepade")


@dataclass
class SpeakerTrainingArguments:
    corpora: tuple[str, ...] = CORPORA
    detector: str = "auto"
    regularisation: tuple[float, ...] = (0.1, 0.3, 1.0)  # C values, chosen by 5-fold CV on train
    out: Path = DEFAULT_MODEL
    seed: int = 13
    limit: int | None = None
    notes: dict = field(default_factory=dict)


def detected(
    corpus: str, detector: str, limit: int | None
) -> list[tuple[AnnotatedDocument, Document]]:
    """Gold documents with the detector's output, cached per corpus and detector."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"speaker-{corpus}-{detector}-{limit}.pkl"
    if path.exists():
        with open(path, "rb") as handle:
            return pickle.load(handle)
    from quotestance.pipeline import Pipeline

    golds = list(iter_spkatt(corpus_path(corpus), corpus=corpus))[:limit]
    pipeline = Pipeline.default(detector, speakers=False)
    preds = list(
        tqdm(
            pipeline.pipe((g.to_document() for g in golds), batch_size=32),
            total=len(golds),
            desc=f"detect {corpus}",
        )
    )
    pairs = list(zip(golds, preds, strict=True))
    with open(path, "wb") as handle:
        pickle.dump(pairs, handle)
    return pairs


def match_gold(gold: AnnotatedDocument, pred: Document) -> list[tuple[Quote, GoldQuote | None]]:
    """Each predicted quote with the gold quote it covers best (or None), in text order."""
    index = TokenIndex(gold.token_spans)
    out = []
    for quote in sorted(pred.quotes, key=lambda q: (q.start, q.end)):
        covered = index.covered(quote.start, quote.end)
        best, best_j = None, 0.0
        for g in gold.gold:
            inter = len(covered & g.message)
            if inter * 2 >= len(g.message) and inter:
                j = inter / len(covered | g.message)
                if j > best_j:
                    best, best_j = g, j
        out.append((quote, best))
    return out


def source_span(gold: AnnotatedDocument, g: GoldQuote | None) -> tuple[int, int] | None:
    if g is None or not g.source:
        return None
    spans = [gold.token_spans[t] for t in g.source]
    return min(s for s, _ in spans), max(e for _, e in spans)


def labelled_quotes(pairs, split: str):
    """(document, quote context, candidates, their labels, quote key) for every predicted quote
    that matches a gold quote; a candidate is right when it shares a token with the gold
    ``Source``. The previous speaker is the gold one (teacher forcing)."""
    for gold, pred in pairs:
        if (split == "dev") != is_dev(gold.name):
            continue
        index = TokenIndex(gold.token_spans)
        candidates = mentions_of(pred)
        previous = None
        for n, (quote, g) in enumerate(match_gold(gold, pred)):
            if g is None:
                continue
            ctx = quote_context(pred, quote)
            ctx.previous_speaker = previous
            cands = candidates_for(pred, ctx, candidates)
            labels = [int(bool(g.source & index.covered(c.start, c.end))) for c in cands]
            yield pred, ctx, cands, labels, (gold.name, n, bool(g.source))
            previous = source_span(gold, g) or previous


def examples(pairs, split: str):
    """(features, label, quote key) for every candidate of every matched predicted quote."""
    return [
        (features(doc, ctx, cand), label, key)
        for doc, ctx, cands, labels, key in labelled_quotes(pairs, split)
        for cand, label in zip(cands, labels, strict=True)
    ]


class SpeakerTrainer:
    def __init__(self, args: SpeakerTrainingArguments) -> None:
        self.args = args
        self.pairs = [p for c in args.corpora for p in detected(c, args.detector, args.limit)]

    def train(self) -> SpeakerLinker:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        started = time.time()
        rows = examples(self.pairs, "train")
        vec = DictVectorizer()
        x = vec.fit_transform([r[0] for r in rows])
        y = np.array([r[1] for r in rows])
        cv = {c: self._cross_validate(x, y, rows, c) for c in self.args.regularisation}
        best_c = max(cv, key=cv.get)
        model = LogisticRegression(C=best_c, max_iter=3000, random_state=self.args.seed)
        model.fit(x, y)
        weights = {
            name: float(w)
            for name, w in zip(vec.get_feature_names_out(), model.coef_[0], strict=True)
        }
        linker = SpeakerLinker(weights, float(model.intercept_[0]), 0.0)
        self.linker = linker
        self.choose_threshold()
        reachable = {r[2] for r in rows if r[1]}
        self.info = {
            "C": best_c,
            "cv_top1_accuracy": {str(c): round(a, 4) for c, a in cv.items()},
            "quotes_with_source_and_a_right_candidate": len(reachable),
            "quotes_with_source": len({r[2] for r in rows if r[2][2]}),
            "candidates": len(rows),
            "positives": int(y.sum()),
            "quotes": len({r[2] for r in rows}),
            "seconds": round(time.time() - started, 1),
        }
        return linker

    def _cross_validate(self, x, y, rows, c: float) -> float:
        """Top-1 accuracy over quotes with a source, 5 folds grouped by document."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GroupKFold

        docs = np.array([r[2][0] for r in rows])
        right = total = 0
        for fit, held in GroupKFold(n_splits=5).split(x, y, docs):
            model = LogisticRegression(C=c, max_iter=3000, random_state=self.args.seed)
            model.fit(x[fit], y[fit])
            scores = model.decision_function(x[held])
            best: dict[tuple, tuple[float, int]] = {}
            for k, i in enumerate(held):
                key = rows[i][2]
                if key[2] and (key not in best or scores[k] > best[key][0]):
                    best[key] = (scores[k], y[i])
            right += sum(label for _, label in best.values())
            total += len(best)
        return right / max(total, 1)

    def evaluate(
        self, split: str = "dev", linker: SpeakerLinker | None = None, by_form: bool = False
    ) -> dict:
        """The official figures (``Scorer``, metrics.md) with the linker applied to the cached
        detector output of ``split``."""
        linker = linker or self.linker
        scorer = Scorer(resamples=0)
        for gold, pred in self.pairs:
            if (split == "dev") == is_dev(gold.name) and gold.corpus == "spkatt-news":
                scorer.add(gold, linker(copy.deepcopy(pred)))
        result = scorer.result()
        out = {
            "speaker_accuracy": round(result["speaker_accuracy"]["accuracy"], 4),
            "speaker_n": result["speaker_accuracy"]["n"],
            "joint_f1": round(result["joint"]["f1"], 4),
            "quote_f1": round(result["quote"]["f1"], 4),
        }
        if by_form:
            out["by_form"] = result["speaker_accuracy_by_form"]
        return out

    def choose_threshold(self, candidates=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)) -> float:
        """The no-speaker threshold with the best joint F1 on SpkAtt-news train."""
        best = max(
            candidates,
            key=lambda t: self.evaluate(
                "train", SpeakerLinker(self.linker.weights, self.linker.intercept, t)
            )["joint_f1"],
        )
        self.linker.threshold = best
        return best

    def save(self, scores: dict) -> Path:
        out = Path(self.args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "model": "logistic regression over (quote, candidate) features",
            "trained_on": [
                f"{c} train split (sha256 dev split excluded)" for c in self.args.corpora
            ],
            "licence": "derived from CC BY-NC-SA 4.0 (SpkAtt-news) and CC BY-SA 4.0 (GePaDe) "
            "data: non-commercial use only",
            "command": "python training/train_speaker.py",
            "info": self.info,
            "scores": scores,
            "intercept": self.linker.intercept,
            "threshold": self.linker.threshold,
            "weights": dict(sorted(self.linker.weights.items())),
        }
        out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return out


@dataclass
class ScorerTrainingArguments:
    """The learned scorer (``speakers/scorer.py``): sparse features + the tagger's states."""

    epochs: int = 10
    batch_quotes: int = 64
    learning_rate: float = 3e-4
    weight_decay: float = 1e-2
    inner: int = 32
    dropout: float = 0.3
    freeze_linear: bool = False  # keep the logistic regression's weights; learn the rest
    min_feature_count: int = 2
    validation_every: int = 10  # every 10th train document (by name hash) picks the epoch
    seed: int = 13
    out: Path = DEFAULT_SCORER


class ScorerTrainer:
    """Fits ``SpeakerScorerModel`` with one softmax per quote over "nobody" and its candidates:
    the loss is -log P(any right candidate), or -log P(nobody) for a gold quote without a
    ``Source``. Quotes whose gold speaker is no candidate are left out (nothing to learn)."""

    def __init__(self, args: ScorerTrainingArguments, pairs, linker: SpeakerLinker) -> None:
        self.args = args
        self.linker = linker
        self.items, self.targets, self.docs = [], [], []
        for doc, ctx, cands, labels, key in labelled_quotes(pairs, "train"):
            if key[2] and not any(labels):
                continue
            quote, cue = ctx.quote, ctx.quote.cue
            feats = [features(doc, ctx, c) for c in cands]
            cue_span = (cue.start, cue.end) if cue else None
            spans = [(c.start, c.end) for c in cands]
            self.items.append(
                pair_inputs(doc.encoding, (quote.start, quote.end), cue_span, spans, feats)
            )
            self.targets.append([k + 1 for k, y in enumerate(labels) if y] or [0])
            self.docs.append(key[0])
        counts: dict[str, int] = {}
        for item in self.items:
            for f in item.feats:
                for name in f:
                    counts[name] = counts.get(name, 0) + 1
        self.features = sorted(n for n, c in counts.items() if c >= args.min_feature_count)
        self.vocab = {name: k for k, name in enumerate(self.features)}
        held = {d for d in set(self.docs) if int(hashlib.sha256(d.encode()).hexdigest(), 16)
                % args.validation_every == 0}  # fmt: skip
        self.fit_rows = [k for k, d in enumerate(self.docs) if d not in held]
        self.held_rows = [k for k, d in enumerate(self.docs) if d in held]

    def _loss(self, model, rows: list[int]):
        import torch

        batch = collate([self.items[k] for k in rows], self.vocab)
        logp = torch.log_softmax(model(batch), dim=-1)
        mask = torch.zeros_like(logp, dtype=torch.bool)
        for q, k in enumerate(rows):
            mask[q, self.targets[k]] = True
        gold = torch.logsumexp(logp.masked_fill(~mask, float("-inf")), dim=-1)
        top = logp.argmax(-1)
        hits = mask[torch.arange(len(rows)), top].sum().item()
        return -gold.mean(), hits

    def train(self) -> SpeakerScorer:
        import random

        import torch

        random.seed(self.args.seed)
        torch.manual_seed(self.args.seed)
        hidden = self.items[0].quote.shape[0] // 2
        model = SpeakerScorerModel(len(self.vocab), hidden, self.args.inner, self.args.dropout)
        with torch.no_grad():  # start from the logistic regression's weights
            for name, k in self.vocab.items():
                model.sparse.weight[k, 0] = self.linker.weights.get(name, 0.0)
        model.sparse.weight.requires_grad_(not self.args.freeze_linear)
        optimiser = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad],
            lr=self.args.learning_rate,
            weight_decay=self.args.weight_decay,
        )
        started, best, history = time.time(), (-1.0, None, 0), []
        rows = list(self.fit_rows)
        for epoch in range(1, self.args.epochs + 1):
            model.train()
            random.shuffle(rows)
            total = 0.0
            steps = range(0, len(rows), self.args.batch_quotes)
            for i in tqdm(steps, desc=f"scorer epoch {epoch}", leave=False):
                loss, _ = self._loss(model, rows[i : i + self.args.batch_quotes])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item()
            model.eval()
            with torch.no_grad():
                hits = sum(
                    self._loss(model, self.held_rows[i : i + 256])[1]
                    for i in range(0, len(self.held_rows), 256)
                )
            accuracy = hits / max(len(self.held_rows), 1)
            history.append({"epoch": epoch, "loss": round(total / len(steps), 4),
                            "validation_top1": round(accuracy, 4)})  # fmt: skip
            print(history[-1], flush=True)
            if accuracy > best[0]:
                best = (accuracy, copy.deepcopy(model.state_dict()), epoch)
        model.load_state_dict(best[1])
        from quotestance.resources import model_versions

        self.info = {
            "model": "sparse linear + MLP over the tagger's word states, softmax with nobody",
            "hidden_size": hidden,
            "inner": self.args.inner,
            "dropout": self.args.dropout,
            "freeze_linear": self.args.freeze_linear,
            "learning_rate": self.args.learning_rate,
            "weight_decay": self.args.weight_decay,
            "weights": WEIGHTS_FILE,
            "tagger_version": model_versions()["tagger"],
            "epochs": self.args.epochs,
            "best_epoch": best[2],
            "history": history,
            "quotes": len(self.items),
            "fit_quotes": len(self.fit_rows),
            "validation_quotes": len(self.held_rows),
            "seconds": round(time.time() - started, 1),
            "features": self.features,
        }
        self.model = model.eval()
        return SpeakerScorer(self.model, self.vocab, self.info)

    def save(self, scores: dict) -> Path:
        from safetensors.torch import save_file

        out = Path(self.args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        save_file(self.model.state_dict(), str(out.parent / WEIGHTS_FILE))
        info = {
            "trained_on": [f"{c} train split (sha256 dev split excluded)" for c in CORPORA],
            "licence": "derived from CC BY-NC-SA 4.0 (SpkAtt-news) and CC BY-SA 4.0 (GePaDe) "
            "data: non-commercial use only",
            "command": "python training/train_speaker.py --model neural",
            "scores": scores,
            **self.info,
        }
        out.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the speaker linker.")
    parser.add_argument("--detector", default="auto")
    parser.add_argument("--C", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--model", choices=("linear", "neural"), default="linear",
        help="linear: the logistic regression; neural: the scorer on the tagger's states "
        "(needs the linear model, whose weights start it and which it is compared with)",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.model == "neural":
        train_neural(args)
        return
    args.out = args.out or DEFAULT_MODEL
    trainer = SpeakerTrainer(
        SpeakerTrainingArguments(
            detector=args.detector, regularisation=tuple(args.C), out=args.out, limit=args.limit
        )
    )
    trainer.train()
    scores = {
        "train": trainer.evaluate("train"),
        "dev": trainer.evaluate("dev"),
    }
    path = trainer.save(scores)
    print(
        json.dumps(
            {"info": trainer.info, "threshold": trainer.linker.threshold, **scores}, indent=1
        )
    )
    print(f"saved {path}")


def train_neural(args: argparse.Namespace) -> None:
    """Train the scorer on the same cached detector output and compare it with the shipped
    logistic regression on SpkAtt-news dev (official figures, per form)."""
    base = SpeakerTrainer(SpeakerTrainingArguments(detector=args.detector, limit=args.limit))
    linear = SpeakerLinker.load(scorer=False)
    trainer = ScorerTrainer(
        ScorerTrainingArguments(epochs=args.epochs, out=args.out or DEFAULT_SCORER),
        base.pairs, linear,
    )  # fmt: skip
    scorer = trainer.train()
    neural = SpeakerLinker(linear.weights, linear.intercept, linear.threshold, scorer)
    scores = {
        name: {split: base.evaluate(split, linker, by_form=True) for split in ("train", "dev")}
        for name, linker in (("linear", linear), ("neural", neural))
    }
    path = trainer.save(scores)
    print(json.dumps(scores, indent=1))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
