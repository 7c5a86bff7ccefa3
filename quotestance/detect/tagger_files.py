"""Where the shipped tagger lives, importable without torch (the rules-only install)."""

from __future__ import annotations

from pathlib import Path

from quotestance.resources import resource_path

DEFAULT_TAGGER_DIR = resource_path("tagger")
WEIGHTS_FILE = "tagger.safetensors"
CONFIG_FILE = "tagger.json"


def tagger_weights_present(directory: Path | None = None) -> bool:
    return (Path(directory or DEFAULT_TAGGER_DIR) / WEIGHTS_FILE).is_file()
