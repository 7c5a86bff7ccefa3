"""Speakers and actors on the cases users reported from real news (issue 14): pronouns after
places, two names written side by side, a person's own affiliation, the mention layer.
Rules pipeline only: no model weights."""

from __future__ import annotations

import pytest

from quotestance.document import Document
from quotestance.pipeline import Pipeline
from quotestance.speakers.mentions import MentionFinder, mentions_of


@pytest.fixture(scope="module")
def rules() -> Pipeline:
    return Pipeline.default(detector="rules", stance=False)


def _speakers(nlp: Pipeline, text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    doc = nlp(Document(text=text))
    return [
        (q.text, q.speaker.actor, q.speaker.affiliation, q.speaker.affiliation_source)
        for q in sorted(doc.quotes, key=lambda q: q.start)
        if q.speaker is not None
    ]


def test_a_pronoun_after_a_place_is_the_person_named_before(rules):
    text = (
        "US-Außenminister John Kerry äußerte sich am Montag in Genf zur Lage in Syrien. "
        "Die Attacke auf das Krankenhaus in Aleppo sei empörend, kritisierte er."
    )
    found = _speakers(rules, text)
    assert found[-1][:3] == (
        "Die Attacke auf das Krankenhaus in Aleppo sei empörend", "John Kerry", "USA"
    )  # fmt: skip


def test_she_after_a_country_is_the_woman_not_the_country(rules):
    text = (
        "Bundeskanzlerin Angela Merkel sagte in Berlin, Deutschland werde helfen. "
        "Die Lage sei ernst, betonte sie."
    )
    assert [s[1] for s in _speakers(rules, text)] == ["Angela Merkel", "Angela Merkel"]


def test_a_pronoun_nobody_agrees_with_gets_no_actor(rules):
    doc = rules(Document(text="Das sei empörend, kritisierte er."))
    assert doc.quotes and doc.quotes[0].speaker is not None
    assert doc.quotes[0].speaker.actor is None
    assert doc.actors == []


def test_two_names_side_by_side_are_two_actors(rules):
    text = (
        "Im Jahr 2008 warf Lech Kaczyński Wałęsa persönlich Spionage vor. "
        "Wałęsa wies die Vorwürfe zurück und sagte, er habe nie für den Geheimdienst gearbeitet."
    )
    doc = rules(Document(text=text))
    names = {a.name for a in doc.actors}
    assert "Lech Kaczyński Wałęsa" not in names
    assert {"Lech Kaczyński", "Wałęsa"} <= names
    denial = next(q for q in doc.quotes if q.text.startswith("er habe nie"))
    assert denial.speaker.actor == "Wałęsa"
    layer = {m.text for m in mentions_of(doc)}
    assert {"Lech Kaczyński", "Wałęsa"} <= layer and "Lech Kaczyński Wałęsa" not in layer


@pytest.mark.parametrize(
    "text",
    [
        "Hans Peter Doskozil sagte, die Regierung habe versagt. Doskozil blieb dabei.",
        "Gabriel García Márquez sagte, das Buch sei fertig. García Márquez lachte.",
    ],
)
def test_double_first_names_and_double_surnames_stay_one_name(rules, text):
    doc = rules(Document(text=text))
    assert not mentions_of(doc).breaks


@pytest.mark.parametrize(
    ("text", "actor", "affiliation"),
    [
        ("In Libyen wurde gewählt. Der serbische Präsident Aleksandar Vučić erklärte, Serbien "
         "werde die Sanktionen nicht mittragen.", "Aleksandar Vučić", "Serbien"),
        ("Die Kämpfe in Syrien gehen weiter. UN-Generalsekretär Ban Ki-moon sagte, die Gewalt "
         "müsse sofort enden.", "Ban Ki-moon", "Vereinte Nationen"),
        ("In Berlin tagte der Ausschuss. Hans Peter Doskozil (SPÖ) sagte, die Regierung habe "
         "versagt.", "Hans Peter Doskozil", "Österreich"),
        ("In Tunesien wird verhandelt. Der russische General Viktor Posnichir erklärte, es sei "
         "vorgesehen, die Truppen abzuziehen.", "Viktor Posnichir", "Russland"),
    ],
)  # fmt: skip
def test_affiliation_comes_from_the_persons_own_description(rules, text, actor, affiliation):
    _quote, got_actor, got_affiliation, source = _speakers(rules, text)[-1]
    assert (got_actor, got_affiliation, source) == (actor, affiliation, "description")


def test_the_paragraph_country_is_a_fallback_marked_as_such(rules):
    text = "In Syrien wird weiter gekämpft. Ahmed Rahmani sagte, die Lage sei schlimm."
    assert _speakers(rules, text)[-1][1:] == ("Ahmed Rahmani", "Syrien", "context")


def test_a_later_description_replaces_the_fallback(rules):
    text = (
        "In Syrien wird weiter gekämpft. Viktor Posnichir sagte, die Lage sei schlimm.\n\n"
        "Der russische General Posnichir erklärte, die Truppen blieben."
    )
    doc = rules(Document(text=text))
    actor = next(a for a in doc.actors if a.name == "Viktor Posnichir")
    assert (actor.affiliation, actor.affiliation_source) == ("Russland", "description")


def test_the_mention_layer_is_made_once_and_read_by_every_stage(rules, monkeypatch):
    import quotestance.speakers.mentions as mentions

    calls = []
    original = mentions.find_candidates
    monkeypatch.setattr(mentions, "find_candidates", lambda doc: calls.append(1) or original(doc))
    doc = rules(Document(text="Kerry sagte, Russland müsse handeln. Lawrow warnte ihn."))
    assert len(calls) == 1 and doc.mentions is not None
    assert any(isinstance(stage, MentionFinder) for stage in rules.stages)


def test_a_well_known_person_gets_the_listed_country_not_the_articles(rules):
    # no title: before, the article's last country (Syrien) was Lawrow's
    text = (
        "Die Gespräche über Syrien gehen weiter. "
        "Sergej Lawrow sagte am Montag, die Waffenruhe halte. "
        "Die Lage in Syrien bleibe aber schwierig, sagte Lawrow."
    )
    found = _speakers(rules, text)
    assert found and all(f[1:] == ("Sergej Lawrow", "Russland", "people") for f in found)


def test_a_bare_surname_needs_its_country_in_the_article(rules):
    # MULLER is listed once, for the Marshall Islands; a German Müller is not theirs
    text = "Die Stadt Graz plant neue Radwege. Der Ausbau beginne im Mai, sagte Müller."
    found = _speakers(rules, text)
    assert found and found[0][2] != "Marshallinseln" and found[0][3] != "people"


def test_a_description_outranks_the_people_list(rules):
    text = "Der ukrainische Botschafter Sergej Lawrow sagte, die Gespräche seien gescheitert."
    found = _speakers(rules, text)
    assert found[0][2:] == ("Ukraine", "description")
