"""The target of a stance: the actor a threat, accusation or offer is aimed at.

Stance-labels.md: "as written in the text; it may be empty". Two ways, one stage:
- **learned** (default where ``targets.json`` is installed beside the stance model): every
  candidate mention of the quote's sentences (names, noun phrases, pronouns; not the speaker)
  is scored by a logistic regression over features of the pair (where it stands against the
  quote, its kind, whether it is a registry actor or the speaker's own side, the addressee,
  the preposition before it, the stance label); the best one is the target when its score
  reaches the threshold fitted on held-out quotes (``training/train_targets.py``);
- **rules** (fallback): the addressee; else, in the quote and then its sentence, the first
  actor other than the speaker's own side (registry actor or country word), else a name.
Quotes labelled ``none`` get no target.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from quotestance.document import Document, Mention, Quote
from quotestance.resources import resource_path
from quotestance.speakers.actors import ActorRegistry
from quotestance.speakers.mentions import Candidate, mentions_of
from quotestance.speakers.resolve import ParagraphCountries, paragraph_country

TARGET_MODEL = resource_path("stance_model", "targets.json")
PREPOSITIONS = {"gegen", "an", "mit", "von", "für", "über", "zu", "zwischen", "bei", "auf",
                "vor", "nach", "um", "aus", "in", "durch"}  # fmt: skip
TARGET_KINDS = ("name", "nominal", "pronoun")
ARTICLES = {"der", "die", "das", "dem", "den", "des", "ein", "eine", "einem", "einen", "einer"}
NEXT_WORDS = {"vor", "für", "an", "mit", "zu", ",", ".", "und", "sei", "habe", "hat", "werde",
              "wird", "müsse", "solle", "soll"}  # fmt: skip


@dataclass
class TargetScorer:
    """A logistic regression over (quote, candidate) features, stored as JSON weights."""

    weights: dict[str, float]
    bias: float
    threshold: float
    actor_heads: frozenset[str] = frozenset()  # head nouns of annotated speakers and targets

    @classmethod
    def load(cls, path: Path = TARGET_MODEL) -> TargetScorer | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        heads = frozenset(data.get("actor_heads", ()))
        return cls(data["weights"], data["bias"], data["threshold"], heads)

    def score(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def head_noun(text: str) -> str:
    """The last capitalised word of a mention, lower-cased (its head noun, roughly)."""
    for word in reversed(text.split()):
        word = word.strip(".,;:!?„“\"'()")
        if word[:1].isupper():
            return word.lower()
    return ""


def is_actor_head(head: str, heads: frozenset[str]) -> bool:
    """``head`` or a compound ending in a known actor noun (*Bundesregierung* by *regierung*)."""
    if not head:
        return False
    return any(head[k:] in heads for k in range(0, max(1, len(head) - 3)))


def _overlaps(a_start: int, a_end: int, b: Mention | None) -> bool:
    return b is not None and a_start < b.end and a_end > b.start


class TargetFinder:
    """Pipeline stage: sets ``quote.target`` for quotes with a stance other than ``none``."""

    name = "targets"

    def __init__(
        self, registry: ActorRegistry | None = None, scorer: TargetScorer | str | None = "auto"
    ) -> None:
        self.registry = registry or ActorRegistry.default()
        self.scorer = TargetScorer.load() if scorer == "auto" else scorer
        self.actor_heads: frozenset[str] = frozenset()  # when training, before a scorer exists
        self._countries: ParagraphCountries | None = None  # of the document being annotated
        self._country_memo: dict[str, str | None] = {}

    def _side(self, doc: Document, mention: Mention | None) -> set[str]:
        """Names the speaker's side goes by: its actor and affiliation where the resolver ran
        before this stage (the default pipeline: a pronoun speaker is its antecedent), else
        its registry actor, country words, and the country of its paragraph."""
        if mention is None:
            return set()
        if mention.actor is not None:
            return {name for name in (mention.actor, mention.affiliation) if name}
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

    def window(self, doc: Document, quote: Quote, previous: bool = False) -> tuple[int, int]:
        """Where targets are looked for: the quote's first sentence (with ``previous`` the
        sentence before it too) to the quote's end or that sentence's end, whichever is later."""
        sentence = doc.sentence_at(quote.start)
        if sentence is None:
            return quote.start, quote.end
        low = sentence.start
        if previous:
            touched = doc.sentences_overlapping(quote.start, quote.start + 1)
            if len(touched) and touched[0] > 0:
                low = doc.sentences[touched[0] - 1].start
        return low, max(quote.end, sentence.end)

    def features(
        self, doc: Document, quote: Quote, cand: Candidate, side: set[str], order: int
    ) -> dict[str, float]:
        """The pair's features; ``order``: the candidate's rank among the eligible ones
        inside the quote (0 = first) or -1 outside it."""
        label = quote.stance or "none"
        own = doc.sentence_at(quote.start)
        if quote.start <= cand.start < quote.end:
            where = "inside"
        elif own is not None and cand.start < own.start:
            where = "previous_sentence"
        elif cand.start < quote.start:
            where = "before"
        else:
            where = "after"
        actor = self._actor_of(cand)
        f: dict[str, float] = {
            f"where:{where}": 1.0,
            f"kind:{cand.kind}": 1.0,
            f"label:{label}&where:{where}": 1.0,
            f"label:{label}&kind:{cand.kind}": 1.0,
            "distance": min(abs(cand.start - quote.start), 400) / 100.0,
            "words": min(len(cand.text.split()), 6) / 3.0,
        }
        heads = self.scorer.actor_heads if self.scorer is not None else self.actor_heads
        if is_actor_head(head_noun(cand.text), heads):
            f["head:actor_noun"] = 1.0
        if order >= 0:
            f[f"order:{min(order, 3)}"] = 1.0
        if actor is not None:
            f["actor:other" if actor not in side else "actor:own_side"] = 1.0
        if _overlaps(cand.start, cand.end, quote.addressee):
            f["addressee"] = 1.0
        sent = doc.sentences[cand.sentence]
        if cand.first > 0:
            before = sent.tokens[cand.first - 1].text.lower()
            f[f"prev:{before}" if before in PREPOSITIONS else "prev:other"] = 1.0
        if cand.last < len(sent.tokens):
            after = sent.tokens[cand.last].text.lower()
            f[f"next:{after}" if after in NEXT_WORDS else "next:other"] = 1.0
        first_word = sent.tokens[cand.first].text.lower()
        if first_word in ARTICLES:
            f[f"article:{first_word}"] = 1.0
        if quote.cue is not None and cand.start >= quote.cue.end:
            f["after_cue"] = 1.0
        if cand.text.lower() in ("sie", "ihr", "ihnen", "euch"):
            f["addressed_you"] = 1.0
        return f

    def eligible(self, quote: Quote, cand: Candidate, low: int, high: int) -> bool:
        return (
            low <= cand.start < high
            and not _overlaps(cand.start, cand.end, quote.speaker)
            and cand.kind in TARGET_KINDS
        )

    def scored(
        self, doc: Document, quote: Quote, candidates: list[Candidate]
    ) -> list[tuple[Candidate, dict[str, float]]]:
        """The eligible candidates of a quote (``candidates`` already cut to its window)
        with their features, in text order."""
        low, high = self.window(doc, quote, previous=True)
        side = self._side(doc, quote.speaker)
        pool = [c for c in candidates if self.eligible(quote, c, low, high)]
        out, inside = [], 0
        for cand in pool:
            is_inside = quote.start <= cand.start < quote.end
            out.append((cand, self.features(doc, quote, cand, side, inside if is_inside else -1)))
            inside += is_inside
        return out

    def find(
        self,
        doc: Document,
        quote: Quote,
        candidates: list[Candidate],
        starts: list[int] | None = None,
    ) -> Mention | None:
        """``starts``: the candidates' start offsets (they are sorted by start), to look at
        the candidates of the quote's sentence only."""
        if starts is not None:
            low, high = self.window(doc, quote, previous=self.scorer is not None)
            candidates = candidates[bisect_left(starts, low) : bisect_left(starts, high)]
        if self.scorer is not None:
            best, best_p = None, 0.0
            for cand, feats in self.scored(doc, quote, candidates):
                p = self.scorer.score(feats)
                if p > best_p:
                    best, best_p = cand, p
            if best is None or best_p < self.scorer.threshold:
                return None
            return Mention(best.start, best.end, best.text)
        return self.find_by_rules(doc, quote, candidates)

    def find_by_rules(
        self, doc: Document, quote: Quote, candidates: list[Candidate]
    ) -> Mention | None:
        if quote.addressee is not None:
            return quote.addressee
        speaker = quote.speaker
        side = self._side(doc, speaker)
        low, high = self.window(doc, quote)

        def eligible(c: Candidate) -> bool:
            overlaps_speaker = (
                speaker is not None and c.start < speaker.end and c.end > speaker.start
            )
            return low <= c.start < high and not overlaps_speaker and c.kind in ("name", "nominal")

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
                candidates = mentions_of(doc)
                starts = candidates.starts
            quote.target = self.find(doc, quote, candidates, starts)
        self._countries = None
        return doc
