"""Check that the ``datasets`` data path feeds the models what the plain-list path fed them.

The training scripts load, split and tokenise their data through Hugging Face ``datasets``
(``quotestance/hf_data.py``). This script keeps the plain-list code they used before
(``legacy_*`` below, copied from the scripts) and compares, with the real tokenizer:

1. stance: the rows of every split (train / calibration / test / seed), and every padded
   training batch of two epochs (input ids, attention mask, labels), tensor for tensor;
2. tagger: every window of each corpus (input ids, word index, labels per role, document id,
   word range, truncation), for the first ``--tagger-docs`` train documents of each corpus;
3. a short seeded training run of each model on both paths (real e5 backbone, ``--steps``
   optimiser steps): the per-step losses must match.

    .venv/bin/python training/check_datasets.py [--steps 12] [--tagger-docs 40] [--out FILE]

Exit 0 when everything matches; the figures go to standard output and ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch

from quotestance.hf_data import (
    rows_of,
    stance_dataset,
    stance_splits,
    tagger_windows,
    tokenize_stance,
    windows_of,
)

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------ the plain-list path (before)


def legacy_stance_splits(limit: int | None = None) -> dict[str, list[dict]]:
    """``StanceTrainer.__init__`` before datasets: rows grouped by ``stance_split``."""
    from quotestance.stance.data import read_rows

    splits: dict[str, list[dict]] = {}
    for row in read_rows():
        splits.setdefault(row["stance_split"], []).append(row)
    if limit:
        splits = {k: v[:limit] for k, v in splits.items()}
    return splits


def legacy_stance_batches(rows, tokenizer, prefix, max_len, batch_size, labels, rng):
    """``StanceTrainer._batches`` before datasets: each batch tokenised with padding."""
    from quotestance.stance.data import row_text

    order = list(range(len(rows)))
    rng.shuffle(order)
    for k in range(0, len(order), batch_size):
        chunk = [rows[i] for i in order[k : k + batch_size]]
        enc = tokenizer(
            [prefix + row_text(r) for r in chunk],
            truncation=True,
            max_length=max_len,
            padding=True,
            return_tensors="pt",
        )
        ids = torch.tensor([labels.index(r["label"]) for r in chunk])
        yield enc["input_ids"], enc["attention_mask"], ids


def legacy_tagger_windows(corpus, tokenizer, max_len, stride, prefix, limit):
    """``TaggerTrainer._build_windows`` before datasets."""
    from quotestance.detect.tagger_data import build_corpus, windows_from_columns

    built = build_corpus(corpus, tokenizer, max_len, stride, prefix, limit=limit)
    return windows_from_columns(built["windows"])


# --------------------------------------------------------------------------- the checks


def check_stance(tokenizer, prefix: str, epochs: int = 2) -> dict[str, Any]:
    from quotestance.stance.model import StanceConfig

    config = StanceConfig()
    labels = list(config.labels)
    old = legacy_stance_splits()
    new_parts = stance_splits(stance_dataset())
    out: dict[str, Any] = {"rows": {}, "rows_equal": True}
    for name, rows in old.items():
        new = rows_of(new_parts[name])
        same = len(rows) == len(new) and all(
            all(b[k] == v for k, v in a.items()) for a, b in zip(rows, new, strict=True)
        )
        out["rows"][name] = len(rows)
        out["rows_equal"] &= same
    encoded = tokenize_stance(new_parts["train"], tokenizer, config.max_len, prefix)

    class Shim:  # the trainer's _batches needs only these
        args = type("A", (), {"batch_size": 16})()

    from training.train_stance import StanceTrainer

    shim = Shim()
    shim.tokenizer, shim.labels = tokenizer, labels
    batches = tokens = 0
    equal = True
    for epoch in range(epochs):
        a = legacy_stance_batches(
            old["train"], tokenizer, prefix, config.max_len, 16, labels, random.Random(13 + epoch)
        )
        b = StanceTrainer._batches(shim, encoded, True, random.Random(13 + epoch))
        for x, y in zip(a, b, strict=True):
            equal &= all(torch.equal(u, v) for u, v in zip(x, y, strict=True))
            batches += 1
            tokens += int(x[1].sum())
    out.update({"train_batches": batches, "train_tokens": tokens, "batches_equal": equal})
    return out


def _window_tuple(w) -> tuple:
    return (
        w.input_ids, w.word_index, w.labels, w.doc_id, w.first_word, w.last_word, w.truncated
    )  # fmt: skip


def check_tagger(tokenizer, prefix: str, limit: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"windows": {}, "subwords": {}, "windows_equal": True}
    for corpus in ("spkatt-news", "spkatt-gepade", "redewiedergabe"):
        started = time.perf_counter()
        old = legacy_tagger_windows(corpus, tokenizer, 256, 192, prefix, limit)
        t_old = time.perf_counter() - started
        started = time.perf_counter()
        new = windows_of(tagger_windows(corpus, tokenizer, 256, 192, prefix, limit=limit))
        t_new = time.perf_counter() - started
        same = [_window_tuple(w) for w in old] == [_window_tuple(w) for w in new]
        out["windows"][corpus] = len(old)
        out["subwords"][corpus] = sum(len(w.input_ids) for w in old)
        out[f"seconds_{corpus}"] = {"lists": round(t_old, 1), "datasets": round(t_new, 1)}
        out["windows_equal"] &= same and len(old) == len(new)
    return out


def stance_losses(steps: int, legacy: bool) -> list[float]:
    from training.train_stance import StanceTrainer, StanceTrainingArguments

    args = StanceTrainingArguments(
        output_dir=REPO / "data" / "cache" / "check-stance", epochs=1, limit=16 * steps
    )
    trainer = StanceTrainer(args)
    if legacy:
        old = legacy_stance_splits(args.limit)
        trainer.splits = old

        def batches(_encoded, _shuffle, rng):
            return legacy_stance_batches(
                old["train"], trainer.tokenizer, trainer.prefix, args.max_len, args.batch_size,
                trainer.labels, rng,
            )  # fmt: skip

        trainer._batches = batches
    trainer.train()
    return [round(x, 6) for x in trainer.losses]


def tagger_losses(steps: int, legacy: bool, tokenizer_and_prefix) -> list[float]:
    from quotestance.backbone import load_backbone
    from training.train_tagger import TaggerTrainer, TaggerTrainingArguments

    _tokenizer, prefix = tokenizer_and_prefix
    # enough news documents for `steps` batches of 16 windows in the one epoch
    args = TaggerTrainingArguments(
        output_dir=REPO / "data" / "cache" / "check-tagger", epochs=1, corpora=("spkatt-news",),
        limit_docs=max(4, steps * 16 // 2), checkpoint_every=10**9,
    )  # fmt: skip
    encoder, tok = load_backbone(None)
    windows = None
    if legacy:
        windows = {"spkatt-news": legacy_tagger_windows(
            "spkatt-news", tok, args.max_len, args.stride, prefix, args.limit_docs
        )}  # fmt: skip
    trainer = TaggerTrainer(args, encoder=encoder, tokenizer=tok, windows=windows)
    # keep the first `steps` batches of the epoch (the same on both paths)
    trainer.windows["spkatt-news"] = trainer.windows["spkatt-news"][: steps * args.batch_size]
    trainer.train()
    return [round(x, 6) for x in trainer.losses]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--tagger-docs", type=int, default=40, help="per corpus; 0: all")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--out", type=Path)
    a = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # training.train_* when run as a script
    from quotestance.backbone import load_backbone, text_prefix

    torch.set_num_threads(2)
    _encoder, tokenizer = load_backbone(None)
    prefix = text_prefix(None)
    result: dict[str, Any] = {"stance": check_stance(tokenizer, prefix)}
    print(json.dumps(result["stance"]), flush=True)
    result["tagger"] = check_tagger(tokenizer, prefix, a.tagger_docs or None)
    print(json.dumps(result["tagger"]), flush=True)
    ok = result["stance"]["rows_equal"] and result["stance"]["batches_equal"]
    ok &= result["tagger"]["windows_equal"]
    if not a.skip_training:
        for name, run in (
            ("stance_losses", lambda legacy: stance_losses(a.steps, legacy)),
            ("tagger_losses", lambda legacy: tagger_losses(a.steps, legacy, (tokenizer, prefix))),
        ):
            old, new = run(True), run(False)
            result[name] = {"lists": old, "datasets": new, "equal": old == new}
            print(json.dumps({name: result[name]}), flush=True)
            ok &= old == new
    result["ok"] = bool(ok)
    if a.out:
        a.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("equal" if ok else "DIFFERENT", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
