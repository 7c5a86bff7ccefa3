"""``quotestance classify`` on hostile input (issue 12, row 7): every bad line becomes an error
record in its place and the others are still written; memory is bounded whatever the line
length; quote and context are cut to the model's input before tokenising."""

from __future__ import annotations

import io
import json
import sys
import tracemalloc

import pytest

from tests.conftest import GERMAN_TEXT

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from quotestance import cli  # noqa: E402
from quotestance.stance.classifier import StanceClassifier  # noqa: E402
from quotestance.stance.inputs import stance_text  # noqa: E402

SCORES = {"threat": 0.1, "cooperation": 0.2, "accusation": 0.3, "none": 0.4}


class StubClassifier:
    """Stands in for the model where the test is about ``classify``'s reading and writing:
    labels every record ``none``, and fails on a text containing ``BOOM``."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def classify_records(self, records):
        self.calls.append(len(records))
        if any("BOOM" in r["text"] for r in records):
            raise RuntimeError("the tokenizer choked")
        return [("none", dict(SCORES)) for _ in records]


@pytest.fixture
def stub(monkeypatch):
    stub = StubClassifier()
    monkeypatch.setattr("quotestance.pipeline.stance_available", lambda: True)
    monkeypatch.setattr(StanceClassifier, "load", classmethod(lambda cls: stub))
    return stub


def _classify(path, capsys):
    out = io.StringIO()
    code = cli.classify(cli.build_parser().parse_args(["classify", str(path)]), out)
    text = out.getvalue()
    text.encode("utf-8")  # the output is valid UTF-8
    return code, [json.loads(line) for line in text.splitlines()], capsys.readouterr().err


def test_every_bad_line_is_an_error_record_in_place_and_the_others_are_written(
    tmp_path, stub, capsys
):
    lines = [
        b'{"text": "eins", "id": 1}',
        b'{"text": "a\\ud800b", "id": 2}',  # lone surrogate in text
        b'{"text": "ok", "speaker": {"name": "\\udfff"}, "id": 3}',  # ... in any field
        b"[" * 100_000,  # RecursionError in the parser
        b"[1, 2]",  # JSON, not an object
        b'"text"',
        b'{"text": 5}',
        b'{"text": "x", "n": 1' + b"1" * 5000 + b"}",  # more digits than Python converts
        b'{"text": "x", "n": 1e999}',  # infinite as a float
        b'{"text": "x", "n": NaN}',
        b'{"text": "caf\xe9"}',  # Latin-1, not UTF-8
        b"{broken",
        b"",
        b'{"text": "zwei \xc3\xa4", "id": 13}',
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, records, err = _classify(path, capsys)
    assert code == 1
    assert "Traceback" not in err and err.count("\n") == 11
    assert [r.get("id") for r in records] == [1, *[None] * 11, 13]
    assert records[0]["stance"] == "none" and records[-1]["text"] == "zwei ä"
    errors = [r["error"] for r in records[1:-1]]
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in range(2, 13)]
    assert "surrogate" in errors[0] and "surrogate" in errors[1]
    assert "nested too deeply" in errors[2]
    assert all("expected a JSON object" in e for e in errors[3:6])
    assert "not JSON" in errors[6] and "out of range" in errors[7] and "NaN" in errors[8]
    assert "not UTF-8" in errors[9] and "not JSON" in errors[10]


def test_a_classifier_failure_costs_only_its_record(tmp_path, stub, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(json.dumps({"text": t, "id": i}) for i, t in enumerate(["a", "BOOM", "c"])),
        encoding="utf-8",
    )
    code, records, err = _classify(path, capsys)
    assert code == 1
    assert [r.get("id") for r in records] == [0, None, 2]
    assert records[0]["stance"] == records[2]["stance"] == "none"
    assert records[1]["error"].startswith("line 2: classifier failed (RuntimeError: the token")
    assert "line 2" in err and err.count("\n") == 1
    assert stub.calls == [3, 1, 1, 1]  # the batch, then one by one


def test_a_good_file_exits_0(tmp_path, stub, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b"}\n', encoding="utf-8")
    code, records, err = _classify(path, capsys)
    assert code == 0 and err == "" and [r["stance"] for r in records] == ["none", "none"]


def test_a_huge_line_is_an_error_record_and_never_held_whole(tmp_path, stub, capsys):
    from quotestance.stance.records import MAX_LINE_BYTES

    path = tmp_path / "in.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"text": "vorher"}\n{"text": "')
        for _ in range(20):
            handle.write("x" * 1024 * 1024)
        handle.write('"}\n{"text": "nachher"}\n')
    tracemalloc.start()
    try:
        code, records, _ = _classify(path, capsys)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 1
    assert [r.get("text") for r in records] == ["vorher", None, "nachher"]
    assert records[1]["error"].startswith(f"line 2: longer than {MAX_LINE_BYTES} bytes")
    assert peak < 4 * MAX_LINE_BYTES  # the 20 MiB line was never in memory


def test_standard_input_is_read_as_bytes(monkeypatch, stub, capsys):
    data = b'{"text": "a\xc3\xa4"}\n\xff\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    out = io.StringIO()
    code = cli.classify(cli.build_parser().parse_args(["classify"]), out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1 and records[0]["text"] == "aä" and "not UTF-8" in records[1]["error"]


@pytest.fixture(scope="module")
def tiny():
    """A classifier on a tiny random encoder, whose tokenizer records what it is given."""
    import torch

    from quotestance.stance.model import StanceConfig, StanceModel
    from tests.conftest import make_tiny_tokenizer

    tokenizer = make_tiny_tokenizer([GERMAN_TEXT] * 3)
    seen: list[int] = []

    class Spy:
        def __getattr__(self, name):
            return getattr(tokenizer, name)

        def __call__(self, texts, **kwargs):
            seen.extend(len(t) for t in texts)
            return tokenizer(texts, **kwargs)

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
    )  # fmt: skip
    encoder = transformers.BertModel(config, add_pooling_layer=False)
    model = StanceModel(encoder, 16, 4)
    clf = StanceClassifier(model, Spy(), StanceConfig(max_len=32), bf16=False)
    return clf, seen


def test_quote_and_context_are_cut_before_tokenising(tiny):
    clf, seen = tiny
    limit = 32 * 8  # max_len x CHARS_PER_TOKEN
    quote = "Wir werden die Steuern nicht erhöhen. " * 50_000  # 1.9 M characters
    context = "Der Minister sagte. " * 100_000 + quote + " Danach." * 100_000
    seen.clear()
    ((_, scores),) = clf.classify_records(
        [{"text": quote, "context": context, "cue": "sagte" * 10_000, "speaker": "Er" * 10_000}]
    )
    assert max(seen) < 3 * limit + 600 + 100  # speaker, cue, quote and 600 context characters
    assert abs(sum(scores.values()) - 1) < 1e-3


def test_the_cut_changes_nothing_the_model_could_see():
    from quotestance.stance.classifier import stance_input

    cases = [
        ("Wir kommen.", "Er sagte: Wir kommen. Dann ging er.", "sagte", "Er"),
        ("Die Mitte.", "x " * 600 + "Die Mitte." + " y" * 600, "", ""),
        ("Die Mitte.", "x " * 5000 + "Die Mitte." + " y" * 5000, "sagte", "Sie"),
        ("Am Anfang.", "Am Anfang." + " y" * 9000, "", ""),
        ("Am Ende.", "x " * 9000 + "Am Ende.", "", ""),
        ("Nicht drin.", "z " * 9000, "", ""),
        ("Gleich.", "Gleich.", "", ""),
        ("Rand.", "x " * 3000 + " " * 500 + "x " * 300 + "Rand." + " y" * 5000, "", ""),
    ]
    for quote, context, cue, speaker in cases:
        assert stance_input(quote, context, cue, speaker, 32) == stance_text(
            quote, context, cue, speaker
        )
    quote, context = "Lang " * 100, "x " * 5000 + "Lang " * 100 + " y" * 5000  # over the limit
    cut, whole = stance_input(quote, context, "", "", 32), stance_text(quote, context)
    assert cut[: 32 * 8] == whole[: 32 * 8]  # the part 32 tokens can cover is the same


def test_documents_are_cut_too(tiny):
    from quotestance.document import Document, Mention, Quote

    clf, seen = tiny
    text = "Er sagte: „" + "Wir kommen. " * 200_000 + "“"
    doc = Document(text=text)
    doc.quotes.append(Quote(11, len(text) - 1, text[11:-1], "direct", speaker=Mention(0, 2, "Er")))
    seen.clear()
    clf.batch([doc])
    assert max(seen) < 3 * 32 * 8 + 600 + 100 and doc.quotes[0].stance is not None
