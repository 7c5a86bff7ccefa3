"""``quotestance annotate --engine ray``: the single-machine pipeline on a Ray cluster.

In order: the options are checked (``ray_args``) and the headers of CSV/Parquet inputs
(``tables.column_problem``), the cluster is joined or a local instance started (on 127.0.0.1
only, ``start_local``), and only then is OUT/ read and written.

Ray Data runs the job: the driver lists the documents (file names; the texts of table sources,
read by ``quotestance.tables`` as on one machine: a row that is no document is an error entry)
and cuts them into chunks of ``batch_size`` by input position, one chunk per block;
``map_batches`` hands each chunk to an actor of a fixed pool, which built the pipeline once
(``PipelineFactory``, as the worker processes of ``--workers`` do) and runs ``annotate_batch``
on it, so a document is annotated with the same batch neighbours as on one machine and its
record is the same. The
actor writes the chunk to one file of ``OUT/documents/`` named by the run and the chunk's
first position (one row per document, with the interface JSON record), atomically; a chunk
retried by Ray writes the same file again, so no document is written twice. ``OUT/quotes/``
(the rows of ``--format parquet``) is derived from it afterwards, whole, so a resumed run
rebuilds it.

A document that cannot be read or breaks the pipeline is an error row. A worker killed while
annotating a chunk is restarted and the chunk retried (``RETRIES`` times); a chunk that still
fails, or whose rows are otherwise missing, gets error rows, so the job ends with a row for
every document and ``--resume`` tries the failures again.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import ray
import ray.data

from quotestance.batch import BATCH_DOCUMENTS, Item, Outcome, annotate_batch
from quotestance.engines.ray_args import is_loopback, option_problem, parse_address
from quotestance.formats import (
    DEFAULT_MAX_BYTES,
    InputError,
    error_record,
    expand_inputs,
    quote_rows,
    quote_schema,
)
from quotestance.output import replaced_atomically
from quotestance.tables import DEFAULT_TEXT_COLUMN, column_problem, is_table, read_table

RETRIES = 3  # retries of a chunk whose actor died (max_task_retries); actors always restart
LOOPBACK = "127.0.0.1"
QUOTE_FILES_PER_TASK = 64
DOCUMENT_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("position", pa.int64()),  # input position: sort by it to get the input order back
        ("error", pa.string()),
        ("n_quotes", pa.int64()),
        ("warnings", pa.string()),  # newline-separated
        ("record", pa.string()),  # the interface.md JSON record, as --format jsonl writes it
    ]
)


class UsageError(Exception):
    """A problem with the command line or OUT; one line for the user."""


@dataclass
class Entry:
    """One document to annotate: read from ``path`` by the worker, or ``text`` from a table
    source, or already failed with ``error``."""

    name: str
    path: str | None = None
    text: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RayOptions:
    output: str
    address: str | None = None  # None: start a local Ray instance
    actors: int | None = None  # None: cluster CPUs // cpus_per_actor
    cpus_per_actor: float = 1.0
    batch_size: int = BATCH_DOCUMENTS
    max_bytes: int = DEFAULT_MAX_BYTES
    text_column: str = DEFAULT_TEXT_COLUMN
    id_column: str | None = None  # None: an id column, else name, else FILE#N
    name_column: str | None = None  # the former name of id_column, still accepted

    def __post_init__(self) -> None:
        if self.id_column is None and self.name_column is not None:
            object.__setattr__(self, "id_column", self.name_column)

    resume: bool = False
    progress: bool = False


@dataclass
class RunResult:
    documents: int = 0  # annotated in this run, errors included
    skipped: int = 0  # already in OUT (--resume)
    errors: list[str] = field(default_factory=list)  # one line per failed document
    quotes: int = 0  # rows of OUT/quotes, the whole dataset
    actors: int = 0


# ---------------------------------------------------------------- inputs (driver)


def _expand(inputs: Iterable[str]) -> Iterator[str]:
    """The inputs with each glob (one that names no file as it is) replaced by its sorted
    matches; a glob without matches stays, to be reported."""
    for arg in inputs:
        if arg != "-" and not Path(arg).exists() and glob.has_magic(arg):
            yield from sorted(glob.glob(arg, recursive=True)) or [arg]
        else:
            yield arg


def table_problem(inputs: Iterable[str], text_column: str, id_column: str | None) -> str | None:
    """A CSV/Parquet input that lacks a column it needs (``tables.column_problem``), found
    before Ray starts; one line."""
    for arg in _expand(inputs):
        if is_table(arg) and Path(arg).is_file():
            try:
                problem = column_problem(arg, text_column, id_column)
            except ImportError as err:
                problem = f"{arg}: cannot read Parquet ({err})"
            if problem:
                return problem
    return None


def list_documents(
    inputs: Iterable[str],
    text_column: str = DEFAULT_TEXT_COLUMN,
    id_column: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Entry]:
    """Every document of the inputs, in order: files and directories as ``annotate`` takes
    them, globs (sorted matches), and JSONL/CSV/Parquet files with one document per row, read
    by ``quotestance.tables`` as on one machine (a row that is no document, or whose text is
    over ``max_bytes``, is an error entry)."""
    for arg in _expand(inputs):
        if arg == "-":
            yield Entry("-", error="-: standard input is not read by --engine ray")
            continue
        if not Path(arg).exists() and glob.has_magic(arg):
            yield Entry(arg, error=f"{arg}: no file matches")
            continue
        if is_table(arg) and Path(arg).is_file():
            for row in read_table(arg, text_column, id_column, max_bytes):
                yield Entry(row.name, text=row.text, error=row.error)
            continue
        for item in expand_inputs([arg]):
            if isinstance(item, InputError):
                yield Entry(arg, error=str(item))
            else:
                yield Entry(item.name, path=str(item.path))


def chunk_rows(entries: Iterable[tuple[int, Entry]], size: int) -> Iterator[dict]:
    """Chunks of ``size`` entries (``(input position, entry)``), as dataset rows. The payload
    is JSON so that every block has the same two-column schema whatever its entries hold."""
    chunk: list[list] = []
    for position, entry in entries:
        chunk.append([position, entry.name, entry.path, entry.text, entry.error])
        if len(chunk) >= size:
            yield {"chunk": chunk[0][0], "payload": json.dumps(chunk, ensure_ascii=False)}
            chunk = []
    if chunk:
        yield {"chunk": chunk[0][0], "payload": json.dumps(chunk, ensure_ascii=False)}


# ---------------------------------------------------------------- workers


def document_row(outcome: Outcome, position: int) -> dict:
    """The documents-table row of one outcome; the record is what ``--format jsonl`` writes."""
    if outcome.doc is not None:
        try:
            record = outcome.doc.to_dict()
        except Exception as err:  # a bug in one document must not lose its chunk
            outcome.error = f"internal error: {type(err).__name__}: {err}"
    if outcome.doc is None or outcome.error:
        message = outcome.error or "failed"
        if not message.startswith(outcome.name + ":"):
            message = f"{outcome.name}: {message}"
        record = error_record(outcome.name, message)
    return {
        "file": outcome.name,
        "position": position,
        "error": record.get("error"),
        "n_quotes": len(record["quotes"]),
        "warnings": "\n".join(outcome.warnings) or None,
        "record": json.dumps(record, ensure_ascii=False),
    }


def annotate_chunk(pipeline: Any, payload: str, max_bytes: int) -> list[dict]:
    """The document rows of one chunk, in its order; entries that failed on the driver stay
    errors, the rest go through ``annotate_batch`` together."""
    entries = json.loads(payload)
    items: list[Item] = []
    for _, name, path, text, error in entries:
        if error is None:
            data = text.encode("utf-8") if text is not None else None
            items.append((name, Path(path) if path is not None else None, data))
    try:
        outcomes = iter(annotate_batch(pipeline, items, max_bytes))
    except Exception as err:  # annotate_batch keeps failures per document; this is a last guard
        failed = f"internal error: {type(err).__name__}: {err}"
        outcomes = iter([Outcome(name, error=failed) for name, _, _ in items])
    rows = []
    for position, name, _, _, error in entries:
        outcome = Outcome(name, error=error) if error is not None else next(outcomes)
        rows.append(document_row(outcome, position))
    return rows


def chunk_file(run_id: str, first: int) -> str:
    """The one file of a chunk (named by its run and its first input position): a retried
    chunk writes the same file again, never a second one."""
    return f"part-{run_id}-{first:012d}.parquet"


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` as a whole or not at all (readers skip the hidden
    temporary file, whose name starts with a dot)."""
    with replaced_atomically(path) as temp:
        pq.write_table(table, temp)


