"""Clause-level views of a tagged sentence, shared by the quote rules.

A sentence is cut into clauses at commas, semicolons, colons and dashes that lie outside
quotation marks. Part-of-speech tags are STTS as HanTa writes them; ``tag`` normalises
``VV(FIN)`` to ``VVFIN`` so both spellings work.
"""

from __future__ import annotations

from dataclasses import dataclass

from quotestance.document import Document, Quote, Sentence, Span, Token

CLAUSE_BREAKS = {",", ";", ":", "–", "—", "-"}
FINAL_PUNCT = {".", "!", "?", "…"}
QUOTE_MARKS = set("„“”‚‘’»«\"'")
SUBORDINATORS = {"KOUS", "PRELS", "PRELAT", "PWS", "PWAV", "PWAT", "KOKOM", "KOUI"}
NP_TAGS = {
    "ART",
    "ADJA",
    "NN",
    "NE",
    "PPER",
    "PIS",
    "PDS",
    "CARD",
    "PPOSAT",
    "PIAT",
    "TRUNC",
    "FM",
    "PDAT",
}


def tag(tok: Token) -> str:
    """STTS tag of a token without HanTa's brackets (``VV(FIN)`` -> ``VVFIN``)."""
    if tok.text in QUOTE_MARKS:
        return "$("
    return (tok.pos or "").replace("(", "").replace(")", "")


def is_finite(tok: Token) -> bool:
    return tag(tok).endswith("FIN")


def is_punct(tok: Token) -> bool:
    return tag(tok).startswith("$") or not any(ch.isalnum() for ch in tok.text)


@dataclass
class Clause:
    """Tokens ``[start, end)`` of a sentence between clause breaks."""

    start: int
    end: int

    def tokens(self, sent: Sentence) -> list[Token]:
        return sent.tokens[self.start : self.end]


def clauses(sent: Sentence, inside_quote: list[bool]) -> list[Clause]:
    """Cut at clause breaks outside quotes; the break token ends the clause before it."""
    out: list[Clause] = []
    start = 0
    for i, tok in enumerate(sent.tokens):
        if tok.text in CLAUSE_BREAKS and not inside_quote[i]:
            if i > start:
                out.append(Clause(start, i))
            start = i + 1
    if start < len(sent.tokens):
        out.append(Clause(start, len(sent.tokens)))
    return out


def clause_of(index: int, parts: list[Clause]) -> int:
    for k, clause in enumerate(parts):
        if clause.start <= index < clause.end:
            return k
    return -1


def is_subordinate(clause: Clause, sent: Sentence) -> bool:
    """A clause opened by a subordinator, relative pronoun or w-word (after a preposition too)."""
    toks = clause.tokens(sent)
    for tok in toks[:2]:
        t = tag(tok)
        if t in SUBORDINATORS:
            return True
        if t != "APPR":
            break
    return False


def finite_verbs(clause: Clause, sent: Sentence, inside_quote: list[bool]) -> list[int]:
    return [
        i
        for i in range(clause.start, clause.end)
        if is_finite(sent.tokens[i]) and not inside_quote[i]
    ]


def trim_punct(sent: Sentence, start: int, end: int) -> tuple[int, int]:
    """Shrink token range ``[start, end)`` past leading/trailing punctuation (not quote marks)."""
    while (
        start < end and is_punct(sent.tokens[start]) and sent.tokens[start].text not in QUOTE_MARKS
    ):
        start += 1
    while (
        end > start
        and is_punct(sent.tokens[end - 1])
        and sent.tokens[end - 1].text not in QUOTE_MARKS
    ):
        end -= 1
    return start, end


# the subject pronouns of a speaker who reports their own view (parliament: *stelle ich fest*)
_OWN_VOICE = {"ich", "wir", "Sie", "du", "ihr", "man"}


