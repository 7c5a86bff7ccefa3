"""Verb mood by morphology: is a finite verb Konjunktiv I, Konjunktiv II, indicative or imperative?

Reported speech in German news is marked by Konjunktiv I ("er habe", "es gebe"), so the quote
detector needs the mood of every finite verb. A list of a dozen forms misses most verbs, so the
mood is decided from the verb's paradigm: HanTa (an HMM tagger with a morphological model)
gives the STTS tag and the lemma, ablaut conjugates the lemma, and the form's mood is the
paradigm cells it matches. A form that is Konjunktiv I and indicative in every person it could
be ("sie haben", "wir gehen") is not a reported-speech signal and is reported as "ind".

Speed: HanTa's own ``tag_sent`` runs its morphological analyser on every unknown word (most
compounds and names) and recomputes every lemma: about 4,000 tokens/s. Here HanTa's tables
are used directly. Word probabilities come from HanTa's lexicon, with a reformed-spelling
fallback ss -> ß (the model knows pre-1996 spelling), a compound-head lookup and, failing
that, a suffix model learned from the lexicon at load time; the sentence Viterbi only visits
the tags a word can have; the lemmatiser's morpheme Viterbi only visits known morphemes (same
result as HanTa's); lemmas and paradigms are memoised. Unknown nouns and names keep their
written form as lemma (HanTa's analyser would take milliseconds each). Scores and speed:
``training/score_mood.py`` -> ``reports/mood.md``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import ablaut
from HanTa import HanoverTagger as ht

from quotestance.document import Document

MOODS = ("subj1", "subj2", "ind", "imp")
FINITE_TAGS = frozenset({"VVFIN", "VAFIN", "VMFIN"})
IMPERATIVE_TAGS = frozenset({"VVIMP", "VAIMP"})
VERB_TAGS = FINITE_TAGS | IMPERATIVE_TAGS

_MODEL = "morphmodel_ger.pgz"
# HanTa's internal tag ids (fixed by HanoverTagger.py)
_EMPTY, _START, _END, _UNKNOWN = 0, 1, 2, 3
_LOWER_BOUND = -1e6
_STATE_BASE = 1024  # > any HanTa tag id (about 120); see _Tagger.tag
_BEAM = 5  # HanTa keeps the 5 best states per word (plus those within 1 log unit)
# Pruning beyond HanTa's: a word's tags more than 12 log units below its best, Viterbi states
# more than 8 below the column's best. No change in GSD POS accuracy or mood F1 (measured:
# training/score_mood.py), a third off the tagging time.
_TAG_CUTOFF = 12.0
_STATE_MARGIN = 8.0

# HanTa's lexicon has straight quotes only and knows "-" and "..." but not their typographic
# cousins; unknown punctuation would otherwise be tagged XY and confuse the tag sequence.
_PUNCT_NORMAL = {
    "„": '"',
    "“": '"',
    "”": '"',
    "»": '"',
    "«": '"',
    "‚": '"',
    "‘": '"',
    "’": '"',
    "›": '"',
    "‹": '"',
    "``": '"',
    "''": '"',
    "'": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "…": "...",
}
_OPENERS = frozenset({'"', "(", "-", ":"})
_OPENER_WORDS = _OPENERS | {w for w, n in _PUNCT_NORMAL.items() if n in _OPENERS}
# Unknown numbers are looked up as a known number of the same shape.
_NUMBER_SHAPES = (
    (re.compile(r"\d+\.$"), "14."),
    (re.compile(r"\d+([.,]\d+)+$"), "1,5"),
    (re.compile(r"\d+$"), "20"),
)
_MIN_HEAD = 4  # shortest compound head trusted for an unknown word
_SUFFIX_LEN, _SUFFIX_MIN, _SUFFIX_SMOOTH = 5, 8, 0.5  # suffix model for unknown words
_UNKNOWN_LP = -30.0  # any constant: only the differences between a word's tags matter
_OPEN_CLASS = frozenset(
    {
        "NN",
        "NE",
        "NNA",
        "NNI",
        "ADJ(A)",
        "ADJ(D)",
        "ADV",
        "VV(FIN)",
        "VV(INF)",
        "VV(PP)",
        "VV(IZU)",
        "VV(IMP)",
    }
)
# A compound head may lend its verb tags only through a verbal prefix ("ver"+"starb"), not
# through any string ("se"+"gelte" is not a verb). Particles combine: "zurückge", "wiederauf".
_VERB_PREFIX = re.compile(
    r"(?:ab|an|auf|aus|bei|be|dar|da|durch|ein|emp|ent|er|fest|fort|frei|ge|gegen|heim|her|hin"
    r"|hinter|hoch|los|miss|miß|mit|nach|nieder|statt|teil|über|um|unter|ver|voll|vor|weg|weiter"
    r"|wider|wieder|zer|zu|zurück|zusammen|entgegen|bereit|bekannt|fehl|kennen|klar|wahr|preis"
    r"|heraus|herein|hervor|herum|herunter|herauf|herbei|hinaus|hinein|hinzu|voran|voraus"
    r"|vorbei|empor)+"
)
_MIX_PENALTY = 3.0  # suffix-model tags added to a head's tags start this far below its best
# reformed spellings the (pre-1996) lexicon cannot reach by ss -> ß
_ALIASES = {"sodass": "daß"}
_STTS = {"ADJ(A)": "ADJA", "ADJ(D)": "ADJD", "NNA": "NN", "NNI": "NN", "UNKNOWN": "XY"}
_CLAUSE_BOUNDARY_TAGS = frozenset({"$,", "$.", "$("})
_SEPARABLE_HOSTS = frozenset({"VVFIN", "VVIMP"})
_THIRD_PERSON = frozenset({"er", "sie", "es", "man"})
_FIRST_PERSON = frozenset({"ich", "jch"})  # "Jch": the Fraktur spelling in older print


def _stts(hanta_tag: str) -> str:
    """HanTa writes "VV(FIN)", "ADJ(A)", "NNA"; the rest of the pipeline speaks plain STTS."""
    return _STTS.get(hanta_tag) or re.sub(r"^([A-Z]+)\(([A-Z]+)\)$", r"\1\2", hanta_tag)


def _fold(word: str) -> str:
    """Case and ß/ss folding, so old and reformed spellings match the same paradigm cell."""
    return word.lower().replace("ß", "ss")


# --------------------------------------------------------------------------------------------
# Paradigms and the mood decision


@dataclass(frozen=True)
class Paradigm:
    """Finite forms of one verb: folded form -> (mood, person index 0..5) readings."""

    cells: dict[str, frozenset[tuple[str, int]]]
    stem: str


def _cell_forms(cell: str | None) -> list[str]:
    """ "teile mit" -> ["teile", "mitteile"]: main-clause and verb-final spelling."""
    if not cell:
        return []
    words = cell.split()
    forms = [words[0]]
    if len(words) > 1:
        forms.append(words[-1] + words[0])
    return [_fold(f) for f in forms]


@lru_cache(maxsize=20000)
def paradigm(lemma: str) -> Paradigm | None:
    """The finite paradigm of ``lemma`` from ablaut; None if ablaut rejects it."""
    infinitive = lemma.strip().lower()
    if infinitive.startswith("sich "):
        infinitive = infinitive[5:]
    try:
        conj = ablaut.conjugate(infinitive)
    except ValueError:
        return None
    readings: dict[str, set[tuple[str, int]]] = {}
    tables = (
        ("ind", conj.present),
        ("ind", conj.preterite),
        ("subj1", conj.konjunktiv1),
        ("subj2", conj.konjunktiv2),
    )
    for mood, table in tables:
        for person, cell in enumerate(table):
            for form in _cell_forms(cell):
                readings.setdefault(form, set()).add((mood, person))
    for person, form in _weak_preterite(infinitive, conj.preterite):
        readings.setdefault(form, set()).add(("ind", person))
    for person, cell in zip((1, 4), conj.imperative, strict=True):
        for form in _cell_forms(cell):
            readings.setdefault(form, set()).add(("imp", person))
    cells = {form: frozenset(r) for form, r in readings.items()}
    return Paradigm(cells, _stem(infinitive))


def _weak_preterite(infinitive: str, preterite: list[str]) -> list[tuple[int, str]]:
    """(person, form) of the regular -te preterite. Mixed verbs have it beside the one ablaut
    gives ("wendete" beside "wandte"): it is indicative, not the Konjunktiv II ablaut lists.
    Not for umlaut stems, whose -te form is Konjunktiv II ("könnte", "müsste")."""
    stem = _stem(infinitive)
    if any(ch in stem for ch in "äöü"):
        return []
    words = (preterite[0] or "").split()
    particle = words[-1] if len(words) > 1 else ""
    if particle and stem.startswith(particle):
        stem = stem[len(particle) :]
    link = "e" if stem.endswith(("t", "d")) else ""
    out = []
    for person, ending in enumerate(("te", "test", "te", "ten", "tet", "ten")):
        form = stem + link + ending
        out.append((person, _fold(form)))
        if particle:
            out.append((person, _fold(particle + form)))
    return out


def _weak_infinitive(form: str) -> str | None:
    """The infinitive of ``form`` read as a weak preterite ("leisteten" -> "leisten")."""
    for ending in ("etest", "etet", "eten", "ete"):
        stem = form[: -len(ending)]
        if form.endswith(ending) and stem.endswith(("t", "d")) and len(stem) > 2:
            return stem + "en"
    for ending in ("test", "tet", "ten", "te"):
        stem = form[: -len(ending)]
        if form.endswith(ending) and len(stem) > 2:
            return stem + ("n" if stem.endswith(("el", "er")) else "en")
    return None


def _stem(infinitive: str) -> str:
    for ending in ("en", "n"):
        if infinitive.endswith(ending) and len(infinitive) > len(ending) + 1:
            return infinitive[: -len(ending)]
    return infinitive


def readings(form: str, lemma: str) -> frozenset[tuple[str, int]]:
    """All (mood, person) cells of ``lemma``'s paradigm that ``form`` fills (may be empty)."""
    para = paradigm(lemma)
    if para is None:
        return frozenset()
    return para.cells.get(_fold(form), frozenset())


