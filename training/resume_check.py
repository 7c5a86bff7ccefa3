"""A corpus run as a user lives it: the 700 SpkAtt-news articles plus one broken file, on a
terminal (progress bar), killed half-way, then finished with ``--resume``.

Checks that the progress bar shows rate and ETA, that the killed run kept every finished
record, that the rerun skips them, and that the end result has each article exactly once and
one error record for the broken file. The terminal is a pseudo-terminal, so the CLI behaves
as it would for a person.

    .venv/bin/python training/resume_check.py [--articles N] [--kill-after 300] [--no-stance]

Writes ``reports/resume-check.json``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from benchmark_corpus import CLI, write_corpus  # a sibling script

from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path

REPO = Path(__file__).resolve().parents[1]
BROKEN = "0350_broken.txt"  # sorts into the middle of the 700 articles
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(cmd: list[str], out: Path, kill_after: int | None) -> tuple[int, str, float]:
    """Run ``cmd`` with standard error on a pseudo-terminal; kill it (SIGKILL: no chance to
    tidy up) once ``out`` holds ``kill_after`` lines. Returns exit code, terminal text, s."""
    leader, follower = pty.openpty()
    # a terminal 120 columns wide (a fresh pseudo-terminal says 0, and the bar would be empty)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=follower, close_fds=True)  # fmt: skip
    os.close(follower)
    chunks: list[bytes] = []
    closed = False  # the terminal reads EOF/EIO once the process and its children are gone
    while not closed:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:
                data = b""
            chunks.append(data)
            closed = not data
        if kill_after is not None and out.exists():
            with out.open("rb") as handle:
                if sum(1 for _ in handle) >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    kill_after = None
        if not ready and proc.poll() is not None:
            break
    os.close(leader)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", errors="replace"))
    return proc.wait(), text, time.perf_counter() - started


def last_bar(terminal: str) -> str:
    """The last progress bar state written (tqdm redraws with carriage returns)."""
    states = [s.strip() for s in re.split(r"[\r\n]", terminal) if "doc/s" in s or "it/s" in s]
    return states[-1] if states else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=700)
    parser.add_argument("--kill-after", type=int, default=300, help="records before the kill")
    parser.add_argument("--no-stance", action="store_true", help="rules only (fast check)")
    args = parser.parse_args(argv)
    texts = [d.text for d in iter_spkatt(corpus_path("spkatt-news"))][: args.articles]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_corpus(texts, Path(tmp) / "in")
        (folder / BROKEN).write_bytes(b"\x00\x01PK\x03\x04" + bytes(range(256)) * 8)
        out = Path(tmp) / "out.jsonl"
        cmd = [*CLI, "annotate", str(folder), "--format", "jsonl", "-o", str(out)]
        if args.no_stance:
            cmd += ["--detector", "rules", "--no-stance"]
        partial = out.with_name(f".{out.name}.partial")  # where a run streams until it ends
        rc1, term1, s1 = run_on_terminal(cmd, partial, args.kill_after)
        kept_after_kill = sum(1 for _ in partial.open("rb"))
        rc2, term2, s2 = run_on_terminal([*cmd, "--resume"], out, None)
        records = [json.loads(line) for line in out.open(encoding="utf-8")]
    names = [r["file"] for r in records]
    errors = [r for r in records if r.get("error")]
    expected = len(texts) + 1
    report = {
        "articles": len(texts),
        "broken_file": BROKEN,
        "first_run": {"exit": rc1, "seconds": round(s1, 1), "records_kept": kept_after_kill,
                      "last_progress": last_bar(term1)},
        "resume_run": {"exit": rc2, "seconds": round(s2, 1), "last_progress": last_bar(term2),
                       "message": next((ln for ln in term2.splitlines() if "resume:" in ln), "")},
        "records": len(records),
        "unique_files": len(set(names)),
        "error_records": [{"file": r["file"], "error": r["error"]} for r in errors],
        "ok": len(records) == expected == len(set(names))
        and [r["file"] for r in errors] == [str(folder / BROKEN)]
        and rc2 == 1,
    }  # fmt: skip
    path = REPO / "reports" / "resume-check.json"
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
