"""Run an annotate function over the gold corpora and score it (``shared/spec/metrics.md``).

Evaluation sets are named views of the corpora in ``corpora/split.py``: a reader plus a filter
on document names (the dev split for SpkAtt news, everything for the out-of-domain sets). A
plain „…“ regex runs beside the system so every report carries a measured floor.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from quotestance.corpora.base import AnnotatedDocument
from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path, is_dev
from quotestance.document import Document, Quote
from quotestance.evaluation.metrics import Scorer
from quotestance.evaluation.report import summary_lines, write_report
from quotestance.pipeline import AnnotateFn

Reader = Callable[[Path], Iterator[AnnotatedDocument]]


def _iter_redewiedergabe(directory: Path) -> Iterator[AnnotatedDocument]:
    """Imported on use, so the other sets never depend on this reader."""
    from quotestance.corpora.redewiedergabe import iter_redewiedergabe

    return iter_redewiedergabe(directory)


def _everything(name: str) -> bool:
    return True


def _not_dev(name: str) -> bool:
    return not is_dev(name)


@dataclass(frozen=True)
class EvalSet:
    """A corpus (key of ``CORPUS_DIRS``), how to read it, which documents to keep."""

    corpus: str
    read: Reader
    keep: Callable[[str], bool]
    description: str


EVAL_SETS: dict[str, EvalSet] = {
    "spkatt-news-dev": EvalSet(
        "spkatt-news",
        partial(iter_spkatt, corpus="spkatt-news"),
        is_dev,
        "SpkAtt news (Wikinews, GermEval 2023 task 2), our dev split of train (148 articles)",
    ),
    "spkatt-news-train": EvalSet(
        "spkatt-news",
        partial(iter_spkatt, corpus="spkatt-news"),
        _not_dev,
        "SpkAtt news, our train split (rules were tuned here: optimistic)",
    ),
    "spkatt-gepade": EvalSet(
        "spkatt-gepade",
        partial(iter_spkatt, corpus="spkatt-gepade"),
        _everything,
        "SpkAtt GePaDe (Bundestag speeches, GermEval 2023 task 1), all of train; parliament",
    ),
    "spkatt-gepade-dev": EvalSet(
        "spkatt-gepade",
        partial(iter_spkatt, corpus="spkatt-gepade"),
        is_dev,
        "SpkAtt GePaDe, the held-out 20 % of train (same hash rule as the news dev split); "
        "the tagger never trained on it",
    ),
    "redewiedergabe": EvalSet(
        "redewiedergabe",
        _iter_redewiedergabe,
        _everything,
        "Redewiedergabe main (1840-1919 fiction and non-fiction); gold includes thought and "
        "writing representation, so precision and speech-only recall are not comparable",
    ),
    "redewiedergabe-dev": EvalSet(
        "redewiedergabe",
        _iter_redewiedergabe,
        is_dev,
        "Redewiedergabe main, the held-out 20 % (same hash rule); the tagger never trained on "
        "it; gold includes thought and writing representation",
    ),
}
# held-out sets only: the tagger trained on the rest of each corpus
DEFAULT_SETS = ["spkatt-news-dev", "spkatt-gepade-dev", "redewiedergabe-dev"]


def iter_eval_set(name: str, limit: int | None = None) -> Iterator[AnnotatedDocument]:
    """The documents of an evaluation set, in file order, at most ``limit`` of them."""
    spec = EVAL_SETS[name]
    docs = (doc for doc in spec.read(corpus_path(spec.corpus)) if spec.keep(doc.name))
    return islice(docs, limit)


_LOW_HIGH_QUOTE = re.compile(r"„([^„“]+)“")


def regex_annotate(doc: Document) -> Document:
    """The floor: every „…“ span is a direct quote (no cue, no speaker)."""
    for match in _LOW_HIGH_QUOTE.finditer(doc.text):
        start, end = match.span(1)
        doc.quotes.append(Quote(start, end, doc.text[start:end], kind="direct"))
    doc.number_quotes()
    return doc


def evaluate(
    annotate: AnnotateFn,
    corpora: list[str],
    limit: int | None = None,
    stance_gold: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Metrics per evaluation set plus timing (seconds inside ``annotate``, characters).

    A set whose reader cannot be imported yet is reported as ``{"skipped": reason}``.
    """
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for name in corpora:
        scorer = Scorer(stance_gold=stance_gold)
        seconds = 0.0
        chars = 0
        try:
            docs = iter_eval_set(name, limit)  # the reader is called (and imported) here
        except ImportError as exc:
            results[name] = {"skipped": f"reader not available: {exc}"}
            continue
        for gold in docs:
            t0 = time.perf_counter()
            pred = annotate(gold.to_document())
            seconds += time.perf_counter() - t0
            chars += len(gold.text)
            scorer.add(gold, pred)
        result = scorer.result()
        result["description"] = EVAL_SETS[name].description
        result["timing"] = {
            "annotate_seconds": seconds,
            "characters": chars,
            "chars_per_second": chars / seconds if seconds else None,
        }
        results[name] = result
    return {"corpora": results, "seconds": time.perf_counter() - started, "limit": limit}


