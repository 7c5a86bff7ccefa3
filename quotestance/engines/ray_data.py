"""``quotestance annotate --engine ray``: the single-machine pipeline on a Ray cluster.

Ray Data runs it: the driver lists the documents (file names; the texts of JSONL/Parquet
sources) and cuts them into chunks of ``batch_size`` by input position, one chunk per block;
``map_batches`` hands each chunk to an actor of a fixed pool, which built the pipeline once
(``PipelineFactory``, as the worker processes of ``--workers`` do) and runs
``annotate_batch`` on it, so a document is annotated with the same batch neighbours as on one
machine and its record is the same. The actors write ``OUT/documents/`` (one row per document,
with the interface JSON record); ``OUT/quotes/`` (the rows of ``--format parquet``) is derived
from it afterwards, so a resumed run rebuilds it whole.

A document that cannot be read or breaks the pipeline is an error row. A worker killed while
annotating a chunk is restarted and the chunk retried (``RETRIES`` times); a chunk that still
fails, or whose rows are otherwise missing, gets error rows, so the job ends with a row for
every document and ``--resume`` tries the failures again.
"""

from __future__ import annotations

import glob
import json
import logging
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
from quotestance.formats import (
    DEFAULT_MAX_BYTES,
    InputError,
    error_record,
    expand_inputs,
    quote_rows,
    quote_schema,
)

RETRIES = 3  # retries of a chunk whose actor died (max_task_retries); actors always restart
TABLE_SUFFIXES = (".jsonl", ".ndjson", ".parquet")
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
    text_column: str = "text"
    name_column: str | None = None
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


def list_documents(
    inputs: Iterable[str], text_column: str = "text", name_column: str | None = None
) -> Iterator[Entry]:
    """Every document of the inputs, in order: files and directories as ``annotate`` takes
    them, globs (sorted matches), and JSONL/Parquet files with one document per row."""
    for arg in inputs:
        if arg == "-":
            yield Entry("-", error="-: standard input is not read by --engine ray")
            continue
        if not Path(arg).exists() and glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                yield Entry(arg, error=f"{arg}: no file matches")
            for match in matches:
                yield from list_documents([match], text_column, name_column)
            continue
        if Path(arg).suffix.lower() in TABLE_SUFFIXES and Path(arg).is_file():
            yield from _table_rows(Path(arg), text_column, name_column)
            continue
        for item in expand_inputs([arg]):
            if isinstance(item, InputError):
                yield Entry(arg, error=str(item))
            else:
                yield Entry(item.name, path=str(item.path))


def _row_name(row: dict, path: Path, number: int, name_column: str | None) -> str:
    """``--name-column``, else an ``id`` or ``name`` field, else ``PATH#N`` (row N from 1)."""
    for column in (name_column,) if name_column else ("id", "name"):
        value = row.get(column)
        if value is not None and str(value) != "":
            return str(value)
    return f"{path}#{number}"


def _row_entry(row: Any, path: Path, number: int, text_column: str, name_column: str | None):
    if not isinstance(row, dict):
        return Entry(f"{path}#{number}", error=f"{path}#{number}: not a JSON object")
    name = _row_name(row, path, number, name_column)
    if name_column and row.get(name_column) is None:
        return Entry(name, error=f"{name}: no value in the name column {name_column!r}")
    text = row.get(text_column)
    if not isinstance(text, str):
        return Entry(name, error=f"{name}: no text in column {text_column!r}")
    return Entry(name, text=text)


def _table_rows(path: Path, text_column: str, name_column: str | None) -> Iterator[Entry]:
    """The rows of a JSONL or Parquet file, streamed (the driver holds one chunk group)."""
    if path.suffix.lower() == ".parquet":
        try:
            source = pq.ParquetFile(path)
            names = set(source.schema_arrow.names)
            for column in (text_column, name_column):
                if column and column not in names:
                    raise InputError(f"{path}: no column {column!r} (columns: {sorted(names)})")
            columns = [c for c in (text_column, name_column, "id", "name") if c in names]
            number = 0
            for batch in source.iter_batches(columns=list(dict.fromkeys(columns))):
                for row in batch.to_pylist():
                    number += 1
                    yield _row_entry(row, path, number, text_column, name_column)
        except (OSError, pa.ArrowException) as err:
            yield Entry(str(path), error=f"{path}: cannot read as Parquet ({err})")
        except InputError as err:
            yield Entry(str(path), error=str(err))
        return
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as err:
                    yield Entry(f"{path}#{number}", error=f"{path}#{number}: not JSON ({err})")
                    continue
                yield _row_entry(row, path, number, text_column, name_column)
    except (OSError, UnicodeDecodeError) as err:
        yield Entry(str(path), error=f"{path}: cannot read ({err})")


def chunk_rows(entries: Iterable[Entry], size: int) -> Iterator[dict]:
    """Chunks of ``size`` entries by input position, as dataset rows. The payload is JSON so
    that every block has the same two-column schema whatever its entries hold."""
    chunk: list[list] = []
    for position, entry in enumerate(entries):
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


class ChunkAnnotator:
    """The per-actor callable: builds the pipeline once, then annotates chunk after chunk."""

    def __init__(self, factory: Callable[[], Any], max_bytes: int, threads: int) -> None:
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
        self.pipeline = factory()
        self.max_bytes = max_bytes

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = []
        for payload in batch.column("payload").to_pylist():
            rows.extend(annotate_chunk(self.pipeline, payload, self.max_bytes))
        return pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA)


