"""Speaker linking: rank the candidate mentions around a quote and pick the speaker.

A logistic-regression scorer over (quote, candidate) features: where the candidate stands
relative to the quote and its cue, what kind of phrase it is, whether the tagger marked it as a
source, whether it spoke the previous quote. Trained by ``training/train_speaker.py`` on
SpkAtt-news and GePaDe train documents; the weights are a small JSON file in
``quotestance/resources/speakers/``. Quotes are linked in text order, so a quote without a cue
can continue the speaker chosen for the one before: with the tagger, this stage alone decides
who continues speaking (detectors only propose sources). A learned scorer over the tagger's
states (``speakers/scorer.py``) can replace the regression's ranking where one is installed.
"""

from __future__ import annotations

import json
import logging
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from quotestance.detect.clauses import embedded_report, tag
from quotestance.document import Document, Mention, Quote
from quotestance.intervals import IntervalIndex
from quotestance.resources import resource_path
from quotestance.speakers.mentions import FIRST_PERSON, Candidate, mentions_of
from quotestance.speakers.pairs import pair_inputs

if TYPE_CHECKING:
    from quotestance.speakers.scorer import SpeakerScorer

DEFAULT_MODEL = resource_path("speakers", "linker.json")
WINDOW_BEFORE = 4  # sentences before the quote's first sentence
WINDOW_AFTER = 1  # sentences after its last
REPORT_PREPOSITIONS = {"laut", "nach", "zufolge", "von", "durch", "gegenüber"}
CONTINUATION_MIN_SOURCE_P = 0.1
log = logging.getLogger(__name__)
KINDS = ("direct", "indirect", "reported", "free_indirect", "mixed")


@dataclass
class QuoteContext:
    """What the features need to know about a quote, computed once per quote."""

    quote: Quote
    first: int  # sentence indices
    last: int
    paragraph: int
    cue_sentence: int | None
    cue_token: int | None  # index of the cue's first token in its sentence
    previous_speaker: tuple[int, int] | None = None  # chosen for the quote before
    other_quotes: list[tuple[int, int]] = field(default_factory=list)


def sentence_index(doc: Document, offset: int) -> int:
    lo, hi = 0, len(doc.sentences) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if doc.sentences[mid].start <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def quote_context(doc: Document, quote: Quote, quotes: IntervalIndex | None = None) -> QuoteContext:
    """What the features need to know of a quote. ``quotes``: an index of ``doc.quotes``; with
    it, ``other_quotes`` holds only the quotes that reach into the candidate window
    (``candidates_for``), which is all the features look at, instead of every quote."""
    first = sentence_index(doc, quote.start)
    last = sentence_index(doc, max(quote.start, quote.end - 1))
    cue_sentence = cue_token = None
    if quote.cue is not None:
        cue_sentence = sentence_index(doc, quote.cue.start)
        tokens = doc.sentences[cue_sentence].tokens
        cue_token = next(
            (k for k, t in enumerate(tokens) if t.end > quote.cue.start), len(tokens) - 1
        )
    if quotes is None:
        others = [(q.start, q.end) for q in doc.quotes if q is not quote]
    else:
        low = doc.sentences[max(0, first - WINDOW_BEFORE)].start
        high = doc.sentences[min(len(doc.sentences) - 1, last + WINDOW_AFTER)].end
        others = [
            (q.start, q.end)
            for q in (doc.quotes[k] for k in quotes.candidates(low, high))
            if q is not quote
        ]
    return QuoteContext(
        quote, first, last, doc.sentences[first].paragraph, cue_sentence, cue_token, None, others
    )


