"""Reader for SpkAtt JSON (GermEval 2023): news (task 2, Wikinews) and parliament (task 1, GePaDe).

Each file holds ``Sentences`` (``SentenceId``, ``Tokens``) and ``Annotations`` whose roles are
lists of ``"sent:tok"`` ids. Annotations without a ``Message`` (cue-only, in the parliament
data) are not quotes for our metrics and are skipped as gold quotes, but their cues are kept
by ``read_cue_annotations`` for building the cue lexicon.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from quotestance.corpora.base import AnnotatedDocument, GoldQuote, detokenize, token_order


def _read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_spkatt_file(path: str | Path, corpus: str = "spkatt") -> AnnotatedDocument:
    """One SpkAtt JSON file as an ``AnnotatedDocument`` (text rebuilt as in metrics.md)."""
    path = Path(path)
    data = _read_json(path)
    sentences = sorted(data["Sentences"], key=lambda s: s["SentenceId"])
    tokens = (
        (f"{s['SentenceId']}:{i}", tok) for s in sentences for i, tok in enumerate(s["Tokens"])
    )
    text, spans = detokenize([tokens])
    gold = []
    for ann in data.get("Annotations", []):
        if not ann.get("Message"):
            continue
        gold.append(
            GoldQuote(
                message=set(ann["Message"]),
                form=ann.get("Form") or "Unknown",
                cue=set(ann.get("Cue") or []),
                source=set(ann.get("Source") or []),
                addressee=set(ann.get("Addr") or []),
                medium=ann.get("STWR") or "",
            )
        )
    return AnnotatedDocument(name=path.stem, text=text, token_spans=spans, gold=gold, corpus=corpus)


def iter_spkatt(directory: str | Path, corpus: str = "spkatt") -> Iterator[AnnotatedDocument]:
    """All ``*.json`` files of a SpkAtt folder, sorted by name."""
    for path in sorted(Path(directory).glob("*.json")):
        yield read_spkatt_file(path, corpus=corpus)


def read_cue_annotations(directory: str | Path) -> Iterator[tuple[str, list[str], str]]:
    """Yield (document name, cue tokens in order, form) for every annotation with a cue."""
    for path in sorted(Path(directory).glob("*.json")):
        data = _read_json(path)
        tokens = {s["SentenceId"]: s["Tokens"] for s in data["Sentences"]}
        for ann in data.get("Annotations", []):
            cue_ids = ann.get("Cue") or []
            if not cue_ids:
                continue
            ordered = sorted(cue_ids, key=token_order)
            words = [tokens[int(t.split(":")[0])][int(t.split(":")[1])] for t in ordered]
            yield path.stem, words, ann.get("Form") or ""
