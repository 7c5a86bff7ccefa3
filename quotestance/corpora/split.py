"""Fixed train/dev splits carved from corpora that ship without a dev split.

A document goes to dev when the first 8 hex digits of sha256("quotestance-dev-v1:" + name),
read as an integer, modulo 100, are below the dev percentage (20). Names are file stems, so
the split depends on nothing but the file name: stable across machines, orderings and
corpus versions. Rules and models are tuned and trained on ``train`` only; ``dev`` is for
scoring.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DEV_PERCENT = 20
_SALT = "quotestance-dev-v1:"


def is_dev(name: str, percent: int = DEV_PERCENT) -> bool:
    digest = hashlib.sha256((_SALT + name).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < percent


def split_of(name: str) -> str:
    return "dev" if is_dev(name) else "train"


def shared_data_dir() -> Path:
    """``$QUOTESTANCE_DATA`` or the ``shared/data`` folder beside the repository."""
    env = os.environ.get("QUOTESTANCE_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    for candidate in (repo.parent / "shared" / "data", repo / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "data"


CORPUS_DIRS = {
    "spkatt-news": "spkatt-news/train/task2",
    "spkatt-gepade": "spkatt-gepade/train/task1",
    "redewiedergabe": "redewiedergabe/main/tsv",
    "ud-gsd-dev": "ud-german/UD_German-GSD/de_gsd-ud-dev.conllu",
    "ud-pud": "ud-german/UD_German-PUD/de_pud-ud-test.conllu",
}


def corpus_path(key: str) -> Path:
    return shared_data_dir() / CORPUS_DIRS[key]
