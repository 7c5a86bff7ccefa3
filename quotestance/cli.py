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
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from quotestance.batch import BATCH_DOCUMENTS
from quotestance.formats import (
    DEFAULT_MAX_BYTES,
    STDIN,
    InputError,
    Source,
    Writer,
    check_size,
    expand_inputs,
    read_stdin,
)

FORMATS = ("table", "json", "jsonl", "tsv", "html", "csv", "parquet")
EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_MISSING = 0, 1, 2, 3


def _fail(message: str) -> None:
    print(f"quotestance: {message}", file=sys.stderr)


class _VersionAction(argparse.Action):
    """``--version``: the package and the shipped models (short sha256 digests), hashed only
    when asked for."""

    def __init__(
        self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None
    ):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from quotestance.resources import version_string

        print(version_string())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from quotestance.evaluation import evaluate as evaluation

    parser = argparse.ArgumentParser(
        prog="quotestance",
        description="Who said what, to whom, with what stance: quotations in German news.",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the version of the package and of each shipped model (sha256) and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ann = sub.add_parser("annotate", help="find quotes in text files")
    ann.add_argument("inputs", nargs="+", metavar="FILE", help="file, directory, or - for stdin")
    ann.add_argument(
        "--format", choices=FORMATS, help="default: table; parquet (a dataset) with --engine ray"
    )
    ann.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    ann.add_argument(
        "--detector",
        choices=("auto", "rules", "tagger", "hybrid"),
        default="auto",
        help="quote detector (default: hybrid where the tagger is installed, else rules)",
    )
    ann.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, each loading the models once (default 1)",
    )
    ann.add_argument(
        "--resume",
        action="store_true",
        help="skip files already in the -o JSON Lines output and append the rest",
    )
    ann.add_argument("--no-progress", action="store_true", help="no progress bar")
    ann.add_argument(
        "--no-stance",
        action="store_true",
        help="skip the stance model (quotes, speakers and actors only; much faster)",
    )
    ann.add_argument(
        "--min-stance-score",
        type=float,
        default=0.0,
        metavar="P",
        help="label a quote none when its stance label's calibrated score is under P "
        "(0-1; the scores are kept; docs/stance-labels.md has precision/recall per P)",
    )
    ann.add_argument(
        "--actors",
        metavar="YAML",
        help="your actor file (names, aliases, types, affiliations) added to the built-in "
        "registry; format in quotestance/resources/actors/builtin.yaml and the README",
    )
    ann.add_argument(
        "--max-mb",
        type=float,
        default=DEFAULT_MAX_BYTES / 1024 / 1024,
        help="refuse inputs larger than this many MiB (default %(default)s)",
    )
    ann.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_DOCUMENTS,
        help="documents annotated together, fixed by input position (default %(default)s)",
    )
    ray_opts = ann.add_argument_group(
        "distributed",
        "--engine ray: Ray Data over a cluster; writes OUT/quotes/ and "
        "OUT/documents/ (Parquet). Needs the ray extra: pip install 'quotestance[ray]'",
    )
    ray_opts.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this machine (--workers); ray: a Ray cluster (default local)",
    )
    ray_opts.add_argument(
        "--address",
        help="join this Ray cluster (auto, HOST:PORT or ray://HOST:10001); "
        "default: start a local Ray instance",
    )
    ray_opts.add_argument(
        "--ray-actors",
        type=int,
        metavar="N",
        help="annotating actors, each loading the models once (default: cluster CPUs / "
        "--cpus-per-actor); not --actors, which is the actor-registry file",
    )
    ray_opts.add_argument(
        "--cpus-per-actor", type=float, metavar="C", help="CPUs each actor reserves (default 1)"
    )
    table_opts = ann.add_argument_group(
        "tables",
        "a .jsonl, .ndjson, .csv or .parquet FILE holds one document per row (both engines)",
    )
    table_opts.add_argument(
        "--text-column", metavar="COLUMN", help="the column of the text (default: text)"
    )
    table_opts.add_argument(
        "--id-column",
        "--name-column",
        dest="id_column",
        metavar="COLUMN",
        help="the column of the document's id, written as its file (default: id, else name, "
        "else FILE#ROW with ROW from 1); ids must be unique within a table. --name-column is "
        "the former name of this option",
    )

    cls = sub.add_parser(
        "classify", help="stance of quotes given as JSON Lines (a record at most 1 MiB a line)"
    )
    cls.add_argument("input", nargs="?", default="-", metavar="FILE")
    cls.add_argument("--format", choices=("jsonl",), default="jsonl")

    net = sub.add_parser("network", help="speaker -> target stance network of an annotate output")
    net.add_argument("source", metavar="OUTPUT.jsonl", help="written by annotate --format jsonl")
    net.add_argument("-o", "--output", metavar="PREFIX", help="default: beside the input")
    net.add_argument("--min-count", type=int, default=1, metavar="N",
                     help="keep edges seen at least N times (default 1)")  # fmt: skip
    net.add_argument("--actor-types", default="person,organisation,country", metavar="TYPES",
                     help="comma-separated node types to keep, of person, organisation, "
                     "country, other (default: person,organisation,country)")  # fmt: skip

    ev = sub.add_parser(
        "evaluate",
        help="score the pipeline on the annotated corpora",
        description=evaluation.DESCRIPTION,
    )
    evaluation.add_arguments(ev)
    return parser