def features(doc: Document, ctx: QuoteContext, cand: Candidate) -> dict[str, float]:
    """Sparse binary (and a few graded) features of one candidate for one quote."""
    quote = ctx.quote
    f: dict[str, float] = {"bias": 1.0}
    offset = cand.sentence - ctx.first if cand.sentence < ctx.first else 0
    if cand.sentence > ctx.last:
        offset = cand.sentence - ctx.last
    f[f"sent_offset={max(-WINDOW_BEFORE, min(WINDOW_AFTER, offset))}"] = 1
    f[f"kind={cand.kind}"] = 1
    f[f"quote_kind={quote.kind}"] = 1
    f[f"kind={cand.kind}&quote_kind={quote.kind}"] = 1
    f[f"kind={cand.kind}&sent_offset={max(-2, min(1, offset))}"] = 1
    if cand.source_p:
        f["source_p"] = cand.source_p
        f[f"source_p>{int(cand.source_p * 4) / 4}"] = 1
        f[f"source_p&sent_offset={max(-2, min(1, offset))}"] = cand.source_p
    if cand.addressee_p > 0.5:
        f["addressee_p"] = cand.addressee_p
    if cand.tagged:
        f["tagged"] = 1
        f[f"tagged&sent_offset={max(-2, min(1, offset))}"] = 1
    if (
        quote.speaker is not None
        and cand.start < quote.speaker.end
        and cand.end > quote.speaker.start
    ):
        f["detector_speaker"] = 1
        if cand.start == quote.speaker.start and cand.end == quote.speaker.end:
            f["detector_speaker_exact"] = 1
    if (
        ctx.previous_speaker
        and cand.start < ctx.previous_speaker[1]
        and cand.end > ctx.previous_speaker[0]
    ):
        f["previous_speaker"] = 1
        f[f"previous_speaker&has_cue={quote.cue is not None}"] = 1
        if doc.sentences[cand.sentence].paragraph == ctx.paragraph:
            f[f"previous_speaker&same_paragraph&has_cue={quote.cue is not None}"] = 1
    if doc.sentences[cand.sentence].paragraph != ctx.paragraph:
        f["other_paragraph"] = 1
    if any(s < cand.end and e > cand.start for s, e in ctx.other_quotes):
        f["inside_other_quote"] = 1
    sent = doc.sentences[cand.sentence]
    before = sent.tokens[cand.first - 1] if cand.first > 0 else None
    after = sent.tokens[cand.last] if cand.last < len(sent.tokens) else None
    if before is not None:
        btag = tag(before)
        if before.text.lower() in REPORT_PREPOSITIONS:
            f[f"after_prep={before.text.lower()}"] = 1
        elif btag.startswith("APPR"):
            f["after_other_prep"] = 1
        if btag.endswith("FIN"):
            f["after_finite_verb"] = 1
        if btag == "$,":
            f["after_comma"] = 1
    else:
        f["sentence_initial"] = 1
    if after is not None:
        atag = tag(after)
        if atag.endswith("FIN"):
            f["before_finite_verb"] = 1
        if after.text.lower() == "zufolge":
            f["before_zufolge"] = 1
        if atag == "$,":
            f["before_comma"] = 1
    head = sent.tokens[cand.last - 1]
    f[f"head={(head.lemma or head.text).lower()}"] = 1
    f[f"first={sent.tokens[cand.first].text.lower()}"] = 1
    if cand.pronoun in FIRST_PERSON:
        f["first_person"] = 1
    if cand.text[:1].islower() and cand.kind != "pronoun":
        f["lowercase_start"] = 1
    for name in quote.evidence:
        f["evidence=" + ("speech_act" if name.startswith("speech_act_verb_") else name)] = 1
    if "detector_speaker" in f and any(e.startswith("speech_act_verb_") for e in quote.evidence):
        f["detector_speaker&speech_act"] = 1
    if quote.cue is None:
        f["no_cue"] = 1
        f[f"no_cue&sent_offset={max(-WINDOW_BEFORE, min(WINDOW_AFTER, offset))}"] = 1
    elif ctx.cue_sentence == cand.sentence and ctx.cue_token is not None:
        gap = (
            cand.first - ctx.cue_token
            if cand.first > ctx.cue_token
            else cand.last - ctx.cue_token - 1
        )
        bucket = "0" if gap == 1 or gap == 0 else ("near" if abs(gap) <= 3 else "far")
        side = "after" if cand.first > ctx.cue_token else "before"
        f[f"cue_{side}_{bucket}"] = 1
        f[f"cue_{side}_{bucket}&kind={cand.kind}"] = 1
        if cand.tagged:
            f[f"cue_{side}_{bucket}&tagged"] = 1
    else:
        f["cue_other_sentence"] = 1
    if cand.start >= quote.end:
        f["after_quote"] = 1
    elif cand.end > quote.start:
        f["inside_quote"] = 1
        f[f"inside_quote&kind={cand.kind}"] = 1
        f[f"inside_quote&quote_kind={quote.kind}"] = 1
        if cand.start - quote.start <= 2:
            f["quote_initial"] = 1
    f["log_chars"] = (
        math.log1p(
            abs(cand.start - quote.start if cand.start >= quote.end else quote.start - cand.end)
        )
        / 8
    )
    f["tokens"] = min(cand.last - cand.first, 12) / 12
    return f


