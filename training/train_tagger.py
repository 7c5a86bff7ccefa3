"""Train the quote tagger (LoRA adapter + heads on the backbone) on SpkAtt and Redewiedergabe.

Declared inputs: SpkAtt-news train minus the dev split, SpkAtt-GePaDe train minus its held-out
20 %, Redewiedergabe main minus its held-out 20 % (same hash rule, ``corpora/split.py``).
Output: ``quotestance/resources/tagger/`` (``tagger.safetensors`` + ``tagger.json``;
``--output-dir`` to write elsewhere), and checkpoints in ``<output>/checkpoint/`` for
``--resume`` (ignored by git, left out of the wheel).

    .venv/bin/python training/train_tagger.py [--minutes 45] [--epochs 4] [--resume]

Schedule: every epoch holds all news windows; parliament and Redewiedergabe windows are
sampled in (fractions below) in all but the last epoch, so the model learns cues and sources
from the larger corpora and ends on news, the target domain (historical fiction is far
from news). Seeded; bf16 autocast on the CPU; a wall-clock budget stops training cleanly
(the schedule's learning rate is laid out for the planned steps, and the last state is saved).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from quotestance.adapters import add_lora, restore_training_state
from quotestance.detect.tagger import DEFAULT_TAGGER_DIR, TaggerConfig, TaggerModel, save_tagger

PROCESS_START = time.perf_counter()  # wall time of the run, data building included


@dataclass
class TaggerTrainingArguments:
    """Everything that decides a training run; stored in the model card and tagger.json."""

    output_dir: Path = DEFAULT_TAGGER_DIR
    base_model: str | None = None
    epochs: int = 5
    minutes: float = 45.0  # wall-clock budget for the optimisation loop
    batch_size: int = 16
    lr_adapter: float = 5e-4
    lr_head: float = 2e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    max_len: int = 256
    stride: int = 192
    lora_r: int = 16
    gepade_fraction: float = 0.5  # of its windows, per epoch before the last
    rw_fraction: float = 0.2
    seed: int = 13
    bf16: bool = True
    checkpoint_every: int = 200  # steps
    limit_docs: int | None = None  # per corpus, for smoke tests
    threads: int | None = None
    corpora: tuple[str, ...] = ("spkatt-news", "spkatt-gepade", "redewiedergabe")
    resume: bool = False
    # a saved tagger (adapter + heads) to start from instead of a fresh adapter: a second
    # schedule (warm restart) on top of a finished one; its rank must equal ``lora_r``
    init_from: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def disable_dropout(encoder: torch.nn.Module) -> None:
    """Switch the encoder's dropout off for training.

    Measured here (batch 16 x 256, bf16 autocast, 2 cores): 12.4 s per step with BERT's
    dropout on, 2.4 s with it off — dropout is that slow on this CPU. The encoder's weights
    are frozen under LoRA anyway; regularisation comes from the low-rank adapters, weight
    decay, few epochs, and the dropout kept before the heads.
    """
    config = getattr(encoder, "config", None)
    for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
        if config is not None and hasattr(config, name):
            setattr(config, name, 0.0)
    for module in encoder.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass


class TaggerTrainer:
    """Builds the windows, trains adapter and heads, saves them; ``train()`` returns metrics."""

    def __init__(
        self,
        args: TaggerTrainingArguments,
        encoder: torch.nn.Module | None = None,
        tokenizer: Any = None,
        windows: dict[str, list] | None = None,
    ) -> None:
        self.args = args
        seed_everything(args.seed)
        if args.threads:
            torch.set_num_threads(args.threads)
        if encoder is None or tokenizer is None:
            from quotestance.backbone import load_backbone

            encoder, tokenizer = load_backbone(args.base_model)
        self.tokenizer = tokenizer
        disable_dropout(encoder)
        self.config = TaggerConfig(
            base_model=args.base_model,
            max_len=args.max_len,
            stride=args.stride,
            lora_r=args.lora_r,
            lora_alpha=2 * args.lora_r,
            lora_dropout=0.0,  # see disable_dropout
        )
        self.model = TaggerModel(add_lora(encoder, self.config), encoder.config.hidden_size)
        if args.init_from is not None:
            self._warm_start(Path(args.init_from))
        self.windows = windows if windows is not None else self._build_windows()

    def _warm_start(self, directory: Path) -> None:
        """Adapter and heads of a saved tagger, unmerged, as the starting point."""
        from quotestance.adapters import load_adapted, load_heads
        from quotestance.detect.tagger_files import WEIGHTS_FILE

        weights = directory / WEIGHTS_FILE
        _, heads = load_adapted(self.model.encoder, weights, merge=False)
        load_heads(self.model, heads, weights)

    def _build_windows(self) -> dict[str, list]:
        """Per corpus, the train documents' windows through ``datasets`` (load, split by
        document, tokenise into windows by a batched map; cached in ``data/cache/hf/``)."""
        from quotestance.backbone import text_prefix
        from quotestance.hf_data import tagger_windows, windows_of

        prefix = text_prefix(self.args.base_model)
        out = {}
        for corpus in self.args.corpora:
            dataset = tagger_windows(
                corpus, self.tokenizer, self.args.max_len, self.args.stride, prefix,
                limit=self.args.limit_docs,
            )  # fmt: skip
            out[corpus] = windows_of(dataset)
        return out

    def _epoch_plan(self) -> list[list]:
        """The windows of each epoch: all news, plus samples of the other corpora but last."""
        rng = random.Random(self.args.seed)
        plan = []
        for epoch in range(self.args.epochs):
            last = epoch == self.args.epochs - 1
            chosen = list(self.windows.get("spkatt-news", []))
            for corpus, fraction in (
                ("spkatt-gepade", self.args.gepade_fraction),
                ("redewiedergabe", self.args.rw_fraction),
            ):
                pool = self.windows.get(corpus, [])
                if pool and not last:
                    chosen.extend(rng.sample(pool, int(len(pool) * fraction)))
            plan.append(chosen)
        return plan

    def _optimizer(self) -> torch.optim.Optimizer:
        adapter = [p for n, p in self.model.encoder.named_parameters() if p.requires_grad]
        heads = list(self.model.norm.parameters()) + list(self.model.heads.parameters())
        return torch.optim.AdamW(
            [
                {"params": adapter, "lr": self.args.lr_adapter},
                {"params": heads, "lr": self.args.lr_head},
            ],
            weight_decay=self.args.weight_decay,
        )

    def train(self) -> dict[str, Any]:
        from quotestance.detect.windows import collate, length_sorted_batches

        args = self.args
        plan = self._epoch_plan()
        batches_per_epoch = [math.ceil(len(w) / args.batch_size) for w in plan]
        total_steps = sum(batches_per_epoch)
        optimizer = self._optimizer()
        warmup = max(1, int(total_steps * args.warmup_fraction))

        def lr_lambda(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
        step, start_epoch = 0, 0
        checkpoint = args.output_dir / "checkpoint" / "state.pt"
        if args.resume and checkpoint.is_file():
            state = restore_training_state(checkpoint, self.model, optimizer, scheduler)
            step, start_epoch = state["step"], state["epoch"]
            random.setstate(state["python_rng"])
            torch.set_rng_state(state["torch_rng"])
        pad_id = self.tokenizer.pad_token_id
        self.model.train()
        started = time.perf_counter()
        stopped_early = False
        history: list[dict[str, float]] = []
        self.losses: list[float] = []  # every step's loss (training/check_datasets.py)
        bar = tqdm(
            total=total_steps,
            initial=step,
            desc="train tagger",
            unit="step",
            disable=not sys.stderr.isatty() and os.environ.get("TQDM_FORCE") is None,
        )
        done_in_epoch = step - sum(batches_per_epoch[:start_epoch])
        for epoch in range(start_epoch, args.epochs):
            windows = plan[epoch]
            batches = length_sorted_batches(windows, args.batch_size, args.seed + epoch)
            for b, indices in enumerate(batches):
                if epoch == start_epoch and b < done_in_epoch:
                    continue
                batch = collate([windows[i] for i in indices], pad_id)
                labels = {
                    role: batch[f"labels_{role}"]
                    for role in ("message", "cue", "source", "addressee")
                }
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                    out = self.model(batch["input_ids"], batch["attention_mask"], labels)
                loss = out["loss"]
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                self.losses.append(loss.item())
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", epoch=epoch)
                if step % 20 == 0:
                    history.append(
                        {
                            "step": step,
                            "epoch": epoch,
                            "loss": round(loss.item(), 4),
                            "minutes": round((time.perf_counter() - started) / 60, 2),
                        }
                    )
                if step % args.checkpoint_every == 0:
                    self._checkpoint(checkpoint, optimizer, scheduler, step, epoch)
                if (time.perf_counter() - started) / 60 > args.minutes:
                    stopped_early = True
                    # the stop's own state, so that --resume goes on from this step
                    self._checkpoint(checkpoint, optimizer, scheduler, step, epoch)
                    break
            if stopped_early:
                break
        bar.close()
        minutes = (time.perf_counter() - started) / 60
        self.model.eval()
        self.config.training = {
            "arguments": {
                k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(args).items()
            },
            "windows": {k: len(v) for k, v in self.windows.items()},
            "steps": step,
            "planned_steps": total_steps,
            "stopped_by_time_budget": stopped_early,
            "train_minutes": round(minutes, 1),
            "process_minutes": round((time.perf_counter() - PROCESS_START) / 60, 1),
            "command": " ".join(shlex.quote(a) for a in sys.argv),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "loss_history": history[-50:],
        }
        save_tagger(self.model, self.config, args.output_dir)
        return {
            "steps": step,
            "planned_steps": total_steps,
            "minutes": round(minutes, 1),
            "final_loss": history[-1]["loss"] if history else None,
            "stopped_by_time_budget": stopped_early,
        }

    def _checkpoint(self, path: Path, optimizer, scheduler, step: int, epoch: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        trainable = {
            k: v
            for k, v in self.model.state_dict().items()
            if "lora_" in k or not k.startswith("encoder.")
        }
        tmp = path.with_suffix(".tmp")
        torch.save(
            {
                "model": trainable,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "epoch": epoch,
                "python_rng": random.getstate(),
                "torch_rng": torch.get_rng_state(),
            },
            tmp,
        )
        tmp.replace(path)

    def evaluate(self, corpora: tuple[str, ...] = ("spkatt-news-dev",)) -> dict[str, Any]:
        """Scores of the freshly trained tagger (tagger alone) on held-out sets."""
        from quotestance.detect.tagger import QuoteTagger
        from quotestance.evaluation.evaluate import evaluate
        from quotestance.text import TextSegmenter

        self.model.eval()
        tagger = QuoteTagger(self.model, self.tokenizer, self.config, bf16=self.args.bf16)
        segmenter = TextSegmenter()

        def annotate(doc):
            doc = tagger(segmenter(doc))
            doc.number_quotes()
            return doc

        return evaluate(annotate, list(corpora))


def parse_args(argv: list[str] | None) -> TaggerTrainingArguments:
    defaults = TaggerTrainingArguments()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=defaults.output_dir)
    parser.add_argument(
        "--base-model",
        default=None,
        help="any Hugging Face encoder name or path (default: embedded e5)",
    )
    for name in (
        "epochs",
        "batch_size",
        "max_len",
        "stride",
        "lora_r",
        "seed",
        "checkpoint_every",
        "limit_docs",
        "threads",
    ):
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name)
        )
    for name in ("minutes", "lr_adapter", "lr_head", "gepade_fraction", "rw_fraction"):
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name)
        )
    parser.add_argument(
        "--corpora",
        nargs="+",
        choices=("spkatt-news", "spkatt-gepade", "redewiedergabe"),
        default=list(defaults.corpora),
        help="training corpora (GePaDe alone is CC BY-SA, the others CC BY-NC-SA)",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="a saved tagger directory to start from (a warm restart of its schedule)",
    )
    parser.add_argument("--no-bf16", action="store_true")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--evaluate", action="store_true", help="score on the dev split after")
    ns = parser.parse_args(argv)
    values = {k: v for k, v in vars(ns).items() if k not in ("no_bf16", "evaluate")}
    values["bf16"] = not ns.no_bf16
    values["corpora"] = tuple(ns.corpora)
    args = TaggerTrainingArguments(**values)
    args.extra["evaluate"] = ns.evaluate
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    trainer = TaggerTrainer(args)
    counts = {k: len(v) for k, v in trainer.windows.items()}
    print(f"windows per corpus: {counts}", flush=True)
    result = trainer.train()
    print(json.dumps(result, indent=1), flush=True)
    if args.extra.get("evaluate"):
        scores = trainer.evaluate()
        print(json.dumps(scores, indent=1, default=str)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
