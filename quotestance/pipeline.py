"""The pipeline: text -> segments -> morphology -> quotes (-> speakers -> stance in later stages).

Each stage is a callable ``stage(doc) -> doc`` with a ``name``; it reads earlier layers and
adds its own. Stages are built once per process (models and lexicons load once) and reused for
every document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from quotestance.document import Document


class Stage(Protocol):
    name: str

    def __call__(self, doc: Document) -> Document: ...


class Pipeline:
    """An ordered list of stages applied to each document."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)

    @classmethod
    def default(cls) -> Pipeline:
        """The rule-based pipeline: text layer, verb mood, quote detection."""
        from quotestance.detect.rules import QuoteDetector
        from quotestance.morphology import MoodAnalyser
        from quotestance.text import TextSegmenter

        return cls([TextSegmenter(), MoodAnalyser(), QuoteDetector()])

    @property
    def names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def __call__(self, doc: Document) -> Document:
        for stage in self.stages:
            doc = stage(doc)
        doc.number_quotes()
        return doc

    def annotate(self, text: str, name: str = "") -> Document:
        return self(Document(text=text, name=name))

    def pipe(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            yield self(doc)


AnnotateFn = Callable[[Document], Document]