def _decide(cells: frozenset[tuple[str, int]], imperative_tag: bool, first_person: bool) -> str:
    """A mood counts as distinctive only in a person where the indicative has another form."""
    first_person = first_person and any(p == 0 and m != "imp" for m, p in cells)
    persons = {0} if first_person else set(range(6))
    by_mood: dict[str, set[int]] = {m: set() for m in MOODS}
    for mood, person in cells:
        if person in persons or mood == "imp":
            by_mood[mood].add(person)
    ind = by_mood["ind"]
    if imperative_tag and by_mood["imp"]:
        return "imp"
    if by_mood["subj2"] - ind:
        return "subj2"
    if by_mood["subj1"] - ind:
        return "subj1"
    if ind or by_mood["subj1"] or by_mood["subj2"]:
        return "ind"
    return "imp" if by_mood["imp"] else "ind"


def _guess(form: str, lemma: str, first_person: bool) -> str:
    """Suffix fallback when the paradigm has no cell for the form (unknown or mis-lemmatised)."""
    word = _fold(form)
    base = _fold(lemma.split()[-1]) if lemma else ""
    stem = _stem(base)
    if stem and word.startswith(stem):
        ending = word[len(stem) :]
        if ending == "e" and not first_person:
            return "subj1"
        if ending in ("est", "et") and not stem.endswith(("t", "d")):
            return "subj1"
        return "ind"
    umlaut = any(ch in word for ch in "äöü") and not any(ch in base for ch in "äöü")
    if umlaut and word.endswith(("te", "ten", "tet", "test", "e", "en")):
        return "subj2"
    return "ind"