def candidates_for(
    doc: Document, ctx: QuoteContext, candidates: list[Candidate]
) -> list[Candidate]:
    """Candidates in the window around the quote; inside a direct quote's marks, none."""
    low, high = ctx.first - WINDOW_BEFORE, ctx.last + WINDOW_AFTER
    quote = ctx.quote
    return [
        c
        for c in candidates
        if low <= c.sentence <= high
        and not (quote.kind == "direct" and c.start < quote.end and c.end > quote.start)
    ]


def load_scorer(path: Path | bool | None = None) -> SpeakerScorer | None:
    """The learned scorer, or None: when ``path`` is False, when torch or the weights are
    missing, or when it was trained on another tagger's states (they would mean nothing)."""
    if path is False:
        return None
    try:
        from quotestance.resources import model_versions
        from quotestance.speakers.scorer import DEFAULT_SCORER, SpeakerScorer, scorer_available
    except ImportError:
        return None
    path = Path(path or DEFAULT_SCORER)
    if not scorer_available(path):
        return None
    scorer = SpeakerScorer.load(path)
    if scorer.info.get("tagger_version") != model_versions()["tagger"]:
        log.warning("speaker scorer %s was trained on another tagger; not used", path)
        return None
    return scorer


def is_headline(doc: Document, index: int) -> bool:
    """A one-sentence paragraph without final punctuation: a title or subheading."""
    sent = doc.sentences[index]
    alone = all(
        s.paragraph != sent.paragraph or s is sent
        for s in doc.sentences[max(0, index - 1) : index + 2]
    )
    return alone and not sent.text.rstrip().endswith((".", "!", "?", "…", "“", '"', "»", "«", ":"))


