"""Speaker stage: actor registry and actor files, actor resolution (coreference), addressees,
and the speaker linker's ranking. Runs on the rules pipeline (no model weights needed)."""

from __future__ import annotations

import json

import pytest

from quotestance.document import Document, Mention, Quote
from quotestance.pipeline import Pipeline
from quotestance.speakers.actors import ActorFileError, ActorRegistry, read_actor_file
from quotestance.speakers.linker import SpeakerLinker, features, quote_context
from quotestance.speakers.mentions import find_candidates


@pytest.fixture(scope="module")
def registry() -> ActorRegistry:
    return ActorRegistry.default()


@pytest.fixture(scope="module")
def rules() -> Pipeline:
    return Pipeline.default(detector="rules")


@pytest.mark.parametrize(
    ("mention", "actor"),
    [
        ("Der Kreml", "Russland"),
        ("das Weiße Haus", "USA"),
        ("Washington", "USA"),
        ("die Vereinigten Staaten", "USA"),
        ("Peking", "China"),
        ("die Nato", "NATO"),
        ("Neuseeland", "Neuseeland"),  # from Babel's German country names
    ],
)
def test_registry_knows_countries_capitals_and_metonyms(registry, mention, actor):
    entry = registry.lookup(mention)
    assert entry is not None and entry.name == actor


@pytest.mark.parametrize(
    ("word", "country"),
    [
        ("US-Außenminister", "USA"),
        ("russischen", "Russland"),
        ("EU-Kommissar", "Europäische Union"),
    ],
)
def test_registry_reads_country_words(registry, word, country):
    entry = registry.country_of_word(word)
    assert entry is not None and entry.name == country


