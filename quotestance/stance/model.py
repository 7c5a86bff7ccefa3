"""The stance classifier: an encoder with LoRA adapters, mean pooling and a linear head.

What ships is the adapter, the head and a temperature (``quotestance/resources/stance_model/``,
safetensors + JSON); the base encoder comes from ``quotestance.backbone`` (the embedded
multilingual-e5-small by default, or any Hugging Face encoder by name or path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from quotestance.adapters import JSONConfig, add_lora, load_adapted, load_heads, save_adapted
from quotestance.document import STANCE_LABELS
from quotestance.stance.files import CONFIG_FILE, DEFAULT_STANCE_DIR, WEIGHTS_FILE


@dataclass
class StanceConfig(JSONConfig):
    base_model: str | None = None  # None: the embedded e5-small
    max_len: int = 160
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    labels: tuple[str, ...] = STANCE_LABELS
    temperature: float = 1.0  # fitted on held-out data after training
    input_style: str = "repeat"  # quotestance.stance.inputs.INPUT_STYLES
    full_finetune: bool = False  # True: every encoder weight trained (no LoRA)
    extra: dict[str, Any] = field(default_factory=dict)


class StanceModel(nn.Module):
    """Encoder -> masked mean of the last hidden states -> LayerNorm -> linear head."""

    def __init__(self, encoder: nn.Module, hidden_size: int, labels: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.norm = nn.LayerNorm(hidden_size)
        self.head = nn.Linear(hidden_size, labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0].float()
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(self.norm(pooled))

    def head_state(self) -> dict[str, torch.Tensor]:
        return {f"norm.{k}": v for k, v in self.norm.state_dict().items()} | {
            f"head.{k}": v for k, v in self.head.state_dict().items()
        }


def build_model(config: StanceConfig) -> tuple[StanceModel, Any]:
    """A fresh model (base encoder + new LoRA adapter + new head) and its tokenizer."""
    from quotestance.backbone import load_backbone

    encoder, tokenizer = load_backbone(config.base_model)
    if config.full_finetune:  # every weight but the (shared, frozen) word embeddings trains
        for name, param in encoder.named_parameters():
            param.requires_grad = "word_embeddings" not in name
    else:
        encoder = add_lora(encoder, config)
    return StanceModel(encoder, encoder.config.hidden_size, len(config.labels)), tokenizer


def trained_encoder_state(model: StanceModel) -> dict[str, torch.Tensor]:
    """What full fine-tuning changed: every encoder tensor but the frozen word embeddings."""
    return {
        f"encoder.{k}": v
        for k, v in model.encoder.state_dict().items()
        if "word_embeddings" not in k
    }


def save_stance(model: StanceModel, config: StanceConfig, directory: Path) -> Path:
    if config.full_finetune:
        from safetensors.torch import save_file

        directory.mkdir(parents=True, exist_ok=True)
        state = trained_encoder_state(model) | model.head_state()
        save_file({k: v.detach().contiguous().float() for k, v in state.items()},
                  str(directory / WEIGHTS_FILE))  # fmt: skip
        (directory / CONFIG_FILE).write_text(config.to_json() + "\n", encoding="utf-8")
        return directory
    save_adapted(
        model.encoder, model.head_state(), config.to_json(),
        directory / WEIGHTS_FILE, directory / CONFIG_FILE,
    )  # fmt: skip
    return directory


def load_stance(directory: Path | None = None) -> tuple[StanceModel, Any, StanceConfig]:
    """Rebuild a saved classifier: base encoder, adapter (merged), head, config."""
    directory = Path(directory or DEFAULT_STANCE_DIR)
    if not (directory / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(
            f"no stance model in {directory} (train one: training/train_stance.py)"
        )
    config = StanceConfig.from_json((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    model, tokenizer = build_model(config)
    if config.full_finetune:
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(directory / WEIGHTS_FILE)), strict=False)
        model.eval()
        return model, tokenizer, config
    model.encoder, heads = load_adapted(model.encoder, directory / WEIGHTS_FILE)
    load_heads(model, heads, directory / WEIGHTS_FILE)
    return model, tokenizer, config
