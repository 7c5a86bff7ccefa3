"""Corpus-scale benchmark: the real ``quotestance annotate DIR -o OUT.jsonl`` command over the
SpkAtt-news articles written as files, for several set-ups.

Each run is a fresh process (models load inside the timing, reported separately by a 1-article
run); peak memory is the largest resident set of any process of the run (the CLI or one of its
workers), from ``getrusage(RUSAGE_CHILDREN)`` in a wrapper process.

    .venv/bin/python training/benchmark_corpus.py [--quick]

Writes ``reports/benchmark-corpus.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "quotestance.cli"]
WRAPPER = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "print(rc, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run(folder: Path, detector: str, workers: int, fp32: bool = False) -> dict:
    """``detector`` ``rules`` means the rules alone (no stance model either)."""
    out = folder.parent / "out.jsonl"
    cmd = [*CLI, "annotate", str(folder), "--format", "jsonl", "-o", str(out),
           "--detector", detector, "--workers", str(workers), "--no-progress"]  # fmt: skip
    if detector == "rules":
        cmd.append("--no-stance")
    env = {"QUOTESTANCE_FP32": "1"} if fp32 else {}
    import os

    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd],
        capture_output=True, text=True, env={**os.environ, **env}, check=True,
    )  # fmt: skip
    rc, seconds, peak_kib = proc.stdout.split()
    quotes = sum(len(json.loads(line)["quotes"]) for line in out.open(encoding="utf-8"))
    return {"seconds": float(seconds), "peak_rss_mb": round(int(peak_kib) / 1024), "rc": int(rc),
            "quotes": quotes}  # fmt: skip


def write_corpus(texts: list[str], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, text in enumerate(texts):
        (folder / f"{i:04d}.txt").write_text(text, encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 articles instead of 700")
    args = parser.parse_args(argv)
    texts = [d.text for d in iter_spkatt(corpus_path("spkatt-news"))]
    n = 100 if args.quick else len(texts)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folders = {size: write_corpus(texts[:size], Path(tmp) / str(size) / "in")
                   for size in sorted({1, 10, 100, n})}  # fmt: skip
        setups = [
            ("rules", "rules", 1, False, n),
            ("full pipeline bf16", "auto", 1, False, n),
            ("full pipeline bf16", "auto", 2, False, n),
            ("full pipeline fp32", "auto", 1, True, n),
        ] + [("full pipeline bf16", "auto", 1, False, size) for size in (1, 10, 100) if size < n]
        for name, detector, workers, fp32, size in setups:
            started = time.perf_counter()
            r = run(folders[size], detector, workers, fp32)
            r.update(setup=name, workers=workers, articles=size,
                     articles_per_s=round(size / r["seconds"], 2),
                     quotes_per_s=round(r["quotes"] / r["seconds"], 1))  # fmt: skip
            results.append(r)
            wall = time.perf_counter() - started
            print(f"{name:20s} workers={workers} articles={size:4d} {r['seconds']:7.1f} s "
                  f"{r['articles_per_s']:6.2f} art/s {r['quotes_per_s']:6.1f} q/s "
                  f"peak {r['peak_rss_mb']} MB  (wall {wall:.0f} s)")  # fmt: skip
    out = REPO / "reports" / "benchmark-corpus.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
