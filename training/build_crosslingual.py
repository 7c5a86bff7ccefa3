"""Cross-lingual stance rows: the English PLOVER gold records, mapped onto the four labels.

``../shared/data/cameo-plover/PLOVER/PLOVER_GSR_CAMEO.txt`` (322 example sentences of the CAMEO
manual coded with PLOVER events; CC BY-SA 4.0). Mapping (``shared/data/SOURCES.md``'s hint):
THREATEN -> threat; AGREE, COOPERATE, SUPPORT, CONSULT, AID -> cooperation; DISAPPROVE ->
accusation; every other event -> none. The multilingual encoder reads them as they are
(English). They are used only when training with ``--crosslingual`` (an ablation row of
``reports/stance_comparison.md``), never for evaluation.

``snowood1/Zero-Shot-PLOVER``'s PLV sets were looked at and not used: that repository states
no licence.

Writes ``data/stance/crosslingual.jsonl``. Run: ``python training/build_crosslingual.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from quotestance.corpora.split import shared_data_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # training.* run as a script
from training.build_stance_items import count_by, write_jsonl

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "stance" / "crosslingual.jsonl"
LABELS = {"THREATEN": "threat", "AGREE": "cooperation", "COOPERATE": "cooperation",
          "SUPPORT": "cooperation", "CONSULT": "cooperation", "AID": "cooperation",
          "DISAPPROVE": "accusation"}  # fmt: skip


def plover_rows() -> list[dict]:
    path = shared_data_dir() / "cameo-plover" / "PLOVER" / "PLOVER_GSR_CAMEO.txt"
    rows = []
    for record in json.loads(path.read_text(encoding="utf-8")):
        if record.get("event") == "DOCUMENT" or not record.get("text"):
            continue
        sources = [a for a in record.get("source") or [] if isinstance(a, dict)] or [{}]
        targets = [a for a in record.get("target") or [] if isinstance(a, dict)] or [{}]
        label = LABELS.get(record["event"], "none")
        rows.append({
            "id": f"plover:{record['id']}", "corpus": "plover-gsr", "document": record["id"],
            "split": "train", "origin": "gold", "message_tokens": [], "start": 0,
            "end": len(record["text"]), "form": "event", "quote": record["text"],
            "context": record["text"], "cue": record.get("eventText", ""),
            "speaker": sources[0].get("actorText", ""), "addressee": "", "label": label,
            "target": targets[0].get("actorText", "") if label != "none" else "",
            "label_source": f"plover:{record['event']}", "double_annotated": False,
            "licence": "CC BY-SA 4.0", "selection": "crosslingual", "language": "en",
        })  # fmt: skip
    return rows


def main() -> None:
    rows = plover_rows()
    write_jsonl(OUT, rows)
    print(f"{len(rows)} rows -> {OUT}: {count_by(rows, 'label')}")


if __name__ == "__main__":
    main()
