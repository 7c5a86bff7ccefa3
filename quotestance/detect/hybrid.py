"""Combining the rule detector and the learned tagger: which source to trust for what.

The first policy was fixed from the rules' precision per evidence on SpkAtt-news *train*
with tagger v1. With tagger v2 (which finds most of what the rules find, and places spans
the way SpkAtt does) it was re-measured on the three held-out sets (SpkAtt-news dev,
GePaDe dev, Redewiedergabe dev), and each replacement the tagger no longer needs was
dropped only where that helped on all three (``training/evaluate.py --system tagger
hybrid``; figures in the closing note of issue 16):

- the tagger's quotes are the base (it finds reported and free indirect speech the rules
  miss, and its cues and sources come from training on all three corpora);
- a rule quote the tagger missed is added only when its evidence stays precise where the
  tagger has already taken what it finds: *zufolge*, *laut*, *, so X*, *wie X sagte*
  (1.0, 0.97, 0.96 on train), or when it is a speech act that names a threat, an
  accusation or cooperation (*Kerry drohte mit dem Abbruch*): SpkAtt annotates such
  sentences sparsely (0.46 precision on train), but they are what the stance stage is
  for, so the product keeps them. Other rule-only additions were mostly wrong on the
  held-out sets (Konjunktiv I main clauses 10 of 38 right, quotation marks with a cue 7 of
  20), so they are not added (``ADDED_RULE_EVIDENCE``);
- a tagger span that runs over two or more rule quotes is replaced by them, and what they
  leave of it, cut at sentence ends, stays a quote of its own where it has four words or
  more and a verb in Konjunktiv or *sollen* (narration between two quotes has neither):
  the run-on span often holds a claim the rules did not see (news dev quote F1 0.831 ->
  0.834, Redewiedergabe 0.752 -> 0.754; joint F1 +0.001, +0.002). Cutting only where the rule
  quotes cover half of the span gained 0.005 quote F1 on Redewiedergabe but lost 0.013
  speaker accuracy and 0.008 joint F1 on news: the rules' pieces carry cues;
- the rule's span (and kind) wins where the tagger split a quote delimited by quotation
  marks into pieces, and where both agree on nearly the same span (IoU ≥ 0.8: the rules cut
  at clause and sentence boundaries, the tagger's word tags can fray at the ends). Where
  one tagger quote and one quote in quotation marks overlap otherwise, or the tagger found
  only part of a rule quote, the tagger's span stays (v1 gave the rule's span the win
  there; with v2 that cost 0.004 quote F1 on news dev, 0.005 on GePaDe and Redewiedergabe);
- cue and speaker are taken from whichever side has them, the tagger's first; a cue
  that lies in or next to a tagged cue is widened to it: the rules' cue is one verb, where
  SpkAtt news marks *hat angekündigt*, *gehen davon aus* (news dev cue F1 +0.006, GePaDe
  +0.004, Redewiedergabe +0.003; the tagger marks the verb alone where its corpus does).
"""

from __future__ import annotations

import re
from itertools import pairwise

from quotestance.document import Document, Quote, Span
from quotestance.intervals import IntervalIndex
from quotestance.text import content_words

# the evidence for which a rule quote the tagger missed entirely is still added
ADDED_RULE_EVIDENCE = {
    "cue_so",
    "attribution_zufolge",
    "attribution_laut",
    "cue_after_wie_clause",
    "speech_act_verb_threat",
    "speech_act_verb_accusation",
    "speech_act_verb_cooperation",
}


# what a rule split leaves of a tagger span stays a quote from this many words (0: dropped)
REMAINDER_MIN_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def reported_mood(doc: Document, start: int, end: int) -> bool:
    """Whether ``[start, end)`` has a verb in Konjunktiv I or II or a form of *sollen*: the
    marks of reported speech that narration between two quotes lacks."""
    for k in doc.sentences_overlapping(start, end):
        for tok in doc.sentences[k].tokens:
            inside = start <= tok.start and tok.end <= end
            if inside and (tok.mood in ("subj1", "subj2") or (tok.lemma or "").lower() == "sollen"):
                return True
    return False


def _remainders(tq: Quote, covered: list[Quote], doc: Document | None) -> list[Quote]:
    """The parts of a split tagger span that no rule quote covers, of a few words or more
    and in reported speech's mood: a run-on span often holds a claim the rules did not see
    between the ones they cut. Without the document (its verb moods) there are none."""
    if not REMAINDER_MIN_WORDS or doc is None:
        return []
    gaps, pos = [], tq.start
    for rq in sorted(covered, key=lambda q: q.start):
        gaps.append((pos, max(pos, min(rq.start, tq.end))))
        pos = max(pos, min(rq.end, tq.end))
    gaps.append((pos, tq.end))
    sentences = []  # each gap cut at sentence ends: the narration between two quotes
    for start, end in gaps:  # (*, erklärte er.*) is no part of the next claim
        text = tq.text[start - tq.start : end - tq.start]
        cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
        sentences += [(start + a, start + b) for a, b in pairwise(cuts)]
    pieces = []
    for start, end in sentences:
        text = tq.text[start - tq.start : end - tq.start]
        kept = text.strip(" \n\t,;:.–-")
        if len(content_words(kept)) < REMAINDER_MIN_WORDS:
            continue
        start += text.index(kept)
        if not reported_mood(doc, start, start + len(kept)):
            continue
        evidence = [*tq.evidence, "split_remainder"]
        pieces.append(
            Quote(start, start + len(kept), kept, tq.kind, cue=tq.cue, speaker=tq.speaker,
                  addressee=tq.addressee, evidence=evidence)
        )  # fmt: skip
    return pieces


