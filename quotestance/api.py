"""The Python API: ``qs.load()``, ``nlp(text)``, ``nlp.pipe(texts)``, ``qs.to_dataframe(docs)``.

A thin layer over ``Pipeline.default`` (the pipeline ``quotestance annotate`` runs) and the
``Document`` dataclasses (``quotestance.document``); ``docs/python-api.md`` shows it at work.
Nothing here imports torch: the models load in ``load``, and only when the options ask for
them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from quotestance.batch import BATCH_DOCUMENTS
from quotestance.document import Document
from quotestance.formats import OFFSET_COLUMNS, QUOTE_COLUMNS, SCORE_COLUMNS, quote_rows
from quotestance.pipeline import Pipeline

PANDAS_MISSING = (
    "quotestance.to_dataframe needs pandas, which is not installed: "
    "pip install 'quotestance[pandas]'"
)


class QuoteStance:
    """A loaded pipeline (what ``quotestance.load`` returns): call it on a text, or ``pipe``
    a stream of texts. ``pipeline`` is the underlying ``Pipeline``; ``options`` the arguments
    it was loaded with."""

    def __init__(
        self, pipeline: Pipeline, batch_size: int = BATCH_DOCUMENTS, **options: Any
    ) -> None:
        self.pipeline = pipeline
        self.batch_size = _check_batch_size(batch_size)
        self.options = {**options, "batch_size": self.batch_size}

    @property
    def model_version(self) -> str | None:
        """Short hashes of the weight files in use (``tagger=…;speakers=…;stance=…``); None
        when only rules run. Every document gets it as ``doc.model_version``."""
        return self.pipeline.model_version

    @property
    def stages(self) -> list[str]:
        """The names of the pipeline's stages, in order."""
        return self.pipeline.names

    def __call__(self, text: str, name: str = "") -> Document:
        """Annotate one text; ``name`` is the document's name (the ``file`` column)."""
        if not isinstance(text, str):
            raise TypeError(f"expected the text as a str, not {type(text).__name__}")
        return self.pipeline(Document(text=text, name=str(name)))

    def pipe(
        self,
        texts: Iterable[str | tuple[str, Any] | Document],
        batch_size: int | None = None,
    ) -> Iterator[Document]:
        """Annotate a stream, in order, ``batch_size`` documents at a time (default: the
        ``batch_size`` given to ``load``). A generator: it reads ``texts`` only as far as the
        current batch, so a stream of any length runs in flat memory.

        Each item is a text (its name is its position in the stream: ``"0"``, ``"1"``, …), a
        ``(text, id)`` pair (the name is ``str(id)``) or a ``Document`` not annotated yet
        (annotated in place; its name is kept). A document's result does not depend on
        ``batch_size`` or on the other documents."""
        size = _check_batch_size(self.batch_size if batch_size is None else batch_size)
        return self.pipeline.pipe(_documents(texts), batch_size=size)

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self.options.items())
        return f"<quotestance {options}; stages: {', '.join(self.stages)}>"


def load(
    detector: str = "auto",
    stance: bool = True,
    actors: str | Path | None = None,
    batch_size: int = BATCH_DOCUMENTS,
    speakers: bool = True,
    name_memory: bool = False,
) -> QuoteStance:
    """Load the pipeline once; the options are those of ``quotestance annotate``.

    ``detector``: ``auto`` (hybrid where the tagger's weights and the ml extra are installed,
    else rules), ``rules``, ``tagger`` or ``hybrid`` (``--detector``). ``stance=False`` skips
    the stance model (``--no-stance``). ``actors``: your actors file, YAML (``--actors``).
    ``batch_size``: documents per batch in ``pipe`` (``--batch-size``). ``speakers=False``
    stops after quote detection; ``name_memory=True`` lets the documents of a batch share
    full personal names (see ``Pipeline.default``).
    """
    _check_batch_size(batch_size)
    if actors is not None:
        from quotestance.speakers.actors import read_actor_file

        read_actor_file(actors)  # a broken file fails here, with its line
    pipeline = Pipeline.default(
        detector=detector,
        actors=actors,
        speakers=speakers,
        stance=stance,
        name_memory=name_memory,
    )
    return QuoteStance(
        pipeline,
        batch_size=batch_size,
        detector=detector,
        stance=stance,
        actors=None if actors is None else str(actors),
        speakers=speakers,
        name_memory=name_memory,
    )


def to_dataframe(docs: Document | dict | Iterable[Document | dict]):
    """A pandas DataFrame with one row per quote: the columns of ``--format csv|parquet``
    (``quotestance.formats.QUOTE_COLUMNS``). ``docs``: a ``Document``, or any iterable of
    them (``nlp.pipe(...)`` is consumed as it goes: only the rows are kept), or annotate's
    JSON Lines records as dicts (a failed file's record gives one row with ``error``).

    Offsets are nullable integers (``Int64``; ``<NA>`` where a quote has no such role),
    scores floats, ``evidence`` a list of strings. Needs the ``pandas`` extra."""
    try:
        import pandas as pd
    except ImportError as err:
        raise ImportError(PANDAS_MISSING) from err
    if isinstance(docs, Document | dict):
        docs = [docs]
    rows: list[dict] = []
    for doc in docs:
        if isinstance(doc, Document):
            rows.extend(quote_rows(doc.to_dict(), doc.model_version))
        elif isinstance(doc, dict):
            rows.extend(quote_rows(doc))
        else:
            raise TypeError(f"expected Documents or records, not {type(doc).__name__}")
    frame = pd.DataFrame(rows, columns=QUOTE_COLUMNS)
    return frame.astype(
        dict.fromkeys(OFFSET_COLUMNS, "Int64") | dict.fromkeys(SCORE_COLUMNS, "float64")
    )


def _documents(items: Iterable[str | tuple[str, Any] | Document]) -> Iterator[Document]:
    for position, item in enumerate(items):
        if isinstance(item, Document):
            if item.sentences or item.quotes:
                raise ValueError(
                    f"document {item.name!r} is annotated already: pass its text, or "
                    "Document(text=..., name=...)"
                )
            yield item
        elif isinstance(item, str):
            yield Document(text=item, name=str(position))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            yield Document(text=item[0], name=str(item[1]))
        else:
            raise TypeError(
                f"item {position} of the stream: expected a text, a (text, id) pair or a "
                f"Document, not {type(item).__name__}"
            )


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    return batch_size
