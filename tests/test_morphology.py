"""Verb mood by morphology: concrete forms, separable verbs, context, and the pipeline stage."""

from __future__ import annotations

import pytest

from quotestance.document import Document
from quotestance.morphology import MoodAnalyser, is_ambiguous_subj1, verb_mood
from quotestance.text import segment


@pytest.fixture(scope="module")
def analyser() -> MoodAnalyser:
    return MoodAnalyser()


def by_word(analyser: MoodAnalyser, sentence: str) -> dict[str, tuple[str, str, str | None]]:
    words = sentence.split()
    return dict(zip(words, analyser.analyse(words), strict=True))


@pytest.mark.parametrize(
    ("form", "lemma", "pos", "mood"),
    [
        ("habe", "haben", "VAFIN", "subj1"),
        ("sei", "sein", "VAFIN", "subj1"),
        ("seien", "sein", "VAFIN", "subj1"),
        ("gebe", "geben", "VVFIN", "subj1"),
        ("komme", "kommen", "VVFIN", "subj1"),
        ("könne", "können", "VMFIN", "subj1"),
        ("behaupte", "behaupten", "VVFIN", "subj1"),
        ("habet", "haben", "VAFIN", "subj1"),
        ("mitteile", "mitteilen", "VVFIN", "subj1"),  # verb-final separable
        ("freue", "sich freuen", "VVFIN", "subj1"),  # reflexive lemma
        ("wäre", "sein", "VAFIN", "subj2"),
        ("hätte", "haben", "VAFIN", "subj2"),
        ("würde", "werden", "VAFIN", "subj2"),
        ("käme", "kommen", "VVFIN", "subj2"),
        ("könnte", "können", "VMFIN", "subj2"),
        ("gäbe", "geben", "VVFIN", "subj2"),
        ("sagte", "sagen", "VVFIN", "ind"),  # weak: Konjunktiv II = preterite
        ("wendete", "wenden", "VVFIN", "ind"),  # mixed verb, regular preterite
        ("sollte", "sollen", "VMFIN", "ind"),
        ("hat", "haben", "VAFIN", "ind"),
        ("ist", "sein", "VAFIN", "ind"),
        ("haben", "haben", "VAFIN", "ind"),  # Konjunktiv I = indicative: not distinctive
        ("gehen", "gehen", "VVFIN", "ind"),
        ("behauptet", "behaupten", "VVFIN", "ind"),
        ("muss", "müssen", "VMFIN", "ind"),
        ("muß", "müssen", "VMFIN", "ind"),
    ],
)
def test_verb_mood_forms(form: str, lemma: str, pos: str, mood: str) -> None:
    assert verb_mood(form, lemma, pos) == mood


def test_non_verbs_and_non_finite_have_no_mood() -> None:
    assert verb_mood("Haus", "Haus", "NN") is None
    assert verb_mood("gesagt", "sagen", "VVPP") is None
    assert verb_mood("haben", "haben", "VAINF") is None


def test_unknown_lemma_falls_back_to_suffixes() -> None:
    assert verb_mood("blorfe", "blorfen", "VVFIN") == "subj1"
    assert verb_mood("blorft", "blorfen", "VVFIN") == "ind"
    assert verb_mood("xyz", "xyz", "VVFIN") == "ind"  # ablaut rejects the lemma


def test_ambiguous_subj1_flag() -> None:
    assert is_ambiguous_subj1("haben", "haben")
    assert is_ambiguous_subj1("gehen", "gehen")
    assert not is_ambiguous_subj1("seien", "sein")
    assert not is_ambiguous_subj1("hat", "haben")


def test_separable_verb_gets_particle_lemma(analyser: MoodAnalyser) -> None:
    out = by_word(analyser, "Er teile mit , dass er morgen komme .")
    assert out["teile"] == ("mitteilen", "VVFIN", "subj1")
    assert out["mit"][1] == "PTKVZ" and out["mit"][2] is None
    assert out["komme"][2] == "subj1"
    assert out["Er"][2] is None


def test_context_sie_haben_and_ich_habe(analyser: MoodAnalyser) -> None:
    assert by_word(analyser, "Sie haben nichts gesagt .")["haben"][2] == "ind"
    assert by_word(analyser, "Ich habe nichts gesagt .")["habe"][2] == "ind"
    assert by_word(analyser, "Er sagte , er habe nichts gesagt .")["habe"][2] == "subj1"
    assert by_word(analyser, "Er sagte , er habe nichts gesagt .")["sagte"][2] == "ind"


def test_sentences_tag_and_lemmatise(analyser: MoodAnalyser) -> None:
    out = by_word(analyser, "Sie mussten das Schloss verlassen , wenn er käme .")
    assert out["mussten"] == ("müssen", "VMFIN", "ind")  # reformed spelling, old lexicon
    assert out["Schloss"][:2] == ("Schloss", "NN") and out["Schloss"][2] is None
    assert out["käme"] == ("kommen", "VVFIN", "subj2")
    assert out["verlassen"][2] is None
    out = by_word(analyser, "Der Bundesaußenminister googelte , die Lage sei ernst .")
    assert out["Bundesaußenminister"][:2] == ("Bundesaußenminister", "NN")
    assert out["googelte"] == ("googeln", "VVFIN", "ind")  # unknown verb
    assert out["sei"][2] == "subj1"


def test_imperative(analyser: MoodAnalyser) -> None:
    assert by_word(analyser, "Gib mir das Buch !")["Gib"][2] == "imp"


def test_stage_fills_every_token() -> None:
    text = (
        "Die Polizei teilte mit, der Mann sei festgenommen worden. "
        "„Wir haben keine Spur“, sagte ein Sprecher.\n\nEs gebe keine Verletzten."
    )
    doc = Document(text=text)
    doc.sentences = segment(text)
    stage = MoodAnalyser()
    assert stage.name == "morphology"
    assert stage(doc) is doc
    tokens = doc.tokens
    assert all(tok.lemma is not None and tok.pos is not None for tok in tokens)
    mood = {tok.text: tok.mood for tok in tokens}
    assert mood["teilte"] == "ind"
    assert mood["sei"] == "subj1"
    assert mood["haben"] == "ind"
    assert mood["sagte"] == "ind"
    assert mood["gebe"] == "subj1"
    assert mood["Polizei"] is None and mood["Verletzten"] is None and mood["„"] is None
    lemma = {tok.text: tok.lemma for tok in tokens}
    assert lemma["teilte"] == "mitteilen"
    assert lemma["„"] == "„"


def test_model_is_loaded_once() -> None:
    assert MoodAnalyser()._tagger is MoodAnalyser()._tagger
