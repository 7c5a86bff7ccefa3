"""Rule-based quote detection: direct speech from quotation marks, reported speech from cues.

Reads the sentence/token layer (with lemma, POS and mood from morphology) and adds
``doc.quotes``. Each quote records which evidence fired, so errors can be traced to a rule.

Kinds:
- ``direct``: text in quotation marks that is a statement (not a scare quote or title);
- ``indirect``: a content clause governed by a cue (dass/ob/w-clause, a verb-second clause,
  a zu-infinitive, a clause framed by *laut X*, *X zufolge*, *nach Angaben von X*,
  *..., sagte X*, *wie X mitteilte*);
- ``mixed``: indirect speech that contains a partial direct quote;
- ``reported``: a speech act named by its verb, without a content clause
  (*Kerry drohte mit einem Abbruch der Gespräche*);
- ``free_indirect``: a Konjunktiv I sentence without a cue (it continues an earlier quote),
  or reportative *sollen* (*sollen ... getötet worden sein*).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quotestance.detect.clauses import (
    FINAL_PUNCT,
    NP_TAGS,
    Clause,
    clause_of,
    clauses,
    cue_with_correlate,
    finite_verbs,
    is_finite,
    is_subordinate,
    noun_phrase_after,
    noun_phrase_before,
    tag,
    trim_punct,
)
from quotestance.detect.lexicon import CueEntry, CueLexicon
from quotestance.detect.marks import QuotedSpan, pair_marks
from quotestance.document import Document, Mention, Quote, Sentence, Span, Token
from quotestance.intervals import IntervalIndex
from quotestance.text import content_words

# a direct quote of at most this many words needs a cue in its sentence to count as a quote
SHORT_QUOTE_WORDS = 3
# nouns that announce a title, name or slogan in quotation marks, not a statement
TITLE_NOUNS = {
    "Film",
    "Buch",
    "Roman",
    "Titel",
    "Motto",
    "Slogan",
    "Zeitung",
    "Magazin",
    "Sendung",
    "Song",
    "Lied",
    "Album",
    "Aktion",
    "Operation",
    "Projekt",
    "Programm",
    "Kampagne",
    "Serie",
    "Stück",
    "Schlagzeile",
    "Schlagwort",
    "Begriff",
    "Wort",
    "Name",
    "Spitzname",
    "Bezeichnung",
    "Studie",
    "Bericht",
    "Gesetz",
    "Initiative",
    "Bündnis",
    "Verein",
    "Gruppe",
    "Partei",
    "Ausstellung",
    "Show",
    "Festival",
    "Preis",
    "Marke",
    "Modell",
    "Spiel",
    "Website",
    "Blog",
}
TITLE_WORDS = {
    "namens",
    "genannt",
    "sogenannte",
    "sogenannten",
    "sogenannter",
    "so genannte",
    "so genannten",
    "Titel",
}
COMPLEMENTISERS = {"dass", "daß", "ob"}
# w-words that open an embedded question after a cue (not relative wobei/womit/wo)
W_WORDS = {
    "wer",
    "was",
    "wann",
    "warum",
    "wieso",
    "weshalb",
    "welche",
    "welcher",
    "welches",
    "welchen",
    "wem",
    "wen",
    "wohin",
    "woher",
    "inwieweit",
    "inwiefern",
    "wieviel",
    "wieviele",
}
SO_CUE = {"so"}
# SpkAtt-news cue count from which a verb may introduce indicative content
STRONG_CUE_COUNT = 5
# when several cues of a sentence yield content, the first rule family here wins
RULE_PRIORITY = (
    "cue_after_",
    "cue_dass_",
    "noun_",
    "attribution_",
    "cue_v2_",
    "cue_zu_",
    "cue_colon_",
    "speech_",
)


@dataclass
class Cue:
    """A cue word in a sentence: the head token, and the kind of cue it is."""

    sentence: Sentence
    index: int  # token index of the head
    lemma: str
    kind: str  # verb | noun | preposition | so
    speech_act: str | None = None
    news_count: int = 0  # how often SpkAtt news annotated the lemma as a cue

    @property
    def says(self) -> bool:
        """A verb of saying proper, frequent enough in news to introduce plain indicative
        content (*sagte, die Lage ist ernst*); rarer cues need a Konjunktiv in the content."""
        return self.news_count >= STRONG_CUE_COUNT

    @property
    def token(self) -> Token:
        return self.sentence.tokens[self.index]

    def span(self) -> Span:
        tok = self.token
        return Span(tok.start, tok.end, tok.text)


@dataclass
class Candidate:
    """A quote before merging: token range in one sentence or a character span."""

    start: int
    end: int
    kind: str
    cue: Cue | None = None
    speaker: tuple[int, int] | None = None  # character span of the speaker mention
    evidence: list[str] = field(default_factory=list)


class QuoteDetector:
    """Pipeline stage: finds direct and reported speech by rules and adds ``doc.quotes``."""

    name = "quotes"

    def __init__(self, lexicon: CueLexicon | None = None) -> None:
        self.lexicon = lexicon or CueLexicon.load()
        # id(sentence) -> (sentence, its cue words ignoring quotation marks), for one document
        self._cue_cache: dict[int, tuple[Sentence, list[tuple[int, str, str, int]]]] = {}

    def __call__(self, doc: Document) -> Document:
        doc.quotes.extend(self.detect(doc))
        return doc

    def detect(self, doc: Document) -> list[Quote]:
        """The quotes the rules find in a segmented, morphologically analysed document."""
        spans, stray = pair_marks(doc.text)
        if stray:
            doc.warnings.append(f"{len(stray)} unpaired quotation mark(s) ignored")
        outer = [s for s in spans if s.depth == 0]
        try:
            direct = [c for c in (self._direct(doc, s) for s in outer) if c is not None]
            reported = self._reported(doc, outer)
        finally:
            self._cue_cache.clear()
        return merge(doc, direct, reported)

    # ------------------------------------------------------------ direct speech

    def _direct(self, doc: Document, span: QuotedSpan) -> Candidate | None:
        inner = doc.text[span.inner_start : span.inner_end]
        words = content_words(inner)
        if not words:
            return None
        sent = doc.sentence_at(span.start)
        evidence = ["quote_marks"]
        if span.paragraphs > 1:
            evidence.append("multi_paragraph")
        if any(ch in inner for ch in "„‚»«\"'"):
            evidence.append("nested")
        cue = self._direct_cue(doc, span) if sent is not None else None
        before = doc.text[max(0, span.start - 40) : span.start]
        if _title_before(before):
            return None
        statement_like = len(words) > SHORT_QUOTE_WORDS or any(ch in inner for ch in ".!?")
        if (
            statement_like
            and not any(ch in inner for ch in ".!?:;")
            and not _has_verb_between(doc, span.inner_start, span.inner_end)
        ):
            prev = before.split()[-2:]
            introduced = bool(prev) and (
                prev[-1].lower() in INTRODUCERS
                or (len(prev) == 2 and prev[0].lower() == "als" and prev[1].lower() in ARTICLES)
            )
            if not introduced and (words[0][:1].isupper() or cue is None):
                return None  # a verbless capitalised phrase: a title or name ("„Bau der ...“")
            evidence.append("verbless_phrase")
        if not statement_like:
            verdict = _short_quote_verdict(words, cue, before)
            if verdict is None:
                return None  # a name, title or scare quote rather than a statement
            evidence.append(verdict)
        cand = Candidate(span.start, span.end, "direct", cue=cue, evidence=evidence)
        if cue is not None:
            cand.evidence.append(f"cue_{cue.kind}")
            cand.speaker = self._speaker_of_cue(cue)
        return cand

    def _direct_cue(self, doc: Document, span: QuotedSpan) -> Cue | None:
        """The cue of a direct quote: in its sentence outside the marks, or a colon before."""
        first = doc.sentence_at(span.start)
        last = doc.sentence_at(span.end - 1) or first
        if first is None:
            return None
        candidates: list[Cue] = []
        for sent in {first.index: first, last.index: last}.values():
            inside = _inside_marks(sent, span)
            for cue in self._cues(sent, inside):
                candidates.append(cue)
        if candidates:
            # prefer the cue nearest after the quote (", sagte er"), else the nearest before
            after = [c for c in candidates if c.token.start >= span.end]
            if after:
                return min(after, key=lambda c: c.token.start)
            verbs = [c for c in candidates if c.kind == "verb"] or candidates
            return max(verbs, key=lambda c: c.token.start)
        # "Er sagte:" at the end of the previous sentence
        prev_index = first.index - 1
        before = doc.text[max(0, span.start - 3) : span.start].strip()
        if prev_index >= 0 and (before.endswith(":") or first.start < span.start):
            prev = doc.sentences[prev_index]
            if doc.text[prev.start : span.start].rstrip().endswith(":"):
                cues = self._cues(prev, [False] * len(prev.tokens))
                if cues:
                    return cues[-1]
        return None

    # ------------------------------------------------------------ cues

    def _cues(self, sent: Sentence, inside: list[bool]) -> list[Cue]:
        """Cue words of a sentence outside quotation marks, in order."""
        cached = self._cue_cache.get(id(sent))
        if cached is None or cached[0] is not sent:
            # a sentence is read once for all the quotes in it (each with its own marks)
            cached = self._cue_cache[id(sent)] = (sent, self._sentence_cues(sent))
        return [
            Cue(sent, i, lemma, kind, news_count=count)
            for i, lemma, kind, count in cached[1]
            if not inside[i]
        ]

    def _sentence_cues(self, sent: Sentence) -> list[tuple[int, str, str, int]]:
        """(token index, lemma, kind, news count) of every cue word of a sentence."""
        toks = sent.tokens
        particles = {i: tok.text.lower() for i, tok in enumerate(toks) if tag(tok) == "PTKVZ"}
        words = [tok.text.lower() for tok in toks]
        found: list[tuple[int, str, str, int]] = []
        for i, tok in enumerate(toks):
            t = tag(tok)
            lemma = tok.lemma or tok.text
            if t.startswith("VV") or (t.startswith("V") and lemma in ("heißen",)):
                entry = self._verb_entry(lemma, [p for j, p in particles.items() if j > i])
                if entry is not None and entry.trusted_for_news:
                    found.append((i, entry.lemma, "verb", entry.counts[0]))
                elif self.lexicon.speech_act_of(lemma, words) is not None:
                    # a verb that names an act only with its noun: "eine Mitschuld geben"
                    found.append((i, lemma, "verb", 0))
            elif t == "NN" and (noun := self.lexicon.noun(lemma)) and noun.trusted_for_news:
                found.append((i, lemma, "noun", 0))
            elif not t.startswith("V") and self.lexicon.preposition(tok.text.lower()):
                found.append((i, tok.text.lower(), "preposition", 0))
            elif tok.text.lower() in SO_CUE and i > 0 and toks[i - 1].text == ",":
                found.append((i, "so", "so", 0))
        return found

    def _verb_entry(self, lemma: str, particles: list[str]) -> CueEntry | None:
        """Look a verb up with the separable particles that follow it in its sentence.

        Morphology may have joined the particle already (*sagte ... weiter* ->
        *weitersagen*); then the particle verb is tried first and the base verb after it.
        """
        for particle in particles:
            if lemma.startswith(particle) and len(lemma) > len(particle) + 2:
                entry = self.lexicon.verb(lemma) or self.lexicon.verb(lemma[len(particle) :])
            else:
                entry = self.lexicon.particle_verb(lemma, particle)
            if entry is not None:
                return entry
        return self.lexicon.verb(lemma)

    def _speaker_of_cue(self, cue: Cue) -> tuple[int, int] | None:
        """The subject noun phrase of a cue verb, or the noun phrase of a cue preposition."""
        sent, i = cue.sentence, cue.index
        toks = sent.tokens
        span: tuple[int, int] | None = None
        if cue.kind in ("so", "preposition") and cue.lemma != "zufolge":
            span = noun_phrase_after(sent, i + 1, len(toks))
            if span and cue.lemma == "nach" and span[1] < len(toks):
                # "nach Angaben der Polizei": the genitive after the cue noun names the source
                gen = noun_phrase_after(sent, span[1], len(toks))
                if gen and tag(toks[span[1]]) == "ART":
                    span = gen
        elif cue.lemma == "zufolge":
            span = noun_phrase_before(sent, i, 0)
        elif cue.kind == "verb":
            clause_start = i
            while clause_start > 0 and toks[clause_start - 1].text not in {",", ";", ":"}:
                clause_start -= 1
            first_tag = tag(toks[clause_start]) if clause_start < i else ""
            if first_tag in ("PWAV", "KOUS", "KOKOM") or toks[clause_start].text == "wie":
                span = noun_phrase_after(sent, clause_start + 1, i)  # "wie X mitteilte"
            if span is None:
                after = noun_phrase_after(sent, i + 1, len(toks))
                before = noun_phrase_before(sent, i, clause_start)
                if before and all(tag(t) in NP_TAGS for t in toks[clause_start : before[0]]):
                    span = before  # "Der Kreml erklärte"
                elif after:
                    span = after  # ", sagte Sprecher John Kirby"
                elif not is_finite(toks[i]):
                    # "Kerry habe Lawrow gesagt": subject opens the clause before the auxiliary
                    span = noun_phrase_after(sent, clause_start, i)
                else:
                    span = before
        if span is None:
            return None
        return toks[span[0]].start, toks[span[1] - 1].end

    # ------------------------------------------------------------ reported speech

    def _reported(self, doc: Document, outer: list[QuotedSpan]) -> list[Candidate]:
        found: list[Candidate] = []
        previous_had_quote = False
        index = IntervalIndex(outer)
        for sent in doc.sentences:
            near = [outer[k] for k in index.candidates(sent.start, sent.end)]
            inside = _inside_any(sent, near)
            parts = clauses(sent, inside)
            cues = [c for c in self._cues(sent, inside) if c.kind != "so"]
            cands = self._from_cues(sent, parts, inside, cues)
            if not cands and (answer := _name_colon(sent, parts, inside)) is not None:
                cands = [answer]
            if not cands:
                cand = self._free_indirect(sent, parts, inside, cues, previous_had_quote)
                if cand is not None:
                    last = found[-1] if found else None
                    if last is not None and _continues(doc, last, cand):
                        # one free indirect passage over consecutive sentences
                        last.end = cand.end
                        last.kind = "mixed" if "mixed" in (last.kind, cand.kind) else last.kind
                        last.evidence.append("next_sentence")
                        previous_had_quote = True
                        continue
                    cands = [cand]
            found.extend(cands)
            quoted_here = any(q.start < sent.end and q.end > sent.start for q in near)
            previous_had_quote = bool(cands) or quoted_here
        return found

    def _from_cues(
        self, sent: Sentence, parts: list[Clause], inside: list[bool], cues: list[Cue]
    ) -> list[Candidate]:
        toks = sent.tokens
        options = []
        for cue in cues:
            k = clause_of(cue.index, parts)
            if k < 0:
                continue
            content = self._content_for(sent, parts, inside, cue, k)
            if content is not None:
                options.append((_priority(content[3]), cue, content))
        options.sort(key=lambda o: o[0])
        out: list[Candidate] = []
        for _, cue, content in options:
            start, end, kind, rule = content
            if kind == "indirect":
                end = _content_end(sent, start, end, inside, cues)  # verb cues only matter
            start, end = trim_punct(sent, start, end)
            if end <= start:
                continue
            speaker = self._speaker_of_cue(cue)
            if kind == "reported":
                end = _with_final_punct(sent, end)
                if speaker and speaker[0] < cue.token.start:
                    # the act is the whole clause from its subject on
                    start = next(i for i, t in enumerate(toks) if t.start >= speaker[0])
            cand = Candidate(toks[start].start, toks[end - 1].end, kind, cue=cue, evidence=[rule])
            cand.speaker = speaker
            if (
                cand.speaker
                and cand.start <= cand.speaker[0] < cand.end
                and kind == "indirect"
                and not rule.startswith("attribution_")
            ):
                continue  # the "content" holds the speaker: the rule misread the sentence
            out.append(cand)
            break  # one content per sentence from cues; the first matching cue wins
        return out

    def _content_for(
        self, sent: Sentence, parts: list[Clause], inside: list[bool], cue: Cue, k: int
    ) -> tuple[int, int, str, str] | None:
        """Token range and kind of what a cue introduces, and the rule that found it."""
        toks = sent.tokens
        n = len(toks)
        clause = parts[k]
        if cue.kind == "preposition":
            return _attribution_content(sent, parts, cue, k, self.lexicon)
        # the clause after the cue's clause, skipping appositions without a verb
        # ("meldete der Sender, Radio Vatikan, dass ...")
        j = k + 1
        while (
            j < len(parts) - 1
            and not _has_verb(parts[j], sent)
            and parts[j].end - parts[j].start <= 4
        ):
            j += 1
        nxt = parts[j] if j < len(parts) else None
        if cue.kind == "noun":
            if nxt is not None and _opens_with(sent, nxt, COMPLEMENTISERS):
                return nxt.start, n, "indirect", "noun_dass_clause"
            if (
                nxt is not None
                and not finite_verbs(nxt, sent, inside)
                and _has_zu_infinitive(nxt, sent)
            ):
                return nxt.start, nxt.end, "indirect", "noun_zu_infinitive"
            return None

        # (A) cue, dass/ob/w-clause
        if nxt is not None and (
            _opens_with(sent, nxt, COMPLEMENTISERS) or toks[nxt.start].text.lower() in W_WORDS
        ):
            return nxt.start, n, "indirect", "cue_dass_clause"
        finite_cue = is_finite(toks[cue.index])
        opener = toks[clause.start].text.lower()
        # (B) "content, sagte X" / "content, wie X sagte"
        cue_opens_clause = cue.index == clause.start or (
            cue.index == clause.start + 1 and opener in ("wie", "so")
        )
        if k > 0 and finite_cue and (cue_opens_clause or opener == "wie"):
            content_start = _content_start(sent, parts[:k])
            content_end = parts[k - 1].end
            main_clauses = [
                c
                for c in parts[:k]
                if c.start >= content_start
                and not is_subordinate(c, sent)
                and finite_verbs(c, sent, inside)
            ]
            if main_clauses or any(inside[content_start:content_end]):
                return content_start, content_end, "indirect", "cue_after_content"
        # (B') "Wie X meldete, soll ...": the attribution clause opens the sentence
        if k == 0 and opener == "wie" and finite_cue and nxt is not None:
            return nxt.start, n, "indirect", "cue_after_wie_clause"
        cue_ends_clause = cue.index >= clause.end - 3
        if (
            nxt is not None
            and not is_finite(toks[nxt.start])
            and (cue_ends_clause or not is_subordinate(nxt, sent))
        ):
            fins = finite_verbs(nxt, sent, inside)
            opens_subordinate = tag(toks[nxt.start]) in ("KOUS", "PWS", "PWAV", "KOKOM", "KON") or (
                toks[nxt.start].text.lower() == "so" and _opens_with(sent, nxt, {"so"})
            )
            subjunctive = any(toks[i].mood in ("subj1", "subj2") for i in fins)
            # (C) "X sagte, Y sei ...": a verb-second clause after the cue's clause
            if (
                fins
                and not opens_subordinate
                and (subjunctive or (cue_ends_clause and cue.says))
                and toks[clause.end - 1].text != ":"
            ):
                return nxt.start, n, "indirect", "cue_v2_clause"
            # (D) "X drohte, ... abzubrechen": a zu-infinitive clause
            if not fins and _has_zu_infinitive(nxt, sent):
                return nxt.start, nxt.end, "indirect", "cue_zu_infinitive"
        # (E) "X sagte: Y sei ..." without quotation marks
        if clause.end < n and toks[clause.end].text == ":" and k + 1 < len(parts):
            after = parts[k + 1]
            if any(toks[i].mood in ("subj1", "subj2") for i in finite_verbs(after, sent, inside)):
                return after.start, n, "indirect", "cue_colon"
        # (F) a speech act named by its verb, no content clause
        act = self.lexicon.speech_act_of(cue.lemma, [t.text.lower() for t in toks])
        if act is not None and finite_cue and not _passive(sent, cue.index):
            cue.speech_act = act
            return 0, n, "reported", f"speech_act_verb_{act}"
        return None

    def _free_indirect(
        self,
        sent: Sentence,
        parts: list[Clause],
        inside: list[bool],
        cues: list[Cue],
        previous_had_quote: bool,
    ) -> Candidate | None:
        toks = sent.tokens
        if not toks:
            return None
        main_moods = [
            toks[i].mood
            for clause in parts
            if not is_subordinate(clause, sent)
            for i in finite_verbs(clause, sent, inside)
        ]
        evidence = None
        if "subj1" in main_moods:
            evidence = "konjunktiv_i_main_clause"
        elif "subj2" in main_moods and previous_had_quote:
            evidence = "konjunktiv_ii_continuation"
        elif _reportative_sollen(sent, inside):
            evidence = "reportative_sollen"
        if evidence is None:
            return None
        kind = "mixed" if any(inside) else "free_indirect"
        start, end = 0, len(toks)
        while start < end and toks[start].text in ("-", "–"):
            start += 1
        return Candidate(toks[start].start, toks[end - 1].end, kind, evidence=[evidence])


# ---------------------------------------------------------------- helpers


FUNCTION_WORDS = {
    "der",
    "die",
    "das",
    "des",
    "dem",
    "den",
    "und",
    "oder",
    "of",
    "the",
    "de",
    "la",
    "le",
    "von",
    "für",
    "im",
    "in",
    "am",
    "an",
    "zu",
    "zur",
    "zum",
    "and",
    "ohne",
    "gegen",
    "mit",
    "über",
    "auf",
    "bei",
    "nach",
    "aus",
    "vom",
}
ARTICLES = {"der", "die", "das", "den", "dem", "des"}
INTRODUCERS = {"ein", "eine", "einen", "einem", "einer", "eines", "als", "von", "vor"}


def _short_quote_verdict(words: list[str], cue: Cue | None, before: str) -> str | None:
    """Keep a short quoted phrase only when it reads as someone's wording, not a name.

    Evaluative phrases (*„aus der Luft gegriffen“*, *„völlig unrealistisch“*) start with a
    lowercase word; names and titles (*„Hamburger Abendblatt“*, *„SAR 71“*) are
    start with a capital. A capitalised phrase counts only after *ein(e)* or *als* with a
    verb cue in the sentence (*nannte den Bericht eine „Zeitungsente“*).
    """
    content = [w.strip(".,;:!?()[]") for w in words]
    content = [w for w in content if w and w.lower() not in FUNCTION_WORDS]
    if not content or any(ch.isdigit() for w in content for ch in w):
        return None
    if content[0][0].islower() and words[0][0].islower():
        if len(words) == 1 and (cue is None or cue.kind != "verb"):
            return None  # one lowercase word with no verb to govern it: a scare quote
        return "short_lowercase_phrase"
    previous = before.split()[-1:] or [""]
    if cue is not None and cue.kind == "verb" and previous[0].lower() in INTRODUCERS:
        return "short_noun_with_cue"
    return None


def _is_cue_noun(lexicon: CueLexicon, lemma: str) -> bool:
    """A cue noun, or a compound ending in one (*Fernsehbericht*, *Militärangaben*)."""
    if lexicon.noun(lemma) is not None:
        return True
    return any(lexicon.noun(lemma[k:].capitalize()) is not None for k in range(2, len(lemma) - 4))


def _continues(doc: Document, last: Candidate, cand: Candidate) -> bool:
    """``cand`` directly follows a free indirect passage ``last`` in the same paragraph."""
    if last.kind not in ("free_indirect", "mixed") or last.cue is not None:
        return False
    gap = doc.text[last.end : cand.start]
    return "\n\n" not in gap and len(gap.strip()) <= 2


def _priority(rule: str) -> int:
    return next((k for k, prefix in enumerate(RULE_PRIORITY) if rule.startswith(prefix)), 99)


def _has_verb_between(doc: Document, start: int, end: int) -> bool:
    """Whether any token tagged as a verb lies in ``[start, end)`` (quotes may cross sentences)."""
    first = doc.sentence_at(start)
    if first is None:
        return False
    for sent in doc.sentences[first.index :]:
        if sent.start >= end:
            break
        for tok in sent.tokens:
            if start <= tok.start < end and tag(tok).startswith("V"):
                return True
    return False


def _inside_marks(sent: Sentence, span: QuotedSpan) -> list[bool]:
    return [span.start <= tok.start < span.end for tok in sent.tokens]


def _inside_any(sent: Sentence, spans: list[QuotedSpan]) -> list[bool]:
    """Per token of ``sent``: whether it starts inside one of ``spans``."""
    index = IntervalIndex(spans)
    return [index.covers(tok.start) for tok in sent.tokens]


def _title_before(before: str) -> bool:
    words = before.replace("„", " ").replace('"', " ").split()
    if not words:
        return False
    last = words[-1].strip(",;:()")
    return (
        last in TITLE_NOUNS
        or last in TITLE_WORDS
        or (len(words) > 1 and f"{words[-2]} {last}" in TITLE_WORDS)
    )


def _opens_with(sent: Sentence, clause: Clause, words: set[str]) -> bool:
    """The clause starts with one of ``words``, or with *und/aber/auch* and then one of them."""
    toks = sent.tokens[clause.start : clause.start + 2]
    if not toks:
        return False
    if toks[0].text.lower() in words:
        return True
    return (
        len(toks) > 1
        and toks[0].text.lower() in ("und", "aber", "auch", "sondern", "oder")
        and toks[1].text.lower() in words
    )


def _content_start(sent: Sentence, prev_parts: list[Clause]) -> int:
    """Where content before a cue clause starts: after a leading attribution or colon."""
    start = prev_parts[0].start if prev_parts else 0
    for clause in prev_parts:
        if clause.start > 0 and sent.tokens[clause.start - 1].text == ":":
            start = clause.start
    return start


def _content_end(sent: Sentence, start: int, end: int, inside: list[bool], cues: list[Cue]) -> int:
    """Content stops at a colon or at a coordinated new cue (*und fügte hinzu: ...*)."""
    toks = sent.tokens
    cue_at = {c.index for c in cues if c.kind == "verb" and is_finite(c.token)}
    for i in range(start + 1, end):
        if inside[i]:
            continue
        if toks[i].text == ":":
            return i
        if i in cue_at and tag(toks[i - 1]) == "KON" and i - 1 > start:
            return i - 1
    return end


def _passive(sent: Sentence, index: int) -> bool:
    """A cue used in the passive (*wird kritisiert*, *wird ihm vorgeworfen*) reports no act."""
    return any(
        (t.lemma == "werden" or t.text.lower() in ("wird", "werden", "wurde", "wurden"))
        for t in sent.tokens
    ) and any(tag(t) == "VVPP" and (t.lemma == sent.tokens[index].lemma) for t in sent.tokens)


def _has_verb(clause: Clause, sent: Sentence) -> bool:
    return any(tag(t).startswith("V") for t in clause.tokens(sent))


def _has_zu_infinitive(clause: Clause, sent: Sentence) -> bool:
    """*zu* + infinitive, or an infinitive with *zu* inside (*abzubrechen*, *auszusetzen*)."""
    toks = clause.tokens(sent)
    for k, t in enumerate(toks):
        t_tag = tag(t)
        if t_tag == "VVIZU" or (t_tag == "PTKZU" and k + 1 < len(toks)):
            return True
        word = t.text.lower()
        if t_tag.startswith("VV") and word.endswith("en") and "zu" in word[2:-3]:
            return True
    return False


NAME_COLON_MAX_TOKENS = 3
NAME_COLON_MIN_WORDS = 3


def _name_colon(sent: Sentence, parts: list[Clause], inside: list[bool]) -> Candidate | None:
    """(G) An interview answer after its speaker's name: *Stiftner: Das hat … zu tun.*

    The sentence opens with one to three capitalised words, at least one a proper noun (so
    *Zum Vergleich:* or *Fazit:* are not names), then a colon, then unmarked content with a
    finite verb; the name is the speaker. Quoted content after a colon is direct speech
    and handled there.
    """
    toks = sent.tokens
    if len(parts) < 2:
        return None
    name = parts[0]
    if not (1 <= name.end - name.start <= NAME_COLON_MAX_TOKENS) or name.start != 0:
        return None
    if name.end >= len(toks) or toks[name.end].text != ":" or any(inside[: name.end + 1]):
        return None
    words = name.tokens(sent)
    if not all(t.text[:1].isupper() for t in words) or not any(tag(t) == "NE" for t in words):
        return None
    start = name.end + 1
    body = [t for t in toks[start:] if any(ch.isalnum() for ch in t.text)]
    if start >= len(toks) or inside[start] or len(body) < NAME_COLON_MIN_WORDS:
        return None
    if not any(finite_verbs(part, sent, inside) for part in parts[1:]):
        return None
    cand = Candidate(toks[start].start, toks[-1].end, "direct", evidence=["name_colon"])
    cand.speaker = (words[0].start, words[-1].end)
    return cand


def _reportative_sollen(sent: Sentence, inside: list[bool]) -> bool:
    """*soll(en)* with a perfect infinitive: ``sollen ... getötet worden sein``."""
    toks = sent.tokens
    modal = [
        i
        for i, t in enumerate(toks)
        if not inside[i]
        and (t.lemma == "sollen" or t.text.lower() in ("soll", "sollen"))
        and is_finite(t)
    ]
    if not modal:
        return False
    tail = [t for t in toks[modal[0] + 1 :] if t.text not in FINAL_PUNCT and t.text != ","]
    for k in range(len(tail) - 1):
        participle = tag(tail[k]) in ("VVPP", "VAPP") or tail[k].text.lower() == "worden"
        if participle and tail[k + 1].text.lower() in ("haben", "sein"):
            return True
    return False


def _with_final_punct(sent: Sentence, end: int) -> int:
    if end < len(sent.tokens) and sent.tokens[end].text in FINAL_PUNCT:
        return end + 1
    return end


def _attribution_content(
    sent: Sentence, parts: list[Clause], cue: Cue, k: int, lexicon: CueLexicon
) -> tuple[int, int, str, str] | None:
    """*laut X*, *X zufolge*, *nach Angaben von X*: the rest of the sentence is the content.

    The attribution phrase is cut off where it opens or closes the sentence; in the middle
    (*Die Lage sei laut X ernst*) the whole sentence is the content.
    """
    toks = sent.tokens
    n = len(toks)
    clause = parts[k]
    if cue.lemma == "zufolge":
        np_span = noun_phrase_before(sent, cue.index, clause.start)
        pp_start, pp_end = (np_span[0] if np_span else cue.index), cue.index + 1
    else:
        pp_start, pp_end = cue.index, cue.index + 1
        while pp_end < clause.end and not is_finite(toks[pp_end]):
            t = tag(toks[pp_end])
            if t in ("$,", "$.", "KON") or (
                pp_end > cue.index + 1 and t in ("VVPP", "VVINF", "ADV", "PTKNEG", "ADJD")
            ):
                break
            pp_end += 1
    if cue.lemma in ("nach", "gemäß"):
        # only "nach Angaben / Ansicht / Informationen ... von X" attributes speech
        head = [t for t in toks[cue.index + 1 : pp_end] if tag(t) == "NN"][:1]
        if not head or not _is_cue_noun(lexicon, head[0].lemma or head[0].text):
            return None
    elif cue.lemma == "laut" and (
        cue.index + 1 >= n or tag(toks[cue.index + 1]) not in NP_TAGS | {"APPRART", "ADJA"}
    ):
        return None  # "Vorwürfe wurden laut": the adjective, not the preposition
    if is_subordinate(clause, sent):
        # "..., das nach Angaben eines Sprechers nicht abgeschlossen werden konnte"
        start, end = clause.start, clause.end
    elif pp_start <= clause.start + 1 and k == 0:
        start, end = pp_end, n
    elif pp_end >= clause.end - 1 and k == len(parts) - 1:
        start, end = 0, pp_start
    else:
        start, end = 0, n
    if not any(is_finite(t) for t in toks[start:end]):
        return None
    return start, end, "indirect", f"attribution_{cue.lemma}"


def merge(doc: Document, direct: list[Candidate], reported: list[Candidate]) -> list[Quote]:
    """Combine direct and reported candidates into non-overlapping quotes.

    A direct quote inside a longer reported span makes that span ``mixed``; a reported span
    that is (nearly) just a direct quote gives way to it, passing on its cue and speaker.
    """
    index = IntervalIndex(direct)  # the direct quotes near a span, in their order
    removed: set[int] = set()  # positions in ``direct`` of the quotes a mixed span took in
    result: list[Candidate] = []
    for cand in sorted(reported, key=lambda c: c.start):
        near = [(k, direct[k]) for k in index.candidates(cand.start - 1, cand.end + 1)]
        near = [(k, d) for k, d in near if k not in removed]
        inner = [d for _, d in near if d.start >= cand.start and d.end <= cand.end]
        overlapping = [d for _, d in near if d.start < cand.end and d.end > cand.start]
        if inner and len(inner) == len(overlapping):
            extra = doc.text[cand.start : cand.end]
            for d in inner:
                extra = extra.replace(doc.text[d.start : d.end], "")
            if len(content_words(extra)) >= 3:
                removed.update(k for k, d in near if d.start >= cand.start and d.end <= cand.end)
                cand.kind = "mixed"
                cand.evidence.append("contains_direct_quote")
                result.append(cand)
            else:
                for d in inner:
                    d.cue = d.cue or cand.cue
                    d.speaker = d.speaker or cand.speaker
            continue
        if overlapping:
            # partial overlap: keep the direct quote, trim nothing, drop the weaker span
            continue
        result.append(cand)
    result.extend(d for k, d in enumerate(direct) if k not in removed)
    result.sort(key=lambda c: c.start)
    quotes: list[Quote] = []
    last_end = -1
    for cand in result:
        if cand.start < last_end:
            continue
        last_end = cand.end
        speaker = None
        if cand.speaker is not None:
            s, e = cand.speaker
            speaker = Mention(s, e, doc.text[s:e])
        quotes.append(
            Quote(
                start=cand.start,
                end=cand.end,
                text=doc.text[cand.start : cand.end],
                kind=cand.kind,
                cue=cue_with_correlate(doc, cand.cue.span() if cand.cue else None),
                speaker=speaker,
                evidence=cand.evidence,
            )
        )
    return quotes
