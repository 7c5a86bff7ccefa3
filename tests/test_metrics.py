"""Known answers for every figure of metrics.md, on hand-built gold and predicted documents."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from quotestance.corpora.base import AnnotatedDocument, GoldQuote, detokenize
from quotestance.document import Document, Mention, Quote, Span
from quotestance.evaluation.evaluate import regex_annotate
from quotestance.evaluation.metrics import Scorer, TokenIndex, score, stance_key, stance_metrics
from quotestance.evaluation.report import render_markdown

#          0        1       2    3      4        5        6    7    8      9         10      11
TOKENS = [
    "Merkel",
    "sagte",
    ",",
    "sie",
    "komme",
    "morgen",
    ".",
    "„",
    "Wir",
    "helfen",
    "gern",
    "“",
    ",",
    "betonte",
    "Scholz",
    ".",
]
#          12   13         14        15


def ids(*numbers: int) -> set[str]:
    return {f"0:{n}" for n in numbers}


def gold_doc(*quotes: GoldQuote, name: str = "1 - Test") -> AnnotatedDocument:
    text, spans = detokenize([[(f"0:{i}", tok) for i, tok in enumerate(TOKENS)]])
    return AnnotatedDocument(name=name, text=text, token_spans=spans, gold=list(quotes))


INDIRECT = GoldQuote(message=ids(3, 4, 5), form="Indirect", cue=ids(1), source=ids(0))
DIRECT = GoldQuote(message=ids(8, 9, 10), form="Direct", cue=ids(13), source=ids(14))


def span_of(gold: AnnotatedDocument, *numbers: int) -> tuple[int, int]:
    spans = [gold.token_spans[f"0:{n}"] for n in numbers]
    return min(s for s, _ in spans), max(e for _, e in spans)


def quote(
    gold: AnnotatedDocument,
    message: tuple[int, ...],
    kind: str = "direct",
    speaker: tuple[int, ...] = (),
    cue: tuple[int, ...] = (),
    stance: str | None = None,
) -> Quote:
    start, end = span_of(gold, *message)
    return Quote(
        start,
        end,
        gold.text[start:end],
        kind,
        cue=Span.of(gold.text, *span_of(gold, *cue)) if cue else None,
        speaker=Mention(*span_of(gold, *speaker), "") if speaker else None,
        stance=stance,
    )


def run(gold: AnnotatedDocument, *quotes: Quote, **kwargs: object) -> dict:
    return score([(gold, Document(text=gold.text, quotes=list(quotes)))], **kwargs)


def test_text_is_rebuilt_as_in_the_spec() -> None:
    assert gold_doc().text == "Merkel sagte, sie komme morgen. „Wir helfen gern“, betonte Scholz."


def test_a_token_is_covered_when_at_least_half_its_characters_are_inside() -> None:
    gold = gold_doc()
    index = TokenIndex(gold.token_spans)
    assert gold.token_text("0:0") == "Merkel"  # chars 0..6
    assert index.covered(3, 10) == {"0:0", "0:1"}  # 3 of 6 chars of Merkel, 4 of 5 of sagte
    assert index.covered(4, 10) == {"0:1"}  # 2 of 6 is not enough
    assert index.covered(5, 5) == frozenset()
    assert index.covered(None, None) == frozenset()


def test_perfect_prediction_scores_one_everywhere() -> None:
    gold = gold_doc(INDIRECT, DIRECT)
    r = run(
        gold,
        quote(gold, (3, 4, 5), "indirect", speaker=(0,), cue=(1,)),
        quote(gold, (8, 9, 10), "direct", speaker=(14,), cue=(13,)),
    )
    for figure in ("quote", "message_token", "cue", "joint"):
        assert r[figure]["f1"] == 1.0, figure
    assert r["speaker_accuracy"] == {"accuracy": 1.0, "correct": 2, "n": 2}
    assert r["quote"]["f1_ci"] == [1.0, 1.0]
    assert (r["documents"], r["gold_quotes"], r["predicted_quotes"]) == (1, 2, 2)
    assert r["recall_by_form"]["Direct"] == {"recall": 1.0, "found": 1, "gold": 1}
    assert r["precision_by_kind"]["indirect"]["precision"] == 1.0


def test_half_covered_quotes_match_and_tokens_count_exactly() -> None:
    gold = gold_doc(INDIRECT, DIRECT)
    # two of three gold tokens, plus one token outside any quote
    r = run(gold, quote(gold, (5, 6, 7, 8, 9)), quote(gold, (3,)))
    assert r["message_token"]["correct"] == 4  # sie, morgen, Wir, helfen
    assert r["message_token"]["precision"] == pytest.approx(4 / 6)  # . and „ are not in gold
    assert r["message_token"]["recall"] == pytest.approx(4 / 6)
    # (5..9) covers 1 of 3 tokens of INDIRECT and 2 of 3 of DIRECT, and neither gold quote
    # covers half of its 5 tokens.
    assert r["quote"]["correct"] == 1  # only "sie": INDIRECT covers all of it
    assert r["quote"]["found"] == 1  # DIRECT
    assert r["recall_by_form"]["Indirect"]["found"] == 0


def test_one_prediction_over_two_gold_quotes() -> None:
    gold = gold_doc(INDIRECT, DIRECT)
    r = run(gold, quote(gold, tuple(range(3, 11))))
    # covers all of both gold quotes: both found; but neither gold covers half of its 8 tokens
    assert r["quote"]["recall"] == 1.0
    assert r["quote"]["precision"] == 0.0
    narrow = gold_doc(INDIRECT, GoldQuote(message=ids(6, 7, 8, 9, 10), form="Direct"))
    r = run(narrow, quote(narrow, tuple(range(3, 11))))
    assert (r["quote"]["precision"], r["quote"]["recall"]) == (1.0, 1.0)


def test_speaker_mismatch_hurts_joint_not_quote() -> None:
    gold = gold_doc(INDIRECT, DIRECT)
    r = run(
        gold,
        quote(gold, (3, 4, 5), speaker=(14,)),
        quote(gold, (8, 9, 10), speaker=(14,)),
    )
    assert r["quote"]["f1"] == 1.0
    assert r["speaker_accuracy"]["accuracy"] == 0.5
    assert r["joint"]["correct"] == 1 and r["joint"]["found"] == 1
    assert r["joint"]["f1"] == 0.5


def test_empty_source_needs_no_predicted_speaker() -> None:
    anonymous = GoldQuote(message=ids(3, 4, 5), form="Reported")
    gold = gold_doc(anonymous)
    r = run(gold, quote(gold, (3, 4, 5)))
    assert r["joint"]["f1"] == 1.0
    assert r["speaker_accuracy"]["n"] == 0  # only gold quotes with a Source count
    r = run(gold, quote(gold, (3, 4, 5), speaker=(0,)))
    assert r["joint"]["f1"] == 0.0
    assert r["quote"]["f1"] == 1.0


def test_cue_scores_only_quotes_with_cues() -> None:
    gold = gold_doc(INDIRECT, GoldQuote(message=ids(8, 9, 10), form="Direct"))
    r = run(
        gold,
        quote(gold, (3, 4, 5), cue=(1,)),
        quote(gold, (8, 9, 10), cue=(13,)),  # gold has no cue here: a wrong cue
        quote(gold, (14,)),  # no cue: not a cue prediction
    )
    cue = r["cue"]
    assert (cue["correct"], cue["predicted"], cue["found"], cue["gold"]) == (1, 2, 1, 1)
    assert (cue["precision"], cue["recall"]) == (0.5, 1.0)


def test_an_unmatched_prediction_counts_against_its_kind() -> None:
    gold = gold_doc(INDIRECT)
    r = run(gold, quote(gold, (3, 4, 5), "indirect"), quote(gold, (13, 14), "reported"))
    assert r["precision_by_kind"] == {
        "indirect": {"precision": 1.0, "correct": 1, "predicted": 1},
        "reported": {"precision": 0.0, "correct": 0, "predicted": 1},
    }


def test_scorer_streams_over_documents_and_bootstraps_reproducibly() -> None:
    gold = gold_doc(INDIRECT, DIRECT)
    docs = [
        (gold, Document(text=gold.text, quotes=[quote(gold, (3, 4, 5))])),
        (gold, Document(text=gold.text, quotes=[quote(gold, (8, 9, 10)), quote(gold, (14,))])),
        (gold, Document(text=gold.text)),
    ]
    first, second = score(docs, seed=3), score(docs, seed=3)
    assert first == second
    assert first["documents"] == 3 and first["gold_quotes"] == 6
    assert first["quote"]["precision"] == pytest.approx(2 / 3)
    low, high = first["quote"]["f1_ci"]
    assert 0.0 <= low <= first["quote"]["f1"] <= high <= 1.0
    with pytest.raises(ValueError):
        Scorer().add(gold, Document(text="other text"))


def test_stance_metrics_and_end_to_end_stance() -> None:
    gold_labels = ["threat", "threat", "none", "accusation"]
    m = stance_metrics(gold_labels, ["threat", "none", "none", "none"])
    assert m["per_label_f1"]["threat"] == pytest.approx(2 / 3)
    assert m["per_label_f1"]["none"] == pytest.approx(0.5)
    assert m["per_label_f1"]["cooperation"] == 0.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5) / 4)
    assert m["confusion"]["threat"]["none"] == 1
    gold = gold_doc(INDIRECT, DIRECT, name="42 - Titel (2020)")
    labels = {stance_key(gold.name, 0): "threat", stance_key(gold.name, 1): "none"}
    assert stance_key(gold.name, 1) == "42#1"
    r = run(gold, quote(gold, (3, 4, 5), stance="threat"), stance_gold=labels)
    assert r["stance_e2e"]["n"] == 1 and r["stance_e2e"]["per_label_f1"]["threat"] == 1.0
    assert "stance_e2e" not in run(gold, quote(gold, (3, 4, 5)), stance_gold=labels)


def test_regex_baseline_and_report_render() -> None:
    gold = gold_doc(INDIRECT, DIRECT)
    pred = regex_annotate(gold.to_document())
    assert [q.text for q in pred.quotes] == ["Wir helfen gern"]
    result = score([(gold, pred)])
    assert result["quote"]["precision"] == 1.0 and result["quote"]["recall"] == 0.5
    run_result = {
        "corpora": {
            "toy": {
                **result,
                "description": "toy",
                "timing": {
                    "annotate_seconds": 0.0,
                    "characters": len(gold.text),
                    "chars_per_second": None,
                },
            }
        }
    }
    markdown = render_markdown({"regex": run_result})
    assert "| regex | 1 | 2 | 1 | 1.000 | 0.500 |" in markdown
    assert "Published anchors" in markdown


REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "tools" / "spkatt_score.py"


@pytest.mark.corpus
@pytest.mark.skipif(not REFERENCE.exists(), reason="needs ../shared/tools/spkatt_score.py")
def test_agrees_with_the_reference_scorer_on_hand_built_predictions() -> None:
    spec = importlib.util.spec_from_file_location("spkatt_score", REFERENCE)
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    gold = gold_doc(INDIRECT, DIRECT, GoldQuote(message=ids(12, 13, 14, 15), form="Reported"))
    quotes = [
        quote(gold, (2, 3, 4), speaker=(1,), cue=(1,)),
        quote(gold, tuple(range(7, 15)), speaker=(14,), cue=(13, 14)),
        quote(gold, (0,), cue=(0,)),
    ]
    ours = run(gold, *quotes)
    ref_doc = {
        "name": gold.name,
        "text": gold.text,
        "spans": gold.token_spans,
        "gold": [
            {
                "Message": sorted(g.message),
                "Source": sorted(g.source),
                "Cue": sorted(g.cue),
                "Form": g.form,
                "_index": i,
            }
            for i, g in enumerate(gold.gold)
        ],
    }
    ref_pred = [
        {
            "start": q.start,
            "end": q.end,
            "speaker": q.speaker and q.speaker.to_dict(),
            "cue": q.cue and q.cue.to_dict(),
        }
        for q in quotes
    ]
    theirs = reference.score([ref_doc], [ref_pred])
    for figure in ("quote", "message_token", "cue", "joint"):
        got = tuple(ours[figure][k] for k in ("precision", "recall", "f1"))
        assert got == pytest.approx(theirs[figure]), figure
    assert ours["speaker_accuracy"]["accuracy"] == pytest.approx(theirs["speaker_accuracy"])