class ChunkAnnotator:
    """The per-actor callable: builds the pipeline once, then annotates chunk after chunk and
    writes each to its own file of OUT/documents (``chunk_file``); returns the positions."""

    def __init__(
        self, factory: Callable[[], Any], max_bytes: int, threads: int, folder: str, run_id: str
    ) -> None:
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
        self.pipeline = factory()
        self.max_bytes = max_bytes
        self.folder = Path(folder)
        self.run_id = run_id

    def __call__(self, batch: pa.Table) -> pa.Table:
        positions = []
        for first, payload in zip(
            batch.column("chunk").to_pylist(), batch.column("payload").to_pylist(), strict=True
        ):
            rows = annotate_chunk(self.pipeline, payload, self.max_bytes)
            table = pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA)
            write_atomic(table, self.folder / chunk_file(self.run_id, first))
            positions.extend(row["position"] for row in rows)
        return pa.table({"position": pa.array(positions, pa.int64())})


def write_quote_files(pairs: list[tuple[str, str]]) -> int:
    """``--format parquet`` rows (one per quote, one per error) of each documents file
    ``source`` into ``target`` (none for a file without rows); returns the number of rows."""
    total = 0
    for source, target in pairs:
        records = pq.read_table(source, columns=["record"]).column("record").to_pylist()
        rows = [row for record in records for row in quote_rows(json.loads(record))]
        if rows:
            write_atomic(pa.Table.from_pylist(rows, schema=quote_schema()), Path(target))
        total += len(rows)
    return total


