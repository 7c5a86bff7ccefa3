"""The shipped cue lexicon loads and answers lookups; malformed files fail with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from quotestance.detect.lexicon import CUE_COLUMNS, SPEECH_ACT_COLUMNS, CueLexicon

_GOOD_ROW = ["sagen", "verb", "", "", "3", "2", "1", "sagte", "spkatt-news;spkatt-gepade;rw"]


@pytest.fixture(scope="module")
def lexicon() -> CueLexicon:
    return CueLexicon.load()


def _write(path: Path, rows: list[list[str]], header=CUE_COLUMNS) -> Path:
    lines = ["\t".join(header)] + ["\t".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_is_cached(lexicon: CueLexicon) -> None:
    assert CueLexicon.load() is lexicon
    assert len(lexicon.verbs) > 100 and len(lexicon.nouns) > 50


def test_verbs(lexicon: CueLexicon) -> None:
    sagen = lexicon.verb("sagen")
    assert sagen is not None and sagen.kind == "verb" and sagen.particle == ""
    assert sagen.count > 100 and "spkatt-news" in sagen.sources
    assert lexicon.verb("erklären") is not None
    assert lexicon.verb("Antrag") is None


def test_particle_verbs(lexicon: CueLexicon) -> None:
    mitteilen = lexicon.particle_verb("teilen", "mit")  # "teilte ... mit"
    assert mitteilen is not None and mitteilen.lemma == "mitteilen"
    assert mitteilen is lexicon.verb("mitteilen") and mitteilen.base == "teilen"
    assert lexicon.particle_verb("werfen", "vor").lemma == "vorwerfen"
    assert lexicon.particle_verb("warnen", "vor") is None  # "warnte vor": a preposition
    for entry in lexicon.verbs.values():
        assert entry.lemma.startswith(entry.particle)


def test_prepositions_nouns_others(lexicon: CueLexicon) -> None:
    assert lexicon.preposition("laut").kind == "preposition"
    assert lexicon.preposition("Laut") is lexicon.preposition("laut")
    assert lexicon.preposition("zufolge") is not None
    assert lexicon.noun("Angabe") is not None  # lemma of "Angaben"
    assert lexicon.noun("Vorwurf") is not None
    assert lexicon.noun("Ultimatum").sources[-1] == "manual"
    assert lexicon.other("so") is not None and lexicon.other("sollen") is not None
    assert lexicon.noun("Gesetz") is None  # a GePaDe speech event, stopped as no news cue


def test_speech_acts(lexicon: CueLexicon) -> None:
    acts = {(a.lemma, a.pattern): a.act for a in lexicon.speech_acts()}
    assert acts[("drohen", "mit")] == "threat"
    assert acts[("vorwerfen", "")] == "accusation"
    assert acts[("Mitschuld", "geben an")] == "accusation"
    assert acts[("Bereitschaft", "erklären zu")] == "cooperation"


def test_custom_file_without_speech_acts(tmp_path: Path) -> None:
    lexicon = CueLexicon.load(_write(tmp_path / "cues.tsv", [_GOOD_ROW]))
    assert lexicon.verb("sagen").count == 6
    assert lexicon.verb("sagen").sources == ("spkatt-news", "spkatt-gepade", "rw")
    assert lexicon.speech_acts() == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["sagen", "adverb", *_GOOD_ROW[2:]], "kind 'adverb'"),
        (["sagen", "verb", "", "", "x", "2", "1", "sagte", "rw"], "counts must be integers"),
        (_GOOD_ROW[:5], "5 columns, expected 9"),
        (["mitteilen", "verb", "vor", *_GOOD_ROW[3:]], "not a prefix"),
        (["sagen", "verb", "", "", "1", "0", "0", "sagte", ""], "empty source"),
    ],
)
def test_malformed_row(tmp_path: Path, row: list[str], message: str) -> None:
    path = _write(tmp_path / "bad.tsv", [[_GOOD_ROW[0], "noun", *_GOOD_ROW[2:]], row])
    with pytest.raises(ValueError, match=rf"bad\.tsv:3: .*{message}"):
        CueLexicon.from_files(path)


def test_malformed_header_and_duplicate(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"h\.tsv:1: header"):
        CueLexicon.from_files(_write(tmp_path / "h.tsv", [_GOOD_ROW], header=("lemma", "kind")))
    with pytest.raises(ValueError, match=r"d\.tsv:3: duplicate verb 'sagen'"):
        CueLexicon.from_files(_write(tmp_path / "d.tsv", [_GOOD_ROW, _GOOD_ROW]))


def test_malformed_speech_act(tmp_path: Path) -> None:
    cues = _write(tmp_path / "cues.tsv", [_GOOD_ROW])
    rows = [["drohen", "mit", "menace", "manual"]]
    acts = _write(tmp_path / "acts.tsv", rows, SPEECH_ACT_COLUMNS)
    with pytest.raises(ValueError, match=r"acts\.tsv:2: "):
        CueLexicon.from_files(cues, acts)
