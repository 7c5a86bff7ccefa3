"""Annotating a corpus: documents in input order, in batches, on one or more processes.

Each worker process builds the pipeline once and annotates whole batches; workers read their
files themselves, so the parent holds only names and the memory stays flat in the number of
files. Results come back in input order whatever the number of workers, and batches are
fixed by input position, so the output is the same for any ``--workers``. A file that cannot
be read or that breaks the pipeline becomes an error outcome; the batch goes on.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quotestance.document import Document
from quotestance.formats import InputError, Source, decode, over_limit, read_source

BATCH_DOCUMENTS = 16  # documents the tagger batches together


@dataclass
class Outcome:
    """One input's result: its document, or the one-line reason it failed."""

    name: str
    doc: Document | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


# an item of a batch: (name, path or None, the bytes of standard input or None)
Item = tuple[str, Path | None, bytes | None]


def annotate_batch(pipeline: Any, items: list[Item], max_bytes: int) -> list[Outcome]:
    """Read, decode and annotate one batch; a failure touches only its own document."""
    outcomes: list[Outcome] = []
    docs: list[tuple[int, Document]] = []
    for name, path, data in items:
        outcome = Outcome(name)
        text = None
        try:
            if data is None:
                text, outcome.warnings = read_source(Source(name, path), max_bytes)
            elif len(data) > max_bytes:
                raise over_limit(name, max_bytes)
            else:
                text, outcome.warnings = decode(data, name)
        except InputError as err:
            outcome.error = str(err)
        if outcome.error is None:
            docs.append((len(outcomes), Document(text=text or "", name=name)))
        outcomes.append(outcome)
    try:
        done = list(pipeline.pipe([doc for _, doc in docs], batch_size=len(docs) or 1))
    except Exception:  # one document broke the batch: redo them one by one, from fresh
        done = []  # documents, since the failed pass may have added layers to them already
        for k, doc in docs:
            try:
                done.append(pipeline(Document(text=doc.text, name=doc.name)))
            except Exception as err:  # report it, keep the others
                done.append(None)
                outcomes[k].error = f"internal error: {type(err).__name__}: {err}"
    for (k, _), doc in zip(docs, done, strict=True):
        if doc is not None:
            outcomes[k].doc = doc
    return outcomes


def batches(sources: Iterable[Source], size: int) -> Iterator[list[Item]]:
    """Fixed-size batches of items; files are read in the workers, standard input was read
    before (``Source.data``)."""
    batch: list[Item] = []
    for source in sources:
        batch.append((source.name, source.path, source.data))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_WORKER: dict[str, Any] = {}


def _start_worker(factory: Callable[[], Any], threads: int) -> None:
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    _WORKER["pipeline"] = factory()


def _run_in_worker(job: tuple[list[Item], int]) -> list[Outcome]:
    items, max_bytes = job
    return annotate_batch(_WORKER["pipeline"], items, max_bytes)


def annotate_stream(
    sources: Iterable[Source],
    factory: Callable[[], Any],
    workers: int = 1,
    max_bytes: int = 20 * 1024 * 1024,
    batch_size: int = BATCH_DOCUMENTS,
) -> Iterator[Outcome]:
    """Outcomes in input order. ``factory`` builds the pipeline (once per process; it must be
    picklable for ``workers > 1``)."""
    if workers <= 1:
        pipeline = factory()
        for batch in batches(sources, batch_size):
            yield from annotate_batch(pipeline, batch, max_bytes)
        return
    import os

    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch state
    with context.Pool(workers, initializer=_start_worker, initargs=(factory, threads)) as pool:
        jobs = ((batch, max_bytes) for batch in batches(sources, batch_size))
        for outcomes in pool.imap(_run_in_worker, jobs):
            yield from outcomes


@dataclass(frozen=True)
class PipelineFactory:
    """A picklable recipe for ``Pipeline.default`` (what each worker builds)."""

    detector: str = "auto"
    actors: str | None = None
    stance: bool = True

    def __call__(self) -> Any:
        from quotestance.pipeline import Pipeline

        return Pipeline.default(detector=self.detector, actors=self.actors, stance=self.stance)
