"""Stance inference: the pipeline stage for documents and the record API behind ``classify``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from quotestance.document import Document
from quotestance.padding import fixed_width_batches
from quotestance.stance.inputs import MAX_CONTEXT_CHARS, document_context, stance_text
from quotestance.stance.model import StanceConfig, StanceModel, load_stance

# Characters kept of each input field before tokenising: max_len x 8, more than max_len tokens
# ever cover in practice (about 4 characters a token in German), so the cut never changes what
# the model sees, but a 100 MB quote costs no more than a short one (the tokenizer would
# split all of it before truncating).
CHARS_PER_TOKEN = 8


def stance_input(
    quote: str, context: str, cue: str, speaker: str, max_len: int, style: str = "repeat"
) -> str:
    """``stance_text`` of the fields cut to ``max_len * CHARS_PER_TOKEN`` characters each, the
    context to a window around the quote's place in it wider than the one ``stance_text``
    keeps: the same text for any input the model could see whole, bounded for any other."""
    limit = max_len * CHARS_PER_TOKEN
    cut = quote[:limit]
    if len(quote) > limit and not cut.strip():  # more leading blanks than the limit
        cut = quote.strip()[:limit]
    # stance_text keeps MAX_CONTEXT_CHARS around the first place of the quote's first 40
    # characters; this window holds that one even after blanks at its edges are stripped
    half = max(limit, MAX_CONTEXT_CHARS) + MAX_CONTEXT_CHARS
    if len(context) > 2 * half + len(cut):
        at = max(0, context.find(cut.strip()[:40]))
        context = context[max(0, at - half) : at + half]
    return stance_text(cut, context, cue[:limit], speaker[:limit], style)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class StanceClassifier:
    """Labels quotes with calibrated probabilities (softmax of logits / temperature)."""

    name = "stance"

    def __init__(
        self,
        model: StanceModel,
        tokenizer: Any,
        config: StanceConfig,
        batch_size: int = 32,
        bf16: bool = True,
        min_score: float = 0.0,
    ) -> None:
        from quotestance.backbone import text_prefix

        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.batch_size = batch_size
        self.bf16 = bf16
        self.min_score = min_score  # a label scored under it becomes "none"
        self.prefix = text_prefix(config.base_model)
        self.encoded_subwords = 0  # subwords fed to the encoder so far (for the benchmark)
        self.padded_subwords = 0  # the same with padding: what the encoder computed

    @classmethod
    def load(cls, directory: Path | None = None, **kwargs: Any) -> StanceClassifier:
        """The saved classifier; bf16 autocast unless ``QUOTESTANCE_FP32=1``."""
        from quotestance.backbone import bf16_default

        model, tokenizer, config = load_stance(directory)
        kwargs.setdefault("bf16", bf16_default())
        return cls(model, tokenizer, config, **kwargs)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits, batched by padded width (``quotestance.padding``): a text's logits do
        not depend on the other texts of the call."""
        out = np.zeros((len(texts), len(self.config.labels)), dtype=np.float32)
        encoded = self.tokenizer(
            [self.prefix + text for text in texts],
            truncation=True,
            max_length=self.config.max_len,
        )["input_ids"]
        self.model.eval()
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16),
        ):
            lengths = [len(ids) for ids in encoded]
            self.encoded_subwords += sum(lengths)
            for width, idx in fixed_width_batches(lengths, self.batch_size):
                self.padded_subwords += width * len(idx)
                batch = self.tokenizer.pad(
                    {"input_ids": [encoded[i] for i in idx]},
                    padding="max_length",
                    max_length=width,
                    return_tensors="pt",
                )
                logits = self.model(batch["input_ids"], batch["attention_mask"]).float().numpy()
                out[idx] = logits
        return out

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.config.labels)), dtype=np.float32)
        return softmax(self.logits(texts) / self.config.temperature)

    def _scores(self, probs: np.ndarray) -> list[tuple[str, dict[str, float]]]:
        """(label, scores) per row: the top label, or ``none`` where its score is under
        ``min_score``; the scores as computed."""
        labels = self.config.labels
        return [
            (
                labels[int(p.argmax())] if p.max() >= self.min_score else "none",
                {label: round(float(v), 4) for label, v in zip(labels, p, strict=True)},
            )
            for p in probs
        ]

    @staticmethod
    def score_matrix(results: Sequence[tuple[str, dict[str, float]]]) -> np.ndarray:
        """``classify_records`` results as a matrix in ``STANCE_LABELS`` order (for the
        evaluation scripts)."""
        from quotestance.document import STANCE_LABELS

        return np.array([[scores[label] for label in STANCE_LABELS] for _, scores in results])

    def classify_records(
        self, records: Sequence[dict[str, Any]]
    ) -> list[tuple[str, dict[str, float]]]:
        """For ``quotestance classify``: records with ``text`` and optional ``context``,
        ``cue``, ``speaker``."""
        texts = [
            stance_input(
                str(r["text"]),
                str(r.get("context") or ""),
                str(r.get("cue") or ""),
                str(r.get("speaker") or ""),
                self.config.max_len,
                self.config.input_style,
            )
            for r in records
        ]
        return self._scores(self.probabilities(texts))

    def batch(self, docs: list[Document]) -> list[Document]:
        """All quotes of several documents in shared forward passes."""
        pairs = [(doc, quote) for doc in docs for quote in doc.quotes]
        texts = [
            stance_input(
                q.text,
                document_context(d, q),
                q.cue.text if q.cue else "",
                q.speaker.text if q.speaker else "",
                self.config.max_len,
                self.config.input_style,
            )
            for d, q in pairs
        ]  # quote_input's text, cut before tokenising
        results = self._scores(self.probabilities(texts))
        for (_, quote), (label, scores) in zip(pairs, results, strict=True):
            quote.stance, quote.stance_scores = label, scores
        return docs

    def __call__(self, doc: Document) -> Document:
        return self.batch([doc])[0]
