"""``model_version``: which shipped weights annotated a document.

The learned stages a pipeline holds, each named by the short sha256 that
``quotestance --version`` prints (``quotestance.resources.model_versions``):
``tagger=…;speakers=…;stance=…``. A pipeline of rules alone has no model version (None).
Stages are recognised by name, so nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def learned_components(stages: Sequence[Any]) -> list[str]:
    """The shipped learned components ``stages`` were loaded from, in pipeline order."""
    found = []
    for stage in stages:
        name = getattr(stage, "name", "")
        if name == "tagger" or hasattr(stage, "tagger"):
            found.append("tagger")
        elif name == "speakers" and type(stage).__name__ == "SpeakerLinker":
            found.append("speakers")
        elif name == "stance":
            found.append("stance")
    return found


def pipeline_model_version(stages: Sequence[Any]) -> str | None:
    """``tagger=…;speakers=…;stance=…`` for the learned stages of ``stages`` (None if none)."""
    from quotestance.resources import MISSING, model_versions

    versions = model_versions()
    parts = [
        f"{component}={versions[component]}"
        for component in learned_components(stages)
        if versions[component] != MISSING
    ]
    return ";".join(parts) or None