# ---------------------------------------------------------------- OUT/ (driver)


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def _remove_leftovers(out: Path) -> None:
    """Temporary files and folders of an interrupted run (hidden: readers never saw them)."""
    for path in (*out.glob(".quotes-*"), *(out / "documents").glob(".*.tmp")):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def previous_documents(folder: Path) -> set[str]:
    """Documents a former run annotated. Error rows are removed from ``folder`` (the rerun
    tries those documents again), as ``annotate --resume`` does for JSON Lines; a file is
    rewritten whole or not at all (``write_atomic``)."""
    done: set[str] = set()
    for file in _parquet_files(folder):
        table = pq.read_table(file)
        ok = table.filter(pc.is_null(table.column("error")))
        if ok.num_rows < table.num_rows:
            if ok.num_rows:
                write_atomic(ok, file)
            else:
                file.unlink()
        done.update(ok.column("file").to_pylist())
    return done


def _written(folder: Path, run_id: str) -> dict[int, str | None]:
    """This run's documents in OUT/documents: input position -> error (None for success);
    a position is counted once whatever happened."""
    found: dict[int, str | None] = {}
    for file in sorted(folder.glob(f"part-{run_id}-*.parquet")):
        for row in pq.read_table(file, columns=["position", "error"]).to_pylist():
            found.setdefault(row["position"], row["error"])
    return found