def cue_with_correlate(doc: Document, cue: Span | None, reach: int = 3) -> Span | None:
    """A finite cue verb widened to its correlate and separable particle (*geht davon aus*,
    *wies darauf hin*, *forderte Mussawi dazu auf*).

    SpkAtt news marks all three words as the cue, so the verb alone covers a third of it and
    is not found (metrics.md: a cue is found when half its tokens are covered). Only with a
    pronominal adverb (``PROAV``) between verb and particle: for the plain particle verb
    (*teilte mit*) the verb alone already covers half, and GePaDe marks the verb alone in a
    speaker's own voice (*stelle ich fest*), so the span stops at *ich*, *wir*, *Sie*, *man*.
    News dev cue F1 0.770 -> 0.783, GePaDe and Redewiedergabe dev unchanged (±0.001).
    """
    if cue is None:
        return None
    for k in doc.sentences_overlapping(cue.start, cue.end):
        toks = doc.sentences[k].tokens
        inside = [i for i, t in enumerate(toks) if cue.start <= t.start and t.end <= cue.end]
        if not inside or not is_finite(toks[inside[-1]]):
            continue
        verb = inside[-1]
        for j in range(verb + 1, min(len(toks), verb + 2 + reach)):
            if is_punct(toks[j]) or toks[j].text in _OWN_VOICE:
                break
            if tag(toks[j]) == "PTKVZ":
                if any(tag(t) == "PROAV" for t in toks[verb + 1 : j]):
                    start, end = min(cue.start, toks[verb].start), toks[j].end
                    return Span(start, end, doc.text[start:end])
                break
    return cue


def noun_phrase_after(sent: Sentence, index: int, limit: int) -> tuple[int, int] | None:
    """The run of noun-phrase tokens starting at ``index`` (a subject after an inverted verb)."""
    end = index
    while end < limit and tag(sent.tokens[end]) in NP_TAGS:
        end += 1
    if end == index:
        return None
    # a pronoun alone is a subject; "er ihr" keeps only the first pronoun
    if tag(sent.tokens[index]) == "PPER":
        end = index + 1
    return index, end


def noun_phrase_before(sent: Sentence, index: int, floor: int) -> tuple[int, int] | None:
    """The run of noun-phrase tokens ending just before ``index``, with a short bracket right
    after a name in it: "Hans Peter Doskozil (SPÖ) sagte"."""
    start = index
    toks = sent.tokens
    if start - floor >= 4 and toks[start - 1].text == ")":
        opening = next(
            (j for j in range(start - 2, max(floor, start - 6) - 1, -1) if toks[j].text == "("),
            None,
        )
        inner = toks[opening + 1 : start - 1] if opening is not None else []
        if (
            opening is not None
            and opening > floor
            and inner
            and all(tag(t) in NP_TAGS or t.text in {",", "-"} for t in inner)
            and tag(toks[opening - 1]) in NP_TAGS
        ):
            start = opening
    while start > floor and tag(sent.tokens[start - 1]) in NP_TAGS:
        start -= 1
    if start == index:
        return None
    # "date 2016-09 Die USA": a determiner after a number or a lowercase word opens the phrase
    for j in range(start + 1, index):
        prev = sent.tokens[j - 1]
        if tag(sent.tokens[j]) == "ART" and (tag(prev) == "CARD" or prev.text[:1].islower()):
            start = j
    return start, index


def embedded_report(doc: Document, quote: Quote) -> bool:
    """Whether the quote's own frame is reported speech: its cue clause has a Konjunktiv I
    finite verb before the cue, outside the quote ("Kerry habe Lawrow gesagt, dass ...").
    What follows such a quote continues the outer reporter, not the embedded speaker."""
    if quote.cue is None:
        return False
    sent = doc.sentence_at(quote.cue.start)
    if sent is None:
        return False
    return any(
        tok.mood == "subj1"
        and tag(tok).endswith("FIN")
        and not (quote.start <= tok.start < quote.end)
        for tok in sent.tokens
        if tok.end <= quote.cue.start
    )
