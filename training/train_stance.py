"""Fine-tune the stance classifier on the annotated quotes (``data/stance/stance.jsonl``).

LoRA adapters on the backbone (embedded multilingual-e5-small by default; ``--base-model``
takes any Hugging Face encoder by name or path), mean pooling, a linear head; class-weighted
cross-entropy for the imbalance; bf16 autocast on the CPU; seeded; a checkpoint every 100
steps and after each epoch (``--resume`` goes on from the batch where it stopped). After
training the temperature is fitted on the calibration split (never trained on) and the test
split (SpkAtt-news dev) is scored: macro-F1 with bootstrap CIs, per-label F1, confusion
matrix, expected calibration error before/after scaling.

Data: loaded, split by document and tokenised through Hugging Face ``datasets``
(``quotestance.hf_data``; cached in ``data/cache/hf/``).

Run: ``python training/train_stance.py`` (about 25 minutes on the 2-core machine).
Writes ``quotestance/resources/stance_model/`` (adapter + head + config; ``--out`` to write
elsewhere) and ``reports/stance_model.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from quotestance.adapters import restore_training_state
from quotestance.evaluation.stance import calibration_error, fit_temperature, stance_report
from quotestance.hf_data import rows_of, stance_dataset, stance_splits, tokenize_stance
from quotestance.stance.classifier import StanceClassifier, softmax
from quotestance.stance.data import STANCE_DATA, read_rows, row_text
from quotestance.stance.model import DEFAULT_STANCE_DIR, StanceConfig, build_model, save_stance

REPO = Path(__file__).resolve().parents[1]
CROSSLINGUAL = STANCE_DATA.parent / "crosslingual.jsonl"


@dataclass
class StanceTrainingArguments:
    output_dir: Path = DEFAULT_STANCE_DIR
    base_model: str | None = None
    epochs: int = 3
    batch_size: int = 16
    max_len: int = 160
    lr_adapter: float = 5e-4
    lr_head: float = 2e-3
    warmup_fraction: float = 0.06
    class_weight_power: float = 0.5  # weight = (n_max / n_label) ** power
    lora_r: int = 8
    input_style: str = "repeat"  # "markers": the context once, the quote marked inside it
    full_finetune: bool = False  # every encoder weight but the word embeddings, not LoRA
    lr_encoder: float = 5e-5  # full fine-tuning only
    balance: str = "loss"  # "loss": class-weighted loss; "sampler": class-balanced sampling
    crosslingual: bool = False  # add data/stance/crosslingual.jsonl (English PLOVER) to train
    seed: int = 13
    bf16: bool = True
    resume: bool = False
    checkpoint_every: int = 100  # steps; a run killed mid-epoch resumes from the last one
    minutes: float | None = None  # stop early when the budget is spent
    limit: int | None = None  # rows per split, for smoke tests


class StanceTrainer:
    def __init__(self, args: StanceTrainingArguments, rows: list[dict] | None = None) -> None:
        self.args = args
        if rows is None and args.crosslingual:
            extra = [r | {"stance_split": "train"} for r in read_rows(CROSSLINGUAL)]
            rows = [dict(r) for r in read_rows()] + extra  # English rows train only
        # load (rows in memory, else stance.jsonl, cached), split by document, tokenise below
        self.data = stance_splits(stance_dataset(rows, style=args.input_style), args.limit)
        self.splits: dict[str, list[dict]] = {k: rows_of(v) for k, v in self.data.items()}
        self.config = StanceConfig(
            base_model=args.base_model,
            max_len=args.max_len,
            lora_r=args.lora_r,
            lora_alpha=2 * args.lora_r,
            input_style=args.input_style,
            full_finetune=args.full_finetune,
        )
        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        self.model, self.tokenizer = build_model(self.config)
        from quotestance.backbone import text_prefix

        self.prefix = text_prefix(args.base_model)
        self.labels = list(self.config.labels)
        self.encoded = {
            "train": tokenize_stance(self.data["train"], self.tokenizer, args.max_len, self.prefix)
        }

    def _batches(self, encoded, shuffle: bool, rng: random.Random):
        """Batches of a tokenised split (``tokenize_stance``), padded to their longest row;
        with ``balance="sampler"`` an epoch draws rows with probability ~ class weight."""
        order = list(range(len(encoded)))
        if shuffle and self.args.balance == "sampler":
            weights = self.class_weights().tolist()
            per_row = [weights[self.labels.index(label)] for label in encoded["label"]]
            order = rng.choices(order, weights=per_row, k=len(order))
        elif shuffle:
            rng.shuffle(order)
        for k in range(0, len(order), self.args.batch_size):
            chunk = encoded[order[k : k + self.args.batch_size]]
            enc = self.tokenizer.pad(
                {"input_ids": chunk["input_ids"], "attention_mask": chunk["attention_mask"]},
                return_tensors="pt",
            )
            labels = torch.tensor([self.labels.index(label) for label in chunk["label"]])
            yield enc["input_ids"], enc["attention_mask"], labels

    def class_weights(self) -> torch.Tensor:
        counts = np.array(
            [sum(r["label"] == lab for r in self.splits["train"]) for lab in self.labels]
        )
        weights = (counts.max() / np.maximum(counts, 1)) ** self.args.class_weight_power
        return torch.tensor(weights / weights.mean(), dtype=torch.float32)

    def train(self) -> dict:
        args = self.args
        train = self.splits["train"]
        params_encoder = [
            p
            for n, p in self.model.named_parameters()
            if p.requires_grad and n.startswith("encoder.")
        ]
        params_head = list(self.model.norm.parameters()) + list(self.model.head.parameters())
        lr_encoder = args.lr_encoder if args.full_finetune else args.lr_adapter
        optimizer = torch.optim.AdamW(
            [
                {"params": params_encoder, "lr": lr_encoder},
                {"params": params_head, "lr": args.lr_head},
            ],
            weight_decay=0.01,
        )
        steps_per_epoch = math.ceil(len(train) / args.batch_size)
        total = steps_per_epoch * args.epochs
        warmup = max(1, int(total * args.warmup_fraction))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup)),
        )
        loss_fn = nn.CrossEntropyLoss(
            weight=self.class_weights() if args.balance == "loss" else None
        )
        checkpoint = args.output_dir / "checkpoint.pt"
        start_epoch, step, done_in_epoch = 0, 0, 0
        if args.resume and checkpoint.exists():
            state = restore_training_state(checkpoint, self.model, optimizer, scheduler)
            start_epoch, step = state["epoch"], state["step"]
            done_in_epoch = state.get("batches_done", 0)  # a checkpoint from inside an epoch
        started = time.time()
        losses: list[float] = []
        self.losses = losses  # every step's loss (training/check_datasets.py)
        stopped_early = False
        for epoch in range(start_epoch, args.epochs):
            self.model.train()
            rng = random.Random(args.seed + epoch)  # the same batches again on resume
            skip = done_in_epoch if epoch == start_epoch else 0
            bar = tqdm(
                self._batches(self.encoded["train"], True, rng),
                total=steps_per_epoch,
                desc=f"epoch {epoch + 1}/{args.epochs}",
            )
            for k, (input_ids, mask, labels) in enumerate(bar):
                if k < skip:
                    continue  # trained before the checkpoint
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                    logits = self.model(input_ids, mask)
                loss = loss_fn(logits.float(), labels)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                step += 1
                losses.append(float(loss.detach()))
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
                if args.checkpoint_every and step % args.checkpoint_every == 0:
                    self._save_checkpoint(checkpoint, optimizer, scheduler, epoch, step, k + 1)
                if args.minutes and time.time() - started > args.minutes * 60:
                    stopped_early = True
                    break
            if stopped_early:  # the budget ran out inside the epoch: resume goes on inside it
                self._save_checkpoint(checkpoint, optimizer, scheduler, epoch, step, k + 1)
                break
            self._save_checkpoint(checkpoint, optimizer, scheduler, epoch + 1, step, 0)
        return {
            "steps": step,
            "planned_steps": total,
            "minutes": round((time.time() - started) / 60, 1),
            "first_loss": round(float(np.mean(losses[:20])), 4) if losses else None,
            "last_loss": round(float(np.mean(losses[-50:])), 4) if losses else None,
            "stopped_early": stopped_early,
            "train_rows": len(train),
        }

    def _save_checkpoint(
        self, path: Path, optimizer, scheduler, epoch: int, step: int, batches_done: int
    ) -> None:
        """The trained weights (adapter and head, or the encoder without its embeddings when
        fully fine-tuned) with optimiser and schedule: ``epoch`` is the one to go on with,
        ``batches_done`` how many of its batches are already trained."""
        path.parent.mkdir(parents=True, exist_ok=True)
        trained = {
            k: v
            for k, v in self.model.state_dict().items()
            if "lora_" in k
            or not k.startswith("encoder.")
            or (self.args.full_finetune and "word_embeddings" not in k)
        }
        torch.save(
            {"model": trained, "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch, "step": step,
             "batches_done": batches_done},
            path.with_suffix(".tmp"),
        )  # fmt: skip
        path.with_suffix(".tmp").replace(path)  # a kill while saving leaves the last one

    def classifier(self) -> StanceClassifier:
        return StanceClassifier(
            self.model, self.tokenizer, self.config, batch_size=32, bf16=self.args.bf16
        )

    def calibrate(self) -> dict:
        """Fit the temperature on the calibration split."""
        rows = self.splits["calibration"]
        logits = self.classifier().logits([row_text(r, self.args.input_style) for r in rows])
        gold = np.array([self.labels.index(r["label"]) for r in rows])
        self.config.temperature = fit_temperature(logits, gold)
        probs_raw = softmax(logits)
        probs = softmax(logits / self.config.temperature)
        return {
            "temperature": round(self.config.temperature, 4),
            "calibration_rows": len(rows),
            "ece_before": round(calibration_error(probs_raw, gold), 4),
            "ece_after": round(calibration_error(probs, gold), 4),
        }

    def evaluate(self, split: str = "test") -> dict:
        """Macro-F1 (with bootstrap CI), per-label F1, confusion, ECE on a split."""
        rows = self.splits[split]
        clf = self.classifier()
        logits = clf.logits([row_text(r, self.args.input_style) for r in rows])
        probs = softmax(logits / self.config.temperature)
        gold = [r["label"] for r in rows]
        return stance_report(gold, probs, self.labels)

    def save(self) -> Path:
        return save_stance(self.model, self.config, self.args.output_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fine-tune the stance classifier.")
    parser.add_argument("--base-model")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-len", type=int, default=160)
    parser.add_argument("--input-style", choices=("repeat", "markers"), default="repeat")
    parser.add_argument("--full-finetune", action="store_true")
    parser.add_argument("--balance", choices=("loss", "sampler", "none"), default="loss")
    parser.add_argument("--crosslingual", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_STANCE_DIR)
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "stance_model.json")
    a = parser.parse_args(argv)
    args = StanceTrainingArguments(output_dir=a.out, base_model=a.base_model, epochs=a.epochs,
                                   minutes=a.minutes, limit=a.limit, resume=a.resume,
                                   seed=a.seed, max_len=a.max_len, input_style=a.input_style,
                                   full_finetune=a.full_finetune, balance=a.balance,
                                   crosslingual=a.crosslingual)  # fmt: skip
    trainer = StanceTrainer(args)
    sizes = {k: len(v) for k, v in trainer.splits.items()}
    print("rows per split:", sizes)
    result = {"training": trainer.train(), "splits": sizes}
    result["calibration"] = trainer.calibrate()
    trainer.save()
    (args.output_dir / "checkpoint.pt").unlink(missing_ok=True)
    result["test"] = trainer.evaluate("test")
    result["seed"] = trainer.evaluate("seed")
    result["command"] = "python training/train_stance.py " + " ".join(argv or sys.argv[1:])
    result["arguments"] = {k: str(v) for k, v in vars(args).items()}
    a.report.parent.mkdir(parents=True, exist_ok=True)
    a.report.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("training", "calibration")}, indent=1))
    t = result["test"]
    print(f"test macro-F1 {t['macro_f1']:.3f} {t['macro_f1_ci']} per label {t['per_label_f1']}")


if __name__ == "__main__":
    main()