def _write_quotes(documents: Path, quotes: Path, run_id: str) -> int:
    """Rebuild OUT/quotes from all of OUT/documents (a file for each documents file, by Ray
    tasks that may be retried: each writes its files whole, under fixed names) in a hidden
    folder, then put it in place of the old one; returns its number of rows."""
    staging = quotes.with_name(f".quotes-{run_id}")
    staging.mkdir(parents=True)
    pairs = [(str(f.absolute()), str((staging / f.name).absolute()))
             for f in _parquet_files(documents)]  # fmt: skip
    size = QUOTE_FILES_PER_TASK
    groups = [pairs[k : k + size] for k in range(0, len(pairs), size)]
    task = ray.remote(max_retries=RETRIES)(write_quote_files)
    try:
        total = sum(ray.get([task.remote(group) for group in groups]))
    except Exception as err:
        shutil.rmtree(staging, ignore_errors=True)
        first = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise ClusterError(f"cannot write {quotes}: {first}; rerun with --resume") from None
    if not _parquet_files(staging):  # no document had a quote or an error
        write_atomic(quote_schema().empty_table(), staging / "empty.parquet")
    old = quotes.with_name(f".quotes-old-{run_id}")
    if quotes.exists():
        quotes.rename(old)
    staging.rename(quotes)
    shutil.rmtree(old, ignore_errors=True)
    return total


# ---------------------------------------------------------------- the run


class ClusterError(Exception):
    """The cluster named by ``--address`` cannot be reached; one line for the user."""


def check_reachable(address: str, seconds: float = 5.0) -> None:
    """Fail fast on an address nobody listens on: Ray itself retries for minutes, printing
    warnings. ``auto`` is left to Ray (it fails at once when no local cluster runs)."""
    import socket

    try:
        parsed = parse_address(address)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if parsed is None:
        return
    host, port, _ = parsed
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=seconds):
            pass
    except OSError as err:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {err}") from None


@contextlib.contextmanager
def loopback_node() -> Iterator[None]:
    """While Ray starts or joins a node on this machine: keep its address 127.0.0.1.

    Ray 2.60 on Linux replaces a node address of 127.0.0.1 or localhost (``_node_ip_address``,
    ``ray start --node-ip-address``, the host of ``--address``) by the machine's network
    address (``services.resolve_ip_for_localhost``), and its servers then listen on every
    interface. It keeps 127.0.0.1 in its single-machine mode (the default on Windows and
    macOS, ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``), and with that node address its servers
    listen on loopback only. The mode is switched on in this process only, while ``ray.init``
    runs; the processes it starts get the node address as an argument."""
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def start_local(**kwargs: Any) -> None:
    """A new local Ray instance on 127.0.0.1 only (never one found on the machine, nor
    ``RAY_ADDRESS``), without the dashboard; stopped again if Ray put it elsewhere."""
    with loopback_node():
        ray.init(address="local", _node_ip_address=LOOPBACK, include_dashboard=False, **kwargs)
    addresses = {node["NodeManagerAddress"] for node in ray.nodes()}
    if addresses != {LOOPBACK}:
        ray.shutdown()
        raise ClusterError(f"the local Ray instance is not on {LOOPBACK} but {addresses}")


def _start_ray(address: str | None) -> bool:
    """Join ``address`` or start a local instance; True when this call started Ray."""
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address is None:
        start_local(**quiet)
        return True
    check_reachable(address)
    try:
        with loopback_node() if is_loopback(address) else contextlib.nullcontext():
            ray.init(address=address, **quiet)
    except Exception as err:  # ConnectionError, RuntimeError, AuthenticationError, ...
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ClusterError(f"cannot join the Ray cluster at {address}: {first}") from None
    return True


def _quiet_data(progress: bool) -> None:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = progress
    context.enable_operator_progress_bars = progress
    context.print_on_execution_start = progress
    # a chunk that fails after its retries is filled in with error rows afterwards; the
    # job goes on (RunResult.errors names its documents)
    context.max_errored_blocks = -1
    logging.getLogger("ray.data").setLevel(logging.INFO if progress else logging.ERROR)


def _check_options(options: RayOptions) -> None:
    problem = option_problem(
        address=options.address,
        actors=options.actors,
        cpus_per_actor=options.cpus_per_actor,
        batch_size=options.batch_size,
    )
    if problem is None and (isinstance(options.max_bytes, bool) or options.max_bytes < 1):
        problem = f"the input limit must be at least one byte, not {options.max_bytes!r}"
    if problem:
        raise UsageError(problem)