def _mood(form: str, lemma: str, pos: str, first_person: bool = False) -> str | None:
    if pos not in VERB_TAGS:
        return None
    cells = readings(form, lemma)
    if not cells:
        if pos in IMPERATIVE_TAGS:
            return "imp"
        return _guess(form, lemma, first_person)
    return _decide(cells, pos in IMPERATIVE_TAGS, first_person)


@lru_cache(maxsize=50000)
def _mood_cached(form: str, lemma: str, pos: str, first_person: bool) -> str | None:
    return _mood(form, lemma, pos, first_person)


def verb_mood(form: str, lemma: str, pos: str) -> str | None:
    """Mood of a verb form given its lemma and STTS tag; None unless the tag is finite/IMP.

    Forms whose Konjunktiv I equals the indicative ("haben", "gehen") get "ind"; a form that is
    1st person indicative and 3rd person Konjunktiv I ("habe", "komme") gets "subj1" here, and
    "ind" from ``MoodAnalyser`` when "ich" is in the clause.
    """
    return _mood_cached(form, lemma, pos, False)


def is_ambiguous_subj1(form: str, lemma: str) -> bool:
    """True for forms that are Konjunktiv I but also indicative in the same person ("haben")."""
    cells = readings(form, lemma)
    ind = {p for m, p in cells if m == "ind"}
    subj1 = {p for m, p in cells if m == "subj1"}
    return bool(subj1) and subj1 <= ind


