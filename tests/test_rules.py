"""The quote rules on constructed sentences: one construction per test."""

from __future__ import annotations

import pytest

from quotestance.detect.marks import pair_marks
from quotestance.pipeline import Pipeline


@pytest.fixture(scope="module")
def annotate():
    pipeline = Pipeline.default(detector="rules")
    return lambda text: pipeline.annotate(text).quotes


def only(quotes):
    assert len(quotes) == 1, [(q.kind, q.text) for q in quotes]
    return quotes[0]


# ---------------------------------------------------------------- quotation marks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Er sagte: „Wir kommen.“ Dann ging er.", ["„Wir kommen.“"]),
        ("»Ja«, sagte sie.", ["»Ja«"]),
        ("«Ja», sagte sie.", ["«Ja»"]),
        ('Er sagte "Hallo Welt" und ging.', ['"Hallo Welt"']),
        ('Er sagte : " Wir gehen jetzt . " Dann', ['" Wir gehen jetzt . "']),
        ('Sie sagte: „Nein" und ging.', ['„Nein"']),
    ],
)
def test_mark_pairs(text, expected):
    spans, stray = pair_marks(text)
    assert [text[s.start : s.end] for s in spans if s.depth == 0] == expected
    assert stray == []


def test_nested_quote_stays_inside():
    text = "„Das ist ‚gut‘ so“, sagte er."
    spans, _ = pair_marks(text)
    assert [(text[s.start : s.end], s.depth) for s in spans] == [
        ("„Das ist ‚gut‘ so“", 0),
        ("‚gut‘", 1),
    ]


def test_multi_paragraph_quote_reopens_each_paragraph():
    text = "„Erster Absatz.\n\n„Zweiter Absatz.“ Ende."
    (span,), _ = pair_marks(text)
    assert (span.start, span.end, span.paragraphs) == (0, text.index("“") + 1, 2)


def test_stray_mark_is_reported_not_paired():
    text = "Ein „einsames Zeichen.\n\nDann „ok“."
    spans, stray = pair_marks(text)
    assert [text[s.start : s.end] for s in spans] == ["„ok“"]
    assert stray == [4]


def test_apostrophes_are_not_quote_marks():
    spans, stray = pair_marks("Wie geht’s? Das war Bush’ Politik, sagte er.")
    assert spans == [] and stray == []


# ---------------------------------------------------------------- direct speech


def test_direct_with_cue_after_and_speaker(annotate):
    quote = only(annotate("„Wir werden die Gespräche fortsetzen“, sagte der Minister."))
    assert quote.kind == "direct"
    assert quote.cue.text == "sagte"
    assert quote.speaker.text == "der Minister"


def test_colon_cue_in_previous_sentence(annotate):
    quote = only(annotate("Die Sprecherin erklärte: „Wir bleiben bei unserer Linie.“"))
    assert quote.kind == "direct" and quote.cue.text == "erklärte"


def test_scare_quotes_and_titles_are_not_quotes(annotate):
    assert annotate("Der Film „Das Leben der Anderen“ lief gestern im Kino.") == []
    assert annotate("Die Zeitung „Hamburger Abendblatt“ berichtet über das Thema.") == []
    assert annotate("Er wohnt in der „Villa“ am See.") == []


def test_short_evaluative_quote_with_cue(annotate):
    quote = only(annotate("Der Minister nannte den Bericht eine „Zeitungsente“."))
    assert quote.kind == "direct" and quote.text == "„Zeitungsente“"


# ---------------------------------------------------------------- reported speech


def test_dass_clause_with_particle_verb(annotate):
    quote = only(annotate("Die Polizei teilte mit, dass der Mann festgenommen worden sei."))
    assert quote.kind == "indirect"
    assert quote.text == "dass der Mann festgenommen worden sei"
    assert quote.cue.text == "teilte"
    assert quote.speaker.text == "Die Polizei"


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Die Forscher gehen davon aus, dass der Komet zerfällt.", "gehen davon aus"),
        ("Der Minister wies darauf hin, dass die Frist ende.", "wies darauf hin"),
        ("Der Sprecher geht allerdings davon aus, dass es regnet.", "geht allerdings davon aus"),
        # the correlate only: a plain particle verb keeps the verb (half of its two words)
        ("Die Polizei teilte gestern mit, dass der Mann gefasst sei.", "teilte"),
        # a speaker's own voice (parliament) keeps the verb, as GePaDe marks it
        ("Ich gehe davon aus, dass wir zustimmen.", "gehe davon aus"),
        ("Dann stelle ich dazu fest, dass wir zustimmen.", "stelle"),
    ],
)
def test_cue_with_correlate_and_particle(annotate, text, cue):
    assert only(annotate(text)).cue.text == cue


