"""Speed and memory of the annotation pipeline on the SpkAtt-news articles.

Declared input: ``shared/data/spkatt-news/train/task2`` (700 articles, text rebuilt as in
metrics.md). Output: a table on stdout and ``reports/benchmark.json``.

    .venv/bin/python training/benchmark.py [--detector rules|tagger|hybrid] [--cores N]
                                           [--limit N] [--repeat R] [--out reports/]

Measures, after one warm-up article (model and lexicon loads are reported separately):
articles/s, characters/s and quotes/s for the whole pipeline, time per stage, and peak
resident memory of the process; with the tagger, the subwords each encoder reads per
article against the article's own subwords, and the pipeline's speed as a share of the bare
encoder's throughput (bf16, 16 x 256 subwords). The process is pinned to ``--cores`` cores
(default 1 for the rules, 2 for pipelines with the tagger) and torch uses that many threads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path
from quotestance.document import Document
from quotestance.pipeline import Pipeline


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(limit: int | None, repeat: int, detector: str, cores: int, batch_size: int) -> dict:
    t0 = time.perf_counter()
    pipeline = Pipeline.default(detector=detector)
    pipeline.annotate("Er sagte: „Wir fangen an.“")  # warm-up: lazy loads happen here
    load_s = time.perf_counter() - t0

    texts = [d.text for d in iter_spkatt(corpus_path("spkatt-news"))]
    if limit:
        texts = texts[:limit]
    stage_s = dict.fromkeys(pipeline.names, 0.0)
    quotes = 0
    start = time.perf_counter()
    for _ in range(repeat):
        for first in range(0, len(texts), batch_size):
            docs = [Document(text=t, name=str(first + i))
                    for i, t in enumerate(texts[first : first + batch_size])]  # fmt: skip
            for stage in pipeline.stages:
                t = time.perf_counter()
                batch = getattr(stage, "batch", None)
                docs = batch(docs) if batch is not None else [stage(doc) for doc in docs]
                stage_s[stage.name] += time.perf_counter() - t
            quotes += sum(len(doc.quotes) for doc in docs)
    total = time.perf_counter() - start
    n = len(texts) * repeat
    chars = sum(len(t) for t in texts) * repeat
    encoders = encoder_work(pipeline, texts, n, n / total)
    return {
        "articles": n,
        "seconds": round(total, 3),
        "articles_per_s": round(n / total, 1),
        "chars_per_s": round(chars / total),
        "quotes_per_s": round(quotes / total, 1),
        "quotes": quotes,
        "load_seconds": round(load_s, 2),
        "stage_ms_per_article": {k: round(v * 1000 / n, 3) for k, v in stage_s.items()},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (run on {cores})",
        "detector": detector,
        "documents_per_batch": batch_size,
        **encoders,
    }


def encoder_stages(pipeline: Pipeline) -> dict[str, object]:
    """The stages that run an encoder, by name (the tagger, also inside the hybrid)."""
    found = {}
    for stage in pipeline.stages:
        inner = getattr(stage, "tagger", stage)
        if hasattr(inner, "encoded_subwords"):
            found[inner.name] = inner
    return found


def encoder_work(pipeline: Pipeline, texts: list[str], n: int, articles_per_s: float) -> dict:
    """How much the encoders read per article against the article's own length in subwords,
    and how close the pipeline comes to the encoder's own throughput (issue 16): articles/s
    x article subwords ÷ encoder subwords/s (1.0 = nothing but one encoder pass)."""
    stages = encoder_stages(pipeline)
    if not stages:
        return {}
    import torch

    tagger = stages.get("tagger") or next(iter(stages.values()))
    tokenizer = tagger.tokenizer
    article = sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    article = article * n / len(texts)
    per_stage = {name: round(s.encoded_subwords / n, 1) for name, s in stages.items()}
    padded = {name: round(s.padded_subwords / n, 1) for name, s in stages.items()}
    encoder = tagger.model.encoder
    ids = torch.randint(1000, 2000, (16, 256))
    mask = torch.ones_like(ids)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        encoder(input_ids=ids, attention_mask=mask)  # warm-up
        t = time.perf_counter()
        for _ in range(3):
            encoder(input_ids=ids, attention_mask=mask)
        rate = 3 * ids.numel() / (time.perf_counter() - t)
    return {
        "article_subwords_per_article": round(article / n, 1),
        "encoder_subwords_per_article": per_stage,
        "encoder_padded_subwords_per_article": padded,
        "encoder_subwords_over_article": round(sum(per_stage.values()) / (article / n), 2),
        "encoder_subwords_per_s": round(rate),
        "pipeline_over_encoder_throughput": round(articles_per_s * (article / n) / rate, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N articles only")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the articles")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--detector", choices=("rules", "tagger", "hybrid"), default="rules")
    parser.add_argument("--cores", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=32, help="documents per batch")
    args = parser.parse_args(argv)
    cores = args.cores or (1 if args.detector == "rules" else 2)
    if hasattr(os, "sched_setaffinity"):
        available = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(available[:cores]))
    try:
        import torch

        torch.set_num_threads(cores)
    except ImportError:
        pass
    result = run(args.limit, args.repeat, args.detector, cores, args.batch_size)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"benchmark-{args.detector}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.detector} pipeline on {result['articles']} SpkAtt-news articles, {cores} core(s)")
    for key, value in result.items():
        print(f"  {key:22} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
