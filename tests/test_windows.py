"""Subword windows for the tagger, on a tiny WordPiece tokenizer trained here (no weights)."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("tokenizers")
transformers = pytest.importorskip("transformers")

from quotestance.corpora.base import AnnotatedDocument, GoldQuote, detokenize  # noqa: E402
from quotestance.detect.labels import IGNORE, ROLES, TAGS, tag_id, tags_to_spans  # noqa: E402
from quotestance.detect.windows import (  # noqa: E402
    Window,
    collate,
    document_words,
    gold_word_tags,
    length_sorted_batches,
    make_windows,
    merge_window_predictions,
    sentence_starts,
)
from quotestance.document import Document  # noqa: E402
from tests.conftest import GERMAN_TEXT  # noqa: E402

TEXT = GERMAN_TEXT


@pytest.fixture(scope="module")
def doc_words():
    doc = Document(TEXT)
    words = document_words(doc)
    return doc, words, [TEXT[s:e] for s, e in words]


def _subwords(tokenizer, words):
    return tokenizer(list(words), is_split_into_words=True, add_special_tokens=False)["input_ids"]


def _doc_offsets(tokenizer, words_text):
    """Subword offset of each word's start in the whole document's tokenisation."""
    offsets, pos = [], 0
    for word in words_text:
        offsets.append(pos)
        pos += len(_subwords(tokenizer, [word]))
    return [*offsets, pos]


def test_document_words_runs_text_layer(doc_words):
    doc, words, words_text = doc_words
    assert doc.sentences and len(words) == len(doc.tokens)
    assert words_text[:3] == ["Der", "Minister", "sagte"]
    assert [words_text[i] for i in sentence_starts(doc)][:3] == ["Der", "Die", "Nach"]


@pytest.mark.parametrize("use_sentences", [False, True])
def test_windows_cover_every_word_without_cutting(tokenizer, doc_words, use_sentences):
    doc, _words, words_text = doc_words
    starts = sentence_starts(doc) if use_sentences else None
    max_len, stride = 40, 28
    windows = make_windows(words_text, None, tokenizer, 3, max_len, stride, sentence_starts=starts)
    offsets = _doc_offsets(tokenizer, words_text)
    longest = max(b - a for a, b in itertools.pairwise(offsets))
    assert len(windows) > 3
    assert windows[0].first_word == 0 and windows[-1].last_word == len(words_text)
    seen = set()
    for window in windows:
        assert window.doc_id == 3 and window.labels is None and window.truncated == 0
        assert len(window.input_ids) <= max_len
        assert window.input_ids[0] == tokenizer.cls_token_id
        assert window.input_ids[-1] == tokenizer.sep_token_id
        # the body is exactly the words first..last, whole
        body = _subwords(tokenizer, words_text[window.first_word : window.last_word])
        assert window.input_ids[1:-1] == body
        indexed = [w for w in window.word_index if w is not None]
        assert indexed == list(range(window.first_word, window.last_word))
        seen.update(indexed)
    assert seen == set(range(len(words_text)))
    for prev, nxt in itertools.pairwise(windows):
        assert prev.first_word < nxt.first_word <= prev.last_word  # no gap, progress
        step = offsets[nxt.first_word] - offsets[prev.first_word]
        assert 0 < step <= stride
        # a window is full but for less than one word, so the overlap is about max_len - stride
        overlap = offsets[prev.last_word] - offsets[nxt.first_word]
        assert overlap >= (max_len - 2) - stride - longest + 1


def test_sentence_aware_windows_start_at_sentences(tokenizer, doc_words):
    doc, _words, words_text = doc_words
    starts = sentence_starts(doc)
    plain = make_windows(words_text, None, tokenizer, 0, 40, 28)
    aware = make_windows(words_text, None, tokenizer, 0, 40, 28, sentence_starts=starts)
    at_sentence = sum(w.first_word in starts for w in aware)
    assert at_sentence > sum(w.first_word in starts for w in plain)


def test_labels_only_on_first_subwords(tokenizer, doc_words):
    _doc, _words, words_text = doc_words
    rng = np.random.default_rng(0)
    tags = {role: list(rng.integers(0, len(TAGS[role]), len(words_text))) for role in ROLES}
    tags["message"][5] = IGNORE
    windows = make_windows(words_text, tags, tokenizer, 0, max_len=40, stride=28)
    multi = 0
    for window in windows:
        assert set(window.labels) == set(ROLES)
        for role in ROLES:
            labels = window.labels[role]
            assert len(labels) == len(window.input_ids)
            for word, label in zip(window.word_index, labels, strict=True):
                assert label == (IGNORE if word is None else tags[role][word])
        multi += sum(w is None for w in window.word_index) - 2
    assert multi > 0  # some words have several subwords, whose later ones are ignored


def test_prefix_after_bos(tokenizer, doc_words):
    _doc, _words, words_text = doc_words
    prefix_ids = tokenizer("query: ", add_special_tokens=False)["input_ids"]
    windows = make_windows(words_text, None, tokenizer, 0, max_len=40, stride=28, prefix="query: ")
    for window in windows:
        assert len(window.input_ids) <= 40
        assert window.input_ids[1 : 1 + len(prefix_ids)] == prefix_ids
        assert window.word_index[: 1 + len(prefix_ids)] == [None] * (1 + len(prefix_ids))
        assert window.word_index[1 + len(prefix_ids)] == window.first_word


def test_overlong_word_is_truncated_and_counted(tokenizer, caplog):
    words = ["Er", "sagte", "-".join(["Bürgermeisterin"] * 3), "gestern", "."]
    tags = {"cue": [0, 1, 0, 0, 0]}
    with caplog.at_level(logging.WARNING, logger="quotestance.detect.windows"):
        windows = make_windows(words, tags, tokenizer, 0, max_len=12, stride=8)
    assert "cut to 10" in caplog.text
    long = [w for w in windows if w.truncated]
    assert len(long) == 1 and long[0].first_word == 2 and long[0].last_word == 3
    assert len(long[0].input_ids) == 12 and long[0].labels["cue"][1] == 0
    assert {w for win in windows for w in win.word_index if w is not None} == set(range(5))


def _annotated() -> tuple[AnnotatedDocument, dict[str, list[tuple[int, int, str]]]]:
    """A hand-made document: a direct quote, an indirect one interrupted by its frame, and a
    form-less (GePaDe-style) message; with the gold character spans each role should give."""
    lines = (
        "„ Wir kommen “ , sagte Merkel .",
        "Das sei , so der Minister zu Journalisten , nicht geplant .",
        "Die Grünen meinen , alles sei gut .",
    )
    sentences = [line.split() for line in lines]
    tokens = [(f"{s}:{i}", tok) for s, sent in enumerate(sentences) for i, tok in enumerate(sent)]
    text, spans = detokenize([tokens])

    def chars(first: str, last: str) -> tuple[int, int]:
        return spans[first][0], spans[last][1]

    gold = [
        GoldQuote(message={"0:1", "0:2"}, form="Direct", cue={"0:5"}, source={"0:6"}),
        GoldQuote(
            message={"1:0", "1:1", "1:8", "1:9"},
            form="Indirect",
            cue={"1:3"},
            source={"1:4", "1:5"},
            addressee={"1:6", "1:7"},
        ),
        GoldQuote(
            message={"2:4", "2:5", "2:6"}, form="Unknown", cue={"2:2"}, source={"2:0", "2:1"}
        ),
        GoldQuote(message=set(), form="", cue={"2:2"}),  # a cue-only annotation
    ]
    expected = {
        "message": [
            (*chars("0:1", "0:2"), "Direct"),
            (*chars("1:0", "1:1"), "Indirect"),
            (*chars("1:8", "1:9"), "Indirect"),
        ],
        "cue": [(*chars(t, t), "") for t in ("0:5", "1:3", "2:2")],
        "source": [(*chars(a, b), "") for a, b in (("0:6", "0:6"), ("1:4", "1:5"), ("2:0", "2:1"))],
        "addressee": [(*chars("1:6", "1:7"), "")],
    }
    return AnnotatedDocument("hand", text, spans, gold), expected


def test_gold_tags_round_trip():
    ann, expected = _annotated()
    words = document_words(ann.to_document())
    tags = gold_word_tags(ann, words)
    for role in ROLES:
        assert len(tags[role]) == len(words)
        plain = [0 if t == IGNORE else t for t in tags[role]]
        assert tags_to_spans(role, words, plain) == expected[role], role
    # the form-less message is ignored on its words, not tagged O
    ignored = [ann.text[s:e] for (s, e), t in zip(words, tags["message"], strict=True) if t < 0]
    assert ignored == ["alles", "sei", "gut"]
    first_word = next(i for i, (s, _e) in enumerate(words) if s == expected["message"][0][0])
    assert tags["message"][first_word] == tag_id("message", "B-Direct")


def test_merge_picks_most_central_window():
    # document of 11 words; W0 holds words 0-7, W1 words 4-9; word 10 is in no window
    w0 = Window([101, *range(8), 102], [None, *range(8), None], None, 0, 0, 8)
    w1 = Window([101, *range(6), 102], [None, *range(4, 10), None], None, 0, 4, 10)
    logits = {
        "cue": [np.tile([5.0, 0.0, 0.0], (12, 1)), np.tile([0.0, 5.0, 0.0], (12, 1))],
    }  # padded to 12 rows
    merged = merge_window_predictions([w0, w1], logits, n_words=11)["cue"]
    assert merged.shape == (11, 3)
    # word 4: W0 pos 5, 4 from W0's cut right edge; W1 pos 1, 1 from its cut left edge -> W0
    # word 5: 3 vs 2 -> W0; word 6: 2 vs 3 -> W1
    assert [int(row.argmax()) for row in merged[:10]] == [0] * 6 + [1] * 4
    assert merged[10].argmax() == 0 and merged[10, 0] > merged[10, 1:].max()


def test_merge_values_come_from_first_subwords():
    w0 = Window([101, 7, 8, 9, 102], [None, 0, None, 1, None], None, 0, 0, 2)
    rows = np.arange(5 * 11, dtype=np.float32).reshape(5, 11)
    merged = merge_window_predictions([w0], {"message": [rows]}, n_words=2)["message"]
    np.testing.assert_array_equal(merged, rows[[1, 3]])


def test_collate_pads_to_longest():
    a = Window([1, 5, 6, 7, 2], [None, 0, 1, 2, None], {"cue": [IGNORE, 1, 2, 0, IGNORE]}, 0, 0, 3)
    b = Window([1, 8, 2], [None, 3, None], {"cue": [IGNORE, 1, IGNORE]}, 0, 3, 4)
    batch = collate([a, b], pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 5, 6, 7, 2], [1, 8, 2, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch["labels_cue"].tolist() == [[IGNORE, 1, 2, 0, IGNORE], [IGNORE, 1] + [IGNORE] * 3]
    assert "labels_cue" not in collate([a, Window([1, 2], [None, None], None, 0, 0, 0)], 0)


def test_length_sorted_batches():
    windows = [Window([0] * n, [None] * n, None, 0, 0, 0) for n in (5, 9, 3, 9, 5, 7, 3, 8)]
    train = length_sorted_batches(windows, 2, seed=1)
    assert train == length_sorted_batches(windows, 2, seed=1)
    assert sorted(i for batch in train for i in batch) == list(range(8))
    for batch in train:
        lengths = [len(windows[i].input_ids) for i in batch]
        assert max(lengths) - min(lengths) <= 1
    infer = length_sorted_batches(windows, 3)
    assert infer == [[2, 6, 0], [4, 5, 7], [1, 3]]
