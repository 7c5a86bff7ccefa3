"""The annotated stance rows (``data/stance/stance.jsonl``) and their fixed splits.

- ``test``: every quote of the SpkAtt-news dev split (the foundation issue's held-out
  articles), never trained on;
- ``calibration``: the train rows whose document hashes into 10 % (salted sha256, like the
  dev split), held out for the temperature and for choosing between runs;
- ``train``: the other train rows (SpkAtt-news train, GePaDe sample, 10kGNAD);
- ``seed``: the seed article's quotes, kept for the golden test only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from quotestance.stance.inputs import stance_text

STANCE_DATA = Path(__file__).resolve().parents[2] / "data" / "stance" / "stance.jsonl"
CALIBRATION_PERCENT = 10


def is_calibration(document: str) -> bool:
    digest = hashlib.sha256(("quotestance-calib-v1:" + document).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < CALIBRATION_PERCENT


def split_of(row: dict[str, Any]) -> str:
    if row["split"] in ("test", "seed"):
        return row["split"]
    return "calibration" if is_calibration(row["document"]) else "train"


def read_rows(path: Path = STANCE_DATA) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            row["stance_split"] = split_of(row)
            yield row


def classify_record(row: dict[str, Any]) -> dict[str, str]:
    """An annotated row as a ``quotestance classify`` record (what evaluation feeds it)."""
    return {"text": row["quote"], "context": row["context"], "cue": row["cue"],
            "speaker": row["speaker"]}  # fmt: skip


def row_text(row: dict[str, Any], style: str = "repeat") -> str:
    return stance_text(row["quote"], row["context"], row["cue"], row["speaker"], style)
