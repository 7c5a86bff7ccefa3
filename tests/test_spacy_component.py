"""The spaCy component (quotestance.spacy_component) and its entry point."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy")

import quotestance as qs  # noqa: E402
from quotestance.spacy_component import DEFAULT_CONFIG, make_quotestance  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RULES = {"detector": "rules", "stance": False}
TEXT = (
    "„Wir werden die Steuern nicht erhöhen“, sagte Finanzminister Christian Lindner am "
    "Montag in Berlin. Die Opposition warf ihm vor, er habe die Wähler getäuscht."
)


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("de")
    nlp.add_pipe("quotestance", config=RULES)
    return nlp


def test_quotes_become_spans_with_extensions(nlp):
    doc = nlp(TEXT)
    spans = list(doc.spans["quotes"])
    assert [(s.id_, s.label_, s._.kind) for s in spans] == [
        ("q1", "direct", "direct"),
        ("q2", "indirect", "indirect"),
    ]
    first, second = spans
    assert first.text == "„Wir werden die Steuern nicht erhöhen“"
    assert isinstance(first._.cue, spacy.tokens.Span) and first._.cue.text == "sagte"
    assert first._.speaker.text == "Finanzminister Christian Lindner"
    assert first._.speaker_actor == "Christian Lindner"
    assert first._.speaker_affiliation == "Deutschland"
    assert first._.addressee is None and first._.addressee_actor is None
    assert second._.addressee.text == "ihm" and second._.addressee_actor == "Christian Lindner"
    assert first._.target is None and first._.target_actor is None
    assert first._.stance is None and first._.stance_scores is None
    assert first._.evidence == ["quote_marks", "cue_verb"]
    assert doc._.quotestance["model_version"] is None
    other = doc[0:3]  # a span that is not a quote has no quote attributes
    assert other._.kind is None and other._.speaker is None


def test_offsets_expand_to_tokens():
    nlp = spacy.blank("de")
    nlp.add_pipe("quotestance", config=RULES)
    # spaCy makes one token of "sagte:„Das"; quotestance's quote starts at "„"
    text = "Die Ministerin sagte,er habe gelogen. Sie sagte:„Das stimmt nicht.“"
    doc = nlp(text)
    records = doc._.quotestance["quotes"]
    assert [s.text for s in doc.spans["quotes"]] == ["er habe gelogen", "sagte:„Das stimmt nicht.“"]
    assert records["q2"]["text"] == "„Das stimmt nicht.“"
    for span in doc.spans["quotes"]:
        record = records[span.id_]
        assert span.start_char <= record["start"] and record["end"] <= span.end_char
        speaker = span._.speaker
        if speaker is not None:
            assert speaker.start_char <= record["speaker"]["start"]
            assert record["speaker"]["end"] <= speaker.end_char


def test_pipe_matches_call_and_serialises(nlp):
    texts = [TEXT, "Es regnet.", "Laut Kreml ist Präsident Putin zu Gesprächen bereit."]
    piped = list(nlp.pipe(texts, batch_size=2))
    for text, doc in zip(texts, piped, strict=True):
        alone = nlp(text)
        assert [(s.start, s.end, s.id_, s._.speaker_actor) for s in doc.spans["quotes"]] == [
            (s.start, s.end, s.id_, s._.speaker_actor) for s in alone.spans["quotes"]
        ]
    copy = spacy.tokens.Doc(nlp.vocab).from_bytes(piped[0].to_bytes())
    assert [s._.speaker_actor for s in copy.spans["quotes"]] == [
        "Christian Lindner",
        "Opposition",
    ]


def test_config_mirrors_load():
    params = set(inspect.signature(qs.load).parameters)
    assert set(DEFAULT_CONFIG) == params | {"spans_key"}
    assert set(inspect.signature(make_quotestance).parameters) == set(DEFAULT_CONFIG) | {
        "nlp",
        "name",
    }
    nlp = spacy.blank("de")
    component = nlp.add_pipe("quotestance", config={**RULES, "batch_size": 3, "spans_key": "q"})
    assert component.batch_size == 3 and component.quotestance.options["detector"] == "rules"
    assert "q" in nlp("„Ja“, sagte Merkel.").spans
    with pytest.raises(spacy.util.ConfigValidationError):
        nlp.add_pipe("quotestance", name="bad", config={"stance": "sometimes"})
    with pytest.raises(ValueError, match="unknown detector"):
        nlp.add_pipe("quotestance", name="worse", config={"detector": "magic"})


def test_entry_point_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    target = project["entry-points"]["spacy_factories"]["quotestance"]
    assert target == "quotestance.spacy_component:make_quotestance"
    module, _, name = target.partition(":")
    assert getattr(__import__(module, fromlist=[name]), name) is make_quotestance
    assert project["optional-dependencies"]["spacy"] == [f"spacy=={spacy.__version__}"]


def test_spacy_finds_the_factory_through_the_entry_point(tmp_path):
    """The package's metadata, as pip would install it (built by setuptools from
    pyproject.toml), first on the path: spaCy builds the component without anyone
    importing quotestance."""
    pytest.importorskip("setuptools.build_meta")
    build = (
        "import sys; from setuptools import build_meta; "
        "print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))"
    )
    made = subprocess.run([sys.executable, "-c", build, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert (tmp_path / made.stdout.strip().splitlines()[-1] / "entry_points.txt").is_file()
    check = (
        "import sys, importlib.metadata as md\n"
        "eps = {e.name: e.value for e in md.entry_points(group='spacy_factories')}\n"
        "assert eps['quotestance'] == 'quotestance.spacy_component:make_quotestance', eps\n"
        "import spacy\n"
        "assert not [m for m in sys.modules if m.startswith('quotestance')]\n"
        "nlp = spacy.blank('de')\n"
        "nlp.add_pipe('quotestance', config={'detector': 'rules', 'stance': False})\n"
        "import quotestance\n"
        "assert quotestance.__file__.startswith(sys.argv[1]), quotestance.__file__\n"
        "doc = nlp('„Das ist ein schwarzer Tag“, sagte die Bürgermeisterin.')\n"
        "print([s._.speaker_actor for s in doc.spans['quotes']])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    run = subprocess.run([sys.executable, "-c", check, str(ROOT)], cwd=tmp_path, env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['Bürgermeisterin']"
