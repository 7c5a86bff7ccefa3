"""Turn a fully fine-tuned stance model into a small LoRA adapter by truncated SVD.

Full fine-tuning (``train_stance.py --full-finetune``) changes every encoder weight and
ships 86 MB; LoRA ships 2.7 MB. The change a fine-tune makes to each linear layer,
``W_tuned - W_base``, is approximated by its best rank-r factorisation (Eckart–Young:
``U_r S_r V_r^T``), stored as the LoRA factors ``B = U_r S_r^1/2`` and ``A = S_r^1/2 V_r^T``
with scaling 1. The small tensors a fine-tune also changes (biases, LayerNorms, position and
token-type embeddings) are kept whole. The result loads through the ordinary LoRA path
(``quotestance.stance.model.load_stance``): no new loader, and nothing at inference changes.

    .venv/bin/python training/extract_lora.py --full DIR --rank 64 --out DIR [--float16]
        [--refit-temperature]

Prints the share of each delta's energy (squared Frobenius norm) the rank keeps; score the
result with ``training/compare_stance.py`` like any other model.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

from quotestance.adapters import save_adapted
from quotestance.stance.files import CONFIG_FILE, WEIGHTS_FILE
from quotestance.stance.model import StanceConfig, build_model


def low_rank_factors(delta: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """``(B, A, kept)`` with ``B @ A`` the best rank-``rank`` approximation of ``delta``
    (out x in) and ``kept`` the share of its squared norm that the approximation keeps. A
    rank above the matrix's own is padded with zero factors (exact)."""
    u, s, vh = torch.linalg.svd(delta.double(), full_matrices=False)
    root = s[:rank].sqrt()
    kept = float((s[:rank] ** 2).sum() / (s**2).sum().clamp(min=1e-30))
    b, a = u[:, :rank] * root, root[:, None] * vh[:rank]
    pad = rank - len(root)
    if pad > 0:
        b = torch.cat([b, b.new_zeros(b.shape[0], pad)], dim=1)
        a = torch.cat([a, a.new_zeros(pad, a.shape[1])], dim=0)
    return b.float(), a.float(), kept


def extract(full_dir: Path, rank: int, out_dir: Path, dtype: torch.dtype) -> dict[str, float]:
    """Write the LoRA version of the full fine-tune in ``full_dir``; returns energy kept."""
    from safetensors.torch import load_file

    config = StanceConfig.from_json((full_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    if not config.full_finetune:
        raise SystemExit(f"error: {full_dir} holds a LoRA model already")
    tuned = load_file(str(full_dir / WEIGHTS_FILE))
    lora_config = replace(
        config,
        full_finetune=False,
        lora_r=rank,
        lora_alpha=rank,  # scaling alpha / r = 1: B @ A is the delta itself
        extra={**config.extra, "extracted_from_full_finetune": full_dir.name, "svd_rank": rank},
    )
    model, _ = build_model(lora_config)
    kept: dict[str, float] = {}
    with torch.no_grad():
        for name, module in model.encoder.named_modules():
            if not hasattr(module, "lora_A") or "default" not in module.lora_A:
                continue
            # peft's "base_model.model.<path>" is "encoder.<path>" in the tuned state
            key = "encoder." + name.removeprefix("base_model.model.") + ".weight"
            delta = tuned[key].float() - module.base_layer.weight.float()
            b, a, kept[key] = low_rank_factors(delta, rank)
            module.lora_A["default"].weight.copy_(a)
            module.lora_B["default"].weight.copy_(b)
    lora_keys = set(kept)
    # everything else the fine-tune changed, whole: biases, LayerNorms, embeddings, the head
    extras = {k: v for k, v in tuned.items() if k not in lora_keys}
    save_adapted(
        model.encoder, extras, lora_config.to_json(),
        out_dir / WEIGHTS_FILE, out_dir / CONFIG_FILE, dtype=dtype,
    )  # fmt: skip
    return kept


def refit_temperature(out_dir: Path) -> tuple[float, float]:
    """Fit the temperature again on the calibration split (the extraction changes the
    logits' scale), as ``train_stance.py`` does after training; returns (old, new)."""
    import numpy as np

    from quotestance.document import STANCE_LABELS
    from quotestance.evaluation.stance import fit_temperature
    from quotestance.stance.classifier import StanceClassifier
    from quotestance.stance.data import classify_record, read_rows

    config_path = out_dir / CONFIG_FILE
    config = StanceConfig.from_json(config_path.read_text(encoding="utf-8"))
    rows = [r for r in read_rows() if r["stance_split"] == "calibration"]
    results = StanceClassifier.load(out_dir).classify_records([classify_record(r) for r in rows])
    probs = StanceClassifier.score_matrix(results)
    logits = np.log(np.clip(probs, 1e-12, 1.0)) * config.temperature  # up to a constant
    gold = np.array([STANCE_LABELS.index(r["label"]) for r in rows])
    old, config.temperature = config.temperature, fit_temperature(logits, gold)
    config_path.write_text(config.to_json() + "\n", encoding="utf-8")
    return old, config.temperature


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", type=Path, required=True, help="a full fine-tune's folder")
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--float16", action="store_true", help="store tensors in float16")
    parser.add_argument(
        "--refit-temperature",
        action="store_true",
        help="fit the temperature again on the calibration split",
    )
    a = parser.parse_args(argv)
    if a.rank < 1:
        parser.error("--rank must be at least 1")
    kept = extract(a.full, a.rank, a.out, torch.float16 if a.float16 else torch.float32)
    values = sorted(kept.values())
    summary = {
        "rank": a.rank,
        "layers": len(values),
        "energy_kept_min": round(values[0], 3),
        "energy_kept_median": round(values[len(values) // 2], 3),
        "size_mb": round((a.out / WEIGHTS_FILE).stat().st_size / 1e6, 2),
    }
    if a.refit_temperature:
        summary["temperature_before"], summary["temperature"] = refit_temperature(a.out)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