def _overlap(a: Quote, b: Quote) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _iou(a: Quote, b: Quote) -> float:
    union = max(a.end, b.end) - min(a.start, b.start)
    return _overlap(a, b) / union if union else 0.0


def combine(
    rule_quotes: list[Quote], tagger_quotes: list[Quote], doc: Document | None = None
) -> list[Quote]:
    """One non-overlapping list of quotes from both detectors (see the module docstring);
    ``doc`` (with verb moods) lets what a rule split leaves of a tagger span stay a quote."""
    # ``result`` is a dict: id -> (position of entry, quote), so that membership, the members
    # overlapping a quote (one index per detector) and removal need no scan of all of it
    result: dict[int, tuple[int, Quote]] = {}
    entries = 0

    def add(quote: Quote) -> None:
        nonlocal entries
        if id(quote) not in result:  # a quote entered twice keeps its first place
            result[id(quote)] = (entries, quote)
        entries += 1

    by_rules = IntervalIndex(rule_quotes)
    by_tagger = IntervalIndex(tagger_quotes)

    def overlapping(quote: Quote, index: IntervalIndex, quotes: list[Quote]) -> list[Quote]:
        return [
            quotes[k]
            for k in index.candidates(quote.start, quote.end)
            if _overlap(quotes[k], quote) > 0
        ]

    for tq in tagger_quotes:
        covered = overlapping(tq, by_rules, rule_quotes)
        if len(covered) >= 2:
            # a run-on span over several quotes the rules separate: take the rules' cut
            for rq in covered:
                add(rq)
            for rq in covered:
                rq.evidence = [*rq.evidence, "splits_tagger_span"]
            for piece in _remainders(tq, covered, doc):
                add(piece)
        else:
            add(tq)
    for rq in rule_quotes:
        if id(rq) in result:
            continue
        partners = [
            q
            for q in [
                *overlapping(rq, by_tagger, tagger_quotes),
                *overlapping(rq, by_rules, rule_quotes),
            ]
            if id(q) in result
        ]
        partners.sort(key=lambda q: result[id(q)][0])
        if not partners:
            if ADDED_RULE_EVIDENCE.intersection(rq.evidence):
                rq.evidence = [*rq.evidence, "rules_only"]
                add(rq)
            continue
        inside = [tq for tq in partners if _overlap(rq, tq) * 2 >= tq.end - tq.start]
        # the tagger cut a quote in quotation marks into pieces
        marked = (
            rq.kind in ("direct", "mixed") and len(partners) >= 2 and len(inside) == len(partners)
        )
        single = partners[0] if len(partners) == 1 else None
        agree = single is not None and _iou(rq, single) >= 0.8
        if marked or agree:
            first = partners[0]
            rq.cue = rq.cue or first.cue
            rq.speaker = rq.speaker or first.speaker
            rq.addressee = rq.addressee or first.addressee
            rq.evidence = [*rq.evidence, "tagger_agrees"]
            for tq in partners:
                del result[id(tq)]
            add(rq)
            continue
        for tq in partners:
            tq.cue = tq.cue or rq.cue
            tq.speaker = tq.speaker or rq.speaker
    ordered = [quote for _, quote in sorted(result.values(), key=lambda entry: entry[0])]
    ordered.sort(key=lambda q: (q.start, q.end))
    kept: list[Quote] = []
    tagged_cues = doc.tagged_roles.get("cue", []) if doc is not None else []
    by_cue = IntervalIndex(tagged_cues)
    for quote in ordered:
        if kept and quote.start < kept[-1].end:
            continue
        if quote.cue is not None and tagged_cues:
            near = by_cue.candidates(quote.cue.start - 2, quote.cue.end + 2)
            pieces = [tagged_cues[k] for k in near]
            quote.cue = _widen_cue(quote.cue, pieces, doc.text)
        kept.append(quote)
    return kept


def _widen_cue(cue: Span, pieces: list[Span], text: str) -> Span:
    """``cue`` joined with the tagged cue spans that overlap it or touch it (a space between)."""
    start, end = cue.start, cue.end
    for piece in sorted(pieces, key=lambda p: p.start):
        gap = text[end : piece.start] if piece.start >= end else text[piece.end : start]
        if (piece.start < end and piece.end > start) or gap in ("", " "):
            start, end = min(start, piece.start), max(end, piece.end)
    return cue if (start, end) == (cue.start, cue.end) else Span(start, end, text[start:end])


class HybridQuoteDetector:
    """Pipeline stage: rules and tagger over the same document, combined."""

    name = "quotes"

    def __init__(self, rules, tagger) -> None:  # QuoteDetector, QuoteTagger
        self.rules = rules
        self.tagger = tagger

    def __call__(self, doc: Document) -> Document:
        return self.batch([doc])[0]

    def batch(self, docs: list[Document]) -> list[Document]:
        """Several documents at once, so the tagger batches its windows across them."""
        for doc, tagged in zip(docs, self.tagger.detect_many(docs), strict=True):
            doc.quotes.extend(combine(self.rules.detect(doc), tagged, doc))
        return docs