def test_konjunktiv_clause_after_cue(annotate):
    quote = only(annotate("Der Sprecher sagte, die Lage sei unter Kontrolle."))
    assert quote.kind == "indirect" and quote.text == "die Lage sei unter Kontrolle"


def test_content_before_inverted_cue(annotate):
    quote = only(annotate("Die Lage sei unter Kontrolle, erklärte ein Sprecher der Polizei."))
    assert quote.text == "Die Lage sei unter Kontrolle"
    assert quote.speaker.text == "ein Sprecher der Polizei"


def test_wie_attribution(annotate):
    quote = only(annotate("Der Zug fuhr nicht weiter, wie die Bahn mitteilte."))
    assert quote.kind == "indirect"
    assert quote.text == "Der Zug fuhr nicht weiter"
    assert quote.speaker.text == "die Bahn"


def test_zu_infinitive_after_cue(annotate):
    quote = only(annotate("Die Gewerkschaft drohte, den Streik auszuweiten."))
    assert quote.kind == "indirect" and quote.text == "den Streik auszuweiten"


@pytest.mark.parametrize(
    ("text", "content", "cue"),
    [
        ("Laut Polizei wurde der Mann festgenommen.", "wurde der Mann festgenommen", "Laut"),
        (
            "Der Polizei zufolge wurde der Mann festgenommen.",
            "wurde der Mann festgenommen",
            "zufolge",
        ),
        (
            "Nach Angaben der Feuerwehr brannte das Haus vollständig aus.",
            "brannte das Haus vollständig aus",
            "Nach",
        ),
    ],
)
def test_attribution_phrases(annotate, text, content, cue):
    quote = only(annotate(text))
    assert quote.kind == "indirect"
    assert quote.text == content
    assert quote.cue.text == cue


def test_nach_without_cue_noun_is_no_attribution(annotate):
    assert annotate("Nach dem Spiel fuhr die Mannschaft nach Hause.") == []


def test_speech_act_without_content_clause(annotate):
    quote = only(annotate("Der Minister drohte mit dem Abbruch der Verhandlungen."))
    assert quote.kind == "reported" and quote.cue.text == "drohte"


def test_free_indirect_passage_joins_sentences(annotate):
    quotes = annotate(
        "Der Sprecher sagte, die Lage sei ernst. Man prüfe alle Optionen. "
        "Eine Entscheidung falle bald."
    )
    assert [q.kind for q in quotes] == ["indirect", "free_indirect"]
    assert quotes[1].text == "Man prüfe alle Optionen. Eine Entscheidung falle bald."
    assert quotes[1].speaker.text == "Der Sprecher"


def test_reportative_sollen(annotate):
    quote = only(annotate("Bei dem Angriff sollen zehn Menschen getötet worden sein."))
    assert quote.kind == "free_indirect"
    assert "reportative_sollen" in quote.evidence


def test_mixed_quote(annotate):
    quote = only(
        annotate("Der Minister sagte, man werde „alle Möglichkeiten prüfen“ und dann entscheiden.")
    )
    assert quote.kind == "mixed"
    assert quote.text.startswith("man werde „alle")


def test_indicative_statement_without_cue_is_no_quote(annotate):
    assert annotate("Das Wetter ist heute schön. Morgen regnet es.") == []


# ---------------------------------------------------------------- name and colon (issue 16)


@pytest.mark.parametrize(
    ("text", "quote", "speaker"),
    [
        (
            "Der Skandal weitet sich aus. Stiftner: Das hat unter anderem mit der "
            "Finanzierung zu tun.",
            "Das hat unter anderem mit der Finanzierung zu tun.",
            "Stiftner",
        ),
        ("Angela Merkel: Wir schaffen das nicht allein.", "Wir schaffen das nicht allein.",
         "Angela Merkel"),
    ],
)  # fmt: skip
def test_an_answer_after_a_name_and_a_colon_is_that_persons_quote(annotate, text, quote, speaker):
    found = only(annotate(text))
    assert found.text == quote and "name_colon" in found.evidence
    assert found.speaker is not None and found.speaker.text == speaker


@pytest.mark.parametrize(
    "text",
    [
        "Zum Vergleich: Die Gesamtzahl der Passagiere stieg um drei Prozent.",
        "Fazit: Das Projekt ist gescheitert.",
        "Ergebnis der Wahl: CDU 31 Prozent.",
        "Berlin: Tote.",
    ],
)
def test_a_label_before_a_colon_is_not_a_speaker(annotate, text):
    assert annotate(text) == []
