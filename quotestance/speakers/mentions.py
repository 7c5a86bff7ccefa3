"""Candidate mentions of actors: noun phrases, names, pronouns, and the detector's tagged sources.

A mention is a maximal run of noun-phrase tokens (article, adjectives, nouns, names), a personal
or relative pronoun, or a source span the tagger marked. These are the candidates the speaker
linker ranks for each quote; recall matters more than precision here.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from quotestance.detect.clauses import tag
from quotestance.document import Document, Sentence
from quotestance.intervals import IntervalIndex

# determiners, adjectives, nouns and names; pronouns are mentions of their own
CHUNK_TAGS = {"ART", "ADJA", "NN", "NE", "CARD", "PPOSAT", "PIAT", "PDAT", "TRUNC", "FM"}
PRONOUN_TAGS = {"PPER", "PDS", "PIS"}
RELATIVE_TAGS = {"PRELS"}
FIRST_PERSON = {"ich", "wir", "mir", "mich", "uns", "du", "ihr"}
PLURAL_PRONOUNS = {"wir", "uns", "sie"}
FEMININE = {"sie", "ihr", "die"}
MASCULINE = {"er", "ihm", "ihn", "der"}


@dataclass
class Candidate:
    """A span that may name a speaker, with what the linker needs to know about it."""

    start: int
    end: int
    text: str
    sentence: int  # index in doc.sentences
    first: int  # token indices in the sentence, end exclusive
    last: int
    kind: str  # name, nominal, pronoun, relative
    tagged: bool = False
    source_p: float = 0.0  # the tagger's highest source probability over the mention's words
    addressee_p: float = 0.0

    @property
    def pronoun(self) -> str | None:
        return self.text.lower() if self.kind in ("pronoun", "relative") else None


def _kind(sent: Sentence, first: int, last: int) -> str:
    tags = [tag(t) for t in sent.tokens[first:last]]
    if len(tags) == 1 and tags[0] in PRONOUN_TAGS:
        return "pronoun"
    if len(tags) == 1 and tags[0] in RELATIVE_TAGS:
        return "relative"
    if "NE" in tags or any(
        t.text[:1].isupper() and tg not in ("ART", "NN") and i > first
        for i, (t, tg) in enumerate(zip(sent.tokens[first:last], tags, strict=True), first)
    ):
        return "name"
    return "nominal"


GENITIVE_DETERMINERS = {"des", "der", "eines", "einer"}
DETERMINER_TAGS = {"ART", "PPOSAT", "PIAT", "PDAT"}


def _opens_phrase(sent: Sentence, j: int) -> bool:
    """A determiner starts a new phrase after a number or a lower-case word ("date 2016-09 |
    Die USA"), and after a noun unless it can be a genitive ("Russland | eine Mitschuld", but
    "der Präsident der USA")."""
    prev, here = sent.tokens[j - 1], sent.tokens[j]
    if tag(here) not in DETERMINER_TAGS:
        return False
    if tag(prev) == "CARD" or prev.text[:1].islower():
        return True
    return tag(prev) in ("NN", "NE") and here.text.lower() not in GENITIVE_DETERMINERS


def _chunks(sent: Sentence) -> list[tuple[int, int]]:
    """Maximal noun-phrase runs and single pronouns of a sentence, as token ranges."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(sent.tokens)
    while i < n:
        tg = tag(sent.tokens[i])
        if tg in PRONOUN_TAGS or tg in RELATIVE_TAGS:
            out.append((i, i + 1))
            i += 1
            continue
        if tg in CHUNK_TAGS:
            j = i + 1
            while j < n and tag(sent.tokens[j]) in CHUNK_TAGS and not _opens_phrase(sent, j):
                j += 1
            if any(tag(t) in ("NN", "NE", "FM", "TRUNC") for t in sent.tokens[i:j]):
                out.append((i, j))
            i = j
            continue
        i += 1
    return out


def _token_range(sent: Sentence, start: int, end: int) -> tuple[int, int] | None:
    inside = [k for k, t in enumerate(sent.tokens) if t.start < end and t.end > start]
    return (inside[0], inside[-1] + 1) if inside else None


def find_candidates(doc: Document) -> list[Candidate]:
    """Every candidate mention of the document, in text order, without duplicates."""
    tagged = doc.tagged_roles.get("source", [])
    tagged_index = IntervalIndex(tagged)
    seen: set[tuple[int, int]] = set()
    out: list[Candidate] = []

    def add(s_index: int, sent: Sentence, first: int, last: int, is_tagged: bool) -> None:
        start, end = sent.tokens[first].start, sent.tokens[last - 1].end
        if (start, end) in seen:
            return
        seen.add((start, end))
        hit = is_tagged or any(
            tagged[k].start < end and tagged[k].end > start
            for k in tagged_index.candidates(start, end)
        )
        out.append(
            Candidate(
                start, end, doc.text[start:end], s_index, first, last,
                _kind(sent, first, last), hit,
            )
        )  # fmt: skip

    for s_index, sent in enumerate(doc.sentences):
        for first, last in _chunks(sent):
            add(s_index, sent, first, last, False)
    for span in tagged:
        sent = doc.sentence_at(span.start)
        if sent is None:
            continue
        s_index = sent.index
        token_range = _token_range(sent, span.start, span.end)
        if token_range:
            add(s_index, sent, token_range[0], token_range[1], True)
    for role in ("source", "addressee"):
        scores = doc.role_scores.get(role, [])
        if not scores:
            continue
        starts = [s for s, _, _ in scores]
        for cand in out:
            k = bisect_left(starts, cand.start)
            best = 0.0
            while k < len(scores) and scores[k][0] < cand.end:
                best = max(best, scores[k][2])
                k += 1
            setattr(cand, f"{role}_p", best)
    out.sort(key=lambda c: (c.start, c.end))
    return out
