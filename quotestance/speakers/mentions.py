"""The mention layer: candidate mentions of actors, made once per document after detection.

A mention is a maximal run of noun-phrase tokens (article, adjectives, nouns, names), a personal
or relative pronoun, or a source span the tagger marked. Names written next to each other are
two mentions (*warf Lech Kaczyński | Wałęsa … vor*). The ``MentionFinder`` stage stores them
on ``doc.mentions``; the speaker linker, the addressee finder and the target finder read them
there (``mentions_of``) instead of building their own. Recall matters more than precision.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from quotestance.detect.clauses import tag
from quotestance.document import Document, Sentence, Token
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


@lru_cache(maxsize=1)
def _gender_detector():
    try:
        import gender_guesser.detector as gender

        return gender.Detector(case_sensitive=False)
    except ImportError:
        return None


def first_name_gender(name: str) -> str | None:
    """``male`` or ``female`` for a known first name (``gender-guesser``), else None."""
    detector = _gender_detector()
    if detector is None:
        return None
    guess = detector.get_gender(name)
    return {"male": "male", "mostly_male": "male", "female": "female",
            "mostly_female": "female"}.get(guess)  # fmt: skip


def is_name_word(tok: Token) -> bool:
    """A capitalised proper-noun word that can be part of a personal name: *Kerry*,
    *Ki-moon*, *Frank-Walter*, but not a compound with an abbreviation (*US-Außenminister*,
    *SPÖ-Chef*) or a noun."""
    text = tok.text
    if not text[:1].isupper() or tag(tok) not in ("NE", "FM"):
        return False
    head = text.split("-", 1)[0]
    return "-" not in text[1:] or not (head.isupper() or head[1:].isupper())


def name_breaks(doc: Document) -> set[int]:
    """Offsets where a second personal name starts right after a first one: in a run of three
    or more name words that opens with a first name (*Lech Kaczyński Wałęsa*), a word that is
    no first name, follows a word that is no first name either, and stands as a name elsewhere
    in the document without that word before it (*Wałęsa wies … zurück*). Double first names
    (*Hans Peter Doskozil*) and surnames that never stand alone (*García Márquez*) stay
    whole."""
    before: dict[str, set[str]] = {}
    runs: list[list[Token]] = []
    for sent in doc.sentences:
        run: list[Token] = []
        previous = ""
        for tok in sent.tokens:
            if is_name_word(tok):
                before.setdefault(tok.text, set()).add(previous)
                run.append(tok)
            else:
                if len(run) >= 3:
                    runs.append(run)
                run = []
            previous = tok.text
        if len(run) >= 3:
            runs.append(run)
    breaks: set[int] = set()
    for run in runs:
        if first_name_gender(run[0].text) is None:
            continue
        for k in range(2, len(run)):
            prev, word = run[k - 1].text, run[k].text
            if (
                first_name_gender(prev) is None
                and first_name_gender(word) is None
                and before.get(word, set()) - {prev}
            ):
                breaks.add(run[k].start)
                break
    return breaks


def _chunks(sent: Sentence, breaks: set[int] = frozenset()) -> list[tuple[int, int]]:
    """Maximal noun-phrase runs and single pronouns of a sentence, as token ranges; a run is
    cut where a second name starts (``name_breaks``)."""
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
            while (
                j < n
                and tag(sent.tokens[j]) in CHUNK_TAGS
                and not _opens_phrase(sent, j)
                and sent.tokens[j].start not in breaks
            ):
                j += 1
            if any(tag(t) in ("NN", "NE", "FM", "TRUNC") for t in sent.tokens[i:j]):
                out.append((i, j))
            i = j
            continue
        i += 1
    return out


def _token_ranges(sent: Sentence, start: int, end: int, breaks: set[int]) -> list[tuple[int, int]]:
    """The token range of a span, cut where a second name starts."""
    inside = [k for k, t in enumerate(sent.tokens) if t.start < end and t.end > start]
    ranges: list[tuple[int, int]] = []
    for k in inside:
        if ranges and sent.tokens[k].start not in breaks:
            ranges[-1] = (ranges[-1][0], k + 1)
        else:
            ranges.append((k, k + 1))
    return ranges


class MentionLayer(list):
    """The candidate mentions of a document in text order, their ``starts`` (for binary
    search), and ``breaks``: the offsets where a second name starts right after a first
    (``name_breaks``)."""

    def __init__(self, mentions: list[Candidate], breaks: set[int]) -> None:
        super().__init__(mentions)
        self.breaks = breaks
        self.starts = [m.start for m in mentions]

    def cut(self, start: int, end: int) -> int:
        """The end of the span ``start``–``end`` cut before a second name inside it."""
        return min((b for b in self.breaks if start < b < end), default=end)


def find_candidates(doc: Document) -> MentionLayer:
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

    breaks = name_breaks(doc)
    for s_index, sent in enumerate(doc.sentences):
        for first, last in _chunks(sent, breaks):
            add(s_index, sent, first, last, False)
    for span in tagged:
        sent = doc.sentence_at(span.start)
        if sent is None:
            continue
        for first, last in _token_ranges(sent, span.start, span.end, breaks):
            add(sent.index, sent, first, last, True)
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
    return MentionLayer(out, breaks)


def mentions_of(doc: Document) -> MentionLayer:
    """The document's mention layer: made by ``MentionFinder`` in the pipeline, or here on the
    first question when a stage runs without it (a stage used on its own, in a test)."""
    if doc.mentions is None:
        doc.mentions = find_candidates(doc)
    return doc.mentions


class MentionFinder:
    """Pipeline stage after detection: adds the mention layer (``doc.mentions``), once."""

    name = "mentions"

    def __call__(self, doc: Document) -> Document:
        doc.mentions = find_candidates(doc)
        return doc
