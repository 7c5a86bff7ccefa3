"""The learned speaker scorer: its inputs from the tagger's states, its decision rule (a
candidate must beat "nobody"), saving and loading, and the guard against another tagger."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from safetensors.torch import save_file  # noqa: E402

from quotestance.encoding import WordEncoding  # noqa: E402
from quotestance.pipeline import Pipeline  # noqa: E402
from quotestance.speakers.linker import SpeakerLinker, load_scorer  # noqa: E402
from quotestance.speakers.pairs import pair_inputs  # noqa: E402
from quotestance.speakers.scorer import (  # noqa: E402
    SpeakerScorer,
    SpeakerScorerModel,
    collate,
)

HIDDEN = 8


def test_pooling_averages_the_words_a_span_touches():
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    enc = WordEncoding.of([(0, 3), (4, 9), (10, 12)], vectors)
    np.testing.assert_allclose(enc.pool(0, 3), vectors[0])
    np.testing.assert_allclose(enc.pool(2, 6), vectors[:2].mean(0))  # partial overlaps count
    np.testing.assert_allclose(enc.pool(3, 4), np.zeros(4))  # the space between two words
    assert enc.vectors.dtype == np.float16


def _document_with_states():
    doc = Pipeline.default(detector="rules", speakers=False).annotate(
        "Der Minister Peter Maier sagte am Montag, die Steuern würden sinken."
    )
    words = [(t.start, t.end) for t in doc.tokens]
    rng = np.random.default_rng(0)
    doc.encoding = WordEncoding.of(words, rng.normal(size=(len(words), HIDDEN)))
    doc.quotes[0].speaker = None
    doc.quotes[0].evidence = []
    return doc


def _scorer(nobody_bias: float) -> SpeakerScorer:
    """A scorer that only reads the sparse feature ``kind=name``; its state MLPs output 0 and
    "nobody" gets ``nobody_bias``."""
    vocab = {"kind=name": 0, "bias": 1}
    model = SpeakerScorerModel(len(vocab), HIDDEN, inner=4)
    with torch.no_grad():
        model.sparse.weight[0, 0] = 5.0
        for mlp in (model.pair, model.nobody):
            mlp[-1].weight.zero_()
            mlp[-1].bias.zero_()
        model.nobody[-1].bias.fill_(nobody_bias)
    return SpeakerScorer(model, vocab, {"hidden_size": HIDDEN, "inner": 4})


def test_a_candidate_must_beat_nobody():
    doc = _document_with_states()
    SpeakerLinker({}, 0.0, 0.5, scorer=_scorer(nobody_bias=0.0))(doc)
    assert doc.quotes[0].speaker is not None and "Peter Maier" in doc.quotes[0].speaker.text
    doc = _document_with_states()
    SpeakerLinker({}, 0.0, 0.5, scorer=_scorer(nobody_bias=20.0))(doc)
    assert doc.quotes[0].speaker is None


def test_without_states_the_linear_model_ranks():
    doc = _document_with_states()
    doc.encoding = None
    # the scorer would choose nobody; the logistic regression picks the name
    SpeakerLinker({"kind=name": 4.0}, -1.0, 0.5, scorer=_scorer(nobody_bias=20.0))(doc)
    assert doc.quotes[0].speaker is not None and "Peter Maier" in doc.quotes[0].speaker.text


def test_probabilities_sum_to_one_and_unknown_features_are_dropped():
    enc = WordEncoding.of([(0, 2), (3, 5)], np.ones((2, HIDDEN)))
    inputs = pair_inputs(enc, (0, 2), None, [(3, 5), (0, 2)], [{"new": 1.0}, {"kind=name": 1}])
    batch = collate([inputs], {"kind=name": 0})
    assert batch["feat_index"].tolist() == [0] and batch["feat_offsets"].tolist() == [0, 0]
    nobody, probs = _scorer(0.0).probabilities(inputs)
    assert len(probs) == 2 and abs(nobody + sum(probs) - 1.0) < 1e-5
    assert probs[1] > probs[0] > 0


def test_saved_scorer_loads_and_another_taggers_scorer_is_refused(tmp_path):
    from quotestance.resources import model_versions

    scorer = _scorer(0.0)
    save_file(scorer.model.state_dict(), str(tmp_path / "scorer.safetensors"))
    info = {
        "hidden_size": HIDDEN,
        "inner": 4,
        "weights": "scorer.safetensors",
        "features": ["kind=name", "bias"],
        "tagger_version": model_versions()["tagger"],
    }
    (tmp_path / "scorer.json").write_text(json.dumps(info), encoding="utf-8")
    loaded = load_scorer(tmp_path / "scorer.json")
    assert loaded is not None and loaded.vocab == {"kind=name": 0, "bias": 1}
    doc = _document_with_states()
    SpeakerLinker({}, 0.0, 0.5, scorer=loaded)(doc)
    assert "Peter Maier" in doc.quotes[0].speaker.text
    info["tagger_version"] = "another"
    (tmp_path / "scorer.json").write_text(json.dumps(info), encoding="utf-8")
    assert load_scorer(tmp_path / "scorer.json") is None
    assert load_scorer(False) is None