def quotes_of(batch: pa.Table) -> pa.Table:
    """Documents-table rows to ``--format parquet`` rows (one per quote, one per error)."""
    rows = [row for record in batch.column("record").to_pylist()
            for row in quote_rows(json.loads(record))]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=quote_schema())


# ---------------------------------------------------------------- OUT/ (driver)


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def previous_documents(folder: Path) -> set[str]:
    """Documents a former run annotated. Error rows are removed from ``folder`` (the rerun
    tries those documents again), as ``finished_names`` does for JSON Lines."""
    done: set[str] = set()
    for file in _parquet_files(folder):
        table = pq.read_table(file)
        ok = table.filter(pc.is_null(table.column("error")))
        if ok.num_rows < table.num_rows:
            if ok.num_rows:
                partial = file.with_suffix(".parquet.tmp")
                pq.write_table(ok, partial)
                partial.replace(file)
            else:
                file.unlink()
        done.update(ok.column("file").to_pylist())
    return done


def _written(folder: Path, names: set[str]) -> dict[str, str | None]:
    """This run's documents in OUT/documents: name -> error (None for success)."""
    found: dict[str, str | None] = {}
    for file in _parquet_files(folder):
        for row in pq.read_table(file, columns=["file", "error"]).to_pylist():
            if row["file"] in names:
                found[row["file"]] = row["error"]
    return found


def _write_quotes(documents: Path, quotes: Path) -> int:
    """Rebuild OUT/quotes from all of OUT/documents; returns its number of rows."""
    if quotes.exists():
        for file in _parquet_files(quotes):
            file.unlink()
    quotes.mkdir(parents=True, exist_ok=True)
    if not _parquet_files(documents):
        pq.write_table(quote_schema().empty_table(), quotes / "empty.parquet")
        return 0
    rows = ray.data.read_parquet(str(documents)).select_columns(["record"])
    rows.map_batches(quotes_of, batch_format="pyarrow").write_parquet(str(quotes))
    if not _parquet_files(quotes):  # no document had a quote or an error
        pq.write_table(quote_schema().empty_table(), quotes / "empty.parquet")
    return sum(pq.ParquetFile(f).metadata.num_rows for f in _parquet_files(quotes))


# ---------------------------------------------------------------- the run


class ClusterError(Exception):
    """The cluster named by ``--address`` cannot be reached; one line for the user."""


def check_reachable(address: str, seconds: float = 5.0) -> None:
    """Fail fast on an address nobody listens on: Ray itself retries for minutes, printing
    warnings. ``auto`` is left to Ray (it fails at once when no local cluster runs)."""
    import socket

    if address == "auto":
        return
    client = address.startswith("ray://")
    host_port = address.removeprefix("ray://")
    host, _, port = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
    try:
        number = int(port) if port else (10001 if client else 6379)
    except ValueError:
        raise ClusterError(f"--address {address}: not HOST:PORT, ray://HOST:PORT or auto") from None
    try:
        with socket.create_connection((host, number), timeout=seconds):
            pass
    except OSError as err:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {err}") from None


def _start_ray(address: str | None) -> bool:
    """Join ``address`` or start a local instance; True when this call started Ray."""
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        check_reachable(address)
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ClusterError(f"cannot join the Ray cluster at {address}: {first}") from None
    else:
        ray.init(include_dashboard=False, ignore_reinit_error=True, **quiet)
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


def run(inputs: list[str], factory: Callable[[], Any], options: RayOptions) -> RunResult:
    """Annotate ``inputs`` into ``options.output``; see the module docstring."""
    out = Path(options.output)
    documents, quotes = out / "documents", out / "quotes"
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --engine ray writes a directory (OUT/), not a file")
    if _parquet_files(documents) and not options.resume:
        raise UsageError(f"{documents} holds an earlier run: add --resume, or remove it")
    result = RunResult()
    done = previous_documents(documents) if options.resume else set()
    entries = []
    for entry in list_documents(inputs, options.text_column, options.name_column):
        if entry.name in done:
            result.skipped += 1
        else:
            entries.append(entry)
    started = _start_ray(options.address)
    try:
        _quiet_data(options.progress)
        if options.actors:
            result.actors = options.actors
        else:
            cpus = ray.cluster_resources().get("CPU", 1)
            result.actors = max(1, int(cpus // options.cpus_per_actor))
        if entries:
            _annotate(entries, factory, options, documents, result)
        result.quotes = _write_quotes(documents, quotes)
    finally:
        if started:
            ray.shutdown()
    return result


def _annotate(
    entries: list[Entry],
    factory: Callable[[], Any],
    options: RayOptions,
    documents: Path,
    result: RunResult,
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
            },
            num_cpus=options.cpus_per_actor,
            max_restarts=-1,
            max_task_retries=RETRIES,
        )
    annotated.write_parquet(str(documents))
    names = {entry.name for entry in entries}
    written = _written(documents, names)
    lost = [(k, e.name) for k, e in enumerate(entries) if e.name not in written]
    if lost:
        message = "its worker died or its rows were not written; rerun with --resume"
        records = [document_row(Outcome(name, error=message), position) for position, name in lost]
        pq.write_table(
            pa.Table.from_pylist(records, schema=DOCUMENT_SCHEMA),
            documents / f"lost-{uuid.uuid4().hex[:12]}.parquet",
        )
        written.update({name: f"{name}: {message}" for _, name in lost})
    result.documents = len(entries)
    result.errors = [written[e.name] for e in entries if written[e.name]]
