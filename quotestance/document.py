"""The document model: text plus one layer per pipeline stage, all as character-offset spans.

Offsets are Python string indices (code points) into ``Document.text``; ``end`` is exclusive,
so ``text[span.start:span.end] == span.text`` always holds. Stages add layers (sentences,
quotes, speakers, stance) without touching the layers of other stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QUOTE_KINDS = ("direct", "indirect", "reported", "free_indirect", "mixed")
STANCE_LABELS = ("threat", "cooperation", "accusation", "none")


@dataclass
class Span:
    """A stretch of the document's text."""

    start: int
    end: int
    text: str

    @classmethod
    def of(cls, text: str, start: int, end: int) -> Span:
        return cls(start, end, text[start:end])

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def __len__(self) -> int:
        return self.end - self.start


@dataclass
class Token(Span):
    """A word or punctuation token; ``lemma``, ``pos`` and ``mood`` are filled by morphology."""

    index: int = 0
    lemma: str | None = None
    pos: str | None = None
    mood: str | None = None  # "subj1" (Konjunktiv I), "subj2" (Konjunktiv II), "ind", "imp" or None


@dataclass
class Sentence:
    """A sentence with its tokens; ``paragraph`` counts blank-line separated blocks from 0."""

    start: int
    end: int
    text: str
    tokens: list[Token]
    paragraph: int = 0
    index: int = 0


@dataclass
class Mention(Span):
    """A mention of an actor (speaker, addressee or target), resolved to an actor if known."""

    actor: str | None = None
    affiliation: str | None = None
    # where the affiliation comes from: "registry" (the actor file), "description" (the
    # person's own words: *US-Außenminister*, *der serbische Präsident*, *(SPÖ)*), or
    # "context" (the latest country named in the paragraph: a fallback, a guess)
    affiliation_source: str | None = None
    actor_type: str | None = None  # person, organisation, country or other

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "actor": self.actor,
            "affiliation": self.affiliation,
            "affiliation_source": self.affiliation_source,
            "actor_type": self.actor_type,
        }


@dataclass
class Quote:
    """A quotation found in the text: what was said (span), how it was marked (kind, cue)."""

    start: int
    end: int
    text: str
    kind: str
    cue: Span | None = None
    speaker: Mention | None = None
    addressee: Mention | None = None
    target: Mention | None = None
    stance: str | None = None
    stance_scores: dict[str, float] | None = None
    evidence: list[str] = field(default_factory=list)
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        def opt(span: Span | None) -> dict[str, Any] | None:
            return span.to_dict() if span is not None else None

        return {
            "id": self.id,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "cue": opt(self.cue),
            "speaker": opt(self.speaker),
            "addressee": opt(self.addressee),
            "target": opt(self.target),
            "stance": self.stance,
            "stance_scores": self.stance_scores,
            "evidence": list(self.evidence),
        }


@dataclass
class Actor:
    """A canonical participant: every mention of it in the document, its type and affiliation.

    ``type`` is ``person``, ``organisation``, ``country`` or ``other``; ``affiliation`` is a
    country name (German) where known.
    """

    name: str
    type: str = "other"
    affiliation: str | None = None
    affiliation_source: str | None = None  # registry, description or context (see Mention)
    aliases: list[str] = field(default_factory=list)
    mentions: list[Span] = field(default_factory=list)
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "affiliation": self.affiliation,
            "affiliation_source": self.affiliation_source,
            "aliases": list(self.aliases),
            "mentions": [m.to_dict() for m in self.mentions],
        }


@dataclass
class Document:
    """A text and the layers the pipeline stages add to it."""

    text: str
    name: str = ""
    sentences: list[Sentence] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # role spans a detector found, attached to a quote or not ("source", "addressee", "cue"):
    # the speaker stage ranks the first two with other mentions; the hybrid detector widens
    # a rule's one-word cue to the tagged cue it lies in
    tagged_roles: dict[str, list[Span]] = field(default_factory=dict)
    # the mention layer (``speakers.mentions.Mentions``): every candidate mention of an actor,
    # made once after detection and read by the speaker, addressee and target stages
    mentions: list[Any] | None = None
    # per word: (start, end, probability that the word belongs to the role), where >= 0.02
    role_scores: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)
    # the encoder's state per word (``quotestance.encoding.WordEncoding``), set by the tagger
    # and read by the speaker scorer; not part of any output
    encoding: Any = None
    actors: list[Actor] = field(default_factory=list)
    # the weight files that annotated it (``Pipeline.model_version``; None: rules only). Not
    # in ``to_dict`` (the JSON Lines record): a column of the CSV/Parquet rows
    model_version: str | None = None

    @property
    def tokens(self) -> list[Token]:
        return [tok for sent in self.sentences for tok in sent.tokens]

    def span(self, start: int, end: int) -> Span:
        return Span.of(self.text, start, end)

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence containing ``offset`` (binary search over sentence starts)."""
        lo, hi = 0, len(self.sentences) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            sent = self.sentences[mid]
            if offset < sent.start:
                hi = mid - 1
            elif offset >= sent.end:
                lo = mid + 1
            else:
                return sent
        return None

    def sentences_overlapping(self, start: int, end: int) -> range:
        """Indices of the sentences that share a character with ``[start, end)`` (binary
        search; sentences are sorted and do not overlap)."""
        lo, hi = 0, len(self.sentences)
        while lo < hi:  # the first sentence ending after start
            mid = (lo + hi) // 2
            if self.sentences[mid].end > start:
                hi = mid
            else:
                lo = mid + 1
        first, hi = lo, len(self.sentences)
        while lo < hi:  # the first sentence starting at or after end
            mid = (lo + hi) // 2
            if self.sentences[mid].start < end:
                lo = mid + 1
            else:
                hi = mid
        return range(first, max(first, lo))

    def number_quotes(self) -> None:
        """Sort quotes by position and give them stable ids q1, q2, ..."""
        self.quotes.sort(key=lambda q: (q.start, q.end))
        for i, quote in enumerate(self.quotes, 1):
            quote.id = f"q{i}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.name, "quotes": [q.to_dict() for q in self.quotes]}
        if self.actors:
            out["actors"] = [actor.to_dict() for actor in self.actors]
        return out
