"""Measure the hybrid detector's combination policy offline (``quotestance/detect/hybrid.py``).

Runs the tagger and the rules once over the three held-out sets (SpkAtt-news dev, GePaDe dev,
Redewiedergabe dev; cached in ``data/cache/``), then scores ``combine()`` under each policy
variant with the speaker stages (mention layer + linker) and the metrics of
``shared/spec/metrics.md``: quote P/R/F1, cue F1, speaker accuracy, joint F1. The figures
equal ``training/evaluate.py --system hybrid`` (same code path, no actor or stance stages,
which do not change these metrics). Also prints the precision of hybrid quotes by origin
(tagger, rule span, rule-only addition by evidence).

Run: ``python training/hybrid_policy.py [--out reports/hybrid_policy.json]`` (≈ 4 minutes
the first time, then seconds).
"""

from __future__ import annotations

import argparse
import copy
import json
import pickle
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import quotestance.detect.hybrid as hybrid
from quotestance.evaluation.metrics import Scorer, TokenIndex

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "data" / "cache" / "hybrid-policy.pkl"
SETS = ("spkatt-news-dev", "spkatt-gepade-dev", "redewiedergabe-dev")
# the rule-only additions of the policy before 2026-12-03
OLD_ADDED = hybrid.ADDED_RULE_EVIDENCE | {"cue_verb", "cue_noun", "konjunktiv_i_main_clause"}


def detector_output() -> dict[str, list]:
    """Per set: (gold, document after the tagger, tagger quotes, rule quotes), cached."""
    if CACHE.exists():
        with open(CACHE, "rb") as handle:
            return pickle.load(handle)
    from quotestance.detect.rules import QuoteDetector
    from quotestance.evaluation.evaluate import iter_eval_set
    from quotestance.pipeline import Pipeline

    tagger, rules = Pipeline.default("tagger", speakers=False), QuoteDetector()
    data = {}
    for name in SETS:
        golds = list(iter_eval_set(name))
        docs = list(tagger.pipe((g.to_document() for g in golds), batch_size=32))
        data[name] = [(g, d, d.quotes, rules.detect(d)) for g, d in zip(golds, docs, strict=True)]
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with open(CACHE, "wb") as handle:
        pickle.dump(data, handle)
    return data


@contextmanager
def policy(**settings) -> Iterator[None]:
    """Temporarily change module-level settings of ``hybrid`` (a variant of the policy)."""
    saved = {key: getattr(hybrid, key) for key in settings}
    for key, value in settings.items():
        setattr(hybrid, key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(hybrid, key, value)


@cache
def speaker_stages() -> tuple:
    """The mention layer and the shipped linker, loaded once for every variant."""
    from quotestance.speakers.linker import SpeakerLinker
    from quotestance.speakers.mentions import MentionFinder

    return MentionFinder(), SpeakerLinker.load()


def score(rows: list, combine: bool = True) -> dict[str, float]:
    stages = speaker_stages()
    scorer = Scorer(resamples=0)
    for gold, doc, tagged, ruled in rows:
        doc = copy.deepcopy(doc)
        if combine:
            doc.quotes = hybrid.combine(copy.deepcopy(ruled), copy.deepcopy(tagged), doc)
        for stage in stages:
            doc = stage(doc)
        scorer.add(gold, doc)
    r = scorer.result()
    return {
        "quote_p": r["quote"]["precision"], "quote_r": r["quote"]["recall"],
        "quote_f1": r["quote"]["f1"], "cue_f1": r["cue"]["f1"],
        "speaker_accuracy": r["speaker_accuracy"]["accuracy"], "joint_f1": r["joint"]["f1"],
    }  # fmt: skip


def precision_by_origin(rows: list) -> dict[str, dict[str, float]]:
    counts: Counter = Counter()
    for gold, doc, tagged, ruled in rows:
        index = TokenIndex(gold.token_spans)
        messages = [g.message for g in gold.gold]
        for q in hybrid.combine(copy.deepcopy(ruled), copy.deepcopy(tagged), doc):
            covered = index.covered(q.start, q.end)
            ok = bool(covered) and any(len(covered & m) * 2 >= len(covered) for m in messages)
            if "rules_only" in q.evidence:
                origin = "rules_only:" + "+".join(sorted(set(q.evidence) - {"rules_only"}))
            elif "split_remainder" in q.evidence:
                origin = "split_remainder"
            elif "tagger_agrees" in q.evidence or "splits_tagger_span" in q.evidence:
                origin = "rule_span"
            else:
                origin = "tagger"
            counts[origin, ok] += 1
    origins = sorted({o for o, _ in counts})
    return {
        o: {"n": counts[o, True] + counts[o, False],
            "precision": round(counts[o, True] / (counts[o, True] + counts[o, False]), 3)}
        for o in origins
    }  # fmt: skip


VARIANTS = {
    "shipped": {},
    "no split remainders": {"REMAINDER_MIN_WORDS": 0},
    "rule-only additions as before (+ Konjunktiv I, quotation marks with a cue)": {
        "ADDED_RULE_EVIDENCE": OLD_ADDED
    },
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "hybrid_policy.json")
    args = parser.parse_args(argv)
    data = detector_output()
    results: dict = {"tagger alone": {name: score(data[name], False) for name in SETS}}
    for label, settings in VARIANTS.items():
        with policy(**settings):
            results[label] = {name: score(data[name]) for name in SETS}
    for label, per_set in results.items():
        for name, m in per_set.items():
            line = "  ".join(f"{k} {v:.3f}" for k, v in m.items())
            print(f"{label[:40]:40s} {name:20s} {line}")
    origin = {name: precision_by_origin(data[name]) for name in SETS}
    print(json.dumps(origin, indent=1))
    rounded = {k: {n: {m: round(v, 4) for m, v in d.items()} for n, d in s.items()}
               for k, s in results.items()}  # fmt: skip
    args.out.write_text(
        json.dumps({"variants": rounded, "precision_by_origin": origin}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
