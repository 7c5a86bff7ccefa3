"""Time against document length: is every stage linear in the length of one document?

Two texts, each cut to every size of ``--sizes`` (MB of UTF-8):

- ``news``: real German news, the SpkAtt-news train articles then the 10kGNAD test articles
  (``shared/data``), one paragraph each, joined with blank lines until the size is reached;
- ``repeated``: the sentence ``Er sagte: „Das ist gut.“ `` repeated to the size.

and two configurations: ``rules`` (``--detector rules --no-stance``) and ``full`` (the default
pipeline: hybrid detector, speakers, stance). Each is one ``Document`` annotated in-process
with ``Pipeline.default(...)``; the models are loaded (and warmed up on a short text) before
the clock starts. Reported per run: seconds, seconds per MB, the ratio of the time to the
time of the previous (half) size, the number of quotes and the peak RSS of the process
(``resource.getrusage``; it only grows, so it is the peak up to that run).

    .venv/bin/python training/benchmark_scaling.py [--sizes 0.125 0.25 0.5 1 2]
        [--configs rules full] [--texts news repeated] [--full-max-mb MB]
        [--out reports/benchmark-scaling.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path, shared_data_dir
from quotestance.document import Document
from quotestance.pipeline import Pipeline

REPEATED = "Er sagte: „Das ist gut.“ "
MB = 1_000_000
CONFIGS = {
    "rules": {"detector": "rules", "stance": False},
    "full": {"detector": "auto", "stance": True},
}


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def news_articles() -> list[str]:
    """Real German news articles: SpkAtt news train, then the 10kGNAD test set."""
    articles = [doc.text for doc in iter_spkatt(corpus_path("spkatt-news"))]
    gnad = shared_data_dir() / "10kgnad" / "test.csv"
    if gnad.exists():
        csv.field_size_limit(1 << 26)
        with open(gnad, encoding="utf-8", newline="") as handle:
            articles += [row[1] for row in csv.reader(handle, delimiter=";", quotechar="'")]
    return [a.strip() for a in articles if a.strip()]


def cut(text: str, size: int) -> str:
    """``text`` cut to at most ``size`` bytes of UTF-8, at a character boundary."""
    return text.encode("utf-8")[:size].decode("utf-8", errors="ignore")


def news_text(size: int, articles: list[str]) -> str:
    """Articles joined by blank lines (as paragraphs), cycling if needed, cut to ``size``."""
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        article = articles[i % len(articles)]
        parts.append(article)
        total += len(article.encode("utf-8")) + 2
        i += 1
    return cut("\n\n".join(parts), size)


def repeated_text(size: int) -> str:
    return cut(REPEATED * (size // len(REPEATED.encode("utf-8")) + 1), size)


def time_one(pipeline: Pipeline, text: str) -> tuple[float, int]:
    start = time.perf_counter()
    doc = pipeline(Document(text=text, name="bench"))
    return time.perf_counter() - start, len(doc.quotes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.125, 0.25, 0.5, 1, 2],
                        help="document sizes in MB (10^6 bytes of UTF-8)")  # fmt: skip
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["rules", "full"])
    parser.add_argument("--texts", nargs="+", choices=["news", "repeated"],
                        default=["news", "repeated"])  # fmt: skip
    parser.add_argument("--full-max-mb", type=float, default=None,
                        help="skip sizes above this for the full pipeline (time on a slow "
                        "machine)")  # fmt: skip
    parser.add_argument("--repeated-max-mb", type=float, default=None,
                        help="the same for the full pipeline on the repeated sentence, whose "
                        "34,000 quotes per MB each get a stance")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("reports/benchmark-scaling.json"))
    args = parser.parse_args(argv)

    articles = news_articles() if "news" in args.texts else []
    runs = []
    loads = {}
    for config in args.configs:
        t0 = time.perf_counter()
        pipeline = Pipeline.default(**CONFIGS[config])
        pipeline.annotate("Er sagte: „Wir fangen an.“ Sie habe nichts gewusst, sagte sie.")
        loads[config] = round(time.perf_counter() - t0, 2)
        print(f"{config}: stages {', '.join(pipeline.names)} (loaded in {loads[config]} s)")
        for kind in args.texts:
            previous = None
            for size_mb in sorted(args.sizes):
                if config == "full" and args.full_max_mb and size_mb > args.full_max_mb:
                    continue
                cap = args.repeated_max_mb
                if config == "full" and kind == "repeated" and cap and size_mb > cap:
                    continue
                size = int(size_mb * MB)
                text = news_text(size, articles) if kind == "news" else repeated_text(size)
                seconds, quotes = time_one(pipeline, text)
                row = {
                    "config": config,
                    "text": kind,
                    "mb": size_mb,
                    "chars": len(text),
                    "seconds": round(seconds, 3),
                    "s_per_mb": round(seconds / size_mb, 3),
                    "ratio_to_half": (
                        round(seconds / previous["seconds"], 2)
                        if previous and previous["mb"] * 2 == size_mb
                        else None
                    ),
                    "quotes": quotes,
                    "peak_rss_mb": round(peak_rss_mb()),
                }
                runs.append(row)
                previous = row
                ratio = "" if row["ratio_to_half"] is None else f"x{row['ratio_to_half']:.2f}"
                write(args.out, runs, loads)  # after every run: a cut-short run keeps its rows
                print(
                    f"  {kind:9s} {size_mb:6.3f} MB  {seconds:8.2f} s  "
                    f"{row['s_per_mb']:8.2f} s/MB  {ratio:>6s}  {quotes:7d} quotes  "
                    f"peak RSS {row['peak_rss_mb']} MB",
                    flush=True,
                )
    write(args.out, runs, loads)
    print(f"wrote {args.out}")
    return 0


def write(out: Path, runs: list[dict], loads: dict) -> None:
    result = {
        "command": "python training/benchmark_scaling.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_seconds": loads,
        "load_average_1_5_15_min": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
