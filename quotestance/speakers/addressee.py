"""Addressees: to whom a quote is said, from the cue's clause.

The tagger marks few addressees, so this stage adds the frequent explicit patterns of German
news: *gegenüber X* ("sagte gegenüber der BBC"), *an X* after verbs of appeal and writing
("appellierte an die Regierung"), and the object of cue verbs that take a person as object
("warf der SPD vor", "Kerry habe Lawrow gesagt", "kritisierte Gillibrand"). It runs after the
speaker linker (the speaker is never its own addressee) and keeps an addressee a detector set.
"""

from __future__ import annotations

from quotestance.detect.clauses import tag
from quotestance.document import Document, Mention, Quote, Sentence
from quotestance.speakers.mentions import Candidate, mentions_of

OBJECT_CUES = {
    "sagen", "mitteilen", "versichern", "drohen", "androhen", "vorwerfen", "bitten", "fragen",
    "raten", "versprechen", "zusichern", "antworten", "kritisieren", "beschuldigen", "warnen",
    "auffordern", "aufrufen", "empfehlen", "erklären", "vorhalten", "anwerfen", "attackieren",
    "anklagen", "ermahnen", "drängen", "beschimpfen", "verurteilen", "loben", "danken",
    "schreiben", "berichten", "bestätigen", "vorschlagen", "anbieten", "zusagen", "zurufen",
}  # fmt: skip
APPEAL_CUES = {"appellieren", "wenden", "richten", "schreiben", "appell", "brief", "aufruf"}
TOWARDS = {"gegenüber"}
SKIP = {"sich", "es", "das", "dies", "man"}


def _lemma(doc: Document, quote: Quote) -> tuple[Sentence | None, int | None, str]:
    if quote.cue is None:
        return None, None, ""
    sent = doc.sentence_at(quote.cue.start)
    if sent is None:
        return None, None, ""
    for k, tok in enumerate(sent.tokens):
        if tok.start >= quote.cue.start and tok.end <= quote.cue.end and tag(tok).startswith("V"):
            return sent, k, (tok.lemma or tok.text).lower()
    k = next((k for k, t in enumerate(sent.tokens) if t.end > quote.cue.start), 0)
    return sent, k, (sent.tokens[k].lemma or sent.tokens[k].text).lower()


def find_addressee(
    doc: Document,
    quote: Quote,
    candidates: list[Candidate],
    by_sentence: dict[int, list[Candidate]] | None = None,
) -> Candidate | None:
    """The addressee mention of one quote, or None. ``by_sentence``: the candidates grouped by
    sentence index (``candidates_by_sentence``), so only the cue's sentence is looked at."""
    sent, cue_index, lemma = _lemma(doc, quote)
    if sent is None or cue_index is None:
        return None
    if by_sentence is not None:
        candidates = by_sentence.get(sent.index, [])
    speaker = quote.speaker
    own = [
        c
        for c in candidates
        if doc.sentences[c.sentence] is sent
        and not (c.start < quote.end and c.end > quote.start)
        and not (speaker is not None and c.start < speaker.end and c.end > speaker.start)
        and c.text.lower() not in SKIP
        and c.kind != "relative"
    ]
    for cand in own:
        before = sent.tokens[cand.first - 1].text.lower() if cand.first > 0 else ""
        if before in TOWARDS:
            return cand
        if before == "an" and (
            lemma in APPEAL_CUES
            or any(
                (t.lemma or "").lower() in APPEAL_CUES
                for t in sent.tokens[max(0, cand.first - 4) : cand.first]
            )
        ):
            return cand
    if lemma not in OBJECT_CUES or speaker is None or doc.sentence_at(speaker.start) is not sent:
        return None  # an object is only told apart from the subject when the subject is known
    for cand in own:
        gap = cand.first - cue_index
        before = sent.tokens[cand.first - 1] if cand.first > 0 else None
        if before is not None and tag(before).startswith("APPR"):
            continue
        between = sent.tokens[min(cue_index, cand.first) + 1 : max(cue_index, cand.first)]
        if any(tag(t) in ("$,", "$.", "KON", "KOUS") for t in between):
            continue
        if speaker.start > cand.start:
            continue  # before the subject: not the object
        if 1 <= gap <= 3:
            return cand  # "warf der SPD vor", "warf X Y vor": the object after verb and subject
        if -4 <= gap < 0:
            return cand  # "Kerry habe Lawrow gesagt": the object between subject and verb
    return None


def candidates_by_sentence(candidates: list[Candidate]) -> dict[int, list[Candidate]]:
    """The candidates of each sentence, in their order."""
    out: dict[int, list[Candidate]] = {}
    for cand in candidates:
        out.setdefault(cand.sentence, []).append(cand)
    return out


class AddresseeFinder:
    """Pipeline stage: sets ``quote.addressee`` where the cue's clause names one."""

    name = "addressees"

    def __call__(self, doc: Document) -> Document:
        candidates = mentions_of(doc)
        by_sentence = candidates_by_sentence(candidates)
        for quote in doc.quotes:
            if quote.addressee is not None:
                continue
            cand = find_addressee(doc, quote, candidates, by_sentence)
            if cand is not None:
                quote.addressee = Mention(cand.start, cand.end, cand.text)
        return doc