# --------------------------------------------------------------------------------------------
# Fast tagging with HanTa's tables


@dataclass
class _Entry:
    """What the lexicon knows about one normalised word: tag log-probs and the lemma source."""

    probs: list[tuple[int, float]]
    lookup: str  # the word HanTa analyses for the lemma (the head of an unknown compound)
    prefix: str = ""  # the part of the word before ``lookup``
    variant: bool = False  # ``lookup`` is an old-spelling (ß) variant of the word
    guessed: bool = False  # tags guessed from the suffix: HanTa's analyser would be slow


class _Tagger:
    """HanTa's sentence HMM and lemmatiser, with memoised lexicon look-ups."""

    def __init__(self) -> None:
        self.hanta = ht.HanoverTagger(_MODEL)
        h = self.hanta
        self.lexicon: dict[str, list[tuple[int, float]]] = h.cache
        self.trans: dict[int, dict[int, float]] = {
            a * _STATE_BASE + b: followers for (a, b), followers in h.LP_trans_word.items()
        }
        self.open_class = frozenset(h.tag2int[t] for t in _OPEN_CLASS if t in h.tag2int)
        self.verb_tags = frozenset(i for i, t in h.int2tag.items() if t[:2] in ("VV", "VA", "VM"))
        self.noun_tags = frozenset(h.tag2int[t] for t in ("NN", "NE", "NNA", "NNI"))
        self.finite_vv, self.participle = h.tag2int["VV(FIN)"], h.tag2int["VV(PP)"]
        # tags whose HanTa lemma is the word itself (checked on SpkAtt news: 3 in 1,700 types
        # differ); skipping the analyser for them saves a tenth of the cold-start time
        self.as_written = frozenset(
            h.tag2int[t] for t in ("ADV", "FM", "CARD", "XY", "VV(INF)", "VA(INF)", "VM(INF)")
        )
        self.infinitive_like = frozenset({h.tag2int["VV(INF)"], self.finite_vv})  # "lasten"
        self.capitalised = h.capitalizedlemmata
        self.int2stts = {i: _stts(t) for i, t in h.int2tag.items()}
        self.suffixes = self._suffix_model()
        # morpheme -> {morpheme tag: log p}: lets the lemmatiser visit only known morphemes
        self.morphemes: dict[str, dict[int, float]] = {}
        for mtag, table in h.LP_m_t.items():
            for morpheme, lp in table.items():
                self.morphemes.setdefault(morpheme, {})[mtag] = lp
        self.morpheme_prefixes = {m[:k] for m in self.morphemes for k in range(1, len(m) + 1)}
        self._followers: dict[tuple[tuple[int, int], int], dict[int, float]] = {}
        # HanTa's _analyze calls self.analyze_viterbi; the instance attribute wins.
        h.analyze_viterbi = self._analyze_viterbi
        self._entries: dict[str, _Entry] = {}
        self._cond: dict[tuple[str, bool], tuple[tuple[int, float], ...]] = {}
        self._heads: dict[tuple[str, int], str] = {}
        self._lemmas: dict[tuple[str, int], str] = {}

    # -- lexicon --------------------------------------------------------------------------

    def _suffix_model(self) -> dict[str, list[tuple[int, float]]]:
        """P(tag | last 1-5 letters) over the lexicon's open-class words, for unknown words."""
        counts: dict[str, dict[int, int]] = {}
        for word, probs in self.lexicon.items():
            top = max(probs, key=lambda tp: tp[1])[0]
            if top not in self.open_class or not word.isalpha():
                continue
            for k in range(1, min(_SUFFIX_LEN, len(word) - 1) + 1):
                by_tag = counts.setdefault(word[-k:], {})
                by_tag[top] = by_tag.get(top, 0) + 1
        model = {}
        for suffix, by_tag in counts.items():
            total = sum(by_tag.values())
            if total < _SUFFIX_MIN:
                continue
            for noun in self.noun_tags:  # a name can end in anything
                by_tag.setdefault(noun, 0)
            denom = total + _SUFFIX_SMOOTH * len(by_tag)
            model[suffix] = [
                (tag, _UNKNOWN_LP + math.log((n + _SUFFIX_SMOOTH) / denom))
                for tag, n in by_tag.items()
            ]
        return model

    def _known(self, word: str) -> tuple[str, bool] | None:
        """``word`` or an old-spelling variant of it (muss -> muß) found in HanTa's lexicon."""
        if word in self.lexicon:
            return word, False
        if "ss" in word:
            variant = word.replace("ss", "ß")
            if variant in self.lexicon:
                return variant, True
            for i in range(len(word) - 1):
                if word.startswith("ss", i):
                    variant = word[:i] + "ß" + word[i + 2 :]
                    if variant in self.lexicon:
                        return variant, True
        return None

    def entry(self, norm: str) -> _Entry:
        """Tag probabilities for a lower-cased, normalised word (memoised)."""
        found = self._entries.get(norm)
        if found is None:
            found = self._entries[norm] = self._lookup(norm)
        return found

    def _lookup(self, norm: str) -> _Entry:
        alias = _ALIASES.get(norm)
        if alias:
            return _Entry(self.lexicon[alias], alias)
        known = self._known(norm)
        if known:
            return _Entry(self.lexicon[known[0]], known[0], "", known[1])
        for pattern, shape in _NUMBER_SHAPES:
            if pattern.match(norm):
                return _Entry(self.lexicon[shape], norm, guessed=True)
        guess = self._suffix_guess(norm)
        head = self._head(norm, guess)
        if head:
            return head
        if guess:
            return _Entry(guess, norm, guessed=True)
        return _Entry(self.hanta._tag_word(norm, casesensitive=False), norm)

    def _suffix_guess(self, norm: str) -> list[tuple[int, float]]:
        for k in range(min(_SUFFIX_LEN, len(norm) - 1), 0, -1):
            probs = self.suffixes.get(norm[-k:])
            if probs:
                return probs
        return []

    def _head(self, norm: str, guess: list[tuple[int, float]]) -> _Entry | None:
        """Longest known open-class suffix of an unknown word ("Außenminister" -> "minister").

        The head's tags are widened by the suffix guess (a noun may end in a verb form:
        "Nachkomme"), and a participle is possible after "ge" ("ge"+"freut").
        """
        start = norm.rfind("-") + 1 if "-" in norm[:-1] else 1
        for i in range(start, len(norm) - _MIN_HEAD + 1):
            known = self._known(norm[i:])
            if not known:
                continue
            prefix = norm[:i]
            verbal = _VERB_PREFIX.fullmatch(prefix) is not None
            probs = {
                t: p
                for t, p in self.lexicon[known[0]]
                if t in self.open_class and (verbal or t not in self.verb_tags)
            }
            if not probs:
                continue
            if prefix.endswith("ge") and self.finite_vv in probs:
                probs.setdefault(self.participle, probs[self.finite_vv])
            if guess:
                shift = max(probs.values()) - max(p for _, p in guess) - _MIX_PENALTY
                for t, p in guess:
                    probs.setdefault(t, p + shift)
            return _Entry(list(probs.items()), known[0], prefix, known[1])
        return None

    def word_probs(self, word: str, case_sensitive: bool) -> tuple[tuple[int, float], ...]:
        """(tag, log P(word | tag) - log P(tag)) with HanTa's case model, as its Viterbi uses;
        empty when nothing is known (then every tag may follow)."""
        key = (word, case_sensitive)
        probs = self._cond.get(key)
        if probs is None:
            entry = self.entry(normalise(word))
            upper = case_sensitive and word[:1].isupper()
            h = self.hanta
            scored = {}
            for tag, lp in entry.probs:
                if tag != _UNKNOWN:
                    if case_sensitive:
                        lp += h.LP_case_t[tag][upper]
                    lp -= h.LP_wtag[tag]
                scored[tag] = lp
            if _UNKNOWN in scored and len(scored) == 1:
                scored = {}
            top = max(scored.values(), default=0.0)
            probs = self._cond[key] = tuple(
                (t, lp) for t, lp in scored.items() if lp >= top - _TAG_CUTOFF
            )
        return probs

    # -- sentence ---------------------------------------------------------------------------

    def tag(self, words: list[str]) -> list[int]:
        """Best tag sequence: HanTa's second-order Viterbi, visiting only each word's tags.

        A state (previous tag, tag) is the int ``previous * _STATE_BASE + tag``: ints are not
        tracked by the garbage collector, tuples are, and a tuple per candidate made the
        collector a third of the run time.
        """
        if not words:
            return []
        prev: dict[int, float] = {_EMPTY * _STATE_BASE + _START: 0.0}
        backs: list[dict[int, int]] = []
        after_opener = True  # HanTa ignores case on the first word; so do we after „ or (
        for word in words:
            wprobs = self.word_probs(word, not after_opener)
            after_opener = after_opener and word in _OPENER_WORDS
            row, back = self._step(prev, wprobs)
            if not row and wprobs:
                row, back = self._step(prev, ())
            backs.append(back)
            prev = row
        best, state = -math.inf, None
        for st, lp0 in prev.items():
            lp = lp0 + self.trans.get(st, {}).get(_END, -math.inf)
            if state is None or lp > best:
                best, state = lp, st
        tags = []
        for back in reversed(backs):
            tags.append(state % _STATE_BASE)
            state = back[state]
        return tags[::-1]

    def _step(
        self, prev: dict[int, float], wprobs: tuple[tuple[int, float], ...]
    ) -> tuple[dict[int, float], dict[int, int]]:
        """One Viterbi column; HanTa's beam: the 5 best states and any within 1 log unit."""
        if len(prev) > _BEAM:
            bound = sorted(prev.values(), reverse=True)[_BEAM] - 1
        else:
            bound = _LOWER_BOUND
        bound = max(bound, max(prev.values()) - _STATE_MARGIN)
        row: dict[int, float] = {}
        back: dict[int, int] = {}
        trans = self.trans
        for state, lp0 in prev.items():
            if lp0 < bound:
                continue
            lp_t = trans.get(state)
            if not lp_t:
                continue
            last = (state % _STATE_BASE) * _STATE_BASE
            candidates = wprobs or tuple((c, 0.0) for c in lp_t if c != _END)
            for c, lpw in candidates:
                lp_c = lp_t.get(c)
                if lp_c is None:
                    continue
                lp = lp0 + lp_c + lpw
                new = last + c
                old = row.get(new)
                if old is None or lp > old:
                    row[new] = lp
                    back[new] = state
        return row, back

    # -- lemmas -----------------------------------------------------------------------------

    def lemma(self, word: str, tag: int) -> str:
        """HanTa's lemma of ``word`` under ``tag``, memoised; compounds via their head."""
        key = (word, tag)
        lemma = self._lemmas.get(key)
        if lemma is None:
            lemma = self._lemmas[key] = self._make_lemma(word, tag)
        return lemma

    def _make_lemma(self, word: str, tag: int) -> str:
        if word in _PUNCT_NORMAL or not word.strip() or tag in (_EMPTY, _START, _END, _UNKNOWN):
            return word
        norm = normalise(word)
        entry = self.entry(norm)
        if entry.prefix and all(t != tag for t, _ in self.lexicon[entry.lookup]):
            entry = _Entry(entry.probs, norm, guessed=True)  # the tag came from the suffix guess
        if entry.guessed or tag in self.as_written:
            if tag in self.verb_tags and tag not in self.as_written:
                return self._unknown_verb_lemma(norm, tag)
            # a rare name or noun: HanTa's analyser costs ms per word, and would mostly agree
            return word[:1].upper() + word[1:] if tag in self.capitalised else norm
        head = self._head_lemma(entry.lookup, tag)
        if entry.variant:
            head = _respell(head, norm[len(entry.prefix) :])
        if not entry.prefix:
            return head
        if entry.prefix.endswith("-"):
            return word[: len(entry.prefix)] + head
        lemma = entry.prefix + head.lower()
        return lemma[:1].upper() + lemma[1:] if tag in self.capitalised else lemma

    def _unknown_verb_lemma(self, norm: str, tag: int) -> str:
        """HanTa's lemma if the lexicon knows it as a verb form ("laste" -> "lasten") or its
        paradigm has the form; but an unknown verb in -te is read as a weak preterite
        ("stolzirte" -> "stolziren"), where HanTa tends to keep the t in the stem
        ("stolzirten"), which would make the form look like Konjunktiv I."""
        lemma = self._head_lemma(norm, tag)
        if any(t in self.infinitive_like for t, _ in self.lexicon.get(lemma, ())):
            return lemma
        weak = _weak_infinitive(norm)
        if weak and (norm.endswith("te") or not readings(norm, lemma)):
            return weak
        return lemma

    def _head_lemma(self, lookup: str, tag: int) -> str:
        key = (lookup, tag)
        lemma = self._heads.get(key)
        if lemma is None:
            try:
                lemma = self.hanta._analyze(lookup, tag, taglevel=1)[0]
            except (IndexError, KeyError):  # HanTa finds no morpheme path for odd strings
                lemma = lookup
            self._heads[key] = lemma
        return lemma

    def _analyze_viterbi(self, word: str, targetpos: int) -> list[tuple[int, int]]:
        """HanTa's morpheme Viterbi (same result), visiting only known morphemes.

        HanTa first tries a strict pass in which unknown morphemes score -inf, calling its
        scorer for every (start, end, tag): ~100 µs a word. Indexing the morphemes makes that
        pass cheap; only if it finds no path does HanTa's own method run (with guessing).
        """
        h = self.hanta
        wlen = len(word)
        reachable = h.reachability.get(targetpos, frozenset())
        table: list[dict[tuple[int, int], float]] = [{(_EMPTY, _START): 0.0}]
        table += [{} for _ in range(wlen + 1)]
        back: list[dict] = [{} for _ in range(wlen + 2)]
        for i in range(wlen + 1):
            row = table[i]
            if not row:
                continue
            segments = []
            for j in range(i + 1, wlen + 1):
                piece = word[i:j]
                if piece not in self.morpheme_prefixes:
                    break
                tags = self.morphemes.get(piece)
                if tags:
                    segments.append((j, tags))
            if not segments:
                continue
            bound = sorted(row.values(), reverse=True)[3] - 1 if len(row) > 3 else _LOWER_BOUND
            for state, lp in row.items():
                if lp < bound:
                    continue
                followers = self._followers_of(state, targetpos, reachable)
                last = state[1]
                for j, tags in segments:
                    cell, cell_back = table[j], back[j]
                    for mtag, lp_m in tags.items():
                        lp_t = followers.get(mtag)
                        if lp_t is None:
                            continue
                        lp1 = lp + lp_t + lp_m
                        if lp1 > _LOWER_BOUND:
                            new = (last, mtag)
                            if new not in cell or lp1 > cell[new]:
                                cell[new] = lp1
                                cell_back[new] = (state, i)
        final = table[-1]
        for state, lp in table[-2].items():
            for mtag, lp_t in h.LP_trans_final.get(state, []):
                if mtag == targetpos:
                    lp1 = lp + lp_t
                    new = (state[1], mtag)
                    if lp1 > _LOWER_BOUND and (new not in final or lp1 > final[new]):
                        final[new] = lp1
                        back[-1][new] = (state, wlen)
                    break
        if not final:
            return ht.HanoverTagger.analyze_viterbi(h, word, targetpos)
        state = max(final, key=final.__getitem__)
        i = wlen + 1
        path = [(state[1], i)]
        while True:
            state, i = back[i][state]
            if i == 0:
                return path[::-1]
            path.append((state[1], i))

    def _followers_of(
        self, state: tuple[int, int], targetpos: int, reachable: frozenset[int]
    ) -> dict[int, float]:
        key = (state, targetpos)
        found = self._followers.get(key)
        if found is None:
            found = self._followers[key] = {
                t: p for t, p in self.hanta.LP_trans_nonfinal.get(state, []) if t in reachable
            }
        return found


