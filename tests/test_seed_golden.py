"""Golden test on the seed article: the worked examples of shared/spec/stance-labels.md and the
other quotes of the article are found with the right kind, cue and (where the rules see it) speaker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quotestance.pipeline import Pipeline

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_fe90af5ba305cfe1.txt"

# (start of the quote text, kind, cue text or None, speaker mention or None)
EXPECTED = [
    ("Die USA geben Russland eine Mitschuld", "reported", "geben", "Die USA"),
    (
        "US-Außenminister Kerry drohte mit einem Abbruch",
        "reported",
        "drohte",
        "US-Außenminister Kerry",
    ),
    ("Der Kreml erklärte umgehend seine Bereitschaft", "reported", "erklärte", "Der Kreml"),
    ('Präsident Wladimir Putin habe "das Außen-', "mixed", "erklärte", "General Viktor Posnichir"),
    # the continuation's cue: none of its own (rules) or the erklärte before it (tagger)
    (
        '"Es ist vorgesehen, in sehr naher Zukunft',
        "direct",
        {None, "erklärte"},
        "General Viktor Posnichir",
    ),
    ('Ziel solcher Beratungen sei es, "nach', "mixed", None, "General Viktor Posnichir"),
    (
        "US-Außenminister Kerry drohte Russland mit dem Abbruch",
        "reported",
        "drohte",
        "US-Außenminister Kerry",
    ),
    ("wegen der andauernden Bombenangriffe auf Aleppo", "indirect", "gedroht", "Die USA"),
    (
        "Die Kontakte würden danach so lange unterbrochen",
        "indirect",
        "sagte",
        "Sprecher John Kirby",
    ),
    ("dass sich die USA vorbereiteten", "indirect", "gesagt", "Kerry"),
    ('"Es sei denn, Russland unternimmt', "direct", None, None),
    ("Kerry habe sich sehr besorgt über die Angriffe", "indirect", "sagte", "Kirby"),
    ("Seit Ende der Waffenruhe sollen in der belagerten Stadt", "free_indirect", None, None),
]


@pytest.fixture(scope="module", params=["rules", pytest.param("auto", marks=pytest.mark.slow)])
def seed_quotes(request):
    """The seed through the rules alone and through the default detector (hybrid where the
    tagger is installed)."""
    text = SEED.read_text(encoding="utf-8")
    doc = Pipeline.default(detector=request.param).annotate(text, name=SEED.name)
    for q in doc.quotes:
        assert text[q.start : q.end] == q.text
    return doc.quotes


@pytest.mark.parametrize(("prefix", "kind", "cue", "speaker"), EXPECTED)
def test_seed_quote(seed_quotes, prefix, kind, cue, speaker):
    matches = [q for q in seed_quotes if q.text.startswith(prefix)]
    assert matches, f"not found: {prefix!r}; found {[q.text[:40] for q in seed_quotes]}"
    quote = matches[0]
    assert quote.kind == kind
    found_cue = quote.cue.text if quote.cue else None
    assert found_cue in cue if isinstance(cue, set) else found_cue == cue
    if speaker is not None:
        assert quote.speaker is not None and quote.speaker.text == speaker


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
