"""Table inputs on one machine (``quotestance.tables``): JSONL, CSV and Parquet rows give the
records their texts give as .txt files, bad rows are error records, the id is every output's
``file``, a missing column stops the run before any output, --resume goes by the ids, and the
rows are read as the run goes. Rules detector without stance (fast, no weights)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from quotestance.batch import PipelineFactory, annotate_stream
from quotestance.cli import main
from quotestance.formats import InputError, Source
from quotestance.tables import read_table

TEXTS = [
    "„Wir kommen morgen“, sagte der Bürgermeister. Er habe keine Zeit gehabt.",
    "Die Polizei teilte mit, dass drei Menschen verletzt worden seien.",
    "Ein ruhiger Tag ohne Zitate.",
    "John Kerry sagte, man sei bereit. Kerry fügte hinzu: „Wir warten nicht länger.“",
    'Zeile eins\r\nZeile zwei, „mit Zitat“, sagte sie.\n\nEin Absatz mit "Anführung" und ;,',
]
RULES = ["--detector", "rules", "--no-stance", "--no-progress"]
IDS = [f"doc-{i}" for i in range(len(TEXTS))]
ROWS = list(zip(IDS, TEXTS, strict=True))


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _parquet(path: Path, columns: dict) -> Path:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _annotate(tmp_path: Path, *args: str, name: str = "out.jsonl") -> tuple[int, list[dict]]:
    out = tmp_path / name
    code = main(["annotate", *args, "--format", "jsonl", "-o", str(out), *RULES])
    return code, _records(out) if out.exists() else []


def test_tables_give_the_records_of_text_files(tmp_path, capsys):
    folder = tmp_path / "txt"
    folder.mkdir()
    for name, text in ROWS:
        (folder / f"{name}.txt").write_text(text, encoding="utf-8", newline="")
    code, expected = _annotate(tmp_path, str(folder), "--batch-size", "2", name="txt.jsonl")
    assert code == 0 and sum(len(r["quotes"]) for r in expected) >= 4
    for record in expected:  # the document's name: the id instead of the path
        record["file"] = Path(record["file"]).stem
    jsonl = _jsonl(tmp_path / "news.jsonl", [{"id": i, "text": t} for i, t in ROWS])
    table = _csv(tmp_path / "news.csv", ["text", "id"], [[t, i] for i, t in ROWS])
    parquet = _parquet(tmp_path / "news.parquet", {"id": IDS, "text": TEXTS})
    for source in (jsonl, table, parquet):
        code, records = _annotate(tmp_path, str(source), "--batch-size", "2")
        assert code == 0, capsys.readouterr().err
        assert records == expected, source.suffix
    # --id-column and its former name; without an id column: FILE#N
    renamed = _csv(tmp_path / "r.csv", ["url", "body"], [[i, t] for i, t in ROWS])
    for option in ("--id-column", "--name-column"):
        code, records = _annotate(tmp_path, str(renamed), option, "url", "--text-column", "body")
        assert code == 0 and records == expected
    bare = _csv(tmp_path / "bare.csv", ["text"], [[t] for t in TEXTS])
    code, records = _annotate(tmp_path, str(bare))
    assert [r["file"] for r in records] == [f"{bare}#{n}" for n in range(1, len(TEXTS) + 1)]
    assert [r["quotes"] for r in records] == [r["quotes"] for r in expected]


def test_the_id_is_in_every_format(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    source = _jsonl(tmp_path / "n.jsonl", [{"id": "alpha", "text": TEXTS[0]}, {"text": "x"}])
    rows = {}
    for fmt in ("csv", "parquet", "tsv", "table", "html", "json"):
        out = tmp_path / f"out.{fmt}"
        assert main(["annotate", str(source), "--format", fmt, "-o", str(out), *RULES]) == 0
        if fmt == "parquet":
            rows[fmt] = {row["file"] for row in pq.read_table(out).to_pylist()}
        elif fmt == "csv":
            with out.open(encoding="utf-8", newline="") as handle:
                rows[fmt] = {row["file"] for row in csv.DictReader(handle)}
        else:
            text = out.read_text(encoding="utf-8")
            assert "alpha" in text and str(source) not in text.replace(f"{source}#2", ""), fmt
    assert rows["csv"] == rows["parquet"] == {"alpha"}  # the row without quotes has no rows


def test_bad_rows_are_error_records(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    big = "x" * 3000  # over --max-mb 0.002 (2097 bytes)
    limit = f"{int(0.002 * 2**20) / 2**20:g} MiB"
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_bytes(
        (json.dumps({"id": "good", "text": TEXTS[0]}, ensure_ascii=False) + "\n").encode()
        + b'{"id": "lone", "text": "Er sagte \\ud800 nichts."}\n'
        + b'{"id": "nul", "text": "a\\u0000b"}\n'
        + b'{"id": "latin1", "text": "\xe4"}\n'
        + json.dumps({"id": "big", "text": big}).encode()
        + b"\n"
        + b'{"id": "good", "text": "again"}\n'
    )
    table = tmp_path / "bad.csv"
    table.write_bytes(
        "\ufeffid,text\n".encode()  # a BOM, as spreadsheets write it
        + f'c-good,"{TEXTS[0].replace(chr(34), 2 * chr(34))}"\n'.encode()
        + b"c-latin1,caf\xe9\n"
        + f"c-big,{big}\n".encode()
        + b'c-multi,"two\nlines, one field"\n'
        + b"c-short\n"  # no text field
        + b",nameless\n"
        + f"c-long,{'y' * (2 * 2097 + 2**20 + 10)}\n".encode()  # a line over any limit
        + b"c-last,Ende.\n"
    )
    parquet = tmp_path / "bad.parquet"
    text = pa.array([TEXTS[3].encode(), None, b"\xff\xfe"]).view(pa.string())
    _parquet(parquet, {"id": ["p-good", "p-null", "p-bad"], "text": text})
    out = tmp_path / "out.jsonl"
    code = main(["annotate", str(jsonl), str(table), str(parquet), "--format", "jsonl",
                 "-o", str(out), *RULES, "--max-mb", "0.002"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    errors = {r["file"]: r.get("error") for r in _records(out)}
    expected = {
        "good": None,
        "lone": "lone: the text in 'text' is not valid Unicode (a lone surrogate",
        "nul": "nul: binary file, not text",
        f"{jsonl}#4": f"{jsonl}#4: not UTF-8 (byte ",
        "big": f"big: input over the {limit} limit",
        f"{jsonl}#6": f"{jsonl}#6: the name 'good' is already the name of row 1",
        "c-good": None,
        f"{table}#2": f"{table}#2: not UTF-8 (in 'text')",
        f"{table}#3": f"{table}#3: a field over the {limit} limit",
        "c-multi": None,
        "c-short": "c-short: no text in column 'text'",
        f"{table}#6": None,  # no id: FILE#N
        f"{table}#7": f"{table}#7: line over the limit for a {limit} text",
        "c-last": None,
        "p-good": None,
        "p-null": "p-null: no text in column 'text'",
        f"{parquet}#3": f"{parquet}#3: unreadable row (",
    }
    assert list(errors) == list(expected)
    for name, start in expected.items():
        if start is None:
            assert errors[name] is None, (name, errors[name])
        else:
            assert errors[name] and errors[name].startswith(start), (name, errors[name])
            assert errors[name] in err  # one line each on standard error
    records = {r["file"]: r for r in _records(out)}
    assert records["good"]["quotes"] and records["c-good"]["quotes"] == records["good"]["quotes"]


def test_a_missing_column_stops_before_any_output(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    table = _csv(tmp_path / "a.csv", ["id", "body"], [["a", TEXTS[0]]])
    parquet = _parquet(tmp_path / "a.parquet", {"id": ["a"], "body": [TEXTS[0]]})
    cases = [
        ([str(table)], f"{table}: no column 'text' (--text-column; the columns are 'id', 'body')"),
        ([str(parquet), "--text-column", "body", "--id-column", "url"],
         f"{parquet}: no column 'url' (--id-column; the columns are 'id', 'body')"),
    ]  # fmt: skip
    for args, message in cases:
        code = main(["annotate", *args, "--format", "jsonl", "-o", str(out), *RULES])
        assert code == 2
        assert capsys.readouterr().err == f"quotestance: {message}\n"
        assert out.read_text(encoding="utf-8") == "previous\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.parquet", "out.jsonl"]
    # a JSON Lines file has no header: each row without the column is an error record
    jsonl = _jsonl(tmp_path / "a.jsonl", [{"id": "a", "body": TEXTS[0]}])
    code, records = _annotate(tmp_path, str(jsonl))
    assert code == 1 and records == [
        {"file": "a", "quotes": [], "error": "a: no text in column 'text'"}
    ]
    # an empty CSV file is a table without rows
    (tmp_path / "empty.csv").write_bytes(b"")
    assert _annotate(tmp_path, str(tmp_path / "empty.csv")) == (0, [])


def test_resume_skips_the_ids_already_done(tmp_path, capsys):
    rows = [[i, t] for i, t in ROWS]
    table = _csv(tmp_path / "news.csv", ["id", "text"], rows)
    code, full = _annotate(tmp_path, str(table), name="full.jsonl")
    assert code == 0
    out = tmp_path / "out.jsonl"
    lines = (tmp_path / "full.jsonl").read_bytes().splitlines(keepends=True)
    # an interrupted run: two records, a failed one and a cut-off line
    error = json.dumps({"file": IDS[2], "quotes": [], "error": "x"}).encode() + b"\n"
    out.write_bytes(lines[0] + lines[1] + error + lines[3][:20])
    capsys.readouterr()
    code = main(["annotate", str(table), "--format", "jsonl", "-o", str(out), *RULES,
                 "--resume"])  # fmt: skip
    assert code == 0
    assert "resume: 2 document(s) already in" in capsys.readouterr().err
    assert out.read_bytes() == b"".join(lines)
    assert _records(out) == full


def test_rows_are_read_as_they_go(tmp_path):
    """One process or two workers: the same outcomes in order, and the table is read a few
    batches ahead of the outcomes, never whole."""
    rows = [{"id": f"r{k}", "text": TEXTS[k % len(TEXTS)]} for k in range(60)]
    source = _jsonl(tmp_path / "many.jsonl", rows)
    seen = []

    def documents():
        for row in read_table(source):
            seen.append(row.name)
            yield Source(row.name, None, row.text.encode()) if row.text else InputError("x")

    records = {}
    for workers, ahead in ((1, 3 + 1), (2, (2 * 2 + 2) * 3 + 1)):
        seen.clear()
        stream = annotate_stream(documents(), PipelineFactory("rules", stance=False),
                                 workers=workers, batch_size=3)  # fmt: skip
        first = next(stream)
        assert first.name == "r0" and first.doc is not None
        assert len(seen) <= ahead, (workers, len(seen))
        records[workers] = [o.doc.to_dict() for o in [first, *stream]]
        assert [r["file"] for r in records[workers]] == [r["id"] for r in rows]
        assert len(seen) == 60
    assert records[1] == records[2]
