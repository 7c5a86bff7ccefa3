"""Text layer: offsets, tokenisation conventions and sentence boundaries."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from quotestance.document import Document
from quotestance.text import TextSegmenter, segment

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_fe90af5ba305cfe1.txt"


def words(text: str) -> list[list[str]]:
    return [[tok.text for tok in sent.tokens] for sent in segment(text)]


def check_offsets(text: str) -> None:
    sentences = segment(text)
    for i, sent in enumerate(sentences):
        assert sent.index == i
        assert text[sent.start : sent.end] == sent.text
        assert sent.start == sent.tokens[0].start and sent.end == sent.tokens[-1].end
        for k, tok in enumerate(sent.tokens):
            assert text[tok.start : tok.end] == tok.text
            assert tok.index == k
            assert tok.text and tok.text == tok.text.strip()
    flat = [tok for sent in sentences for tok in sent.tokens]
    assert all(a.end <= b.start for a, b in pairwise(flat))
    # every non-space character is covered by a token
    covered = sum(tok.end - tok.start for tok in flat)
    assert covered == sum(not ch.isspace() for ch in text)


def test_seed_article_offsets_and_layout() -> None:
    text = SEED.read_text(encoding="utf-8")
    check_offsets(text)
    sentences = segment(text)
    tokens = [tok.text for sent in sentences for tok in sent.tokens]
    assert "US-Außenminister" in tokens and "Syrien-Gespräche" in tokens
    assert "Außen-" in tokens
    title = next(s for s in sentences if s.text == "Kerry droht Russland")
    assert [s.paragraph for s in sentences if s.paragraph == title.paragraph] == [title.paragraph]
    assert sentences[-1].paragraph == text.strip().count("\n\n")


def test_empty_and_whitespace() -> None:
    assert segment("") == []
    assert segment("  \n\n\t \r\n ") == []


def test_paragraph_indices_and_crlf() -> None:
    text = "Kerry droht Russland\r\n\r\nEr sagte das. Dann ging er.\r\nWeiter.\r\n \r\nEnde."
    check_offsets(text)
    sentences = segment(text)
    assert [s.text for s in sentences] == [
        "Kerry droht Russland",
        "Er sagte das.",
        "Dann ging er.",
        "Weiter.",
        "Ende.",
    ]
    assert [s.paragraph for s in sentences] == [0, 1, 1, 1, 2]


def test_compounds_and_truncation_hyphens() -> None:
    assert words("US-Außenminister Kerry und die CDU/CSU-Fraktion.") == [
        ["US-Außenminister", "Kerry", "und", "die", "CDU/CSU-Fraktion", "."]
    ]
    assert words("Das Außen- und Innenministerium, Fernseh-, Radio- oder Printleute.")[0][:6] == [
        "Das", "Außen-", "und", "Innenministerium", ",", "Fernseh-",
    ]  # fmt: skip
    assert words("Es kam - wie erwartet - anders.") == [
        ["Es", "kam", "-", "wie", "erwartet", "-", "anders", "."]
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Das gilt z.B. für Dr. Müller u.a. in Berlin.", ["z.B.", "Dr.", "u.a."]),
        ("Das kostet ca. 5 Mio. Euro, d.h. mehr.", ["ca.", "Mio.", "d.h."]),
        ("Er hat, z. B. mit Max, gearbeitet.", ["z.", "B."]),
        ("Nach Art. 5 GG und Nr. 3 gilt das.", ["Art.", "Nr."]),
    ],
)
def test_abbreviations_stay_whole_and_do_not_split(text: str, expected: list[str]) -> None:
    sentences = words(text)
    assert len(sentences) == 1
    for abbreviation in expected:
        assert abbreviation in sentences[0]


def test_ordinals_and_dates() -> None:
    assert words("Er kam am 3. Oktober nach Berlin.") == [
        ["Er", "kam", "am", "3.", "Oktober", "nach", "Berlin", "."]
    ]
    assert len(words("Der 1. FC Köln gewann am 12.10.2005 im 19. Jahrhundert.")) == 1
    assert words("Er wurde 3. Danach ging er.") == [
        ["Er", "wurde", "3", "."],
        ["Danach", "ging", "er", "."],
    ]
    assert len(words("Das war bis 2005. Dann kam der Wechsel.")) == 2
    assert len(words("Das Spiel endete 2:0. Beide Teams waren müde.")) == 2


def test_unit_letter_ends_sentence() -> None:
    assert len(words("Es wiegt 165 g. Das Display ist groß.")) == 2


def test_sentence_end_then_abbreviation_like_end() -> None:
    assert len(words("Es gab Äpfel, Birnen usw. Die Preise stiegen.")) == 2
    assert len(words("Das Treffen des Vereins e.V. (CCC) fand statt.")) == 1


@pytest.mark.parametrize("mark", ["„", "“", '"', "»", "«", "‚", "‘"])
def test_quote_marks_are_tokens(mark: str) -> None:
    text = f"Er sagte {mark}Nein{mark} und ging."
    check_offsets(text)
    assert words(text)[0][2:5] == [mark, "Nein", mark]


def test_sentence_split_after_closing_quote() -> None:
    assert words("„Nein.“ Er ging.") == [["„", "Nein", ".", "“"], ["Er", "ging", "."]]
    assert words('Er sagte "Nein." Dann ging er.')[0][-2:] == [".", '"']
    assert len(words("„Wir kommen“, sagte er.")) == 1
    assert len(words("„Wir kommen!“, sagte er.")) == 1
    sentences = words("Er sagte: „Wir kommen. Morgen.“ Dann ging er.")
    assert sentences == [
        ["Er", "sagte", ":", "„", "Wir", "kommen", "."],
        ["Morgen", ".", "“"],
        ["Dann", "ging", "er", "."],
    ]


def test_colon_does_not_split() -> None:
    assert len(words("Er sagte: Wir kommen.")) == 1


def test_text_segmenter_stage() -> None:
    doc = TextSegmenter()(Document(text="Eins. Zwei."))
    assert [s.text for s in doc.sentences] == ["Eins.", "Zwei."]
