"""A hostile user's runs of ``annotate`` (issue 12): nothing the user had is destroyed, no
traceback, one line and a documented exit code for each problem, results that depend on
the document alone. Rules detector and no stance throughout: no model weights needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from quotestance.cli import main

RULES = ["--detector", "rules", "--no-stance", "--no-progress"]
ARTICLE = (
    "US-Außenminister John Kerry drohte Russland mit dem Abbruch der Gespräche. "
    "„Wir werden nicht länger warten“, sagte Kerry am Mittwoch in Washington.\n\n"
    "Der Kreml wies die Vorwürfe zurück. Russland sei zu Gesprächen bereit, sagte ein Sprecher."
)


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["annotate", *args, *RULES])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().split(b"\n") if line]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for k in range(6):
        (folder / f"{k:02d}.txt").write_text(f"Nummer {k}. {ARTICLE}", encoding="utf-8")
    return folder


# ---------------------------------------------------------------- row 2, 3: outputs


def test_an_output_that_is_an_input_is_refused(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(article)
    for output in (article, link):
        code, _, err = run([str(article), "--format", "jsonl", "-o", str(output)], capsys)
        assert code == 2 and "is one of the inputs" in err
        assert article.read_text(encoding="utf-8") == ARTICLE


def test_a_broken_actors_file_leaves_the_previous_output(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    previous = tmp_path / "prev.jsonl"
    previous.write_text('{"file": "x", "quotes": []}\n', encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("actors: [1", encoding="utf-8")
    args = [str(article), "--format", "jsonl", "-o", str(previous), "--actors", str(broken)]
    code, _, err = run(args, capsys)
    assert code == 2 and err.count("\n") == 1
    assert previous.read_text(encoding="utf-8") == '{"file": "x", "quotes": []}\n'
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_an_output_inside_the_input_directory_is_not_read_as_input(corpus, capsys):
    output = corpus / "out.txt"
    for _ in range(2):
        code, _, _ = run([str(corpus), "--format", "jsonl", "-o", str(output)], capsys)
        assert code == 0
        assert [r["file"] for r in records(output)] == [str(p) for p in sorted(corpus.glob("0*"))]


def test_a_failed_write_keeps_the_previous_output_and_exits_2(tmp_path, capsys, monkeypatch):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    output = tmp_path / "out.jsonl"
    output.write_text("mine\n", encoding="utf-8")
    from quotestance import formats

    def full_disk(self, record, doc):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(formats.Writer, "_write_jsonl", full_disk)
    code, _, err = run([str(article), "--format", "jsonl", "-o", str(output)], capsys)
    assert code == 2 and "No space left on device" in err
    assert output.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "out.jsonl"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_device_is_exit_2(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    code, _, err = run([str(article), "-o", "/dev/full"], capsys)
    assert code == 2 and err.strip().endswith("cannot write (No space left on device)")


def test_the_output_is_written_in_place_only_at_the_end(tmp_path, capsys, monkeypatch):
    """While a run writes, -o still holds the previous output; the new one appears whole."""
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    output = tmp_path / "out.html"
    output.write_text("previous", encoding="utf-8")
    from quotestance import formats

    seen = []
    original = formats.Writer.write

    def spy(self, doc):
        seen.append(output.read_text(encoding="utf-8"))
        original(self, doc)

    monkeypatch.setattr(formats.Writer, "write", spy)
    code, _, _ = run([str(article), "--format", "html", "-o", str(output)], capsys)
    assert code == 0 and seen == ["previous"]
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# ---------------------------------------------------------------- row 4: --resume


def test_resume_keeps_records_with_line_separators_and_drops_duplicates(tmp_path, capsys):
    folder = tmp_path / "c"
    folder.mkdir()
    for k in range(3):  # U+2028 and U+0085 inside quotes: str.splitlines would split there
        (folder / f"{k}.txt").write_text(
            f"Er sagte: „Das ist gut\u2028und\x85schön {k}.“\n", encoding="utf-8"
        )
    full = tmp_path / "full.jsonl"
    assert run([str(folder), "--format", "jsonl", "-o", str(full)], capsys)[0] == 0
    assert "\u2028" in full.read_text(encoding="utf-8")
    lines = full.read_bytes().split(b"\n")
    resumed = tmp_path / "resumed.jsonl"
    resumed.write_bytes(lines[0] + b"\n" + lines[0] + b"\n" + lines[1] + b"\n")
    code, _, err = run([str(folder), "--format", "jsonl", "-o", str(resumed), "--resume"], capsys)
    assert code == 0 and "2 file(s) already" in err
    assert resumed.read_bytes() == full.read_bytes()


@pytest.mark.parametrize("where", ["partial", "output"])
def test_a_run_cut_anywhere_and_resumed_equals_an_uninterrupted_run(
    corpus, tmp_path, capsys, where
):
    """``partial``: a fresh run killed (its stream is ``.NAME.partial``); ``output``: a
    ``--resume`` run killed while appending to NAME. Cuts inside and between records."""
    full = tmp_path / "full.jsonl"
    assert (
        run([str(corpus), "--format", "jsonl", "-o", str(full), "--batch-size", "4"], capsys)[0]
        == 0
    )
    data = full.read_bytes()
    ends = [k + 1 for k, byte in enumerate(data) if byte == ord("\n")]
    for cut in (0, ends[0], ends[0] + 7, ends[2] - 1, ends[3]):
        out = tmp_path / f"cut{cut}-{where}.jsonl"
        stream = out.with_name(f".{out.name}.partial") if where == "partial" else out
        stream.write_bytes(data[:cut])
        if where == "partial":
            out.write_text("an older output\n", encoding="utf-8")
        args = [str(corpus), "--format", "jsonl", "-o", str(out), "--resume", "--batch-size", "3"]
        assert run(args, capsys)[0] == 0
        assert out.read_bytes() == data, cut
        assert not stream.exists() or stream == out


def test_resume_into_something_that_is_not_jsonl_is_a_usage_error(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    for name, content in (("out.json", '[{"file": "x"}]\n'), ("out.jsonl", "hello\n")):
        output = tmp_path / name
        output.write_text(content, encoding="utf-8")
        code, _, err = run(
            [str(article), "--format", "jsonl", "-o", str(output), "--resume"], capsys
        )
        assert code == 2 and "--resume continues only" in err
        assert output.read_text(encoding="utf-8") == content
    for fmt in ("html", "json", "table", "csv"):
        output = tmp_path / f"x.{fmt}"
        output.write_text("keep", encoding="utf-8")
        code, _, _ = run([str(article), "--format", fmt, "-o", str(output), "--resume"], capsys)
        assert code == 2 and output.read_text(encoding="utf-8") == "keep"


def test_an_interrupted_run_keeps_its_stream_and_the_old_output(
    corpus, tmp_path, capsys, monkeypatch
):
    from quotestance import formats

    output = tmp_path / "out.jsonl"
    output.write_text("older\n", encoding="utf-8")
    original, calls = formats.Writer.write, []

    def interrupt_at_third(self, doc):
        calls.append(doc.name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        original(self, doc)

    monkeypatch.setattr(formats.Writer, "write", interrupt_at_third)
    code = main(["annotate", str(corpus), "--format", "jsonl", "-o", str(output), *RULES])
    err = capsys.readouterr().err
    assert code == 130 and "--resume continues them" in err
    assert output.read_text(encoding="utf-8") == "older\n"
    partial = tmp_path / ".out.jsonl.partial"
    assert len(records(partial)) == 2
    monkeypatch.setattr(formats.Writer, "write", original)
    assert run([str(corpus), "--format", "jsonl", "-o", str(output), "--resume"], capsys)[0] == 0
    assert [r["file"] for r in records(output)] == [str(p) for p in sorted(corpus.iterdir())]
    assert not partial.exists()


# ---------------------------------------------------------------- row 5: what is read


def test_devices_and_pipes_are_refused_before_models_load(tmp_path, capsys, monkeypatch):
    from quotestance.batch import PipelineFactory

    def no_models(self):
        raise AssertionError("the models must not load for inputs that all fail")

    monkeypatch.setattr(PipelineFactory, "__call__", no_models)
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    for arg in ("/dev/zero", str(fifo)):
        code, _, err = run([arg, "--max-mb", "1"], capsys)
        assert code == 1 and err.count("\n") == 1 and "not a regular file" in err


def test_the_size_limit_counts_what_is_read(tmp_path, capsys):
    from quotestance.formats import InputError, Source, read_source

    big = tmp_path / "big.txt"
    big.write_text("Er sagte: „Ja.“ " * 100_000, encoding="utf-8")
    code, _, err = run([str(big), "--max-mb", "0.5"], capsys)
    assert code == 1 and "over the 0.5 MiB limit" in err
    with pytest.raises(InputError, match="over the"):
        read_source(Source("big", big), max_bytes=1000)


def test_stdin_over_the_limit_is_refused(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 2_000_000)))
    code, _, err = run(["-", "--max-mb", "1"], capsys)
    assert code == 1 and "-: input is over the 1 MiB limit" in err


# ---------------------------------------------------------------- row 6: one document alone


def test_a_documents_result_does_not_depend_on_the_other_documents(tmp_path, capsys):
    """A surname-only mention is not completed from another file of the batch."""
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "1.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "2.txt").write_text("„Wir bleiben hart“, sagte Kerry.", encoding="utf-8")
    alone = tmp_path / "alone.jsonl"
    run([str(folder / "2.txt"), "--format", "jsonl", "-o", str(alone)], capsys)
    outputs = {}
    for size in (1, 2, 16):
        out = tmp_path / f"b{size}.jsonl"
        run([str(folder), "--format", "jsonl", "-o", str(out), "--batch-size", str(size)], capsys)
        outputs[size] = records(out)
    assert outputs[1] == outputs[2] == outputs[16]
    assert outputs[1][1]["quotes"] == records(alone)[0]["quotes"]
    assert outputs[1][1]["quotes"][0]["speaker"]["actor"] == "Kerry"


# ---------------------------------------------------------------- row 8: spreadsheets


def test_csv_cells_never_start_a_formula(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the file name as given is the first cell
    article = Path('=HYPERLINK("x","y").txt')
    article.write_text("„Wir wachsen weiter“, sagte die Firma.", encoding="utf-8")
    actors = tmp_path / "actors.yaml"
    actors.write_text("actors:\n  - name: '=cmd|calc'\n    type: organisation\n"
                      "    aliases: [Firma]\n", encoding="utf-8")  # fmt: skip
    output = tmp_path / "out.csv"
    code, _, _ = run([str(article), "--format", "csv", "-o", str(output), "--actors", str(actors)],
                     capsys)  # fmt: skip
    assert code == 0
    import csv

    rows = list(csv.DictReader(output.open(encoding="utf-8", newline="")))
    assert rows and rows[0]["file"].startswith("'=HYPERLINK")
    assert rows[0]["speaker_actor"] == "'=cmd|calc"
    for row in rows:
        assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())


# ---------------------------------------------------------------- row 11: directories


def test_an_unreadable_subdirectory_is_an_error_record(corpus, tmp_path, capsys, monkeypatch):
    secret = corpus / "secret"
    secret.mkdir()
    (secret / "hidden.txt").write_text(ARTICLE, encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path="."):  # as for a user without read permission (tests run as root)
        if Path(path) == secret:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    output = tmp_path / "out.jsonl"
    code, _, err = run([str(corpus), "--format", "jsonl", "-o", str(output)], capsys)
    assert code == 1 and f"{secret}: cannot read directory (Permission denied)" in err
    found = records(output)
    assert [r["file"] for r in found if r.get("error")] == [str(secret)]
    assert len([r for r in found if not r.get("error")]) == 6


# ---------------------------------------------------------------- row 12: odd inputs


def test_closed_stdin_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "quotestance.cli", "annotate", "-", *RULES],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == "quotestance: -: standard input is closed"


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_max_mb_must_be_a_positive_number(value, tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    code, out, err = run([str(article), "--max-mb", value], capsys)
    assert code == 2 and out == "" and "--max-mb must be a positive number" in err


def test_html_ids_are_unique_for_names_that_differ_in_punctuation(tmp_path, capsys):
    import re

    for name in ("a b.txt", "a-b.txt"):
        (tmp_path / name).write_text(ARTICLE, encoding="utf-8")
    code, out, _ = run([str(tmp_path / "a b.txt"), str(tmp_path / "a-b.txt"), "--format", "html"],
                       capsys)  # fmt: skip
    ids = re.findall(r'id="([^"]+)"', out)
    assert code == 0 and ids and len(ids) == len(set(ids))
    for href in re.findall(r'href="#([^"]+)"', out):
        assert href in ids


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_decoded(codec, tmp_path, capsys):
    from quotestance.formats import decode

    data = ARTICLE.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    assert decode(data, "x") == (ARTICLE, [])
    article = tmp_path / "a.txt"
    article.write_bytes(data)
    code, out, _ = run([str(article), "--format", "jsonl"], capsys)
    record = json.loads(out)
    assert code == 0 and record["quotes"]
    for quote in record["quotes"]:
        assert ARTICLE[quote["start"] : quote["end"]] == quote["text"]


def test_a_nul_anywhere_makes_a_binary_file(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE * 100 + "\x00" + ARTICLE, encoding="utf-8")
    assert article.stat().st_size > 8192
    code, out, err = run([str(article), "--format", "jsonl"], capsys)
    assert code == 1 and "binary file" in err and "\\u0000" not in out