def _actor_file_problem(args: argparse.Namespace) -> str | None:
    """A broken --actors file, found before any worker starts."""
    from quotestance.speakers.actors import ActorFileError, read_actor_file

    if args.actors:
        try:
            read_actor_file(args.actors)
        except ActorFileError as err:
            return str(err)
    return None


def _output_problem(args: argparse.Namespace, output: Path) -> str | None:
    """An ``-o`` that names one of the inputs would destroy it."""
    from quotestance.output import same_file

    for arg in args.inputs:
        if arg != STDIN and Path(arg).is_file() and same_file(Path(arg), output):
            return f"{args.output}: is one of the inputs; choose another -o"
    return None


@dataclass
class _Table:
    """A table input (``quotestance.tables``): its rows are read as the run goes."""

    name: str
    path: Path


def _collect_inputs(
    args: argparse.Namespace, exclude: list[Path], max_bytes: int
) -> list[Source | InputError | _Table]:
    """Every input in order, checked as far as can be without annotating: listed, typed,
    sized; standard input read (at most the limit + 1 byte); a table's header checked for
    its columns (``TableColumnError``). Nothing loads a model; no table row is read."""
    from quotestance.tables import column_problem, is_table

    entries: list[Source | InputError | _Table] = []
    for item in expand_inputs(args.inputs, exclude):
        if isinstance(item, Source) and item.path is not None and is_table(item.path):
            problem = column_problem(item.path, args.text_column or "text", args.id_column)
            if problem:
                raise _TableColumnError(problem)
            entries.append(_Table(item.name, item.path))
            continue
        if isinstance(item, Source):
            try:
                if item.path is None:
                    item.data = read_stdin(max_bytes)
                check_size(item, max_bytes)
            except InputError as err:
                item = err
        entries.append(item)
    return entries


class _TableColumnError(Exception):
    """A CSV/Parquet input without the text or id column: a usage error (exit 2)."""


def _documents(
    entries: list[Source | InputError | _Table],
    args: argparse.Namespace,
    max_bytes: int,
    finished: set[str],
    skipped: list[int],
) -> Iterator[Source | InputError]:
    """The documents of the inputs, in order, tables read row by row as they are needed;
    documents named in ``finished`` (--resume) are left out and counted in ``skipped[0]``."""
    from quotestance.tables import read_table

    for entry in entries:
        if isinstance(entry, _Table):
            rows = read_table(entry.path, args.text_column or "text", args.id_column, max_bytes,
                              label=entry.name)  # fmt: skip
            for row in rows:
                if row.error is not None:
                    yield InputError(row.error, row.name)
                elif row.name in finished:
                    skipped[0] += 1
                else:
                    yield Source(row.name, None, (row.text or "").encode("utf-8"))
        elif isinstance(entry, Source) and entry.name in finished:
            skipped[0] += 1
        else:
            yield entry


