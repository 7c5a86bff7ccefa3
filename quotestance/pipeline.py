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
    def default(cls, detector: str = "auto") -> Pipeline:
        """Text layer, verb mood, quote detection.

        ``detector``: ``rules``, ``tagger`` (the learned tagger alone), ``hybrid`` (both,
        combined) or ``auto`` — hybrid where the tagger's weights and the ml extra are
        installed, rules otherwise.
        """
        from quotestance.detect.rules import QuoteDetector
        from quotestance.morphology import MoodAnalyser
        from quotestance.text import TextSegmenter

        if detector == "auto":
            detector = "hybrid" if tagger_available() else "rules"
        stages: list[Stage] = [TextSegmenter(), MoodAnalyser()]
        if detector == "rules":
            stages.append(QuoteDetector())
        elif detector in ("tagger", "hybrid"):
            from quotestance.detect.tagger import QuoteTagger

            tagger = QuoteTagger.load()
            if detector == "tagger":
                stages.append(tagger)
            else:
                from quotestance.detect.hybrid import HybridQuoteDetector

                stages.append(HybridQuoteDetector(QuoteDetector(), tagger))
        else:
            raise ValueError(f"unknown detector {detector!r}: rules, tagger, hybrid or auto")
        return cls(stages)

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


def tagger_available() -> bool:
    """Whether the learned tagger can run here: its weights are shipped and torch is installed."""
    import importlib.util

    from quotestance.detect.tagger_files import tagger_weights_present

    return tagger_weights_present() and all(
        importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "peft")
    )
