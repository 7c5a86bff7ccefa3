"""``model_version``: which shipped weights annotated a document.

# to be replaced by quotestance.resources.model_versions()
A stop-gap until ``quotestance.resources.model_versions()`` (short sha256 of each shipped
weight file) lands: the same idea, computed from the stages a pipeline holds. Each learned
stage contributes its files (weights and the config beside them) as one short sha256; a
pipeline of rules alone has no model version (None). Hashes are computed once per file and
process.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SHORT = 12  # hex digits of a sha256 kept


@functools.cache
def files_sha256(paths: tuple[str, ...]) -> str:
    """The short sha256 of the files' contents, in order (cached per process)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:SHORT]


def stage_weight_files(stages: Sequence[Any]) -> dict[str, list[Path]]:
    """The shipped files each learned stage of ``stages`` was loaded from, by component
    (``Pipeline.default`` loads the shipped ones; stages are recognised by name, so that
    nothing here imports torch)."""
    files: dict[str, list[Path]] = {}
    for stage in stages:
        name = getattr(stage, "name", "")
        if name == "tagger" or hasattr(stage, "tagger"):
            from quotestance.detect import tagger_files as tf

            files["tagger"] = [tf.DEFAULT_TAGGER_DIR / tf.WEIGHTS_FILE,
                               tf.DEFAULT_TAGGER_DIR / tf.CONFIG_FILE]  # fmt: skip
        elif name == "speakers" and type(stage).__name__ == "SpeakerLinker":
            from quotestance.speakers.linker import DEFAULT_MODEL

            files["linker"] = [DEFAULT_MODEL]
        elif name == "stance":
            from quotestance.stance import files as sf

            files["stance"] = [sf.DEFAULT_STANCE_DIR / sf.WEIGHTS_FILE,
                               sf.DEFAULT_STANCE_DIR / sf.CONFIG_FILE]  # fmt: skip
    return files


def pipeline_model_version(stages: Sequence[Any]) -> str | None:
    """``tagger=…;linker=…;stance=…`` for the learned stages of ``stages`` (None if none)."""
    parts = [
        f"{component}={files_sha256(tuple(str(p) for p in paths))}"
        for component, paths in stage_weight_files(stages).items()
        if all(p.is_file() for p in paths)
    ]
    return ";".join(parts) or None