SYSTEMS = ("rules", "tagger", "hybrid", "regex")
# the figures of the release before this one (0.1.0: detector and tagger, commit 36af68c)
PREVIOUS_RELEASE = Path(__file__).resolve().parents[2] / "reports" / "previous-release.json"


def load_system(name: str) -> AnnotateFn:
    """``regex`` (the baseline), or the pipeline with the ``rules``, ``tagger`` or ``hybrid``
    detector (imported on use)."""
    if name == "regex":
        return regex_annotate
    from quotestance.pipeline import Pipeline

    return Pipeline.default(detector=name)


def read_stance_gold(path: Path) -> dict[str, str]:
    """A ``--stance-gold`` JSONL file (objects with ``id`` and ``stance``) as id -> label."""
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {row["id"]: row["stance"] for row in rows}


DESCRIPTION = "Score quotestance on the gold corpora; writes evaluation.md and metrics.json."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quotestance evaluate", description=DESCRIPTION)
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The evaluation's options, on its own parser or on ``quotestance evaluate``'s."""
    parser.add_argument(
        "--corpora",
        nargs="+",
        choices=list(EVAL_SETS),
        default=DEFAULT_SETS,
        metavar="SET",
        help=f"evaluation sets, of: {', '.join(EVAL_SETS)} (default: {' '.join(DEFAULT_SETS)})",
    )
    parser.add_argument("--limit", type=int, default=None, help="at most N documents per set")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder")
    parser.add_argument(
        "--system",
        nargs="+",
        choices=SYSTEMS,
        default=["rules"],
        help="one or more detectors, scored side by side",
    )
    parser.add_argument(
        "--stance-gold",
        type=Path,
        default=None,
        help="JSONL: id, stance (default: the stance test labels in data/stance/)",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        default=PREVIOUS_RELEASE,
        help="metrics.json of the previous release, shown beside this one",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="only redraw the reports from OUT/metrics.json (no scoring)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the regex baseline beside the system"
    )


def default_stance_gold() -> dict[str, str] | None:
    """The shipped stance test labels keyed for the scorer, where the data is present."""
    from quotestance.stance.data import STANCE_DATA, read_rows

    if not STANCE_DATA.is_file():
        return None
    from quotestance.evaluation.stance import dev_stance_gold

    return dev_stance_gold([row for row in read_rows() if row["stance_split"] == "test"])


def write_all(results: dict[str, Any], out: Path, previous: Path | None) -> list[Path]:
    """Markdown, metrics.json and the self-contained HTML page (with the stance and speed
    figures found in ``out``)."""
    from quotestance.evaluation.html_report import load_extras, load_previous, render_html

    markdown, metrics = write_report(results, out)
    page = out / "evaluation.html"
    html = render_html(results, load_extras(out), load_previous(previous))
    page.write_text(html, encoding="utf-8")
    return [markdown, metrics, page]


def main(argv: list[str] | None = None) -> int:
    """``python -m quotestance.evaluation.evaluate [options]``: parse, then :func:`run`."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Evaluate the chosen system (and the regex baseline), print a summary, write the report."""
    if args.render_only:
        source = args.out / "metrics.json"
        if not source.is_file():
            print(f"quotestance evaluate: no {source} to render", file=sys.stderr)
            return 2
        results = json.loads(source.read_text(encoding="utf-8"))["systems"]
        written = write_all(results, args.out, args.previous)
        print("wrote " + ", ".join(str(path) for path in written))
        return 0
    systems: dict[str, AnnotateFn] = {}
    for name in args.system:
        try:
            systems[name] = load_system(name)
        except (ImportError, FileNotFoundError) as exc:
            print(f"quotestance evaluate: cannot load system {name!r}: {exc}", file=sys.stderr)
            return 2
    if args.stance_gold:
        stance_gold = read_stance_gold(args.stance_gold)
    elif "spkatt-news-dev" in args.corpora:
        stance_gold = default_stance_gold()
    else:
        stance_gold = None
    if "regex" not in systems and not args.no_baseline:
        systems["regex"] = regex_annotate
    results = {
        name: evaluate(annotate, args.corpora, args.limit, stance_gold)
        for name, annotate in systems.items()
    }
    written = write_all(results, args.out, args.previous)
    for line in summary_lines(results):
        print(line)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
