"""The figures of ``shared/spec/metrics.md`` over (gold document, predicted document) pairs.

Predictions are character spans; gold is token ids. A predicted span *covers* a token when at
least half of the token's characters lie inside it, and every comparison is made on covered
token sets. Matching rules follow ``shared/tools/spkatt_score.py`` exactly (the independent
reference scorer), so both give the same figures on the same predictions:

- a gold quote is *found* when some predicted quote covers at least half of its tokens; a
  predicted quote is *correct* when some gold quote covers at least half of the predicted one's;
- speaker accuracy uses the found gold quote's best match (highest token Jaccard, first on ties);
- joint F1 accepts any matching pair whose speakers agree (share a token, or both empty);
- cue F1 counts only gold quotes with a ``Cue`` and predicted quotes whose cue covers a token.

``Scorer`` accumulates per document so an evaluation can stream over a corpus; it keeps a
few counts per document for the bootstrap confidence intervals.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quotestance.corpora.base import AnnotatedDocument, GoldQuote, TokenId, token_order
from quotestance.document import STANCE_LABELS, Document, Quote, Span

# Figures with a bootstrap interval: the per-document counts (correct, predicted, found, gold)
# that give their precision and recall.
_CI_FIGURES = {
    "quote": ("q_correct", "q_pred", "q_found", "q_gold"),
    "message_token": ("tok_tp", "tok_pred", "tok_tp", "tok_gold"),
    "joint": ("joint_correct", "q_pred", "joint_found", "q_gold"),
}
_DOC_COUNTS = sorted({name for names in _CI_FIGURES.values() for name in names})


class TokenIndex:
    """A document's token spans sorted by offset, so mapping a span to tokens is a bisection."""

    def __init__(self, token_spans: Mapping[TokenId, tuple[int, int]]) -> None:
        ordered = sorted(token_spans.items(), key=lambda item: item[1])
        self._ids = [token_id for token_id, _ in ordered]
        self._starts = [start for _, (start, _) in ordered]
        self._ends = [end for _, (_, end) in ordered]

    def covered(self, start: int | None, end: int | None) -> frozenset[TokenId]:
        """Tokens of which at least half the characters lie in ``[start, end)``."""
        if start is None or end is None or end <= start:
            return frozenset()
        lo = bisect_right(self._ends, start)  # first token ending after start
        hi = bisect_left(self._starts, end)  # first token starting at or after end
        out = []
        for i in range(lo, hi):
            a, b = self._starts[i], self._ends[i]
            inter = min(b, end) - max(a, start)
            if inter > 0 and inter * 2 >= b - a:
                out.append(self._ids[i])
        return frozenset(out)

    def covered_span(self, span: Span | None) -> frozenset[TokenId]:
        return self.covered(span.start, span.end) if span is not None else frozenset()


def prf(correct: int, predicted: int, found: int, gold: int) -> dict[str, float]:
    """Precision, recall and F1 where matches are counted separately on each side."""
    p = correct / predicted if predicted else 0.0
    r = found / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def _covers_half(covering: frozenset[TokenId], covered: Iterable[TokenId], size: int) -> bool:
    """Does ``covering`` hold at least half of the ``size`` tokens of ``covered``?"""
    return bool(covering) and size > 0 and 2 * len(covering.intersection(covered)) >= size


