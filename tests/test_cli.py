"""The command line: formats, exit codes and bad input (one-line errors, no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from quotestance.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_fe90af5ba305cfe1.txt"
GOOD = "Der Minister sagte: „Wir werden die Gespräche fortsetzen.“ Dann ging er.\n"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI in-process with the rule detector and no stance model (these tests are about
    input and output; the default pipeline runs once, in the stdin test)."""
    if args[0] == "annotate":
        args = ["annotate", "--detector", "rules", "--no-stance", *args[1:]]
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines, "expected an error message"
    assert "Traceback" not in err
    return lines[0]


def test_jsonl_follows_the_interface(tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text(GOOD, encoding="utf-8")
    code, out, _ = run(["annotate", "--format", "jsonl", str(f)], capsys)
    assert code == 0
    record = json.loads(out.splitlines()[0])
    assert record["file"] == str(f)
    (quote,) = record["quotes"]
    assert quote["id"] == "q1" and quote["kind"] == "direct"
    assert GOOD[quote["start"] : quote["end"]] == quote["text"]
    assert quote["text"] == "„Wir werden die Gespräche fortsetzen.“"
    assert quote["cue"]["text"] == "sagte"
    for key in ("speaker", "addressee", "target", "stance", "stance_scores"):
        assert key in quote


def test_json_is_one_array_and_all_formats_run(tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text(GOOD, encoding="utf-8")
    code, out, _ = run(["annotate", "--format", "json", str(f), str(f)], capsys)
    assert code == 0
    assert [r["file"] for r in json.loads(out)] == [str(f), str(f)]
    for fmt in ("table", "tsv", "html"):
        code, out, _ = run(["annotate", "--format", fmt, str(f)], capsys)
        assert code == 0 and "Wir werden" in out


def test_offsets_with_bom_and_crlf(tmp_path, capsys):
    text = "Er sagte:\r\n„Das bleibt so.“\r\nEnde."
    f = tmp_path / "crlf.txt"
    f.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    code, out, _ = run(["annotate", "--format", "jsonl", str(f)], capsys)
    assert code == 0
    (quote,) = json.loads(out)["quotes"]
    assert text[quote["start"] : quote["end"]] == "„Das bleibt so.“"


def test_missing_file_is_reported_and_others_still_annotated(tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text(GOOD, encoding="utf-8")
    code, out, err = run(
        ["annotate", "--format", "jsonl", str(tmp_path / "nope.txt"), str(f)], capsys
    )
    assert code == 1
    assert "nope.txt: no such file or directory" in one_line(err)
    assert json.loads(out.splitlines()[-1])["quotes"]


def test_binary_file_is_refused_in_a_batch(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    code, out, err = run(["annotate", "--format", "jsonl", str(tmp_path)], capsys)
    assert code == 1
    assert "b.txt: binary file" in one_line(err)
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["quotes"] and records[1]["error"].endswith("binary file, not text")


def test_cp1252_is_decoded_with_a_warning(tmp_path, capsys):
    f = tmp_path / "w.txt"
    f.write_bytes("Er sagte: „Größe zählt nicht.“".encode("cp1252"))
    code, out, err = run(["annotate", "--format", "jsonl", str(f)], capsys)
    assert code == 0
    assert "decoded as cp1252" in one_line(err)
    assert json.loads(out)["quotes"][0]["text"] == "„Größe zählt nicht.“"


def test_empty_file_and_text_without_quotes(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "plain.txt").write_text("Das Wetter ist schön. Morgen regnet es.", "utf-8")
    code, out, _ = run(["annotate", "--format", "jsonl", str(tmp_path)], capsys)
    assert code == 0
    assert [json.loads(line)["quotes"] for line in out.splitlines()] == [[], []]


def test_directory_without_txt(tmp_path, capsys):
    (tmp_path / "x.md").write_text("nothing", encoding="utf-8")
    code, _, err = run(["annotate", str(tmp_path)], capsys)
    assert code == 1
    assert "directory has no .txt files" in one_line(err)


def test_file_over_the_size_limit(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text("Er sagte nichts. " * 70_000, encoding="utf-8")  # ~1.2 MB
    code, _, err = run(["annotate", "--max-mb", "1", str(big)], capsys)
    assert code == 1
    assert "MiB is over the 1 MiB limit" in one_line(err)


def test_unbalanced_marks_do_not_swallow_the_document(tmp_path, capsys):
    text = "Ein „einsames Zeichen am Anfang.\n\nDer Minister sagte: „Wir bleiben.“\n"
    f = tmp_path / "u.txt"
    f.write_text(text, encoding="utf-8")
    code, out, _ = run(["annotate", "--format", "jsonl", str(f)], capsys)
    assert code == 0
    texts = [q["text"] for q in json.loads(out)["quotes"]]
    assert texts == ["„Wir bleiben.“"]


@pytest.mark.slow
def test_stdin_annotate_and_classify():
    """The default pipeline (with the stance model where installed) on standard input, and
    ``classify`` through a real subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "quotestance.cli", "annotate", "--format", "jsonl", "-"],
        input=GOOD.encode("utf-8"),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["file"] == "-"
    from quotestance.pipeline import stance_available

    proc = subprocess.run(
        [sys.executable, "-m", "quotestance.cli", "classify", "-"],
        input=b'{"text": "Wir werden klagen.", "id": 7}\n',
        capture_output=True,
        timeout=120,
    )
    assert b"Traceback" not in proc.stderr
    if not stance_available():
        assert proc.returncode == 3 and b"no stance model" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["id"] == 7 and record["stance"] in ("threat", "cooperation", "accusation", "none")


def test_unwritable_output(tmp_path, capsys):
    code, _, err = run(["annotate", "-o", str(tmp_path / "no" / "dir" / "x"), str(SEED)], capsys)
    assert code == 2
    assert "cannot write" in one_line(err)


def test_50_mb_file_is_refused_by_default_and_the_batch_goes_on(tmp_path, capsys):
    big = tmp_path / "a_big.txt"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: cheap to make, 50 MB as far as stat knows
    (tmp_path / "b_good.txt").write_text(GOOD, encoding="utf-8")
    code, out, err = run(["annotate", "--format", "jsonl", str(tmp_path)], capsys)
    assert code == 1
    assert "a_big.txt: 50.0 MiB is over the 20 MiB limit" in one_line(err)
    records = [json.loads(line) for line in out.splitlines()]
    assert "error" in records[0] and records[1]["quotes"]


def test_mixed_line_endings_keep_offsets(tmp_path, capsys):
    text = "Titel\r\n\r\nEr sagte:\n„Wir bleiben hier.“\r\nDann ging er.\rEnde.\n"
    f = tmp_path / "mixed.txt"
    f.write_bytes(text.encode("utf-8"))
    code, out, _ = run(["annotate", "--format", "jsonl", str(f)], capsys)
    assert code == 0
    (quote,) = json.loads(out)["quotes"]
    assert text[quote["start"] : quote["end"]] == "„Wir bleiben hier.“"


def test_a_document_that_breaks_the_pipeline_is_reported_and_the_rest_written(
    tmp_path, capsys, monkeypatch
):
    from quotestance.detect.rules import QuoteDetector

    original = QuoteDetector.detect

    def fragile(self, doc):
        if "KAPUTT" in doc.text:
            raise RuntimeError("boom")
        return original(self, doc)

    monkeypatch.setattr(QuoteDetector, "detect", fragile)
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.txt").write_text("KAPUTT " + GOOD, encoding="utf-8")
    (tmp_path / "c.txt").write_text(GOOD, encoding="utf-8")
    code, out, err = run(["annotate", "--format", "jsonl", str(tmp_path)], capsys)
    assert code == 1
    assert "b.txt: internal error: RuntimeError: boom" in one_line(err)
    records = [json.loads(line) for line in out.splitlines()]
    assert [bool(r["quotes"]) for r in records] == [True, False, True]
    assert "error" in records[1]
    # the redone documents are annotated once, not on top of the failed pass
    (tmp_path / "b.txt").unlink()
    _, alone, _ = run(["annotate", "--format", "jsonl", str(tmp_path)], capsys)

    def spans(quotes):  # stance scores move in the last digits with the batch's padding
        return [(q["start"], q["end"], q["kind"], q["speaker"], q["stance"]) for q in quotes]

    assert [spans(json.loads(line)["quotes"]) for line in alone.splitlines()] == [
        spans(records[0]["quotes"]),
        spans(records[2]["quotes"]),
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--min-stance-score", "1.5"], "--min-stance-score must be between 0 and 1"),
        (["--min-stance-score", "nan"], "--min-stance-score must be between 0 and 1"),
        (["--min-stance-score", "0.5", "--no-stance"], "--min-stance-score needs the stance"),
    ],
)
def test_min_stance_score_is_checked_before_anything_runs(tmp_path, capsys, extra, message):
    f = tmp_path / "a.txt"
    f.write_text('Er sagte: "Wir kommen."', encoding="utf-8")
    out_file = tmp_path / "out.jsonl"
    code, out, err = run(["annotate", str(f), "-o", str(out_file), *extra], capsys)
    assert code == 2 and out == "" and not out_file.exists()
    assert one_line(err).startswith("quotestance: " + message)


@pytest.mark.slow
def test_min_stance_score_reaches_the_stance_stage_and_keeps_the_scores(tmp_path, capsys):
    from quotestance.pipeline import stance_available

    if not stance_available():
        pytest.skip("the stance model is not installed")
    f = tmp_path / "a.txt"
    f.write_text(
        'US-Außenminister Kerry drohte Russland mit dem Abbruch der Gespräche. "Wir sind '
        'bereit, mit Moskau zusammenzuarbeiten", sagte der Sprecher.',
        encoding="utf-8",
    )
    outputs = {}
    for p in ("0", "1"):
        code = main(["annotate", "--format", "jsonl", "--min-stance-score", p, str(f)])
        out, _ = capsys.readouterr()
        assert code == 0
        outputs[p] = json.loads(out)["quotes"]
    assert any(q["stance"] != "none" for q in outputs["0"])
    assert all(q["stance"] == "none" and q["target"] is None for q in outputs["1"])
    assert [q["stance_scores"] for q in outputs["1"]] == [q["stance_scores"] for q in outputs["0"]]
