"""The stance network: edges from annotate output, CSV, GraphML and the drawing."""

from __future__ import annotations

import csv
import json

import pytest

from quotestance.cli import main

pytest.importorskip("networkx")
pytest.importorskip("matplotlib")


def _quote(text, stance, speaker, target):
    return {"id": "q1", "text": text, "stance": stance,
            "speaker": {"text": speaker, "actor": speaker} if speaker else None,
            "target": {"text": target, "actor": target} if target else None}  # fmt: skip


def test_network_counts_edges_per_stance_and_writes_three_files(tmp_path, capsys):
    records = [
        {"file": "a.txt", "quotes": [_quote("Wir drohen.", "threat", "USA", "Russland"),
                                     _quote("Wir helfen.", "cooperation", "Russland", "USA"),
                                     _quote("Nichts.", "none", "USA", "Russland")]},
        {"file": "b.txt", "quotes": [_quote("Noch einmal.", "threat", "USA", "Russland"),
                                     _quote("Ohne Ziel.", "accusation", "USA", None)]},
        {"file": "c.txt", "quotes": [], "error": "binary file"},
    ]  # fmt: skip
    source = tmp_path / "out.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n{broken", encoding="utf-8")
    assert main(["network", str(source), "-o", str(tmp_path / "net")]) == 0
    assert "2 edges" in capsys.readouterr().out
    with open(tmp_path / "net.edges.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["source"], r["target"], r["stance"], r["count"], r["files"]) for r in rows] == [
        ("USA", "Russland", "threat", "2", "2"),
        ("Russland", "USA", "cooperation", "1", "1"),
    ]
    assert "Wir drohen." in rows[0]["examples"]
    graphml = (tmp_path / "net.graphml").read_text(encoding="utf-8")
    assert "<graphml" in graphml and "Russland" in graphml
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_network_of_a_missing_file(tmp_path, capsys):
    assert main(["network", str(tmp_path / "nope.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err
