"""``annotate --engine ray`` against the single-machine ``--workers 2`` path: the SpkAtt-news
articles as files (as ``benchmark_corpus.py`` writes them), repeated ``--repeat`` times, through
the real command, on a local Ray instance with 1 and 2 actors.

Each run is a fresh process, loads included (Ray's start and one model load per actor are part
of the engine's cost). Reported per set-up: seconds, articles/s, and for Ray the overhead per
article against ``--workers 2`` (its extra seconds over the same articles, divided by them).

    .venv/bin/python training/benchmark_ray.py [--repeat 10] [--full-repeat 2] [--articles N]
                                               [--mode rules|full|both]

Writes ``reports/benchmark-ray.json`` (``--out``) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark_corpus import CLI, REPO, write_corpus  # a sibling script

from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path


def run(folder: Path, out: Path, mode: str, engine: str, parallel: int) -> dict:
    """One ``annotate`` run; ``parallel`` is ``--workers`` (local) or ``--ray-actors`` (ray)."""
    cmd = [*CLI, "annotate", str(folder), "--no-progress"]
    cmd += ["--detector", "rules", "--no-stance"] if mode == "rules" else ["--detector", "auto"]
    if engine == "ray":
        cmd += ["--engine", "ray", "-o", str(out), "--ray-actors", str(parallel)]
    else:
        cmd += ["--format", "jsonl", "-o", str(out), "--workers", str(parallel)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    if engine == "ray":
        import pyarrow.parquet as pq

        quotes = sum(pq.read_table(out / "documents", columns=["n_quotes"])["n_quotes"].to_pylist())
    else:
        quotes = sum(len(json.loads(line)["quotes"]) for line in out.open(encoding="utf-8"))
    return {"seconds": round(seconds, 2), "quotes": quotes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4, help="the 700 articles, N times")
    parser.add_argument("--articles", type=int, help="only the first N (a quick check)")
    parser.add_argument(
        "--mode",
        choices=("rules", "full", "both"),
        default="both",
        help="rules: --detector rules --no-stance; full: the default pipeline",
    )
    parser.add_argument(
        "--full-repeat", type=int, help="repeats for the full mode (default: --repeat)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "benchmark-ray.json")
    args = parser.parse_args(argv)
    articles = [d.text for d in iter_spkatt(corpus_path("spkatt-news"))]
    modes = ["rules", "full"] if args.mode == "both" else [args.mode]
    setups = [("local", 2), ("ray", 1), ("ray", 2)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            repeat = args.full_repeat if mode == "full" and args.full_repeat else args.repeat
            texts = articles * repeat
            texts = texts[: args.articles] if args.articles else texts
            n = len(texts)
            folder = write_corpus(texts, Path(tmp) / f"in-{mode}")
            base = None
            for k, (engine, parallel) in enumerate(setups):
                out = Path(tmp) / f"out-{mode}-{k}"  # a directory for ray
                if engine == "local":
                    out.mkdir()
                    out = out / "out.jsonl"
                r = run(folder, out, mode, engine, parallel)
                kind = "workers" if engine == "local" else "actors"
                r.update({"mode": mode, "engine": engine, kind: parallel, "articles": n,
                          "articles_per_s": round(n / r["seconds"], 2)})  # fmt: skip
                if engine == "local":
                    base = r
                else:
                    r["overhead_per_article_s"] = round((r["seconds"] - base["seconds"]) / n, 4)
                    r["same_quotes_as_local"] = r["quotes"] == base["quotes"]
                results.append(r)
                label = f"{engine} {'workers' if engine == 'local' else 'actors'}={parallel}"
                extra = (f"  overhead {r['overhead_per_article_s'] * 1000:+.1f} ms/article"
                         if engine == "ray" else "")  # fmt: skip
                print(f"{mode:5s} {label:17s} {n:5d} articles {r['seconds']:8.1f} s "
                      f"{r['articles_per_s']:7.2f} art/s {r['quotes']:6d} quotes{extra}",
                      flush=True)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