def stance_metrics(
    gold_labels: Sequence[str], pred_labels: Sequence[str], labels: Sequence[str] = STANCE_LABELS
) -> dict[str, Any]:
    """Macro-F1 over the stance labels, per-label F1 and the confusion matrix (gold -> pred).

    A label with no true positive scores 0 (as the reference scorer does), so a label that
    never occurs in gold pulls the macro average down; ``support`` shows when that happens.
    """
    if len(gold_labels) != len(pred_labels):
        raise ValueError(f"{len(gold_labels)} gold labels but {len(pred_labels)} predictions")
    pairs = Counter(zip(gold_labels, pred_labels, strict=True))
    per_label = {}
    for label in labels:
        tp = pairs[(label, label)]
        fp = sum(n for (g, p), n in pairs.items() if p == label and g != label)
        fn = sum(n for (g, p), n in pairs.items() if g == label and p != label)
        per_label[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {
        "n": len(gold_labels),
        "macro_f1": sum(per_label.values()) / len(labels) if labels else 0.0,
        "per_label_f1": per_label,
        "support": {label: sum(1 for g in gold_labels if g == label) for label in labels},
        "labels": list(labels),
        "confusion": {g: {p: pairs[(g, p)] for p in labels} for g in labels},
    }


def stance_key(doc_name: str, gold_index: int) -> str:
    """Key of a gold quote's stance label: ``<article id>#<annotation index>``.

    The same key as the reference scorer's ``--stance-gold`` file (article id = the file name
    up to `` - ``). The index counts the document's gold quotes, which for SpkAtt news equals
    the annotation index since every news annotation has a Message.
    """
    return f"{doc_name.split(' - ')[0]}#{gold_index}"


@dataclass
class _Pred:
    """A predicted quote reduced to covered token sets."""

    message: frozenset[TokenId]
    speaker: frozenset[TokenId]
    cue: frozenset[TokenId]
    addressee: frozenset[TokenId]
    kind: str
    stance: str | None


class Scorer:
    """Streams (gold, predicted) document pairs and reports every figure of metrics.md.

    ``stance_gold`` maps ``stance_key(doc name, gold index)`` to a stance label; stance figures
    appear only when it is given and some prediction carries a stance.
    """

    def __init__(
        self,
        stance_gold: Mapping[str, str] | None = None,
        resamples: int = 1000,
        seed: int = 13,
    ) -> None:
        self.stance_gold = stance_gold
        self.resamples = resamples
        self.seed = seed
        self.counts: Counter[str] = Counter()
        self.form_gold: Counter[str] = Counter()
        self.form_found: Counter[str] = Counter()
        self.medium_gold: Counter[str] = Counter()
        self.medium_found: Counter[str] = Counter()
        self.kind_pred: Counter[str] = Counter()
        self.kind_correct: Counter[str] = Counter()
        self.per_doc: list[tuple[int, ...]] = []
        self.stance_pairs: list[tuple[str, str]] = []
        self.pred_has_stance = False
        self.speaker_form_n: Counter[str] = Counter()
        self.speaker_form_ok: Counter[str] = Counter()
        self.speaker_errors: Counter[tuple[str, str]] = Counter()
        self.error_examples: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.detection_examples: dict[str, list[dict[str, Any]]] = {"missed": [], "spurious": []}
        self.examples_per_kind = 8

    def add(self, gold: AnnotatedDocument, pred: Document) -> None:
        """Score one document; ``pred`` must be annotated on ``gold.text``."""
        if pred.text != gold.text:
            raise ValueError(f"{gold.name}: predicted document text differs from the gold text")
        index = TokenIndex(gold.token_spans)
        preds = [self._reduce(index, quote) for quote in pred.quotes]
        doc = Counter[str]()

        gold_tokens = set().union(*(g.message for g in gold.gold))
        pred_tokens = set().union(*(p.message for p in preds))
        doc["tok_tp"] = len(gold_tokens & pred_tokens)
        doc["tok_gold"] = len(gold_tokens)
        doc["tok_pred"] = len(pred_tokens)

        missed, spurious = [], []
        for number, g in enumerate(gold.gold):
            best = self._score_gold(gold.name, number, g, preds, doc)
            if g.source and best is not None:
                self._speaker_by_form(gold, g, pred, best)
            if best is None:
                missed.append(g)
        for p in preds:
            if not self._score_pred(p, gold.gold, doc):
                spurious.append(p)
        self._keep_detection_example(gold, "missed", missed[:1], gold_side=True)
        self._keep_detection_example(gold, "spurious", spurious[:1], gold_side=False)

        self.counts["documents"] += 1
        self.counts.update(doc)
        self.per_doc.append(tuple(doc[name] for name in _DOC_COUNTS))

    @staticmethod
    def _reduce(index: TokenIndex, quote: Quote) -> _Pred:
        return _Pred(
            message=index.covered(quote.start, quote.end),
            speaker=index.covered_span(quote.speaker),
            cue=index.covered_span(quote.cue),
            addressee=index.covered_span(quote.addressee),
            kind=quote.kind,
            stance=quote.stance,
        )

    def _speaker_by_form(
        self, gold: AnnotatedDocument, g: GoldQuote, pred: Document, best: _Pred
    ) -> None:
        """Speaker accuracy by the gold source's form, and a typed record of each error."""
        form = source_form(gold, g, pred)
        ok = bool(g.source & best.speaker)
        self.speaker_form_n[form] += 1
        self.speaker_form_ok[form] += ok
        if ok:
            return
        if not best.speaker:
            error = "no speaker predicted"
        elif best.speaker & best.message:
            error = "a mention inside the quote"
        elif {t.split(":")[0] for t in best.speaker} & {t.split(":")[0] for t in g.message}:
            error = "another mention in the quote's sentence"
        else:
            error = "a mention in another sentence"
        key = (form, error)
        self.speaker_errors[key] += 1
        examples = self.error_examples.setdefault(key, [])
        if len(examples) < 3:
            ordered = sorted(g.message, key=token_order)
            start, end = gold.token_spans[ordered[0]][0], gold.token_spans[ordered[-1]][1]
            marks = [("quote", g.message), ("cue", g.cue), ("speaker", g.source)]
            examples.append(
                {
                    "document": gold.name,
                    "quote": gold.text[start:end][:160],
                    "gold_speaker": _tokens_text(gold, g.source),
                    "predicted_speaker": _tokens_text(gold, best.speaker),
                    "context": in_context(gold, [*marks, ("predicted", best.speaker)]),
                }
            )

    def _keep_detection_example(
        self, gold: AnnotatedDocument, kind: str, quotes: Sequence[Any], gold_side: bool
    ) -> None:
        """One missed gold quote or one spurious prediction per document, the first few
        documents: the quote, its cue and speaker marked in their sentences."""
        kept = self.detection_examples[kind]
        for q in quotes:
            if len(kept) >= self.examples_per_kind:
                return
            if gold_side:
                marks = [("quote", q.message), ("cue", q.cue), ("speaker", q.source)]
            else:
                marks = [("predicted", q.message), ("cue", q.cue), ("predicted", q.speaker)]
            kept.append(
                {
                    "document": gold.name,
                    "form": q.form if gold_side else q.kind,
                    "context": in_context(gold, marks),
                }
            )

    def _score_gold(
        self, doc_name: str, number: int, g: GoldQuote, preds: list[_Pred], doc: Counter[str]
    ) -> _Pred | None:
        doc["q_gold"] += 1
        self.form_gold[g.form] += 1
        self.medium_gold[g.medium or "unknown"] += 1
        matches = [p for p in preds if _covers_half(p.message, g.message, len(g.message))]
        if matches:
            doc["q_found"] += 1
            self.form_found[g.form] += 1
            self.medium_found[g.medium or "unknown"] += 1
            best = max(matches, key=lambda p: _jaccard(g.message, p.message))
            if g.source:
                doc["spk_n"] += 1
                doc["spk_ok"] += bool(g.source & best.speaker)
            if g.addressee:
                doc["addr_found"] += bool(g.addressee & best.addressee)
            if any(_speaker_ok(g, p) for p in matches):
                doc["joint_found"] += 1
            if self.stance_gold is not None:
                label = self.stance_gold.get(stance_key(doc_name, number))
                if label is not None:
                    self.stance_pairs.append((label, best.stance or "none"))
        if g.cue:
            doc["cue_gold"] += 1
            doc["cue_found"] += any(_covers_half(p.cue, g.cue, len(g.cue)) for p in preds)
        if g.addressee:
            doc["addr_gold"] += 1
        return best if matches else None

    def _score_pred(self, p: _Pred, golds: list[GoldQuote], doc: Counter[str]) -> bool:
        """Count one prediction; whether it matches a gold quote."""
        doc["q_pred"] += 1
        self.kind_pred[p.kind] += 1
        matched = [g for g in golds if _covers_half(p.message, g.message, len(p.message))]
        if matched:
            doc["q_correct"] += 1
            self.kind_correct[p.kind] += 1
        doc["joint_correct"] += any(_speaker_ok(g, p) for g in matched)
        if p.cue:
            doc["cue_pred"] += 1
            doc["cue_correct"] += any(
                g.cue and _covers_half(p.cue, g.cue, len(p.cue)) for g in golds
            )
        if p.addressee:
            doc["addr_pred"] += 1
            doc["addr_correct"] += any(g.addressee & p.addressee for g in matched)
        if p.stance is not None:
            self.pred_has_stance = True
        return bool(matched)

    def result(self) -> dict[str, Any]:
        """All figures with their counts; rates are floats in [0, 1]."""
        c = self.counts

        def figure(correct: str, pred: str, found: str, gold: str) -> dict[str, Any]:
            return {
                **prf(c[correct], c[pred], c[found], c[gold]),
                "correct": c[correct],
                "predicted": c[pred],
                "found": c[found],
                "gold": c[gold],
            }

        out: dict[str, Any] = {
            "documents": c["documents"],
            "gold_quotes": c["q_gold"],
            "predicted_quotes": c["q_pred"],
            "quote": figure("q_correct", "q_pred", "q_found", "q_gold"),
            "message_token": figure("tok_tp", "tok_pred", "tok_tp", "tok_gold"),
            "joint": figure("joint_correct", "q_pred", "joint_found", "q_gold"),
            "cue": figure("cue_correct", "cue_pred", "cue_found", "cue_gold"),
            "speaker_accuracy": {
                "accuracy": c["spk_ok"] / c["spk_n"] if c["spk_n"] else 0.0,
                "correct": c["spk_ok"],
                "n": c["spk_n"],
            },
            "addressee": figure("addr_correct", "addr_pred", "addr_found", "addr_gold"),
            "speaker_accuracy_by_form": _rates(
                self.speaker_form_ok, self.speaker_form_n, "correct", "n", "accuracy"
            ),
            "speaker_errors": [
                {
                    "form": form,
                    "error": error,
                    "count": n,
                    "examples": self.error_examples[(form, error)],
                }
                for (form, error), n in self.speaker_errors.most_common()
            ],
            "detection_examples": self.detection_examples,
            "recall_by_form": _rates(self.form_found, self.form_gold, "found", "gold", "recall"),
            "recall_by_medium": _rates(
                self.medium_found, self.medium_gold, "found", "gold", "recall"
            ),
            "precision_by_kind": _rates(
                self.kind_correct, self.kind_pred, "correct", "predicted", "precision"
            ),
        }
        for name, interval in self._bootstrap().items():
            out[name]["f1_ci"] = interval
        if self.stance_pairs and self.pred_has_stance:
            gold_labels, pred_labels = zip(*self.stance_pairs, strict=True)
            out["stance_e2e"] = stance_metrics(gold_labels, pred_labels)
        return out

    def _bootstrap(self) -> dict[str, list[float]]:
        """95% percentile intervals of F1 over documents resampled with replacement (seeded)."""
        if not self.per_doc or self.resamples <= 0:
            return {}
        counts = np.asarray(self.per_doc, dtype=np.int64)
        rng = np.random.default_rng(self.seed)
        picks = rng.integers(0, len(counts), size=(self.resamples, len(counts)))
        column = {name: i for i, name in enumerate(_DOC_COUNTS)}
        # How often each resample picked each document, times the per-document counts.
        weights = np.zeros((self.resamples, len(counts)), dtype=np.int64)
        np.add.at(weights, (np.arange(self.resamples)[:, None], picks), 1)
        sums = weights @ counts
        out = {}
        for name, (correct, pred, found, gold) in _CI_FIGURES.items():
            p = _safe_div(sums[:, column[correct]], sums[:, column[pred]])
            r = _safe_div(sums[:, column[found]], sums[:, column[gold]])
            f = _safe_div(2 * p * r, p + r)
            out[name] = [float(np.percentile(f, 2.5)), float(np.percentile(f, 97.5))]
        return out


PRONOUN_TAGS = {"PPER", "PDS", "PRELS", "PIS", "PPOSAT", "PRF", "PWS", "PRELAT"}


def _tokens_text(gold: AnnotatedDocument, ids: Iterable[TokenId]) -> str:
    return " ".join(gold.token_text(t) for t in sorted(ids, key=token_order))


def source_form(gold: AnnotatedDocument, g: GoldQuote, pred: Document) -> str:
    """The form of a gold speaker mention: ``continuation`` (not in the quote's sentences),
    ``pronoun``, ``organisation`` (a registry actor or an institution noun), ``name`` or
    ``title/description``. POS tags come from the predicted document's text layer."""
    from quotestance.speakers.actors import ActorRegistry
    from quotestance.speakers.resolve import ORG_HEADS

    def sentence(token_id: TokenId) -> str:
        return str(token_id).split(":")[0]

    if not {sentence(t) for t in g.source} & {sentence(t) for t in g.message}:
        return "continuation"
    spans = sorted(gold.token_spans[t] for t in g.source)
    tokens = [tok for tok in pred.tokens if any(s <= tok.start < e for s, e in spans)]
    tags = [(tok.pos or "").replace("(", "").replace(")", "") for tok in tokens]
    if tokens and all(t in PRONOUN_TAGS for t in tags):
        return "pronoun"
    text = _tokens_text(gold, g.source)
    registry = _registry(ActorRegistry)
    entry = registry.lookup(text)
    if (entry is not None and entry.type != "person") or (
        tokens and ORG_HEADS.search(tokens[-1].text)
    ):
        return "organisation"
    if "NE" in tags:
        return "name"
    return "title/description"


def _runs(gold: AnnotatedDocument, ids: Iterable[TokenId]) -> list[tuple[int, int]]:
    """Character runs of a token set: adjacent tokens (only spaces between) merged."""
    runs: list[list[int]] = []
    for start, end in sorted(gold.token_spans[t] for t in ids if t in gold.token_spans):
        if runs and not gold.text[runs[-1][1] : start].strip():
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    return [(a, b) for a, b in runs]


def in_context(
    gold: AnnotatedDocument, marks: Sequence[tuple[str, Iterable[TokenId]]], pad: int = 160
) -> dict[str, Any]:
    """A stretch of the document around marked token sets (role, tokens), cut at spaces,
    with each mark as character offsets into that stretch: what an error example shows."""
    spans = [(role, a, b) for role, ids in marks for a, b in _runs(gold, ids)]
    if not spans:
        return {"text": "", "marks": []}
    lo = max(0, min(a for _, a, _ in spans) - pad)
    hi = min(len(gold.text), max(b for _, _, b in spans) + pad)
    while lo > 0 and not gold.text[lo - 1].isspace():
        lo -= 1
    while hi < len(gold.text) and not gold.text[hi].isspace():
        hi += 1
    return {
        "text": gold.text[lo:hi],
        "marks": [{"role": role, "start": a - lo, "end": b - lo} for role, a, b in spans],
    }


_REGISTRY: list[Any] = []


def _registry(factory: Any) -> Any:
    if not _REGISTRY:
        _REGISTRY.append(factory.default())
    return _REGISTRY[0]


def _speaker_ok(g: GoldQuote, p: _Pred) -> bool:
    """Speakers agree: share a token, or no speaker on either side when gold has none."""
    return bool(g.source & p.speaker) if g.source else not p.speaker


def _jaccard(a: set[TokenId], b: frozenset[TokenId]) -> float:
    return len(a & b) / len(a | b)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = num.astype(float)
    den = den.astype(float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _rates(
    hits: Counter[str], totals: Counter[str], hit_name: str, total_name: str, rate_name: str
) -> dict[str, dict[str, float | int]]:
    """Per-category rate with its counts, categories sorted by name."""
    return {
        key: {rate_name: hits[key] / n if n else 0.0, hit_name: hits[key], total_name: n}
        for key, n in sorted(totals.items())
    }


def score(pairs: Iterable[tuple[AnnotatedDocument, Document]], **kwargs: Any) -> dict[str, Any]:
    """Score a whole collection at once (``kwargs`` go to ``Scorer``)."""
    scorer = Scorer(**kwargs)
    for gold, pred in pairs:
        scorer.add(gold, pred)
    return scorer.result()
