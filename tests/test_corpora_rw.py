"""Redewiedergabe TSV reader: token ids, rebuilt text, gold quotes and link parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from quotestance.corpora.redewiedergabe import (
    COLUMNS,
    iter_redewiedergabe,
    iter_rw_tokens,
    read_rw_file,
)
from quotestance.corpora.split import corpus_path

# tok, lemma, pos, sentstart, stwr, frame, speaker, intexpr
_ROWS = [
    ("»", "--", "$(", "yes", "direct.speech.1", "-", "-", "-"),
    ("Komm", "kommen", "VVIMP", "no", "direct.speech.1", "-", "-", "-"),
    ("!", "--", "$.", "no", "direct.speech.1", "-", "-", "-"),
    ("«", "--", "$(", "no", "direct.speech.1", "-", "-", "-"),
    ("rief", "rufen", "VVFIN", "no", "-", "frame.1", "-", "intexpr.1"),
    ("er", "er", "PPER", "no", "-", "frame.1", "speaker.1_2", "-"),
    (".", "--", "$.", "no", "-", "-", "-", "-"),
    ("Sie", "sie", "PPER", "yes", "-", "-", "speaker.3", "-"),
    ("teilte", "teilen", "VVFIN", "no", "-", "-", "-", "intexpr.3"),
    ("ihm", "er", "PPER", "no", "-", "-", "-", "-"),
    ("mit", "mit", "PTKVZ", "no", "-", "-", "-", "intexpr.3"),
    (",", "--", "$,", "no", "-", "-", "-", "-"),
    ("er", "er", "PPER", "no", "indirect freeIndirect.speech writing.3.nonfact", "-", "-", "-"),
    ("sage", "sagen", "VVFIN", "no",
     "indirect freeIndirect.speech writing.3.nonfact|reported.speech.2", "-", "-", "intexpr.2"),
    ("nichts", "nichts", "PIS", "no",
     "indirect freeIndirect.speech writing.3.nonfact|reported.speech.2", "-", "-", "-"),
    (".", "--", "$.", "no", "-", "-", "-", "-"),
]  # fmt: skip


def _write_tsv(path: Path, rows=_ROWS) -> Path:
    lines = ["\t".join(COLUMNS)]
    for tok, lemma, pos, start, stwr, frame, speaker, intexpr in rows:
        cells = [tok, tok, lemma, pos, "X", start, stwr, frame, speaker, intexpr, "-"]
        lines.append("\t".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_text_and_token_ids(tmp_path: Path) -> None:
    doc = read_rw_file(_write_tsv(tmp_path / "rwk_test_1-1.tsv"))
    assert doc.name == "rwk_test_1-1"
    assert doc.corpus == "redewiedergabe"
    assert doc.text == "»Komm!« rief er. Sie teilte ihm mit, er sage nichts."
    assert doc.token_text("0:0") == "»"
    assert doc.token_text("0:4") == "rief"
    assert doc.token_text("1:0") == "Sie"
    assert doc.token_text("1:7") == "nichts"
    assert len(doc.token_spans) == len(_ROWS)


def test_gold_quotes(tmp_path: Path) -> None:
    doc = read_rw_file(_write_tsv(tmp_path / "rwk_test_1-1.tsv"))
    by_form = {q.form: q for q in doc.gold}
    assert [q.form for q in doc.gold] == ["Direct", "IndirectFreeIndirect", "Reported"]

    direct = by_form["Direct"]
    assert direct.message == {"0:0", "0:1", "0:2", "0:3"}
    assert direct.cue == {"0:4"}
    assert direct.source == {"0:5"}
    assert direct.medium == "Speech"

    indirect = by_form["IndirectFreeIndirect"]
    assert indirect.message == {"1:5", "1:6", "1:7"}
    assert indirect.cue == {"1:1", "1:3"}  # discontinuous particle verb "teilte ... mit"
    assert indirect.source == {"1:0"}
    assert indirect.medium == "SW"

    nested = by_form["Reported"]  # inner level of a nested label
    assert nested.message == {"1:6", "1:7"}
    assert nested.cue == {"1:6"}
    assert nested.source == {"0:5"}  # from the shared link speaker.1_2


def test_token_rows(tmp_path: Path) -> None:
    tokens = list(iter_rw_tokens(_write_tsv(tmp_path / "x.tsv")))
    assert tokens[5].speaker == ("1", "2")
    labels = tokens[13].stwr
    assert [(lab.type, lab.medium, lab.id) for lab in labels] == [
        ("indirect freeIndirect", "speech writing", "3"),
        ("reported", "speech", "2"),
    ]
    assert labels[0].attributes == ("nonfact",)
    assert tokens[13].lemma == "sagen" and tokens[13].pos == "VVFIN"


def test_malformed_row_names_file_and_line(tmp_path: Path) -> None:
    rows = [*_ROWS[:2], ("x", "x", "NN", "no", "direct.speech", "-", "-", "-")]
    path = _write_tsv(tmp_path / "bad.tsv", rows)
    with pytest.raises(ValueError, match=r"bad\.tsv:4: malformed stwr"):
        read_rw_file(path)


def test_directory_skips_metadata(tmp_path: Path) -> None:
    _write_tsv(tmp_path / "rwk_b.tsv")
    _write_tsv(tmp_path / "rwk_a.tsv")
    (tmp_path / "metadata.tsv").write_text("file\tyear\nrwk_a.tsv\t1900\n", encoding="utf-8")
    assert [d.name for d in iter_redewiedergabe(tmp_path)] == ["rwk_a", "rwk_b"]


@pytest.mark.corpus
def test_real_file() -> None:
    path = corpus_path("redewiedergabe") / "rwk_digbib_1014-1.tsv"
    if not path.is_file():
        pytest.skip("shared Redewiedergabe data not available")
    doc = read_rw_file(path)
    assert doc.text.startswith("Eier! Schinken! Franzwein! Flink, marsch!« schrie ihn")
    first = doc.gold[0]
    assert first.form == "Direct" and first.medium == "Speech"
    assert {doc.token_text(t) for t in first.cue} == {"schrie", "an"}
    assert {doc.token_text(t) for t in first.source} == {"Nazi"}
    for quote in doc.gold:
        assert quote.message <= doc.token_spans.keys()
