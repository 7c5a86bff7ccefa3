"""Where the stance model lives (importable without torch)."""

from __future__ import annotations

from pathlib import Path

from quotestance.resources import resource_path

DEFAULT_STANCE_DIR = resource_path("stance_model")
WEIGHTS_FILE = "stance.safetensors"
CONFIG_FILE = "stance.json"


def stance_weights_present(directory: Path | None = None) -> bool:
    return (Path(directory or DEFAULT_STANCE_DIR) / WEIGHTS_FILE).is_file()
