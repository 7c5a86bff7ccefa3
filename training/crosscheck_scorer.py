"""Cross-check our Scorer against the independent reference scorer (shared/tools/spkatt_score.py).

Both score the output of the same command (``CMD annotate --format jsonl DIR``) on the same
SpkAtt articles: the reference through its own run, ours by running the command once more on
the same rebuilt texts and scoring with ``quotestance.evaluation.metrics.Scorer``. The figures
are printed side by side; exit status 1 when any differs by more than 0.0005.

usage: python training/crosscheck_scorer.py [--set spkatt-news-dev] [--cmd "quotestance"]
                                            [--scorer PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from quotestance.corpora.base import AnnotatedDocument
from quotestance.corpora.split import corpus_path, shared_data_dir
from quotestance.document import Document, Mention, Quote, Span
from quotestance.evaluation.evaluate import EVAL_SETS, iter_eval_set
from quotestance.evaluation.metrics import Scorer

TOLERANCE = 0.0005
SPKATT_SETS = [name for name, spec in EVAL_SETS.items() if spec.corpus.startswith("spkatt")]


def default_cmd() -> str:
    local = Path(".venv/bin/quotestance")
    return str(local) if local.exists() else (shutil.which("quotestance") or "quotestance")


def document_from_jsonl(obj: dict[str, Any], text: str) -> Document:
    """The fields the metrics read (span, kind, cue, speaker, stance) of one JSONL line."""
    quotes = []
    for q in obj.get("quotes", []):
        cue, speaker = q.get("cue"), q.get("speaker")
        quotes.append(
            Quote(
                q["start"],
                q["end"],
                q.get("text", ""),
                q.get("kind", ""),
                cue=Span(cue["start"], cue["end"], cue.get("text", "")) if cue else None,
                speaker=Mention(speaker["start"], speaker["end"], speaker.get("text", ""))
                if speaker
                else None,
                stance=q.get("stance"),
            )
        )
    return Document(text=text, name=obj.get("file", ""), quotes=quotes)


def annotate_with_command(cmd: list[str], docs: list[AnnotatedDocument]) -> list[Document]:
    """Write the rebuilt texts as d0000.txt ... (as the reference does) and parse the JSONL."""
    with tempfile.TemporaryDirectory(prefix="qs-crosscheck-") as tmp:
        for i, doc in enumerate(docs):
            (Path(tmp) / f"d{i:04d}.txt").write_text(doc.text, encoding="utf-8")
        proc = subprocess.run(
            [*cmd, "annotate", "--format", "jsonl", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        sys.exit(f"annotate failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    by_file = {}
    for line in proc.stdout.splitlines():
        if line.strip():
            obj = json.loads(line)
            by_file[Path(obj["file"]).name] = obj
    return [
        document_from_jsonl(by_file.get(f"d{i:04d}.txt", {}), doc.text)
        for i, doc in enumerate(docs)
    ]


def run_reference(scorer: Path, corpus_dir: Path, names: list[str], cmd: str) -> dict[str, Any]:
    """Copy the articles' JSON into a temporary folder and run the reference scorer on it."""
    with tempfile.TemporaryDirectory(prefix="qs-crosscheck-ref-") as tmp:
        articles = Path(tmp) / "articles"
        articles.mkdir()
        for name in names:
            shutil.copy(corpus_dir / f"{name}.json", articles / f"{name}.json")
        out = Path(tmp) / "reference.json"
        proc = subprocess.run(
            [sys.executable, str(scorer), str(articles), "--cmd", cmd, "--json", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not out.exists():
            sys.exit(f"reference scorer failed: {proc.stderr.strip()[-300:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def side_by_side(ours: dict[str, Any], ref: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(figure, ours, reference) for every figure both scorers report."""
    rows: list[tuple[str, float, float]] = [
        ("documents", ours["documents"], ref["docs"]),
        ("gold quotes", ours["gold_quotes"], ref["gold_quotes"]),
        ("predicted quotes", ours["predicted_quotes"], ref["pred_quotes"]),
    ]
    for figure in ("quote", "message_token", "cue", "joint"):
        for i, part in enumerate(("precision", "recall", "f1")):
            rows.append((f"{figure} {part}", ours[figure][part], ref[figure][i]))
    rows.append(("speaker accuracy", ours["speaker_accuracy"]["accuracy"], ref["speaker_accuracy"]))
    for form, recall in ref["recall_by_form"].items():
        ours_form = ours["recall_by_form"].get(form, {}).get("recall", 0.0)
        rows.append((f"recall {form}", round(ours_form, 3), recall))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SPKATT_SETS, default="spkatt-news-dev")
    parser.add_argument("--cmd", default=None, help="the quotestance command (default: .venv)")
    parser.add_argument(
        "--scorer", type=Path, default=shared_data_dir().parent / "tools" / "spkatt_score.py"
    )
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    cmd = args.cmd or default_cmd()

    docs = list(iter_eval_set(args.set, args.limit))
    scorer = Scorer()
    for gold, pred in zip(docs, annotate_with_command(shlex.split(cmd), docs), strict=True):
        scorer.add(gold, pred)
    ours = scorer.result()
    corpus_dir = corpus_path(EVAL_SETS[args.set].corpus)
    ref = run_reference(args.scorer, corpus_dir, [d.name for d in docs], cmd)

    rows = side_by_side(ours, ref)
    print(f"{args.set}, command: {cmd}")
    print(f"{'figure':28} {'Scorer':>9} {'spkatt_score':>13}  agree")
    worst = 0.0
    for figure, mine, theirs in rows:
        diff = abs(mine - theirs)
        worst = max(worst, diff)
        print(f"{figure:28} {mine:9.4f} {theirs:13.4f}  {'yes' if diff <= TOLERANCE else 'NO'}")
    print(f"largest difference: {worst:.5f}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
