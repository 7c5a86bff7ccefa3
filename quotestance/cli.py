"""Command line: ``quotestance annotate|classify|evaluate``. Thin: parsing, wiring, exit codes.

Exit status (documented in the README):
  0  every input was annotated
  1  at least one input could not be read (each reported on stderr, one line); the others
     were annotated and written
  2  usage error, or nothing to annotate
  3  the command needs a component that is not installed (the stance model, the ml extra)
 130 interrupted
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from quotestance import __version__
from quotestance.formats import (
    DEFAULT_MAX_BYTES,
    InputError,
    Writer,
    expand_inputs,
    read_source,
)

FORMATS = ("table", "json", "jsonl", "tsv", "html")
EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_MISSING = 0, 1, 2, 3


def _fail(message: str) -> None:
    print(f"quotestance: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quotestance",
        description="Who said what, to whom, with what stance: quotations in German news.",
    )
    parser.add_argument("--version", action="version", version=f"quotestance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    ann = sub.add_parser("annotate", help="find quotes in text files")
    ann.add_argument("inputs", nargs="+", metavar="FILE", help="file, directory, or - for stdin")
    ann.add_argument("--format", choices=FORMATS, default="table")
    ann.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    ann.add_argument(
        "--detector",
        choices=("auto", "rules", "tagger", "hybrid"),
        default="auto",
        help="quote detector (default: hybrid where the tagger is installed, else rules)",
    )
    ann.add_argument(
        "--actors",
        metavar="YAML",
        help="your actor file (names, aliases, types, affiliations) added to the built-in "
        "registry; format in data/actors/builtin.yaml and the README",
    )
    ann.add_argument(
        "--max-mb",
        type=float,
        default=DEFAULT_MAX_BYTES / 1024 / 1024,
        help="refuse inputs larger than this many MiB (default %(default)s)",
    )

    cls = sub.add_parser("classify", help="stance of quotes given as JSON Lines")
    cls.add_argument("input", nargs="?", default="-", metavar="FILE")
    cls.add_argument("--format", choices=("jsonl",), default="jsonl")

    ev = sub.add_parser("evaluate", help="score the pipeline on the annotated corpora")
    ev.add_argument("args", nargs=argparse.REMAINDER, help="passed to the evaluation")
    return parser


BATCH_DOCUMENTS = 16  # documents the tagger batches together; outputs keep input order


def annotate(args: argparse.Namespace, out: TextIO) -> int:
    from quotestance.document import Document
    from quotestance.pipeline import Pipeline
    from quotestance.speakers.actors import ActorFileError

    try:
        pipeline = Pipeline.default(detector=args.detector, actors=args.actors)
    except ActorFileError as err:
        _fail(str(err))
        return EXIT_USAGE
    except (ImportError, FileNotFoundError) as err:
        _fail(f"cannot load the {args.detector} detector: {err}")
        return EXIT_MISSING
    writer = Writer(out, args.format)
    failures = 0
    max_bytes = int(args.max_mb * 1024 * 1024)
    # documents and read errors in input order; flushed in batches, so the tagger shares
    # its forward passes across files and a bad file never holds up the others
    pending: list[Document | tuple[str, str]] = []

    def flush() -> None:
        nonlocal failures
        batch = [p for p in pending if isinstance(p, Document)]
        try:
            done: dict[int, Document | str] = {
                id(d): a for d, a in zip(batch, pipeline.pipe(batch), strict=True)
            }
        except Exception:  # one document broke the batch: redo them one by one
            done = {}
            for doc in batch:
                try:
                    done[id(doc)] = pipeline(doc)
                except Exception as err:  # report, keep going: never lose the others
                    done[id(doc)] = f"internal error: {type(err).__name__}: {err}"
        for item in pending:
            result = done.get(id(item)) if isinstance(item, Document) else None
            if isinstance(result, Document):
                writer.write(result)
            else:
                name, message = (item.name, result) if isinstance(item, Document) else item
                if isinstance(item, Document):
                    failures += 1
                    _fail(f"{name}: {message}")
                writer.write_error(name, message)
        pending.clear()

    try:
        for item in expand_inputs(args.inputs):
            if isinstance(item, InputError):
                failures += 1
                _fail(str(item))
                continue
            try:
                text, warnings = read_source(item, max_bytes)
            except InputError as err:
                failures += 1
                _fail(str(err))
                pending.append((item.name, str(err)))
                continue
            for warning in warnings:
                _fail(f"warning: {warning}")
            pending.append(Document(text=text, name=item.name))
            if sum(isinstance(p, Document) for p in pending) >= BATCH_DOCUMENTS:
                flush()
        flush()
    finally:
        writer.close()
    return EXIT_INPUT if failures else EXIT_OK


CLASSIFY_BATCH = 256  # records classified together; output order is input order


def classify(args: argparse.Namespace, out: TextIO) -> int:
    """JSON Lines in, the same objects out with ``stance`` and ``stance_scores``; a line that
    is not a JSON object with a string ``text`` is reported (line number) and written back
    with an ``error`` field, and the others are still classified."""
    import json

    from quotestance.pipeline import stance_available

    if not stance_available():
        _fail("no stance model installed (data/stance_model/) or the ml extra is missing")
        return EXIT_MISSING
    from quotestance.stance.classifier import StanceClassifier

    if args.input == "-":
        source = sys.stdin
    else:
        try:
            source = open(args.input, encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            _fail(f"{args.input}: cannot read ({err.strerror})")
            return EXIT_INPUT
    classifier = StanceClassifier.load()
    failures = 0
    pending: list[tuple[int, dict | None, str]] = []

    def flush() -> None:
        good = [record for _, record, _ in pending if record is not None]
        results = iter(classifier.classify_records(good))
        for _, record, error in pending:
            if record is None:
                out.write(json.dumps({"error": error}, ensure_ascii=False) + "\n")
                continue
            label, scores = next(results)
            out.write(json.dumps({**record, "stance": label, "stance_scores": scores},
                                 ensure_ascii=False) + "\n")  # fmt: skip
        pending.clear()

    with source:
        try:
            for number, line in enumerate(source, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                        raise ValueError("expected a JSON object with a string 'text'")
                    pending.append((number, record, ""))
                except ValueError as err:
                    failures += 1
                    message = f"line {number}: {str(err).splitlines()[0]}"
                    _fail(f"{args.input}: {message}")
                    pending.append((number, None, message))
                if len(pending) >= CLASSIFY_BATCH:
                    flush()
        except UnicodeDecodeError:
            failures += 1
            _fail(f"{args.input}: not UTF-8 text")
        flush()
    return EXIT_INPUT if failures else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "annotate":
            if args.output:
                try:
                    handle = open(Path(args.output), "w", encoding="utf-8")  # noqa: SIM115
                except OSError as err:
                    _fail(f"{args.output}: cannot write ({err.strerror})")
                    return EXIT_USAGE
                with handle:
                    return annotate(args, handle)
            return annotate(args, sys.stdout)
        if args.command == "classify":
            return classify(args, sys.stdout)
        if args.command == "evaluate":
            from quotestance.evaluation.evaluate import main as evaluate_main

            return evaluate_main(args.args)
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
