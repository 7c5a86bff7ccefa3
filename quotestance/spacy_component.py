"""A spaCy component: ``nlp.add_pipe("quotestance")`` fills ``doc.spans["quotes"]``.

Registered with ``@Language.factory`` here and, for an installed package, through the entry
point ``[project.entry-points.spacy_factories]``: spaCy imports this module when it builds a
pipeline, so ``import quotestance`` is not needed. The component runs the quotestance
pipeline on ``doc.text`` (its own sentences and tokens, whatever spaCy's tokenizer did) and
turns each quote's character offsets into a spaCy span, widened to token boundaries
(``doc.char_span(..., alignment_mode="expand")``). See ``docs/spacy.md``.

Each quote span has ``label_`` = its kind and ``id_`` = its id (``q1``, …); the rest is in
extension attributes, read from ``doc._.quotestance`` (plain data, so ``Doc.to_bytes`` keeps
it): ``span._.kind``, ``cue``, ``speaker``, ``speaker_actor``, ``speaker_affiliation``,
``addressee``, ``addressee_actor``, ``target``, ``target_actor``, ``stance``,
``stance_scores``, ``evidence``.
"""

# no ``from __future__ import annotations``: spaCy validates the factory's arguments by their
# annotations at run time

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from quotestance.batch import BATCH_DOCUMENTS

DEFAULT_CONFIG = {
    "detector": "auto",
    "stance": True,
    "actors": None,
    "batch_size": BATCH_DOCUMENTS,
    "speakers": True,
    "name_memory": False,
    "spans_key": "quotes",
}
ROLE_SPANS = ("cue", "speaker", "addressee", "target")


def _quote_data(span: Span) -> dict | None:
    store = span.doc._.quotestance
    if not store or not span.id_:
        return None
    return store["quotes"].get(span.id_)


def _field(name: str):
    def get(span: Span) -> Any:
        data = _quote_data(span)
        return None if data is None else data.get(name)

    return get


def _role_span(role: str):
    def get(span: Span) -> Span | None:
        data = _quote_data(span)
        mention = None if data is None else data.get(role)
        if mention is None:
            return None
        return span.doc.char_span(mention["start"], mention["end"], alignment_mode="expand")

    return get


def _role_field(role: str, name: str):
    def get(span: Span) -> Any:
        data = _quote_data(span)
        return ((data or {}).get(role) or {}).get(name)

    return get


Doc.set_extension("quotestance", default=None, force=True)
for _name in ("kind", "stance", "stance_scores", "evidence"):
    Span.set_extension(_name, getter=_field(_name), force=True)
for _role in ROLE_SPANS:
    Span.set_extension(_role, getter=_role_span(_role), force=True)
for _role in ("speaker", "addressee", "target"):
    Span.set_extension(f"{_role}_actor", getter=_role_field(_role, "actor"), force=True)
Span.set_extension("speaker_affiliation", getter=_role_field("speaker", "affiliation"), force=True)


class QuoteStanceComponent:
    """Finds quotes, speakers and stance in a spaCy ``Doc``; the options are those of
    ``quotestance.load``, ``spans_key`` the span group it fills."""

    def __init__(
        self,
        name: str = "quotestance",
        spans_key: str = "quotes",
        **options: Any,
    ) -> None:
        from quotestance.api import load

        self.name = name
        self.spans_key = spans_key
        self.quotestance = load(**options)

    @property
    def batch_size(self) -> int:
        return self.quotestance.batch_size

    def __call__(self, doc: Doc) -> Doc:
        return self._fill(doc, self.quotestance(doc.text))

    def pipe(self, stream: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        """Annotate ``stream`` ``batch_size`` docs at a time (default: the component's)."""
        size = batch_size or self.batch_size
        stream = iter(stream)
        while chunk := list(islice(stream, size)):
            texts = [(doc.text, k) for k, doc in enumerate(chunk)]
            done = self.quotestance.pipe(texts, batch_size=size)
            for doc, annotated in zip(chunk, done, strict=True):
                yield self._fill(doc, annotated)

    def _fill(self, doc: Doc, annotated) -> Doc:
        spans, data = [], {}
        for quote in annotated.quotes:
            span = doc.char_span(
                quote.start, quote.end, label=quote.kind, alignment_mode="expand",
                span_id=quote.id,
            )  # fmt: skip
            if span is None:  # no token under the quote (whitespace only)
                continue
            spans.append(span)
            data[quote.id] = quote.to_dict()
        doc.spans[self.spans_key] = spans
        doc._.quotestance = {"model_version": annotated.model_version, "quotes": data}
        return doc


@Language.factory("quotestance", default_config=DEFAULT_CONFIG)
def make_quotestance(
    nlp: Language,
    name: str,
    detector: str,
    stance: bool,
    actors: str | None,
    batch_size: int,
    speakers: bool,
    name_memory: bool,
    spans_key: str,
) -> QuoteStanceComponent:
    """The ``quotestance`` factory (``nlp.add_pipe("quotestance", config={...})``)."""
    return QuoteStanceComponent(
        name=name,
        spans_key=spans_key,
        detector=detector,
        stance=stance,
        actors=actors,
        batch_size=batch_size,
        speakers=speakers,
        name_memory=name_memory,
    )