class SpeakerLinker:
    """Pipeline stage: scores candidates and sets each quote's speaker to the best one (or
    none). With a learned scorer (``speakers.scorer``) and the tagger's states on the
    document, the scorer ranks and "nobody" competes in the same softmax; otherwise a saved
    logistic regression ranks and the best must reach its threshold."""

    name = "speakers"

    def __init__(
        self,
        weights: dict[str, float],
        intercept: float,
        threshold: float,
        scorer: SpeakerScorer | None = None,
    ) -> None:
        self.weights = weights
        self.intercept = intercept
        self.threshold = threshold
        self.scorer = scorer

    @classmethod
    def load(cls, path: Path | None = None, scorer: Path | bool | None = None) -> SpeakerLinker:
        """The logistic regression at ``path`` and the learned scorer at ``scorer`` (default:
        the shipped one when it was trained on the shipped tagger's states; False: none)."""
        data = json.loads(Path(path or DEFAULT_MODEL).read_text(encoding="utf-8"))
        return cls(data["weights"], data["intercept"], data["threshold"], load_scorer(scorer))

    def score(self, feats: dict[str, float]) -> float:
        z = self.intercept + sum(self.weights.get(k, 0.0) * v for k, v in feats.items())
        return 1.0 / (1.0 + math.exp(-z))

    def rank(
        self, doc: Document, ctx: QuoteContext, eligible: list[Candidate]
    ) -> tuple[list[tuple[float, Candidate]], float]:
        """Each eligible candidate's score and the score the best must reach."""
        feats = [features(doc, ctx, c) for c in eligible]
        if self.scorer is None or doc.encoding is None:
            return [(self.score(f), c) for f, c in zip(feats, eligible, strict=True)], (
                self.threshold
            )
        quote, cue = ctx.quote, ctx.quote.cue
        inputs = pair_inputs(
            doc.encoding, (quote.start, quote.end), (cue.start, cue.end) if cue else None,
            [(c.start, c.end) for c in eligible], feats,
        )  # fmt: skip
        nobody, probs = self.scorer.probabilities(inputs)
        return list(zip(probs, eligible, strict=True)), nobody

    def link(self, doc: Document) -> list[tuple[Quote, Candidate | None, float]]:
        """Each quote's best candidate (or None) and its score, in text order."""
        candidates = mentions_of(doc)
        by_sentence = [c.sentence for c in candidates]  # sorted: candidates are in text order
        quotes = IntervalIndex(doc.quotes)
        results = []
        previous: tuple[int, int] | None = None
        floor_kept = False
        for quote in sorted(doc.quotes, key=lambda q: (q.start, q.end)):
            ctx = quote_context(doc, quote, quotes)
            ctx.previous_speaker = previous
            window = candidates[
                bisect_left(by_sentence, ctx.first - WINDOW_BEFORE) : bisect_right(
                    by_sentence, ctx.last + WINDOW_AFTER
                )
            ]
            eligible = candidates_for(doc, ctx, window)
            if is_headline(doc, ctx.first):
                # a title names its own actors; it continues nobody's speech
                eligible = [
                    c for c in eligible if doc.sentences[c.sentence].paragraph == ctx.paragraph
                ]
            scored, floor = self.rank(doc, ctx, eligible)
            best = max(scored, key=lambda x: x[0], default=(0.0, None))
            chosen = best[1] if best[0] >= floor else None
            if (
                chosen is not None
                and quote.cue is None
                and chosen.sentence not in range(ctx.first, ctx.last + 1)
                and (chosen.start, chosen.end) != previous
                and chosen.source_p < CONTINUATION_MIN_SOURCE_P
            ):
                chosen = None  # a cue-less quote continues someone who spoke, not any phrase
            if quote.cue is None and floor_kept and previous is not None:
                # a cue-less quote after an embedded report continues the outer reporter
                chosen = next((c for _, c in scored if (c.start, c.end) == previous), chosen)
            results.append((quote, chosen, best[0]))
            floor_kept = False
            if chosen is not None:
                if embedded_report(doc, quote) and previous is not None:
                    floor_kept = True  # "Kerry habe Lawrow gesagt, dass ...": the floor stays
                    continue
                previous = (chosen.start, chosen.end)
        return results

    def __call__(self, doc: Document) -> Document:
        mentions = mentions_of(doc)
        for quote, cand, _ in self.link(doc):
            speaker = quote.speaker
            if speaker is not None and any(
                e.startswith("speech_act_verb_") for e in quote.evidence
            ):
                # a speech act's subject ("Kerry drohte ...") is the rules' surest speaker, up
                # to a second name written after it ("warf Lech Kaczyński | Wałęsa ... vor")
                end = mentions.cut(speaker.start, speaker.end)
                if end < speaker.end:
                    end = len(doc.text[:end].rstrip())
                    quote.speaker = Mention(speaker.start, end, doc.text[speaker.start : end])
                continue
            if cand is None:
                quote.speaker = None
            elif quote.speaker is None or (quote.speaker.start, quote.speaker.end) != (
                cand.start,
                cand.end,
            ):
                quote.speaker = Mention(cand.start, cand.end, cand.text)
        return doc