def annotate(args: argparse.Namespace) -> int:
    """Annotate every input in order and write as it goes (see ``quotestance.batch``).

    Everything that can be checked is checked before the output is opened: the arguments,
    the actors file, the inputs and the -o file; then the models load; then the output is
    written to a temporary file that replaces -o at the end (``quotestance.output``)."""
    from quotestance.batch import PipelineFactory, annotate_stream
    from quotestance.output import OutputError, OutputFile

    max_bytes = int(args.max_mb * 1024 * 1024)
    output = Path(args.output) if args.output else None
    target = OutputFile(output, resume=args.resume, fmt=args.format) if output else None
    if target is not None:
        problem = _output_problem(args, output)
        if problem:
            _fail(problem)
            return EXIT_USAGE
        try:
            target.check()
        except OutputError as err:
            _fail(str(err))
            return EXIT_USAGE
    problem = _actor_file_problem(args)
    if problem:
        _fail(problem)
        return EXIT_USAGE
    try:
        entries = _collect_inputs(args, [output] if output else [], max_bytes)
    except _TableColumnError as err:
        _fail(str(err))
        return EXIT_USAGE
    except ImportError as err:
        _fail(f"reading Parquet needs pyarrow (the ml extra): {err}")
        return EXIT_MISSING
    finished = target.finished if target is not None else set()
    skipped = [0]
    # the number of documents is known up front unless a table's rows are to be counted
    known = not any(isinstance(entry, _Table) for entry in entries)
    total = sum(not (isinstance(e, Source) and e.name in finished) for e in entries)
    if finished and known:
        _fail(f"resume: {len(entries) - total} file(s) already in {args.output}, "
              f"{total} to go")  # fmt: skip
    work = any(isinstance(entry, Source | _Table) for entry in entries)
    factory = PipelineFactory(args.detector, args.actors, not args.no_stance, args.min_stance_score)
    if work and args.workers > 1 and args.detector in ("tagger", "hybrid"):
        from quotestance.pipeline import tagger_available

        if not tagger_available():
            _fail(f"cannot load the {args.detector} detector: no tagger weights or ml extra")
            return EXIT_MISSING
    if work and args.workers <= 1:
        try:  # load once here, so a missing model is one clear line before any output
            factory = _Loaded(factory())
        except (ImportError, FileNotFoundError) as err:
            _fail(f"cannot load the {args.detector} detector: {err}")
            return EXIT_MISSING
    try:
        out = target.open() if target is not None else sys.stdout
        writer = Writer(out, args.format)
    except OutputError as err:
        _fail(str(err))
        return EXIT_USAGE
    failures = 0
    progress = _progress(total if known else None, args)
    outcomes = annotate_stream(
        _documents(entries, args, max_bytes, finished, skipped),
        factory,
        workers=args.workers if work else 1,  # no worker processes for inputs that all failed
        max_bytes=max_bytes,
        batch_size=args.batch_size,
    )
    try:
        for outcome in outcomes:
            for warning in outcome.warnings:
                _fail(f"warning: {warning}")
            if outcome.doc is not None:
                writer.write(outcome.doc)
            else:
                failures += 1
                message = outcome.error or "failed"
                named = message.startswith(outcome.name + ":")
                _fail(message if named else f"{outcome.name}: {message}")
                writer.write_error(outcome.name, message)
            progress.update(1)
        writer.close()
        if target is not None:
            target.commit()
        if skipped[0] and not known:
            _fail(f"resume: {skipped[0]} document(s) already in {args.output} were skipped")
    except KeyboardInterrupt:
        progress.close()
        kept = target is not None and target.abort(interrupted=True)
        if kept:
            _fail(
                f"interrupted: {target.partial} holds the documents done so far; --resume "
                f"continues them ({args.output} is untouched until the run ends)"
            )
        elif target is not None and not args.resume:
            _fail(f"interrupted: {args.output} was not written")
        raise
    except (OutputError, OSError) as err:
        if target is not None:
            target.abort()
        if isinstance(err, BrokenPipeError):
            raise
        where = args.output or "standard output"
        reason = str(err) if isinstance(err, OutputError) else err.strerror or str(err)
        _fail(reason if isinstance(err, OutputError) else f"{where}: cannot write ({reason})")
        return EXIT_USAGE
    finally:
        progress.close()
        outcomes.close()
    return EXIT_INPUT if failures else EXIT_OK