def _check_fits(options: RayOptions) -> None:
    """An actor larger than every node would wait for ever."""
    nodes = [node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]]
    if nodes and options.cpus_per_actor > max(nodes):
        raise UsageError(
            f"--cpus-per-actor {options.cpus_per_actor:g}: no node of the cluster has that "
            f"many CPUs (the largest has {max(nodes):g})"
        )


def run(inputs: list[str], factory: Callable[[], Any], options: RayOptions) -> RunResult:
    """Annotate ``inputs`` into ``options.output``; see the module docstring. In order: the
    options are checked, the cluster joined (or a local instance started), and only then is
    OUT/ written to."""
    _check_options(options)
    problem = table_problem(inputs, options.text_column, options.id_column)
    if problem:
        raise UsageError(problem)
    out = Path(options.output)
    documents, quotes = out / "documents", out / "quotes"
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --engine ray writes a directory (OUT/), not a file")
    if _parquet_files(documents) and not options.resume:
        raise UsageError(f"{documents} holds an earlier run: add --resume, or remove it")
    result = RunResult()
    started = _start_ray(options.address)
    try:
        _check_fits(options)
        _quiet_data(options.progress)
        run_id = uuid.uuid4().hex[:12]
        try:
            _remove_leftovers(out)
            done = previous_documents(documents) if options.resume else set()
            documents.mkdir(parents=True, exist_ok=True)
        except (OSError, pa.ArrowException) as err:
            raise UsageError(f"{documents}: cannot read or write it ({err})") from None
        entries = []
        listed = list_documents(inputs, options.text_column, options.id_column, options.max_bytes)
        for position, entry in enumerate(listed):
            if entry.name in done:
                result.skipped += 1
            else:
                entries.append((position, entry))
        if options.actors:
            result.actors = options.actors
        else:
            cpus = ray.cluster_resources().get("CPU", 1)
            result.actors = max(1, int(cpus // options.cpus_per_actor))
        if entries:
            _annotate(entries, factory, options, documents, result, run_id)
        result.quotes = _write_quotes(documents, quotes, run_id)
    finally:
        if started:
            ray.shutdown()
    return result


def _annotate(
    entries: list[tuple[int, Entry]],
    factory: Callable[[], Any],
    options: RayOptions,
    documents: Path,
    result: RunResult,
    run_id: str,
) -> None:
    rows = list(chunk_rows(entries, options.batch_size))
    result.actors = min(result.actors, len(rows))  # no idle actors loading models
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows))  # a chunk per block
    threads = max(1, int(options.cpus_per_actor))
    with warnings.catch_warnings():  # max_restarts/max_task_retries: no named parameter yet
        warnings.simplefilter("ignore")
        annotated = dataset.map_batches(
            ChunkAnnotator,
            batch_size=1,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=result.actors),
            fn_constructor_kwargs={
                "factory": factory,
                "max_bytes": options.max_bytes,
                "threads": threads,
                "folder": str(documents.absolute()),
                "run_id": run_id,
            },
            num_cpus=options.cpus_per_actor,
            max_restarts=-1,
            max_task_retries=RETRIES,
        )
    for _ in annotated.iter_batches(batch_size=None, batch_format="pyarrow"):
        pass  # the actors write OUT/documents; what they wrote is read back below
    written = _written(documents, run_id)
    lost = [(position, entry.name) for position, entry in entries if position not in written]
    if lost:
        message = "its worker died or its rows were not written; rerun with --resume"
        records = [document_row(Outcome(name, error=message), position) for position, name in lost]
        table = pa.Table.from_pylist(records, schema=DOCUMENT_SCHEMA)
        write_atomic(table, documents / f"part-{run_id}-lost.parquet")
        written.update({record["position"]: record["error"] for record in records})
    result.documents = len(entries)
    result.errors = [written[position] for position, _ in entries if written[position]]
