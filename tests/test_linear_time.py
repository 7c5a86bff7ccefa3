"""Every stage is linear in the length of one document (issue 12, row 1).

Each test times the same work on n and on 4n units and bounds the ratio (< 6: linear gives
about 4, quadratic 16), taking the best of a few runs, so a busy machine does not make it
flaky; no test bounds seconds. What the old code did per quote or mention over the whole
document (scans, a numpy copy of the sentence starts, a search through every quote for
every token of a paragraph) made these ratios 15 to 100.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable

import pytest

from quotestance.detect.hybrid import combine
from quotestance.detect.tagger import spans_to_quotes
from quotestance.document import Document, Quote
from quotestance.pipeline import Pipeline
from quotestance.text import segment

RATIO = 8  # linear: 4; quadratic: 16 (a loaded machine can push a linear stage past 6)
REPEATED = "Er sagte: „Das ist gut.“ "
NEWS = (
    "US-Außenminister John Kerry drohte Russland mit dem Abbruch der Gespräche. "
    "„Wir werden nicht länger warten“, sagte Kerry am Montag in Washington. "
    "Der Kreml erklärte, man sei zu weiteren Gesprächen bereit. "
    "Die Ministerin sagte gegenüber der BBC, sie halte das für falsch.\n\n"
    "Nach Angaben der Polizei wurden drei Menschen verletzt. Er habe nichts gewusst, "
    "sagte er. Sie warf der Regierung vor, die Lage zu verschleiern.\n\n"
)


def best_time(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        gc.disable()  # the collector's passes grow with the heap, not with the work timed
        try:
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def ratio(make: Callable[[int], Callable[[], object]], n: int, runs: int = 3) -> float:
    """Time of 4n over time of n; measured again (up to three times) while above the bound,
    since a burst of load on a shared machine can slow one side: a quadratic stage stays
    near 16 however often it is measured."""
    small, large = make(n), make(4 * n)
    small()  # warm-up: lazy loads, caches
    found = float("inf")
    for _ in range(3):
        found = min(found, best_time(large, runs) / max(best_time(small, runs), 1e-4))
        if found < RATIO:
            break
    return found


@pytest.fixture(scope="module")
def rules() -> Pipeline:
    pipeline = Pipeline.default(detector="rules", stance=False)
    pipeline.annotate(NEWS)
    return pipeline


@pytest.mark.parametrize("unit", [REPEATED, NEWS], ids=["repeated_sentence", "news"])
def test_rules_pipeline_is_linear(rules: Pipeline, unit: str):
    reps = 80 if unit == REPEATED else 25

    def make(n: int) -> Callable[[], object]:
        text = unit * n
        return lambda: rules.annotate(text)

    assert ratio(make, reps) < RATIO


def test_one_long_sentence_is_linear(rules: Pipeline):
    """Text without sentence marks, with many quotes: one sentence would be read whole for
    every quote in it; sentences are cut at MAX_SENTENCE_TOKENS tokens."""
    unit = "„gut“ sagte er und „schlecht“ meinte sie, "

    def make(n: int) -> Callable[[], object]:
        text = unit * n
        return lambda: rules.annotate(text)

    assert ratio(make, 120) < RATIO  # 6 sentences of the cap, and 24
    from quotestance.text import MAX_SENTENCE_TOKENS

    assert max(len(s.tokens) for s in segment(unit * 400)) <= MAX_SENTENCE_TOKENS


def _tagged_doc(n: int) -> tuple[Document, dict[str, list[tuple[int, int, str]]]]:
    """n sentences, each with a message, a cue and a source, as the tagger would give them."""
    sentence = "Der Minister sagte, die Lage sei ernst. "
    doc = Document(text=sentence * n)
    doc.sentences = segment(doc.text)
    roles: dict[str, list[tuple[int, int, str]]] = {
        "message": [],
        "cue": [],
        "source": [],
        "addressee": [],
    }
    for k in range(n):
        base = k * len(sentence)
        roles["source"].append((base, base + 12, ""))
        roles["cue"].append((base + 13, base + 18, ""))
        roles["message"].append((base + 20, base + 38, "Indirect"))
    return doc, roles


def test_tagger_spans_to_quotes_is_linear():
    """Each message looks for its cue and source near it, not through all spans (and the
    sentence of an offset is a bisect, not a numpy copy of all sentence starts)."""
    doc, roles = _tagged_doc(8)
    quotes = spans_to_quotes(doc, roles)
    assert [(q.cue.text, q.speaker.text) for q in quotes] == [("sagte", "Der Minister")] * 8

    def make(n: int) -> Callable[[], object]:
        doc, roles = _tagged_doc(n)
        return lambda: spans_to_quotes(doc, roles)

    assert ratio(make, 600, runs=5) < RATIO


def _quotes(n: int, offset: int, evidence: list[str]) -> list[Quote]:
    return [
        Quote(k * 100 + offset, k * 100 + offset + 40, "", "indirect", evidence=list(evidence))
        for k in range(n)
    ]


def test_hybrid_combine_is_linear():
    def make(n: int) -> Callable[[], object]:
        def run() -> list[Quote]:
            return combine(_quotes(n, 2, ["cue_verb"]), _quotes(n, 0, ["tagger"]))

        return run

    kept = make(10)()
    assert len(kept) == 10 and all("tagger_agrees" in q.evidence for q in kept)
    assert ratio(make, 1000) < RATIO


def test_interval_index_finds_every_overlap():
    from quotestance.intervals import IntervalIndex

    rng = random.Random(7)
    spans = []
    for _ in range(300):
        start = rng.randrange(0, 1000)
        spans.append((start, start + rng.choice([0, 1, 5, 30, 200])))
    index = IntervalIndex(spans, key=lambda span: span)
    for _ in range(300):
        lo = rng.randrange(-10, 1010)
        hi = lo + rng.choice([0, 1, 7, 50])
        expected = [k for k, (s, e) in enumerate(spans) if s < hi and e > lo]
        assert index.candidates(lo, hi) == expected
        assert index.covers(lo) == any(s <= lo < e for s, e in spans)