def test_registry_does_not_invent_actors(registry):
    assert registry.lookup("der Sprecher") is None
    assert registry.country_of_word("Sprecher") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("actors:\n  - name: X\n    typ: person\n", "unknown field 'typ'"),
        ("actors:\n  - {name: X, type: robot}\n", "type 'robot' is not one of"),
        ("actors:\n  - {type: person}\n", "'name' must be a non-empty string"),
        ("actors:\n  - {name: X, aliases: Y}\n", "'aliases' must be a list of strings"),
        ("people:\n  - {name: X}\n", "expected a mapping with one key 'actors'"),
        ("actors:\n  - name: [unclosed\n", "YAML error at line"),
    ],
)
def test_bad_actor_files_get_clear_messages(tmp_path, content, message):
    path = tmp_path / "actors.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ActorFileError) as info:
        read_actor_file(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_actor_file(tmp_path):
    with pytest.raises(ActorFileError, match="actor file not found"):
        read_actor_file(tmp_path / "nope.yaml")


def test_cli_reports_a_bad_actor_file_in_one_line(tmp_path, capsys):
    from quotestance.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("actors:\n  - {name: X, colour: red}\n", encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text("„Wir kommen“, sagte er.", encoding="utf-8")
    code = main(["annotate", str(text), "--actors", str(bad), "--detector", "rules", "--no-stance"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown field 'colour'" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_user_actor_file_adds_aliases_and_affiliation(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "actors:\n  - name: Olaf Scholz\n    type: person\n    affiliation: Deutschland\n"
        "    aliases: [der Kanzler]\n",
        encoding="utf-8",
    )
    doc = Pipeline.default(detector="rules", actors=path).annotate(
        "Der Kanzler sagte, die Regierung werde handeln."
    )
    speaker = doc.quotes[0].speaker
    assert speaker is not None and speaker.actor == "Olaf Scholz"
    assert speaker.affiliation == "Deutschland"
    assert doc.to_dict()["actors"][0]["type"] == "person"


def test_name_parts_titles_and_pronouns_resolve_to_one_actor(rules):
    text = (
        "US-Außenministerin Hillary Clinton reiste nach Berlin. "
        "Clinton sagte, die Gespräche seien gut verlaufen. "
        "Sie erklärte, man werde eng zusammenarbeiten. "
        "Die Ministerin sagte, sie komme bald wieder."
    )
    doc = rules.annotate(text)
    actors = {q.speaker.actor for q in doc.quotes if q.speaker is not None}
    assert actors == {"Hillary Clinton"}
    assert all(q.speaker.affiliation == "USA" for q in doc.quotes if q.speaker)
    (actor,) = doc.actors
    assert {m.text for m in actor.mentions} >= {"Clinton", "Sie", "Die Ministerin"}


def test_organisation_with_country_prefix(rules):
    doc = rules.annotate("Das US-Außenministerium teilte mit, die Botschaft bleibe geschlossen.")
    speaker = doc.quotes[0].speaker
    assert speaker.actor == "US-Außenministerium" and speaker.affiliation == "USA"
    assert doc.actors[0].type == "organisation"


@pytest.mark.parametrize(
    ("text", "addressee"),
    [
        ("Kerry habe Lawrow gesagt, dass die USA die Gespräche aussetzen.", "Lawrow"),
        ("Der Minister sagte gegenüber der BBC, die Lage sei ernst.", "der BBC"),
        ("Die Opposition warf der Regierung vor, sie habe versagt.", "der Regierung"),
    ],
)
def test_addressee_from_the_cue_clause(rules, text, addressee):
    doc = rules.annotate(text)
    found = [q.addressee.text for q in doc.quotes if q.addressee is not None]
    assert found == [addressee]


def test_no_addressee_without_an_object(rules):
    doc = rules.annotate("Ein Sprecher sagte, die Lage sei ruhig.")
    assert all(q.addressee is None for q in doc.quotes)


def _toy_document() -> Document:
    doc = Pipeline.default(detector="rules", speakers=False).annotate(
        "Der Minister Peter Maier sagte am Montag, die Steuern würden sinken."
    )
    return doc


def test_linker_picks_the_highest_scoring_candidate_and_respects_the_threshold():
    doc = _toy_document()
    quote = doc.quotes[0]
    quote.speaker = None
    quote.evidence = []
    # a linker that only looks at the kind of phrase: names up, descriptions down
    linker = SpeakerLinker({"kind=name": 4.0, "kind=nominal": -4.0}, -1.0, 0.5)
    linker(doc)
    assert quote.speaker is not None and "Peter Maier" in quote.speaker.text
    strict = SpeakerLinker({"kind=name": 4.0}, -10.0, 0.5)
    strict(doc)
    assert quote.speaker is None


def test_features_describe_position_and_kind():
    doc = _toy_document()
    quote = doc.quotes[0]
    ctx = quote_context(doc, quote)
    by_text = {c.text: c for c in find_candidates(doc)}
    name = next(c for t, c in by_text.items() if "Maier" in t)
    feats = features(doc, ctx, name)
    assert feats["sent_offset=0"] == 1 and feats["kind=name"] == 1
    assert "cue_before_0" in feats or "cue_before_near" in feats


def test_shipped_linker_loads_and_is_small():
    from quotestance.speakers.linker import DEFAULT_MODEL

    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    assert 0.0 <= data["threshold"] < 1.0
    assert DEFAULT_MODEL.stat().st_size < 2_000_000
    assert data["scores"]["dev"]["speaker_accuracy"] > 0.7
    linker = SpeakerLinker.load()
    quote = Quote(0, 1, "x", "direct", speaker=Mention(0, 1, "x"))
    assert linker.score({"bias": 1.0}) > 0.0 and quote.speaker is not None


def test_detectors_propose_and_the_speaker_stage_carries_speakers():
    text = "Der Minister sagte: „Wir kommen.“ Dann ging er. „Und wir bleiben.“"
    detected = Pipeline.default(detector="rules", speakers=False).annotate(text)
    assert [q.speaker.text if q.speaker else None for q in detected.quotes][-1] is None
    full = Pipeline.default(detector="rules", stance=False).annotate(text)
    last = sorted(full.quotes, key=lambda q: q.start)[-1]
    assert last.text.startswith("„Und wir bleiben") and last.speaker.text == "Der Minister"
    assert "continues_speaker" in last.evidence
    far = text.replace(" „Und", "\n\nNeuer Absatz.\n\n„Und")
    apart = Pipeline.default(detector="rules", stance=False).annotate(far)
    assert sorted(apart.quotes, key=lambda q: q.start)[-1].speaker is None
