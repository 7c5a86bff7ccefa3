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


def _write(path, records):
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_network_csv_cells_never_run_as_formulas(tmp_path):
    evil = '=HYPERLINK("http://x","klick")'
    source = _write(tmp_path / "out.jsonl", [
        {"file": "@a.txt", "quotes": [_quote("+1 oder -1", "threat", evil, "-Russland"),
                                      _quote("@wir", "accusation", "+USA", "@Kreml")]},
    ])  # fmt: skip
    assert main(["network", str(source), "-o", str(tmp_path / "net")]) == 0
    rows = _rows(tmp_path / "net.edges.csv")
    cells = [row[key] for row in rows for key in ("source", "target", "examples")]
    assert "'" + evil in cells and "'-Russland" in cells and "'+USA" in cells
    assert "'@Kreml" in cells and "'+1 oder -1" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_network_graphml_is_well_formed_with_control_characters_and_surrogates(tmp_path):
    import xml.etree.ElementTree as ET

    source = tmp_path / "out.jsonl"
    record = {"file": "a.txt", "quotes": [
        _quote("Wir\x0b drohen\x00.", "threat", "US\x01A", "Russ\x1bland\ud800"),
        _quote("Nur Steuerzeichen.", "threat", "\x02\x03", "USA"),
    ]}  # fmt: skip
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")  # \ud800 escaped by json
    assert main(["network", str(source), "-o", str(tmp_path / "net")]) == 0
    root = ET.parse(tmp_path / "net.graphml").getroot()
    ids = sorted(
        node.get("id") for node in root.iter("{http://graphml.graphdrawing.org/xmlns}node")
    )
    assert ids == ["Russland", "USA"]  # the name of control characters only is no node
    rows = _rows(tmp_path / "net.edges.csv")
    assert [(r["source"], r["target"], r["examples"]) for r in rows] == [
        ("USA", "Russland", "Wir drohen.")
    ]


def test_network_prefix_keeps_its_dots(tmp_path, capsys):
    source = _write(tmp_path / "run.v2.jsonl", [
        {"file": "a.txt", "quotes": [_quote("Wir drohen.", "threat", "USA", "Russland")]}
    ])  # fmt: skip
    assert main(["network", str(source), "-o", str(tmp_path / "run.v2")]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["run.v2.edges.csv", "run.v2.graphml", "run.v2.jsonl", "run.v2.png"]
    for name in ("run.v2.edges.csv", "run.v2.graphml", "run.v2.png"):
        (tmp_path / name).unlink()
    assert main(["network", str(source)]) == 0  # default prefix: the input without .jsonl
    assert (tmp_path / "run.v2.edges.csv").is_file() and (tmp_path / "run.v2.png").is_file()


def test_network_skips_records_of_the_wrong_shape_and_counts_them(tmp_path, capsys):
    good = {"file": "a.txt", "quotes": [_quote("Wir drohen.", "threat", "USA", "Russland")]}
    bad_speaker = _quote("x", "threat", "USA", "Russland") | {"speaker": "USA"}
    bad_actor = _quote("x", "threat", "USA", "Russland") | {"target": {"actor": 5}}
    source = tmp_path / "out.jsonl"
    lines = [json.dumps(r) for r in (
        {"quotes": 5}, {"quotes": [5]}, {"quotes": [bad_speaker]}, {"quotes": [bad_actor]},
        {"quotes": [{"stance": ["threat"]}]}, {"file": 3, "quotes": []}, [1, 2], "text", good,
    )] + ["[" * 100_000, "{broken"]  # fmt: skip
    source.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe{}\n")
    assert main(["network", str(source), "-o", str(tmp_path / "net")]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.err.count("\n") == 1
    assert "skipped 11 line(s)" in captured.err and "first: line 1" in captured.err
    assert "1 edges" in captured.out
    rows = _rows(tmp_path / "net.edges.csv")
    assert [(r["source"], r["target"]) for r in rows] == [("USA", "Russland")]


def test_network_outputs_are_replaced_whole_or_not_at_all(tmp_path, monkeypatch, capsys):
    from quotestance import network

    source = _write(tmp_path / "out.jsonl", [
        {"file": "a.txt", "quotes": [_quote("Wir drohen.", "threat", "USA", "Russland")]}
    ])  # fmt: skip
    old = {name: f"old {name}" for name in ("net.edges.csv", "net.graphml", "net.png")}
    for name, text in old.items():
        (tmp_path / name).write_text(text, encoding="utf-8")

    def broken(edges, path):
        path.write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(network, "write_graphml", broken)
    assert main(["network", str(source), "-o", str(tmp_path / "net")]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert {name: (tmp_path / name).read_text(encoding="utf-8") for name in old} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*old, "out.jsonl"])


def test_network_checks_the_output_directory_before_writing(tmp_path, capsys):
    source = _write(tmp_path / "out.jsonl", [{"file": "a.txt", "quotes": []}])
    assert main(["network", str(source), "-o", str(tmp_path / "missing" / "net")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


def test_network_draws_names_with_dollar_signs_and_long_names(tmp_path):
    source = _write(tmp_path / "out.jsonl", [
        {"file": "a.txt", "quotes": [
            _quote("Wir drohen.", "threat", "$\\frac{$", "$x^$"),
            _quote("Wir helfen.", "cooperation", "USA" * 10_000, "$x^$")]}
    ])  # fmt: skip
    assert main(["network", str(source), "-o", str(tmp_path / "net")]) == 0
    assert (tmp_path / "net.png").read_bytes()[:4] == b"\x89PNG"


def _typed(text, stance, speaker, target):
    quote = _quote(text, stance, speaker[0], target[0])
    quote["speaker"]["actor_type"], quote["target"]["actor_type"] = speaker[1], target[1]
    return quote


def test_network_nodes_are_actors_and_edges_can_need_a_minimum_count(tmp_path, capsys):
    person, country = ("Kerry", "person"), ("Russland", "country")
    records = [{"file": "a.txt", "quotes": [
        _typed("Wir drohen.", "threat", person, country),
        _typed("Noch einmal.", "threat", person, country),
        _typed("Laut Formularen.", "accusation", ("eigenen Angaben", "other"), country),
        _typed("Wir helfen.", "cooperation", country, person),
    ]}]  # fmt: skip
    source = tmp_path / "out.jsonl"
    source.write_text(json.dumps(records[0]) + "\n", encoding="utf-8")

    def edges(*options):
        assert main(["network", str(source), "-o", str(tmp_path / "net"), *options]) == 0
        capsys.readouterr()
        with open(tmp_path / "net.edges.csv", encoding="utf-8", newline="") as handle:
            return [(r["source"], r["target"], r["count"]) for r in csv.DictReader(handle)]

    assert edges() == [("Kerry", "Russland", "2"), ("Russland", "Kerry", "1")]
    assert edges("--min-count", "2") == [("Kerry", "Russland", "2")]
    assert edges("--actor-types", "person") == []
    assert ("eigenen Angaben", "Russland", "1") in edges("--actor-types", "person,country,other")


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--actor-types", "person,place"], "unknown type(s) place"),
     (["--min-count", "0"], "--min-count must be at least 1")],
)  # fmt: skip
def test_network_refuses_bad_filters_in_one_line(tmp_path, capsys, options, message):
    source = tmp_path / "out.jsonl"
    source.write_text('{"file": "a.txt", "quotes": []}\n', encoding="utf-8")
    assert main(["network", str(source), *options]) != 0
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("out.edges.csv"))
