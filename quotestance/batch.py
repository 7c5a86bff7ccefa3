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
            doc.encoding = None  # the encoder's states (~0.75 KB a word) stay in the worker
            outcomes[k].doc = doc
    return outcomes


def batches(
    sources: Iterable[Source | InputError], size: int
) -> Iterator[list[Source | InputError]]:
    """Fixed-size batches of the inputs in order (an input that failed already counts too);
    files are read in the workers, standard input was read before (``Source.data``), table
    rows carry their text (``Source.data``)."""
    batch: list[Source | InputError] = []
    for source in sources:
        batch.append(source)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _items(batch: list[Source | InputError]) -> list[Item]:
    return [(s.name, s.path, s.data) for s in batch if isinstance(s, Source)]


def _merge(batch: list[Source | InputError], outcomes: list[Outcome]) -> Iterator[Outcome]:
    """The batch's outcomes in input order: the annotated ones and those that failed before."""
    done = iter(outcomes)
    for entry in batch:
        yield next(done) if isinstance(entry, Source) else Outcome(entry.name, error=str(entry))


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


AHEAD = 2  # batches read ahead per worker process (they may hold table rows' texts)


def annotate_stream(
    sources: Iterable[Source | InputError],
    factory: Callable[[], Any],
    workers: int = 1,
    max_bytes: int = 20 * 1024 * 1024,
    batch_size: int = BATCH_DOCUMENTS,
) -> Iterator[Outcome]:
    """Outcomes in input order, one per input (an ``InputError`` becomes an error outcome in
    its place). ``factory`` builds the pipeline (once per process; it must be picklable for
    ``workers > 1``). ``sources`` is read lazily: with workers, at most ``AHEAD`` batches
    per worker are read ahead of the outcomes taken."""
    if workers <= 1:
        pipeline = None  # built for the first document: inputs that all failed load nothing
        for batch in batches(sources, batch_size):
            items = _items(batch)
            if items and pipeline is None:
                pipeline = factory()
            yield from _merge(batch, annotate_batch(pipeline, items, max_bytes) if items else [])
        return
    import collections
    import os
    import threading

    threads = max(1, (os.cpu_count() or 1) // workers)
    sent: collections.deque[list[Source | InputError]] = collections.deque()
    room = threading.Semaphore(AHEAD * workers)
    stop = threading.Event()

    def jobs() -> Iterator[tuple[list[Item], int]]:
        # runs in the pool's task thread, which would read the whole input at once
        for batch in batches(sources, batch_size):
            while not room.acquire(timeout=0.1):
                if stop.is_set():
                    return
            sent.append(batch)
            yield _items(batch), max_bytes

    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch state
    with context.Pool(workers, initializer=_start_worker, initargs=(factory, threads)) as pool:
        try:
            for outcomes in pool.imap(_run_in_worker, jobs()):
                batch = sent.popleft()
                room.release()
                yield from _merge(batch, outcomes)
        finally:
            stop.set()  # the task thread must not wait for room while the pool stops


@dataclass(frozen=True)
class PipelineFactory:
    """A picklable recipe for ``Pipeline.default`` (what each worker builds)."""

    detector: str = "auto"
    actors: str | None = None
    stance: bool = True
    min_stance_score: float = 0.0

    def __call__(self) -> Any:
        from quotestance.pipeline import Pipeline

        return Pipeline.default(
            detector=self.detector,
            actors=self.actors,
            stance=self.stance,
            min_stance_score=self.min_stance_score,
        )
