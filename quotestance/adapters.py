"""LoRA adapters on a backbone encoder, saved as adapter + head weights (one safetensors file)
and a JSON config: the shipping format of every trained component (tagger, stance)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Self

import torch
from torch import nn


class JSONConfig:
    """``to_json``/``from_json`` for the dataclass configs of adapted components; tuple fields
    (JSON has only lists) come back as tuples."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Self:
        data = json.loads(text)
        for f in fields(cls):
            if f.name in data and str(f.type).startswith("tuple"):
                data[f.name] = tuple(data[f.name])
        return cls(**data)


def restore_training_state(
    path: Path, model: nn.Module, optimizer: Any, scheduler: Any
) -> dict[str, Any]:
    """Load a training checkpoint (model, optimizer, scheduler) saved as a dict by a training
    script; returns the whole state for the script's own entries (step, epoch, RNGs)."""
    state = torch.load(path, weights_only=False)
    model.load_state_dict(state["model"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return state


def add_lora(encoder: nn.Module, config: Any) -> nn.Module:
    """Wrap the encoder with LoRA adapters (peft); only adapters (and heads) are trained.

    ``config`` has ``lora_r``, ``lora_alpha``, ``lora_dropout`` and ``lora_targets``."""
    import warnings

    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_targets),
        bias="none",
    )
    with warnings.catch_warnings():  # peft calls a transformers method deprecated in v5
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(encoder, lora)


def save_adapted(
    encoder: nn.Module,
    heads: dict[str, torch.Tensor],
    config_json: str,
    weights: Path,
    config: Path,
    dtype: torch.dtype = torch.float32,
) -> None:
    """The encoder's adapter (prefixed ``adapter.``) and the head tensors in one safetensors
    file, the config beside it (``dtype`` float16 halves the file; loading casts back)."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {f"adapter.{k}": v for k, v in get_peft_model_state_dict(encoder).items()}
    state.update(heads)
    save_file({k: v.detach().contiguous().to(dtype) for k, v in state.items()}, str(weights))
    config.write_text(config_json + "\n", encoding="utf-8")


def load_adapted(
    encoder: nn.Module, weights: Path, merge: bool = True
) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """Load the adapter saved by ``save_adapted`` into a LoRA-wrapped ``encoder`` (merged into
    the base weights unless ``merge=False``); returns the encoder and the head tensors."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = load_file(str(weights))
    adapter = {k.removeprefix("adapter."): v for k, v in state.items() if k.startswith("adapter.")}
    set_peft_model_state_dict(encoder, adapter)
    if merge:
        encoder = encoder.merge_and_unload()
    return encoder, {k: v for k, v in state.items() if not k.startswith("adapter.")}


def load_heads(model: nn.Module, heads: dict[str, torch.Tensor], source: Path) -> None:
    """Put head tensors into ``model``; every non-encoder parameter must be among them."""
    missing = model.load_state_dict(heads, strict=False)
    if any(not k.startswith("encoder.") for k in missing.missing_keys):
        raise ValueError(f"{source}: missing head weights {missing.missing_keys}")
    model.eval()
