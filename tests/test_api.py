"""The Python API (quotestance.api): load, nlp(text), nlp.pipe, to_dataframe; and the rows
of --format csv|parquet that to_dataframe shares. Rules only, no stance: no weights needed."""

from __future__ import annotations

import csv
import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

import quotestance as qs
from quotestance.formats import QUOTE_COLUMNS, Writer, quote_rows

ROOT = Path(__file__).resolve().parents[1]
TEXT = (
    "„Wir werden die Steuern nicht erhöhen“, sagte Finanzminister Christian Lindner am "
    "Montag in Berlin. Die Opposition warf ihm vor, er habe die Wähler getäuscht."
)
OTHER = "Laut Kreml ist Präsident Putin zu Gesprächen bereit."


@pytest.fixture(scope="module")
def nlp():
    return qs.load(detector="rules", stance=False)


def test_import_stays_light():
    code = (
        "import sys, quotestance as qs\n"
        "assert not {'quotestance.api', 'quotestance.pipeline'} & set(sys.modules)\n"
        "qs.load, qs.to_dataframe, qs.Document, qs.Quote, qs.Mention\n"
        "assert 'torch' not in sys.modules and 'pandas' not in sys.modules\n"
        "assert set(qs.__all__) <= set(dir(qs))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    with pytest.raises(AttributeError):
        _ = qs.no_such_name


def test_one_text(nlp):
    doc = nlp(TEXT, name="lindner")
    assert isinstance(doc, qs.Document) and doc.name == "lindner"
    assert [q.kind for q in doc.quotes] == ["direct", "indirect"]
    for quote in doc.quotes:
        assert TEXT[quote.start : quote.end] == quote.text
        for span in (quote.cue, quote.speaker, quote.addressee):
            assert span is None or TEXT[span.start : span.end] == span.text
        assert quote.stance is None and quote.stance_scores is None
    assert doc.quotes[0].speaker.actor == "Christian Lindner"
    assert doc.quotes[1].addressee.actor == "Christian Lindner"
    assert doc.model_version is None and nlp.model_version is None  # rules only
    assert nlp(TEXT).name == ""
    with pytest.raises(TypeError, match="str"):
        nlp(TEXT.encode())
    assert "detector='rules'" in repr(nlp) and nlp.stages[0] == "text"


def test_pipe_streams_and_keeps_order(nlp):
    taken = []

    def endless():
        for k in itertools.count():
            taken.append(k)
            yield f"„Wir kommen zum {k}. Mal“, sagte Merkel."

    stream = nlp.pipe(endless(), batch_size=2)
    assert taken == []  # a generator: nothing read before it is iterated
    first = list(itertools.islice(stream, 3))
    assert [d.name for d in first] == ["0", "1", "2"]
    assert len(taken) == 4  # two batches of two, no more
    assert "3. Mal" not in first[2].text and "2. Mal" in first[2].text


def test_pipe_items_and_batch_independence(nlp):
    given = qs.Document(text=OTHER, name="kreml")
    docs = list(nlp.pipe([TEXT, (OTHER, 7), given, ""], batch_size=3))
    assert [d.name for d in docs] == ["0", "7", "kreml", "3"]
    assert docs[2] is given and given.quotes  # annotated in place
    one_by_one = [nlp(text).to_dict()["quotes"] for text in (TEXT, OTHER, OTHER, "")]
    for size in (1, 4):
        again = nlp.pipe([TEXT, OTHER, OTHER, ""], batch_size=size)
        assert [d.to_dict()["quotes"] for d in again] == one_by_one
    with pytest.raises(ValueError, match="annotated already"):
        list(nlp.pipe([given]))
    with pytest.raises(TypeError, match="item 1"):
        list(nlp.pipe([TEXT, 42]))
    with pytest.raises(ValueError, match="batch_size"):
        nlp.pipe([TEXT], batch_size=0)


def test_load_checks_its_options(tmp_path):
    with pytest.raises(ValueError, match="unknown detector"):
        qs.load(detector="magic", stance=False)
    with pytest.raises(ValueError, match="batch_size"):
        qs.load(detector="rules", batch_size=-1)
    from quotestance.speakers.actors import ActorFileError

    broken = tmp_path / "actors.yaml"
    broken.write_text("actors: [\n", encoding="utf-8")
    with pytest.raises(ActorFileError):
        qs.load(detector="rules", stance=False, actors=broken)
    mine = tmp_path / "mine.yaml"
    mine.write_text("actors:\n  - name: Stadtwerke Kiel\n    type: organisation\n"
                    "    aliases: [Versorger]\n", encoding="utf-8")  # fmt: skip
    nlp = qs.load(detector="rules", stance=False, actors=mine)
    doc = nlp("„Die Preise bleiben stabil“, sagte der Versorger.")
    assert doc.quotes[0].speaker.actor == "Stadtwerke Kiel"
    assert nlp.options["actors"] == str(mine)


def test_to_dataframe_is_the_csv_rows(nlp):
    pd = pytest.importorskip("pandas")
    docs = list(nlp.pipe([(TEXT, "a"), (OTHER, "b"), ("Es regnet.", "c")]))
    frame = qs.to_dataframe(iter(docs))
    assert list(frame.columns) == QUOTE_COLUMNS
    rows = [row for doc in docs for row in quote_rows(doc.to_dict())]
    assert frame.astype(object).where(frame.notna(), None).to_dict("records") == rows
    assert str(frame["speaker_start"].dtype) == "Int64" and frame["score_none"].dtype == float
    first = frame.iloc[0]
    assert TEXT[first["speaker_start"] : first["speaker_end"]] == first["speaker"]
    assert TEXT[first["cue_start"] : first["cue_end"]] == first["cue"] == "sagte"
    assert first["evidence"] == ["quote_marks", "cue_verb"]
    assert pd.isna(frame.iloc[0]["addressee_start"])
    assert list(qs.to_dataframe(docs[0])["id"]) == ["q1", "q2"]
    empty = qs.to_dataframe([])
    assert list(empty.columns) == QUOTE_COLUMNS and len(empty) == 0
    failed = qs.to_dataframe([{"file": "x.txt", "quotes": [], "error": "x.txt: binary file"}])
    assert failed.loc[0, "error"] == "x.txt: binary file" and pd.isna(failed.loc[0, "start"])
    with pytest.raises(TypeError):
        qs.to_dataframe([TEXT])


def test_to_dataframe_without_pandas(monkeypatch, nlp):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(ImportError, match=re.escape("pip install 'quotestance[pandas]'")):
        qs.to_dataframe([nlp(TEXT)])


def test_csv_and_parquet_have_offsets_evidence_and_model_version(nlp, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    doc = nlp(TEXT, name="a.txt")
    doc.model_version = "tagger=0123456789ab"  # as a pipeline with weights sets it
    with open(tmp_path / "q.csv", "w", encoding="utf-8", newline="") as out:
        writer = Writer(out, "csv")
        writer.write(doc)
        writer.write_error("b.txt", "b.txt: binary file")
        writer.close()
    writer = Writer(None, "parquet", tmp_path / "q.parquet")
    writer.write(doc)
    writer.write_error("b.txt", "b.txt: binary file")
    writer.close()
    with open(tmp_path / "q.csv", encoding="utf-8", newline="") as handle:
        sheet = list(csv.DictReader(handle))
    table = pq.read_table(tmp_path / "q.parquet")
    assert list(sheet[0]) == table.column_names == QUOTE_COLUMNS
    rows = table.to_pylist()
    assert len(rows) == len(sheet) == 3
    assert rows[0]["cue_start"] == doc.quotes[0].cue.start and rows[1]["addressee_end"] == 123
    assert rows[0]["evidence"] == ["quote_marks", "cue_verb"]
    assert sheet[0]["evidence"] == "quote_marks;cue_verb"
    assert rows[0]["model_version"] == sheet[0]["model_version"] == "tagger=0123456789ab"
    assert rows[2]["error"] and rows[2]["evidence"] is None and rows[2]["start"] is None


def test_model_version_names_the_loaded_weights(tmp_path):
    from quotestance.model_version import pipeline_model_version
    from quotestance.pipeline import Pipeline
    from quotestance.resources import model_versions

    class Stage:
        def __init__(self, name: str) -> None:
            self.name = name

        def __call__(self, doc):
            return doc

    assert pipeline_model_version([Stage("text"), Stage("quotes")]) is None
    version = pipeline_model_version([Stage("tagger"), Stage("stance")])
    shipped = model_versions()
    if "missing" not in (shipped["tagger"], shipped["stance"]):  # the same as --version
        assert version == f"tagger={shipped['tagger']};stance={shipped['stance']}"
        assert re.fullmatch(r"tagger=[0-9a-f]{12};stance=[0-9a-f]{12}", version)
    doc = Pipeline([Stage("stance")])(qs.Document(text="x"))
    assert doc.model_version == (version.split(";")[1] if version else None)
