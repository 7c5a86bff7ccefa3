"""The target of a stance: the actor a threat, accusation or offer is aimed at.

Rules over the mentions the text names (stance-labels.md: "as written in the text; it may be
empty"): the quote's addressee when it has one; else, in the quote and then its sentence,
the first mention of an actor other than the speaker's own side — a registry actor or a
country word ("Russland", "der amerikanischen Seite"), else a personal or organisation name.
Quotes labelled ``none`` get no target.
"""

from __future__ import annotations

from bisect import bisect_left

from quotestance.document import Document, Mention, Quote
from quotestance.speakers.actors import ActorRegistry
from quotestance.speakers.mentions import Candidate, find_candidates
from quotestance.speakers.resolve import ParagraphCountries, paragraph_country


class TargetFinder:
    """Pipeline stage: sets ``quote.target`` for quotes with a stance other than ``none``."""

    name = "targets"

    def __init__(self, registry: ActorRegistry | None = None) -> None:
        self.registry = registry or ActorRegistry.default()
        self._countries: ParagraphCountries | None = None  # of the document being annotated
        self._country_memo: dict[str, str | None] = {}

    def _side(self, doc: Document, mention: Mention | None) -> set[str]:
        """Names the speaker's side goes by: its registry actor, country words, and the
        country of its paragraph."""
        if mention is None:
            return set()
        side = set()
        entry = self.registry.lookup(mention.text)
        if entry is not None:
            side.add(entry.name)
        for word in mention.text.split():
            found = self.registry.country_of_word(word)
            if found is not None:
                side.add(found.name)
        if not side:
            country = paragraph_country(doc, mention.start, self.registry, self._countries)
            if country:
                side.add(country)
        return side

    def _actor_of(self, cand: Candidate) -> str | None:
        entry = self.registry.lookup(cand.text)
        if entry is not None:
            return entry.name
        for word in cand.text.split():
            found = self.registry.country_of_word(word)
            if found is not None:
                return found.name
        return None

    def find(
        self,
        doc: Document,
        quote: Quote,
        candidates: list[Candidate],
        starts: list[int] | None = None,
    ) -> Mention | None:
        """``starts``: the candidates' start offsets (they are sorted by start), to look at
        the candidates of the quote's sentence only."""
        if quote.addressee is not None:
            return quote.addressee
        speaker = quote.speaker
        side = self._side(doc, speaker)
        sentence = doc.sentence_at(quote.start)
        low = sentence.start if sentence is not None else quote.start
        high = max(quote.end, sentence.end if sentence is not None else quote.end)

        def eligible(c: Candidate) -> bool:
            overlaps_speaker = (
                speaker is not None and c.start < speaker.end and c.end > speaker.start
            )
            return low <= c.start < high and not overlaps_speaker and c.kind in ("name", "nominal")

        if starts is not None:
            candidates = candidates[bisect_left(starts, low) : bisect_left(starts, high)]
        inside = [c for c in candidates if eligible(c) and quote.start <= c.start < quote.end]
        around = [c for c in candidates if eligible(c) and not quote.start <= c.start < quote.end]
        for pool in (inside, around):
            for cand in pool:
                actor = self._actor_of(cand)
                if actor is not None and actor not in side:
                    return Mention(cand.start, cand.end, cand.text)
        for cand in inside:
            if cand.kind == "name" and self._actor_of(cand) is None:
                return Mention(cand.start, cand.end, cand.text)
        return None

    def __call__(self, doc: Document) -> Document:
        candidates: list[Candidate] | None = None
        starts: list[int] = []
        self._countries = ParagraphCountries(doc, self.registry, self._country_memo)
        for quote in doc.quotes:
            if quote.stance in (None, "none"):
                quote.target = None
                continue
            if candidates is None:
                candidates = find_candidates(doc)
                starts = [c.start for c in candidates]
            quote.target = self.find(doc, quote, candidates, starts)
        self._countries = None
        return doc
