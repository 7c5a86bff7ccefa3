"""The combination policy of rules and tagger, on hand-made quotes (no model needed)."""

from __future__ import annotations

from quotestance.detect.hybrid import combine
from quotestance.document import Document, Quote, Span

TEXT = (
    'Putin habe "das Ministerium beauftragt, bereit zu sein" fortzusetzen, erklärte er. '
    "Die Lage sei ernst. Man prüfe alles."
)


def quote(text: str, kind: str, evidence: list[str], cue: str | None = None) -> Quote:
    start = TEXT.index(text)
    cue_span = None
    if cue:
        c = TEXT.index(cue)
        cue_span = Span(c, c + len(cue), cue)
    return Quote(start, start + len(text), text, kind, cue=cue_span, evidence=evidence)


def test_quotation_marks_beat_tagger_fragments():
    rule = quote(
        'Putin habe "das Ministerium beauftragt, bereit zu sein" fortzusetzen',
        "mixed",
        ["cue_after_content", "contains_direct_quote"],
        cue="erklärte",
    )
    pieces = [
        quote('Putin habe "das', "mixed", ["tagger"]),
        quote('bereit zu sein" fortzusetzen', "mixed", ["tagger"]),
    ]
    (combined,) = combine([rule], pieces)
    assert combined.text == rule.text and combined.cue.text == "erklärte"
    assert "tagger_agrees" in combined.evidence


def test_rule_only_quotes_need_precise_evidence():
    """Only attributions and speech acts add quotes the tagger missed; a bare Konjunktiv I
    main clause was right in 10 of 38 such additions on the held-out sets."""
    trusted = quote("Die Lage sei ernst.", "free_indirect", ["attribution_laut"])
    subjunctive = quote("Die Lage sei ernst.", "free_indirect", ["konjunktiv_i_main_clause"])
    untrusted = quote("Man prüfe alles.", "free_indirect", ["reportative_sollen"])
    assert [q.text for q in combine([trusted, untrusted], [])] == ["Die Lage sei ernst."]
    assert combine([subjunctive], []) == []


def test_run_on_tagger_span_is_cut_where_the_rules_cut():
    run_on = quote("Die Lage sei ernst. Man prüfe alles.", "free_indirect", ["tagger"])
    first = quote("Die Lage sei ernst.", "free_indirect", ["konjunktiv_i_main_clause"])
    second = quote("Man prüfe alles.", "free_indirect", ["konjunktiv_i_main_clause"])
    combined = combine([first, second], [run_on])
    assert [q.text for q in combined] == ["Die Lage sei ernst.", "Man prüfe alles."]


def test_tagger_keeps_its_span_and_gains_the_rules_cue():
    tagged = quote("Die Lage sei ernst", "indirect", ["tagger"])
    rule = quote("Die Lage sei ernst. Man", "indirect", ["cue_v2_clause"], cue="erklärte")
    (combined,) = combine([rule], [tagged])
    assert combined.text == "Die Lage sei ernst"
    assert combined.cue is not None and combined.cue.text == "erklärte"


def test_the_taggers_span_stays_where_it_overlaps_one_quote_in_marks():
    """Tagger v2 places spans as SpkAtt does; the rule span wins only when the tagger cut the
    quote into pieces (above) or both nearly agree."""
    tagged = quote('das Ministerium beauftragt, bereit zu sein" fortzusetzen', "mixed", ["tagger"])
    rule = quote(
        'Putin habe "das Ministerium beauftragt, bereit zu sein" fortzusetzen, erklärte er.',
        "mixed",
        ["cue_after_content"],
        cue="erklärte",
    )
    (combined,) = combine([rule], [tagged])
    assert combined.text == tagged.text and combined.cue.text == "erklärte"


def test_what_a_rule_split_leaves_of_a_tagger_span_stays_a_quote():
    """A run-on tagger span over two rule quotes is cut where the rules cut; a claim of four
    words or more in reported speech's mood that lies between them stays a quote (the tagger
    found it), narration (*erklärte er.*, an indicative sentence) does not."""
    from quotestance.morphology import MoodAnalyser
    from quotestance.text import TextSegmenter

    doc = MoodAnalyser()(TextSegmenter()(Document(TEXT)))
    run_on = quote(TEXT.strip(), "indirect", ["tagger"])
    first = quote('Putin habe "das Ministerium beauftragt, bereit zu sein" fortzusetzen',
                  "mixed", ["cue_after_content"])  # fmt: skip
    last = quote("Man prüfe alles.", "free_indirect", ["konjunktiv_i_main_clause"])
    texts = [q.text for q in combine([first, last], [run_on], doc)]
    assert texts == [first.text, "Die Lage sei ernst", last.text]  # not *erklärte er.*
    assert [q.text for q in combine([first, last], [run_on])] == [first.text, last.text]
    narration = TEXT.replace("Die Lage sei ernst", "Die Lage ist sehr ernst")
    doc = MoodAnalyser()(TextSegmenter()(Document(narration)))
    run_on = Quote(0, len(narration.strip()), narration.strip(), "indirect", evidence=["tagger"])
    last = Quote(narration.index("Man"), len(narration.strip()), "Man prüfe alles.",
                 "free_indirect", evidence=["konjunktiv_i_main_clause"])  # fmt: skip
    assert len(combine([first, last], [run_on], doc)) == 2


def test_a_rule_cue_is_widened_to_the_tagged_cue_it_lies_in():
    """The rules' cue is one verb; SpkAtt news marks *hat angekündigt*, so the tagger's cue
    pieces that overlap or touch it (a space between) join it; a piece further off does not."""
    text = "Der Minister hat angekündigt, dass er zurücktrete. Er hat es gesagt."
    doc = Document(text)

    def span(words: str, after: int = 0) -> Span:
        start = text.index(words, after)
        return Span(start, start + len(words), words)

    doc.tagged_roles["cue"] = [span("hat"), span("angekündigt"), span("gesagt")]
    content = span("dass er zurücktrete")
    rule = Quote(content.start, content.end, content.text, "indirect",
                 cue=span("angekündigt"), evidence=["cue_dass_clause"])  # fmt: skip
    tagged = Quote(content.start, content.end, content.text, "indirect", evidence=["tagger"])
    (combined,) = combine([rule], [tagged], doc)
    assert combined.cue.text == "hat angekündigt"
    far = Quote(content.start, content.end, content.text, "indirect",
                cue=span("hat", text.index("Er")), evidence=["cue_dass_clause"])  # fmt: skip
    (alone,) = combine([far], [copy_of(tagged)], doc)
    assert alone.cue.text == "hat"


def copy_of(q: Quote) -> Quote:
    return Quote(q.start, q.end, q.text, q.kind, evidence=list(q.evidence))
