"""The pipeline: text -> segments -> morphology -> quotes (-> speakers -> stance in later stages).

Each stage is a callable ``stage(doc) -> doc`` with a ``name``; it reads earlier layers and
adds its own. Stages are built once per process (models and lexicons load once) and reused for
every document.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from quotestance.document import Document


class Stage(Protocol):
    name: str

    def __call__(self, doc: Document) -> Document: ...


class Pipeline:
    """An ordered list of stages applied to each document."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)

    @functools.cached_property
    def model_version(self) -> str | None:
        """Short hashes of the weight files the stages loaded (``tagger=…;speakers=…;stance=…``),
        None when only rules run; set on every document this pipeline annotates."""
        from quotestance.model_version import pipeline_model_version

        return pipeline_model_version(self.stages)

    @classmethod
    def default(
        cls,
        detector: str = "auto",
        actors: str | Path | None = None,
        speakers: bool = True,
        stance: bool = True,
        name_memory: bool = False,
        min_stance_score: float = 0.0,
    ) -> Pipeline:
        """Text layer, verb mood, quote detection, speaker linking, actor resolution.

        ``detector``: ``rules``, ``tagger`` (the learned tagger alone), ``hybrid`` (both,
        combined) or ``auto`` — hybrid where the tagger's weights and the ml extra are
        installed, rules otherwise. ``actors``: a user's actor file (YAML) added to the
        built-in registry. ``speakers=False`` stops after detection (the detector's own
        speaker choice, no actors): what the speaker linker is trained on. ``stance``: label
        quotes (and find their targets) where the stance model is installed.
        ``name_memory``: let a batch's documents share full personal names (opt-in; a
        document's actors then depend on its batch, see ``ActorResolver``).
        ``min_stance_score``: a stance label whose calibrated score is under it becomes
        ``none`` (its scores are kept).
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
        from quotestance.speakers.actors import ActorRegistry
        from quotestance.speakers.addressee import AddresseeFinder
        from quotestance.speakers.continuation import SpeakerContinuation
        from quotestance.speakers.linker import DEFAULT_MODEL, SpeakerLinker
        from quotestance.speakers.mentions import MentionFinder
        from quotestance.speakers.resolve import ActorResolver

        if not speakers:
            return cls(stages)
        stages.append(MentionFinder())
        if detector != "rules" and DEFAULT_MODEL.exists():
            # the linker ranks with the tagger's source probabilities and carries speakers
            # from quote to quote; the rules keep their cue's subject and continue by rule
            stages.append(SpeakerLinker.load())
        else:
            stages.append(SpeakerContinuation())
        stages.append(AddresseeFinder())
        registry = ActorRegistry.default(actors)
        resolver = ActorResolver(registry, remember_names=name_memory)
        if stance and stance_available():
            from quotestance.stance.classifier import StanceClassifier
            from quotestance.stance.target import TargetFinder

            classifier = StanceClassifier.load(min_score=min_stance_score)
            tagger_stage = next(
                (st for st in stages if hasattr(st, "tagger") or st.name == "tagger"), None
            )
            if tagger_stage is not None:
                tagger = getattr(tagger_stage, "tagger", tagger_stage)
                share_embeddings(tagger.model.encoder, classifier.model.encoder)
            # speakers get their actors first, so that the target finder knows the speaker's
            # side (a pronoun's antecedent); the resolver runs again for the targets
            stages += [resolver, classifier, TargetFinder(registry)]
        stages.append(resolver)
        return cls(stages)

    @property
    def names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def __call__(self, doc: Document) -> Document:
        for stage in self.stages:
            doc = stage(doc)
        doc.number_quotes()
        doc.model_version = self.model_version
        return doc

    def annotate(self, text: str, name: str = "") -> Document:
        return self(Document(text=text, name=name))

    def pipe(self, docs: Iterable[Document], batch_size: int = 32) -> Iterator[Document]:
        """Annotate a stream of documents, in order; stages with a ``batch`` method (the
        tagger) get ``batch_size`` documents at a time, which shares their forward passes."""
        chunk: list[Document] = []
        for doc in docs:
            chunk.append(doc)
            if len(chunk) >= batch_size:
                yield from self._run_batch(chunk)
                chunk = []
        if chunk:
            yield from self._run_batch(chunk)

    def _run_batch(self, docs: list[Document]) -> list[Document]:
        for stage in self.stages:
            batch = getattr(stage, "batch", None)
            docs = batch(docs) if batch is not None else [stage(doc) for doc in docs]
        for doc in docs:
            doc.number_quotes()
            doc.model_version = self.model_version
        return docs


AnnotateFn = Callable[[Document], Document]


def tagger_available() -> bool:
    """Whether the learned tagger can run here: its weights are shipped and torch is installed."""
    import importlib.util

    from quotestance.detect.tagger_files import tagger_weights_present

    return tagger_weights_present() and all(
        importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "peft")
    )


def stance_available() -> bool:
    """Whether the stance classifier can run here: its weights are shipped and torch is
    installed."""
    import importlib.util

    from quotestance.stance.files import stance_weights_present

    return stance_weights_present() and all(
        importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "peft")
    )


def share_embeddings(first, second, probes: int = 256) -> bool:
    """Let two encoders built on the same base share their word embeddings (LoRA does not
    touch them): one copy of the largest matrix (250k x 384 for e5-small) instead of two.

    Equality is checked on ``probes`` rows spread over the matrix, not on all of it: the
    weights are memory-mapped and a full comparison would page both copies in (+730 MB
    resident) only to free one of them."""
    import torch

    a = first.get_input_embeddings()
    b = second.get_input_embeddings()
    if a.weight.shape != b.weight.shape or a.weight.dtype != b.weight.dtype:
        return False
    rows = torch.linspace(0, a.weight.shape[0] - 1, steps=probes).long()
    if not torch.equal(a.weight[rows], b.weight[rows]):
        return False
    second.set_input_embeddings(a)
    return True
