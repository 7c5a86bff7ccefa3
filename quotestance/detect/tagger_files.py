"""Where the shipped tagger lives, importable without torch (the rules-only install)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_TAGGER_DIR = Path(__file__).resolve().parents[2] / "data" / "tagger"
WEIGHTS_FILE = "tagger.safetensors"
CONFIG_FILE = "tagger.json"


def tagger_weights_present(directory: Path | None = None) -> bool:
    return (Path(directory or DEFAULT_TAGGER_DIR) / WEIGHTS_FILE).is_file()
