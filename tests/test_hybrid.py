"""The combination policy of rules and tagger, on hand-made quotes (no model needed)."""

from __future__ import annotations

from quotestance.detect.hybrid import combine
from quotestance.document import Quote, Span

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
    trusted = quote("Die Lage sei ernst.", "free_indirect", ["konjunktiv_i_main_clause"])
    untrusted = quote("Man prüfe alles.", "free_indirect", ["reportative_sollen"])
    combined = combine([trusted, untrusted], [])
    assert [q.text for q in combined] == ["Die Lage sei ernst."]


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