def annotate_ray(args: argparse.Namespace) -> int:
    """``--engine ray``: the same pipeline on a Ray cluster (``quotestance.engines.ray_data``)."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        _fail("ray is not installed: pip install 'quotestance[ray]'")
        return EXIT_MISSING
    from quotestance.batch import PipelineFactory
    from quotestance.engines import ray_data

    problem = _actor_file_problem(args)
    if problem:
        _fail(problem)
        return EXIT_USAGE
    if args.detector in ("tagger", "hybrid"):
        from quotestance.pipeline import tagger_available

        if not tagger_available():
            _fail(f"cannot load the {args.detector} detector: no tagger weights or ml extra")
            return EXIT_MISSING
    options = ray_data.RayOptions(
        output=args.output,
        address=args.address,
        actors=args.ray_actors,
        cpus_per_actor=args.cpus_per_actor or 1.0,
        batch_size=args.batch_size,
        max_bytes=int(args.max_mb * 1024 * 1024),
        text_column=args.text_column or "text",
        id_column=args.id_column,
        resume=args.resume,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    factory = PipelineFactory(args.detector, args.actors, not args.no_stance, args.min_stance_score)
    try:
        result = ray_data.run(args.inputs, factory, options)
    except ray_data.UsageError as err:
        _fail(str(err))
        return EXIT_USAGE
    except ray_data.ClusterError as err:
        _fail(str(err))
        return EXIT_MISSING
    for message in result.errors:
        _fail(message)
    if args.resume and result.skipped:
        _fail(f"resume: {result.skipped} document(s) already in {args.output}")
    _fail(
        f"ray: {result.documents} document(s) on {result.actors} actor(s), "
        f"{len(result.errors)} error(s); {result.quotes} quote row(s) in {args.output}/quotes"
    )
    return EXIT_INPUT if result.errors else EXIT_OK


class _Loaded:
    """A factory that hands out a pipeline already built (the single-process path)."""

    def __init__(self, pipeline: object) -> None:
        self.pipeline = pipeline

    def __call__(self) -> object:
        return self.pipeline


class _NoProgress:
    def update(self, _n: int) -> None: ...

    def close(self) -> None: ...


def _progress(total: int | None, args: argparse.Namespace):
    """A progress bar (rate, ETA) on standard error when it is a terminal, else nothing."""
    if args.no_progress or not sys.stderr.isatty():
        return _NoProgress()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    import shutil

    # a terminal that reports no width (a bare pseudo-terminal) would get an empty bar
    sized = shutil.get_terminal_size((0, 0)).columns > 0
    return tqdm(
        total=total, unit="doc", file=sys.stderr, dynamic_ncols=sized, ncols=None if sized else 100
    )


CLASSIFY_BATCH = 256  # records classified together; output order is input order


def classify(args: argparse.Namespace, out: TextIO) -> int:
    """JSON Lines in, the same objects out with ``stance`` and ``stance_scores``, in input
    order. A line that is no usable record (longer than 1 MiB, not UTF-8, not JSON, nested too
    deeply, not an object with a string ``text``, a lone surrogate or an out-of-range number)
    or that the classifier fails on is reported on stderr (line number) and written in its place
    as ``{"error": "line N: ..."}``; the others are still classified. Exit 1 if any failed."""
    import io

    from quotestance.pipeline import stance_available

    if not stance_available():
        _fail(
            "no stance model installed (quotestance/resources/stance_model/) "
            "or the ml extra is missing"
        )
        return EXIT_MISSING
    from quotestance.formats import read_lines
    from quotestance.stance.classifier import StanceClassifier
    from quotestance.stance.records import (
        MAX_LINE_BYTES,
        RecordError,
        dump,
        error_line,
        parse_record,
    )

    if args.input == "-":
        source = getattr(sys.stdin, "buffer", None) or io.BytesIO(sys.stdin.read().encode())
    else:
        try:
            source = open(args.input, "rb")  # noqa: SIM115
        except OSError as err:
            _fail(f"{args.input}: cannot read ({err.strerror})")
            return EXIT_INPUT
    classifier = StanceClassifier.load()
    failures = 0
    pending: list[tuple[int, dict | None, str]] = []

    def failed(number: int, reason: str) -> str:
        nonlocal failures
        failures += 1
        message = f"line {number}: {reason}"
        _fail(f"{args.input}: {message}")
        return message

    def results_of(records: list[dict]) -> list:
        """(label, scores) per record; if the batch fails, one by one, so that only the
        records the classifier fails on get the exception in their place."""
        try:
            return list(classifier.classify_records(records))
        except Exception:  # isolated below, record by record
            pass
        results: list = []
        for record in records:
            try:
                results.append(classifier.classify_records([record])[0])
            except Exception as err:  # one record's failure, reported in its place
                results.append(err)
        return results

    def flush() -> None:
        results = iter(results_of([record for _, record, _ in pending if record is not None]))
        for number, record, error in pending:
            if record is None:
                out.write(error_line(error))
                continue
            result = next(results)
            if isinstance(result, Exception):
                reason = str(result).splitlines()[0][:100] if str(result) else ""
                out.write(error_line(failed(number, f"classifier failed "
                                            f"({type(result).__name__}: {reason})")))  # fmt: skip
                continue
            label, scores = result
            try:
                out.write(dump({**record, "stance": label, "stance_scores": scores}))
            except RecordError as err:
                out.write(error_line(failed(number, str(err))))
        pending.clear()

    with source:
        for number, line in read_lines(source, MAX_LINE_BYTES):
            if isinstance(line, bytes) and not line.strip():
                continue
            try:
                pending.append((number, parse_record(line), ""))
            except RecordError as err:
                pending.append((number, None, failed(number, str(err))))
            if len(pending) >= CLASSIFY_BATCH:
                flush()
        flush()
    return EXIT_INPUT if failures else EXIT_OK


def network(args: argparse.Namespace) -> int:
    """``PREFIX.edges.csv``, ``.graphml`` and ``.png`` of an ``annotate --format jsonl`` output.
    The input is read whole before any output is opened; lines that are not annotate records
    are skipped and counted on stderr in one line."""
    source = Path(args.source)
    if not source.is_file():
        _fail(f"{args.source}: no such file")
        return EXIT_INPUT
    try:
        from quotestance.network import (
            ACTOR_TYPES,
            Skipped,
            build_edges,
            read_records,
            write_outputs,
        )
    except ImportError as err:
        _fail(f"network needs networkx and matplotlib (the viz extra): {err}")
        return EXIT_MISSING
    types = [t.strip() for t in args.actor_types.split(",") if t.strip()]
    unknown = sorted(set(types) - set(ACTOR_TYPES))
    if unknown or not types:
        _fail(f"--actor-types: unknown type(s) {', '.join(unknown) or '(none given)'}; "
              f"choose from {', '.join(ACTOR_TYPES)}")  # fmt: skip
        return EXIT_USAGE
    if args.min_count < 1:
        _fail(f"--min-count must be at least 1, not {args.min_count}")
        return EXIT_USAGE
    prefix = Path(args.output) if args.output else source.with_suffix("")
    if not prefix.parent.is_dir():
        _fail(f"{prefix}: cannot write (no directory {prefix.parent})")
        return EXIT_USAGE
    skipped = Skipped()
    try:
        edges = build_edges(read_records(source, skipped), types, args.min_count)
    except OSError as err:
        _fail(f"{args.source}: cannot read ({err.strerror or err})")
        return EXIT_INPUT
    if skipped.count:
        _fail(f"{args.source}: {skipped}")
    try:
        paths = write_outputs(edges, prefix)
    except OSError as err:
        _fail(f"{prefix}: cannot write ({err.strerror or err})")
        return EXIT_USAGE
    print(f"{len(edges)} edges -> " + ", ".join(str(p) for p in paths))
    return EXIT_OK


def _check_annotate_args(args: argparse.Namespace) -> str | None:
    if not (math.isfinite(args.max_mb) and args.max_mb > 0):
        return f"--max-mb must be a positive number of MiB, not {args.max_mb}"
    if args.workers < 1:
        return "--workers must be at least 1"
    if args.batch_size < 1:
        return "--batch-size must be at least 1"
    if not (0.0 <= args.min_stance_score <= 1.0):  # also refuses nan
        return f"--min-stance-score must be between 0 and 1, not {args.min_stance_score}"
    if args.min_stance_score and args.no_stance:
        return "--min-stance-score needs the stance model: leave out --no-stance"
    if args.engine == "ray":
        return _check_ray_args(args)
    for option, value in (("--address", args.address), ("--ray-actors", args.ray_actors),
                          ("--cpus-per-actor", args.cpus_per_actor)):  # fmt: skip
        if value is not None:
            return f"{option} is an option of --engine ray"
    args.format = args.format or "table"
    if args.format == "parquet" and not args.output:
        return "--format parquet writes a file: give -o OUT.parquet"
    if args.resume and (not args.output or args.format != "jsonl"):
        return "--resume needs -o OUT with --format jsonl (the output it continues)"
    return None


def _check_ray_args(args: argparse.Namespace) -> str | None:
    """Every option of ``--engine ray`` is checked here, before Ray starts or OUT/ is read."""
    from quotestance.engines.ray_args import option_problem

    if not args.output:
        return "--engine ray writes a Parquet dataset: give -o OUT/ (a directory)"
    if args.format not in (None, "parquet"):
        return f"--engine ray writes Parquet only (OUT/quotes/, OUT/documents/), not {args.format}"
    if args.workers != 1:
        return "--workers is for --engine local; use --ray-actors N"
    problem = option_problem(
        address=args.address,
        actors=args.ray_actors,
        cpus_per_actor=args.cpus_per_actor,
        batch_size=args.batch_size,
        max_mb=args.max_mb,
    )
    if problem:
        return problem
    args.format = "parquet"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "annotate":
            problem = _check_annotate_args(args)
            if problem:
                _fail(problem)
                return EXIT_USAGE
            if args.engine == "ray":
                return annotate_ray(args)
            return annotate(args)
        if args.command == "classify":
            return classify(args, sys.stdout)
        if args.command == "network":
            return network(args)
        if args.command == "evaluate":
            from quotestance.evaluation.evaluate import run as evaluate

            return evaluate(args)
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
