"""Golden test on the seed article: the worked examples of shared/spec/stance-labels.md and the
other quotes of the article are found with the right kind, cue and (where the rules see it) speaker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quotestance.pipeline import Pipeline

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_fe90af5ba305cfe1.txt"

NONE = "no speaker"  # the quote must have no speaker

# (start of the quote text, kind, cue text or None, speaker mention, actor, affiliation);
# the speakers and actors are those issue 4 fixes for the article
EXPECTED = [
    ("Die USA geben Russland eine Mitschuld", "reported", "geben", "Die USA", "USA", "USA"),
    (
        "US-Außenminister Kerry drohte mit einem Abbruch",
        "reported",
        "drohte",
        "US-Außenminister Kerry",
        "John Kerry",
        "USA",
    ),
    (
        "Der Kreml erklärte umgehend seine Bereitschaft",
        "reported",
        "erklärte",
        "Der Kreml",
        "Russland",
        "Russland",
    ),
    (
        'Präsident Wladimir Putin habe "das Außen-',
        "mixed",
        "erklärte",
        "General Viktor Posnichir",
        "Viktor Posnichir",
        "Russland",
    ),
    # the continuation's cue: none of its own (rules) or the erklärte before it (tagger)
    (
        '"Es ist vorgesehen, in sehr naher Zukunft',
        "direct",
        {None, "erklärte"},
        "General Viktor Posnichir",
        "Viktor Posnichir",
        "Russland",
    ),
    (
        'Ziel solcher Beratungen sei es, "nach',
        "mixed",
        None,
        "General Viktor Posnichir",
        "Viktor Posnichir",
        "Russland",
    ),
    (
        "US-Außenminister Kerry drohte Russland mit dem Abbruch",
        "reported",
        "drohte",
        "US-Außenminister Kerry",
        "John Kerry",
        "USA",
    ),
    (
        "wegen der andauernden Bombenangriffe auf Aleppo",
        "indirect",
        "gedroht",
        "Die USA",
        "USA",
        "USA",
    ),
    (
        "Die Kontakte würden danach so lange unterbrochen",
        "indirect",
        "sagte",
        "Sprecher John Kirby",
        "John Kirby",
        "USA",
    ),
    ("dass sich die USA vorbereiteten", "indirect", "gesagt", "Kerry", "John Kerry", "USA"),
    # the ultimatum's condition continues the spokesman who relays it, not Kerry
    (
        '"Es sei denn, Russland unternimmt',
        "direct",
        None,
        "Sprecher John Kirby",
        "John Kirby",
        "USA",
    ),
    (
        "Kerry habe sich sehr besorgt über die Angriffe",
        "indirect",
        "sagte",
        "Kirby",
        "John Kirby",
        "USA",
    ),
    (
        "Seit Ende der Waffenruhe sollen in der belagerten Stadt",
        "free_indirect",
        None,
        NONE,
        None,
        None,
    ),
]


def _annotate_seed(detector: str, stance: bool):
    text = SEED.read_text(encoding="utf-8")
    doc = Pipeline.default(detector=detector, stance=stance).annotate(text, name=SEED.name)
    for q in doc.quotes:
        assert text[q.start : q.end] == q.text
    return doc


@pytest.fixture(scope="module", params=["rules", pytest.param("auto", marks=pytest.mark.slow)])
def seed_doc(request):
    """The seed through the rules alone (without the stance model: quotes, speakers and
    actors do not depend on it) and through the default pipeline (hybrid where the tagger is
    installed, with stance; slow)."""
    return _annotate_seed(request.param, stance=request.param != "rules")


@pytest.fixture(scope="module")
def seed_quotes(seed_doc):
    return seed_doc.quotes


# what the default pipeline (tagger v2) gets wrong, by detector: strict, so a fix must shrink
# it. The hearsay sentence (reportative *sollen*, no source in the text) is linked to the
# actors of the sentence before (*syrische Regierungskräfte*); a rule that refused speakers
# outside such a sentence cost 0.014 speaker accuracy on news dev (0.795 -> 0.781), so the
# linker keeps its choice and the miss is listed here.
SPEAKER_MISSES = {("auto", "Seit Ende der Waffenruhe sollen in der belagerten Stadt")}


@pytest.mark.parametrize(("prefix", "kind", "cue", "speaker", "actor", "affiliation"), EXPECTED)
def test_seed_quote(request, seed_quotes, prefix, kind, cue, speaker, actor, affiliation):
    if (request.node.callspec.params["seed_doc"], prefix) in SPEAKER_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="speaker linker (issue 14)"))
    matches = [q for q in seed_quotes if q.text.startswith(prefix)]
    assert matches, f"not found: {prefix!r}; found {[q.text[:40] for q in seed_quotes]}"
    quote = matches[0]
    assert quote.kind == kind
    found_cue = quote.cue.text if quote.cue else None
    assert found_cue in cue if isinstance(cue, set) else found_cue == cue
    if speaker == NONE:
        assert quote.speaker is None
        return
    assert quote.speaker is not None and quote.speaker.text == speaker
    assert quote.speaker.actor == actor
    assert quote.speaker.affiliation == affiliation


def test_seed_addressee_of_the_ultimatum(seed_quotes):
    (quote,) = [q for q in seed_quotes if q.text.startswith("dass sich die USA vorbereiteten")]
    assert quote.addressee is not None and quote.addressee.text == "Lawrow"
    assert quote.addressee.actor == "Sergej Lawrow"


def test_seed_actors(seed_doc):
    actors = {a.name: a for a in seed_doc.actors}
    assert actors["USA"].type == "country"
    assert actors["Russland"].type == "country" and "Der Kreml" in actors["Russland"].aliases
    assert actors["John Kerry"].type == "person" and actors["John Kerry"].affiliation == "USA"
    assert actors["Viktor Posnichir"].affiliation == "Russland"
    assert actors["John Kirby"].affiliation == "USA"
    assert {"Kirby", "Sprecher John Kirby"} <= set(actors["John Kirby"].aliases)
    record = seed_doc.to_dict()
    assert [a["name"] for a in record["actors"]] == [a.name for a in seed_doc.actors]
    for entry in record["actors"]:
        for mention in entry["mentions"]:
            assert seed_doc.text[mention["start"] : mention["end"]] == mention["text"]


def test_seed_headline_speaker(seed_quotes):
    """The tagger finds the headline *Kerry droht Russland*; its speaker is Kerry, not the
    speaker of the paragraph before."""
    headline = [q for q in seed_quotes if q.text == "Kerry droht Russland"]
    for quote in headline:
        assert quote.speaker is not None and quote.speaker.actor == "John Kerry"


def test_seed_has_no_spurious_quotes(seed_quotes):
    """Besides the expected quotes: the ministry's report of the ultimatum, and (from the
    tagger) the headline *Kerry droht Russland*."""
    expected = {prefix for prefix, *_ in EXPECTED}
    extra = [q.text for q in seed_quotes if not any(q.text.startswith(p) for p in expected)]
    allowed = {
        "US-Außenminister John Kerry stellte seinem russischen Kollegen Sergej Lawrow "
        "in einem Telefonat ein Ultimatum",
        "Kerry droht Russland",
    }
    assert set(extra) <= allowed
    assert any(q.startswith("US-Außenminister John Kerry stellte") for q in extra)


# the worked examples of shared/spec/stance-labels.md: (quote start, stance, target or None)
STANCE_EXPECTED = [
    ("Die USA geben Russland eine Mitschuld", "accusation", "Russland"),
    ("US-Außenminister Kerry drohte mit einem Abbruch", "threat", None),
    ("Der Kreml erklärte umgehend seine Bereitschaft", "cooperation", None),
    ('"Es ist vorgesehen, in sehr naher Zukunft', "cooperation", "der amerikanischen Seite"),
    ("Die Kontakte würden danach so lange unterbrochen", "threat", None),
    ("Kerry habe sich sehr besorgt über die Angriffe", "accusation", None),
    ("Seit Ende der Waffenruhe sollen in der belagerten Stadt", "none", None),
]


# every seed quote, labelled by reading (data/stance/stance.jsonl, split "seed"; the README's
# table): the ultimatum (q10), the announced suspension (q12) and its condition (q13) are
# threats; the readiness and the search for a normalisation (q4, q6) cooperation
SEED_LABELS = [
    ("Die USA geben Russland eine Mitschuld", "accusation"),
    ("US-Außenminister Kerry drohte mit einem Abbruch", "threat"),
    ("Der Kreml erklärte umgehend seine Bereitschaft", "cooperation"),
    ('Präsident Wladimir Putin habe "das Außen- und', "cooperation"),
    ('"Es ist vorgesehen, in sehr naher Zukunft', "cooperation"),
    ('Ziel solcher Beratungen sei es, "nach möglichen', "cooperation"),
    ("Kerry droht Russland", "threat"),
    ("US-Außenminister Kerry drohte Russland mit", "threat"),
    ("wegen der andauernden Bombenangriffe auf Aleppo", "threat"),
    ("US-Außenminister John Kerry stellte seinem", "threat"),
    ("Die Kontakte würden danach so lange unterbrochen", "threat"),
    ("dass sich die USA vorbereiteten, das bilaterale", "threat"),
    ('"Es sei denn, Russland unternimmt unmittelbare', "threat"),
    ("Kerry habe sich sehr besorgt über die Angriffe", "accusation"),
    ("Seit Ende der Waffenruhe sollen in der belagerten Stadt", "none"),
]


# what the shipped stance model (issue 13: the full fine-tune on rounds 1-3 + the English PLOVER
# records, shipped as a rank-64 LoRA) still gets wrong, by detector: the tests stay, expected
# to fail (strict: a fix makes them pass and this list must shrink). The Aleppo threat, the
# ultimatum and the suspended contacts left the list with the round-three model, the search for
# a normalisation (q6) with this one.
STANCE_MISSES = {
    ("rules", "Kerry droht Russland"),
    *(
        (detector, prefix)
        for detector in ("rules", "auto")
        for prefix in (
            "dass sich die USA vorbereiteten, das bilaterale",
            '"Es sei denn, Russland unternimmt unmittelbare',
            "Kerry habe sich sehr besorgt über die Angriffe",
        )
    ),
}


def _expect_model_miss(request, prefix: str) -> None:
    detector = request.node.callspec.params["stance_quotes"]
    if (detector, prefix) in STANCE_MISSES:
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="the shipped stance model misses it (issue 13)")
        )


@pytest.fixture(scope="module", params=["rules", "auto"])
def stance_quotes(request):
    """The seed's quotes with the stance model (its real weights: the slow tests)."""
    from quotestance.pipeline import stance_available

    if not stance_available():
        pytest.skip("the stance model is not installed")
    return _annotate_seed(request.param, stance=True).quotes


@pytest.mark.slow
@pytest.mark.parametrize(("prefix", "stance", "target"), STANCE_EXPECTED)
def test_seed_stance(request, stance_quotes, prefix, stance, target):
    _expect_model_miss(request, prefix)
    (quote,) = [q for q in stance_quotes if q.text.startswith(prefix)]
    assert quote.stance == stance
    assert quote.stance_scores is not None
    assert max(quote.stance_scores, key=quote.stance_scores.get) == stance
    if stance == "none":
        assert quote.target is None
    if target is not None:
        assert quote.target is not None and quote.target.text == target


@pytest.mark.slow
@pytest.mark.parametrize(("prefix", "stance"), SEED_LABELS)
def test_every_seed_quote_gets_its_label(request, stance_quotes, prefix, stance):
    """The model's label (no rule for the seed) for each of the 15 quotes."""
    _expect_model_miss(request, prefix)
    (quote,) = [q for q in stance_quotes if q.text.startswith(prefix)]
    assert quote.stance == stance, (quote.text[:60], quote.stance_scores)