def normalise(word: str) -> str:
    """Lower-case, with typographic punctuation mapped to the forms HanTa's lexicon knows."""
    return _PUNCT_NORMAL.get(word) or word.lower()


def _respell(lemma: str, word: str) -> str:
    """Take a HanTa lemma found via an old ß spelling back to the spelling the text used."""
    modern = lemma.replace("ß", "ss")
    if modern == lemma:
        return lemma

    def common(a: str, b: str) -> int:
        n = 0
        for x, y in zip(a.lower(), b, strict=False):
            if x != y:
                break
            n += 1
        return n

    return modern if common(modern, word) > common(lemma, word) else lemma


# --------------------------------------------------------------------------------------------
# Pipeline stage


class MoodAnalyser:
    """Pipeline stage: fills Token.lemma, Token.pos and Token.mood on every token of doc.sentences."""  # noqa: E501

    name = "morphology"

    def __init__(self) -> None:
        self._tagger = _shared_tagger()

    def __call__(self, doc: Document) -> Document:
        for sent in doc.sentences:
            analysed = self.analyse([tok.text for tok in sent.tokens])
            for tok, (lemma, pos, mood) in zip(sent.tokens, analysed, strict=True):
                tok.lemma, tok.pos, tok.mood = lemma, pos, mood
        return doc

    def analyse(self, words: list[str]) -> list[tuple[str, str, str | None]]:
        """(lemma, STTS tag, mood) for each word of one sentence."""
        tagger = self._tagger
        tags = tagger.tag(words)
        pos = [tagger.int2stts[t] for t in tags]
        lemmas = [tagger.lemma(w, t) for w, t in zip(words, tags, strict=True)]
        moods = sentence_moods(words, pos, lemmas)
        return list(zip(lemmas, pos, moods, strict=True))


