"""The training data through Hugging Face ``datasets`` (``quotestance/hf_data.py``) gives what
the plain-list code gave: the same rows per split, the same token ids and padded batches, the
same tagger windows. (The full comparison with the real tokenizer and the corpora, and the
losses of a short training run on both paths: ``training/check_datasets.py``.)"""

from __future__ import annotations

import random

import pytest

pytest.importorskip("datasets")
torch = pytest.importorskip("torch")

from quotestance import hf_data  # noqa: E402
from quotestance.stance.data import row_text, split_of  # noqa: E402
from tests.conftest import GERMAN_TEXT, make_tiny_tokenizer  # noqa: E402


def _rows() -> list[dict]:
    rows = []
    for k, sentence in enumerate(s for s in GERMAN_TEXT.split(". ") if s.strip()):
        split = ("train", "test", "seed")[k % 3]
        rows.append({"id": f"r{k}", "document": f"doc{k % 7}", "split": split,
                     "quote": sentence, "context": GERMAN_TEXT[:200], "cue": "sagte",
                     "speaker": "Kerry", "label": ("none", "threat")[k % 2]})  # fmt: skip
    return rows


def test_stance_splits_are_those_of_split_of_with_rows_unchanged():
    rows = _rows()
    parts = hf_data.stance_splits(hf_data.stance_dataset(rows))
    for name, part in parts.items():
        expected = [r for r in rows if split_of(r) == name]
        got = hf_data.rows_of(part)
        assert [{k: g[k] for k in r} for r, g in zip(expected, got, strict=True)] == expected
        assert [g["input_text"] for g in got] == [row_text(r) for r in expected]
    assert sum(len(p) for p in parts.values()) == len(rows)


def test_given_splits_are_kept_and_limit_cuts_each_split():
    rows = [{**r, "stance_split": "calibration"} for r in _rows()]
    parts = hf_data.stance_splits(hf_data.stance_dataset(rows), limit=2)
    assert list(parts) == ["calibration"] and len(parts["calibration"]) == 2


def test_pretokenised_batches_equal_batches_tokenised_with_padding():
    rows = _rows()
    tokenizer = make_tiny_tokenizer([GERMAN_TEXT] * 3)
    part = hf_data.stance_splits(hf_data.stance_dataset(rows))["train"]
    encoded = hf_data.tokenize_stance(part, tokenizer, max_len=24, prefix="query: ")
    order = list(range(len(part)))
    random.Random(3).shuffle(order)
    for k in range(0, len(order), 2):
        chunk = encoded[order[k : k + 2]]
        new = tokenizer.pad(
            {"input_ids": chunk["input_ids"], "attention_mask": chunk["attention_mask"]},
            return_tensors="pt",
        )
        old = tokenizer(
            ["query: " + t for t in chunk["input_text"]], truncation=True, max_length=24,
            padding=True, return_tensors="pt",
        )  # fmt: skip
        assert torch.equal(new["input_ids"], old["input_ids"])
        assert torch.equal(new["attention_mask"], old["attention_mask"])


@pytest.mark.corpus
def test_tagger_windows_equal_build_corpus(tmp_path):
    from quotestance.corpora.split import corpus_path
    from quotestance.detect.tagger_data import build_corpus, windows_from_columns

    if not corpus_path("spkatt-news").is_dir():  # shared_data_dir() names it even if absent
        pytest.skip("needs ../shared/data")
    tokenizer = make_tiny_tokenizer([GERMAN_TEXT] * 3, vocab_size=200)
    old = windows_from_columns(build_corpus("spkatt-news", tokenizer, 64, 48, limit=3)["windows"])
    new = hf_data.windows_of(
        hf_data.tagger_windows("spkatt-news", tokenizer, 64, 48, limit=3, cache_dir=tmp_path)
    )
    assert old and old == new