def sentence_moods(words: list[str], pos: list[str], lemmas: list[str]) -> list[str | None]:
    """Moods of one tagged sentence; joins separable particles into ``lemmas`` in place.

    Separate from the tagger so that any tagger's output (HanTa's own ``tag_sent`` in
    ``training/score_mood.py``) gets the same clause-level decisions.
    """
    _attach_particles(words, pos, lemmas)
    first = _first_person_clauses(words, pos)
    return [
        _mood_cached(word, lemma, tag, first[i]) if tag in VERB_TAGS else None
        for i, (word, tag, lemma) in enumerate(zip(words, pos, lemmas, strict=True))
    ]


@lru_cache(maxsize=1)
def _shared_tagger() -> _Tagger:
    """One HanTa model per process: loading it takes a fraction of a second, memory ~100 MB."""
    return _Tagger()


def _attach_particles(words: list[str], pos: list[str], lemmas: list[str]) -> None:
    """Separable verbs: "teile ... mit" gets lemma "mitteilen" on the finite verb."""
    for i, tag in enumerate(pos):
        if tag != "PTKVZ":
            continue
        for j in range(i - 1, -1, -1):
            if pos[j] in _SEPARABLE_HOSTS:
                particle = words[i].lower()
                if not lemmas[j].startswith(particle):
                    lemmas[j] = particle + lemmas[j]
                break
            if pos[j] == "PTKVZ":
                break


def _first_person_clauses(words: list[str], pos: list[str]) -> list[bool]:
    """Per token: is "ich" its likely subject? Its clause (between commas, quotes, sentence
    marks) has "ich", or it opens the sentence without a pronoun after it ("Habe die Ware
    bestellt": "ich" dropped), where a 3rd person Konjunktiv I would need one ("Sei es")."""
    flags = [False] * len(words)
    start = 0
    for i in range(len(words) + 1):
        if i == len(words) or pos[i] in _CLAUSE_BOUNDARY_TAGS:
            if any(words[k].lower() in _FIRST_PERSON for k in range(start, i)):
                for k in range(start, i):
                    flags[k] = True
            start = i + 1
    first = next((k for k, tag in enumerate(pos) if not tag.startswith("$")), None)
    if first is not None and pos[first] in VERB_TAGS:
        following = words[first + 1].lower() if first + 1 < len(words) else ""
        flags[first] = flags[first] or following not in _THIRD_PERSON
    return flags
