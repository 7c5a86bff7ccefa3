"""Build the cue lexicon (quotestance/resources/cues/) from gold cue annotations: no training.

Inputs (declared; nothing else is read):
  - SpkAtt news train (task 2), minus the dev split of ``quotestance.corpora.split``
  - SpkAtt GePaDe train (task 1), all of it
  - Redewiedergabe main (``main/tsv``), minus the dev split
Outputs (in quotestance/resources/cues/ unless --out): cues.tsv, speech_acts.tsv, README.md.

usage: python training/build_cue_lexicon.py [--data DIR] [--out DIR] [--candidates FILE]

Each annotated cue (a list of tokens, possibly discontinuous) is tagged and lemmatised with
HanTa (for Redewiedergabe reading each word with the corpus' own STTS tag) and reduced to its
head: the content verb with a separated particle put back ("teilte ... mit" -> "mitteilen"),
the noun of a noun cue or of a support-verb construction ("übte Kritik" -> "Kritik"), a
quotative preposition ("laut", "zufolge", "nach") or a reportative adverb or modal ("so",
"demnach", "sollen"). Entries seen at least twice are kept, less a reviewed stop list; hand
additions fill gaps. Output is sorted, so a rerun on the same inputs gives the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from HanTa import HanoverTagger as ht

from quotestance.corpora.redewiedergabe import RWToken, iter_rw_tokens, rw_files
from quotestance.corpora.spkatt import read_cue_annotations
from quotestance.corpora.split import CORPUS_DIRS, is_dev, shared_data_dir
from quotestance.detect.lexicon import (
    CUE_COLUMNS,
    CUES_FILE,
    DATA_DIR,
    KINDS,
    SPEECH_ACT_COLUMNS,
    SPEECH_ACTS_FILE,
)

SOURCES = ("spkatt-news", "spkatt-gepade", "rw")
MANUAL_SOURCE = "manual"
MIN_COUNT = 2
MAX_FORMS = 4
REFLEXIVE_SHARE = 1 / 3  # a verb is reflexive when this share (and MIN_COUNT) of its cues are

Tagged = tuple[str, str, str]  # surface, lemma, HanTa tag such as "VV(FIN)"

# Words that open a quotation as prepositions; HanTa tags "laut" as an adjective.
QUOTATIVE_PREPOSITIONS = {"laut", "zufolge", "nach", "gemäß"}
# Separable verb particles. A word outside this set is never reattached ("davon" in "spricht
# davon", "über" in "äußerte sich über"), and HanTa's fused analyses are checked against it.
SEPARABLE_PARTICLES = {
    "ab", "an", "auf", "aus", "auseinander", "bei", "bekannt", "dar", "ein", "entgegen", "fest",
    "fort", "frei", "heim", "her", "heraus", "herum", "hervor", "hin", "hinaus", "hinein",
    "hinzu", "klar", "kund", "los", "mit", "nach", "nieder", "preis", "richtig", "statt",
    "teil", "um",
    "voran", "voraus", "vor", "wahr", "weg", "weis", "wieder", "zu", "zurück", "zusammen",
}  # fmt: skip
# Verb + preposition pairs whose preposition governs an object and is no particle, although
# the cue alone ("warnte vor") looks like a split particle verb ("vorwarnen").
PREPOSITIONAL_OBJECTS = {
    ("warnen", "vor"), ("begründen", "mit"), ("erklären", "mit"), ("drohen", "mit"),
    ("rechnen", "mit"), ("sprechen", "mit"), ("verhandeln", "mit"), ("wenden", "an"),
    ("appellieren", "an"), ("erinnern", "an"), ("denken", "an"), ("glauben", "an"),
    ("zweifeln", "an"), ("einigen", "auf"), ("bestehen", "auf"), ("verweisen", "auf"),
    ("drängen", "auf"), ("pochen", "auf"), ("fragen", "nach"), ("äußern", "zu"),
}  # fmt: skip
# Particle written apart before a non-finite verb in older spelling ("bekannt gegeben").
PREVERBAL_PARTICLES = {"bekannt"}
# Verbs with no cue meaning of their own beside a noun or adjective ("die Frage stellen",
# "Kritik üben", "das Wort erteilen", "deutlich machen"): there the verb is no cue.
SUPPORT_VERBS = {
    "abgeben", "bemühen", "bringen", "erheben", "erteilen", "fassen", "führen", "geben",
    "haben", "halten", "hegen", "herrschen", "kommen", "legen", "machen", "nehmen", "sein",
    "stellen", "teilen", "treffen", "üben", "vertreten", "vorherrschen", "wagen", "werden",
    "werfen", "ziehen",
}  # fmt: skip
ADVERB_TAGS = {"ADV", "PROAV", "PWAV", "ADJ(D)", "ADJ(A)", "PTKVZ"}
FUNCTION_WORDS = {"wie", "als", "es", "dass", "daß", "ob", "und", "man"}
NOUN_TAGS = ("NN", "NNI", "NNA")
# STTS (Redewiedergabe) -> HanTa tag names where they differ.
STTS_TO_HANTA = {
    "ADJA": "ADJ(A)", "ADJD": "ADJ(D)", "PAV": "PROAV", "PIDAT": "PIAT",
    **{f"V{a}{f}": f"V{a}({f})" for a in "VAM" for f in ("FIN", "INF", "IMP", "PP", "IZU")},
}  # fmt: skip
# HanTa lemmas that are wrong for these cue words (historical forms, nominalised infinitives
# read as plurals, "gehört" read as "gehören" where it is "hören").
LEMMA_FIXES = {
    "sannen": "sinnen", "logen": "lügen", "bäten": "bitten", "vergiß": "vergessen",
    "fluchten": "fluchen", "erlaßen": "erlassen", "plaudernden": "plaudern",
    "schalten": "schelten", "hinfügen": "hinzufügen", "schlechtzureden": "schlechtreden",
    "gehören": "hören", "Glauben": "Glaube", "Anerbiete": "Anerbieten",
}  # fmt: skip

# Reviewed candidates (seen at least twice) that are not quotation cues in news: verbs of
# motion, possession or appointment picked up from idioms or fiction, parliament document
# and procedure nouns (GePaDe marks "Antrag", "Gesetz", "Debatte" as speech events), body
# parts of idioms ("durch den Kopf gehen"), and adjectives of support-verb phrases.
STOP: dict[str, set[str]] = {
    "verb": {
        "abberufen", "anfangen", "anheben", "anhören", "aufgeben", "aufgreifen",
        "auseinandersetzen", "auftun", "ausbringen", "befehligen", "begnadigen", "beginnen",
        "beifallen", "bekommen", "beleuchten", "beraten", "berechnen", "beschäftigen",
        "bestellen", "bewegen", "bewilligen", "beziehen", "bieten", "bilden", "diffamieren",
        "diskreditieren", "dringen", "einbringen", "eingehen", "einschalten", "eintreten",
        "enthalten", "ergreifen", "erhalten", "erlassen", "ernennen", "erscheinen", "erwecken",
        "fahren", "fallen", "festschreiben", "folgen", "gebrauchen", "gedenken", "gehen",
        "greifen", "herausgeben", "herausverlangen", "hetzen", "hineinreden", "kennen",
        "klingen", "kündigen", "laden", "lassen", "lehnen", "liegen", "liefern", "nachlesen",
        "nachvollziehen", "planen", "räumen", "richten", "schicken", "schlagen",
        "schlechtreden", "setzen", "singen", "stimmen", "taufen", "tauschen", "treten", "tun",
        "unterschreiben", "unterzeichnen", "verabschieden", "verfallen", "verhalten",
        "verharmlosen", "versetzen", "verzeichnen", "vorkommen", "vorlegen", "vorliegen",
        "wahrnehmen", "weisen", "wenden", "zeichnen", "zittern", "zählen", "zuhören",
        "zurückkommen", "zwingen", "scheinen", "beten", "summen", "erteilen", "geben",
        "stellen", "machen", "kommen", "legen", "nehmen", "führen", "fassen", "teilen",
        "werfen", "vertreten", "erheben", "abgeben", "einschelten", "erweisen", "besorgen",
        "gelten", "behandeln", "beachten", "auftreten", "gewähren", "gewahren", "eröffnen",
        "vertrauen", "erstatten", "verschreiben", "überschreiben", "ausgeben", "auffahren",
        "abschreiben", "hinstellen", "demonstrieren", "präsentieren", "aufzeichnen",
        "bejubeln", "irren", "täuschen", "überschätzen", "voraussetzen", "beibringen",
        "beeidigen", "freisprechen", "grüßen", "anrufen", "anzeigen", "definieren", "jubeln",
        "aushandeln",
    },
    "noun": {
        "Abkommen", "Abschied", "Adresse", "AfD-Antrag", "Amendement", "Anforderung",
        "Angst", "Anhörung", "Anordnung", "Anrede", "Antrag", "Anzeige", "Artikel",
        "Asylantrag", "Aufklärung", "Auftrag", "Aufzählung", "Auge", "Auseinandersetzung",
        "Aussprache", "Austausch", "BAMF-Bescheid", "Beispiel", "Beitrag", "Belehrung",
        "Beratung", "Berufung", "Beschluß", "Bescheid", "Besetzungsrüge", "Besprechung",
        "Beweisantrag", "Befangenheitsantrag", "Bewilligung", "Bezug", "Bild", "Blatt",
        "Blick", "Brief", "Buch", "Bundestagsdebatte", "Dank", "Dankeschön", "Debatte",
        "Denken", "Dialog", "Disput", "Dokumentation", "Einbildung", "Einsicht", "Empfindung",
        "Entscheidung", "Entwurf", "Erlaubnis", "Ernennung", "Erwägung", "Erwähnung",
        "Evaluierungsbericht", "FDP-Antrag", "Fluch", "Fragestellung", "Gebet", "Gedicht",
        "Gedankenleben", "Gedächtnis", "Gefühl", "Gesagte", "Geschichte", "Geschrei",
        "Gesetz", "Gesetzentwurf", "Glückwunsch", "Gruß", "Gutachten", "Haltung", "Hetze",
        "INF-Vertrag", "Inschrift", "Interpellation", "Irrtum", "Kaiserrede", "Kenntnis",
        "Klartext", "Kommunikation", "Konversation", "Kopf", "Kunde", "Lesen", "Lesung",
        "Lippe", "Lippenbekenntnis", "Mund", "Nachruf", "Name", "Nennung", "Ohr", "Ordnung",
        "Perspektive", "Plan", "Position", "Propaganda", "Rat", "Redensart",
        "Regierungserklärung", "Rückmeldung", "Ruf", "Sag", "Sagen", "Satz", "Schlag",
        "Schreiben", "Schrift", "Seele", "Sinn", "Sonntagsrede", "Spott", "Sprache",
        "Stichwort", "Stimme", "Strafanzeige", "Strafkammerbericht", "Streit", "Thema",
        "Treuschwur", "Unterhaltung", "Unterredung", "Urteil", "Verbot", "Vereinbarung",
        "Verhandlung", "Verlangen", "Verordnung", "Verständigung", "Verständnis", "Vertrag",
        "Vertragswerk", "Versicherung", "Verwünschung", "Volksverhetzung", "Vorlage",
        "Vorsatz", "Vorschrift", "Vortrag", "Wissen", "Wunder", "Zeugnis", "Ziel",
        "Zurückweisung", "Zuhören", "Zuschrift", "Zustimmung", "Zwischenfrage", "Schweigen",
        "Sprechen", "Flüstern", "Nachdenken", "Vergessen", "Bemerken", "Befragen",
        "Gedankengang", "Einfall", "Erinnerung", "Geflüster", "Schrei", "Beichte", "Ahnung",
        "Gespräch", "Erzählung", "Lob", "Glosse", "Diskussion", "Denke", "Erzählen", "Hören",
        "Zureden",
    },
    "preposition": set(),
    "other": {
        "an", "aufmerksam", "beabsichtigt", "bedacht", "bedenklich", "begehrt", "bitte",
        "dankbar", "denkbar", "erwähnt", "erwünscht", "erzählt", "froh", "genannt", "gewiß",
        "heiß", "klar", "können", "recht", "richtig", "unzweifelhaft", "vertraut",
        "verwundert", "äußer", "bezeichnet", "dargelegt",
    },
}  # fmt: skip

# Hand additions: common news cues that the corpora miss or see once. (lemma, kind, particle)
MANUAL: list[tuple[str, str, str]] = [
    *((verb, "verb", "") for verb in (
        "dementieren", "bezichtigen", "unterstreichen", "bekräftigen", "beteuern", "betonen",
        "erklären", "sagen", "kritisieren", "verurteilen", "beschuldigen", "drohen", "warnen",
        "bestätigen", "bestreiten", "monieren", "rügen", "bemängeln", "mutmaßen",
        "spekulieren", "prophezeien", "verlautbaren", "resümieren", "bilanzieren",
        "kontern", "twittern", "signalisieren", "bekunden", "präzisieren", "ergänzen",
        "erläutern", "behaupten", "versichern", "befürchten", "vermuten", "beklagen",
        "bedauern", "begrüßen", "loben", "würdigen", "fordern", "verlangen", "appellieren",
        "mahnen", "ermahnen", "attackieren", "konstatieren", "zitieren", "melden",
    )),
    *((verb, "verb", particle) for verb, particle in (
        ("vorwerfen", "vor"), ("vorhalten", "vor"), ("androhen", "an"), ("ankündigen", "an"),
        ("anprangern", "an"), ("mitteilen", "mit"), ("einräumen", "ein"),
        ("zugeben", "zu"), ("zusagen", "zu"), ("zusichern", "zu"), ("anbieten", "an"),
        ("klarstellen", "klar"), ("richtigstellen", "richtig"), ("abstreiten", "ab"),
        ("zurückweisen", "zurück"), ("anmerken", "an"), ("einwenden", "ein"),
        ("hinzufügen", "hinzu"), ("hervorheben", "hervor"), ("vorhersagen", "vor"),
        ("bekanntgeben", "bekannt"), ("auffordern", "auf"), ("aufrufen", "auf"),
        ("ablehnen", "ab"), ("feststellen", "fest"), ("ausschließen", "aus"),
        ("eingestehen", "ein"),
    )),
    *((noun, "noun", "") for noun in (
        "Ultimatum", "Drohung", "Androhung", "Vorwurf", "Anschuldigung", "Beschuldigung",
        "Forderung", "Angabe", "Mitteilung", "Erklärung", "Aussage", "Stellungnahme",
        "Warnung", "Kritik", "Ankündigung", "Information", "Schätzung", "Dementi",
        "Einschätzung", "Darstellung", "Auskunft", "Bericht", "Meldung", "Äußerung",
        "Appell", "Aufruf", "Zusage", "Angebot", "Vorschlag", "Behauptung", "Verurteilung",
        "Bestätigung", "Zitat",
    )),
    ("angeblich", "other", ""),
    ("sollen", "other", ""),
]  # fmt: skip

# Cues that name a stance act themselves (shared/spec/stance-labels.md): (lemma, pattern, act).
# ``pattern`` lists the other words of the construction. "warnen vor" is a threat only when
# the warned-of step is the speaker's own, which the stance stage must decide: act "none".
SPEECH_ACTS: list[tuple[str, str, str]] = [
    ("drohen", "mit", "threat"),
    ("androhen", "", "threat"),
    ("Drohung", "mit", "threat"),
    ("Androhung", "", "threat"),
    ("Ultimatum", "stellen", "threat"),
    ("vorwerfen", "", "accusation"),
    ("Vorwurf", "", "accusation"),
    ("vorhalten", "", "accusation"),
    ("beschuldigen", "", "accusation"),
    ("Beschuldigung", "", "accusation"),
    ("Anschuldigung", "", "accusation"),
    ("bezichtigen", "", "accusation"),
    ("Mitschuld", "geben an", "accusation"),
    ("Schuld", "geben an", "accusation"),
    ("verantwortlich", "machen für", "accusation"),
    ("kritisieren", "", "accusation"),
    ("Kritik", "üben an", "accusation"),
    ("verurteilen", "", "accusation"),
    ("anprangern", "", "accusation"),
    ("besorgt", "sich zeigen über", "accusation"),
    ("anbieten", "", "cooperation"),
    ("Angebot", "machen", "cooperation"),
    ("zusagen", "", "cooperation"),
    ("zusichern", "", "cooperation"),
    ("Bereitschaft", "erklären zu", "cooperation"),
    ("bereit", "sich erklären zu", "cooperation"),
    ("vereinbaren", "", "cooperation"),
    ("einigen", "sich auf", "cooperation"),
    ("warnen", "vor", "none"),
    ("fordern", "", "none"),
    ("auffordern", "zu", "none"),
    ("appellieren", "an", "none"),
]


@dataclass
class Hit:
    """A cue head found in one annotation."""

    lemma: str
    kind: str
    particle: str = ""
    reflexive: bool = False


@dataclass
class Tally:
    """What the corpora say about one (lemma, kind)."""

    counts: Counter = field(default_factory=Counter)  # source -> count
    forms: Counter = field(default_factory=Counter)  # surface string of the whole cue
    particles: Counter = field(default_factory=Counter)
    reflexive: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@cache
def _tagger() -> ht.HanoverTagger:
    return ht.HanoverTagger("morphmodel_ger.pgz")


@cache
def _analyze(word: str, tag: str) -> tuple[str, str]:
    """(lemma, fused separable particle or "") of ``word`` read as ``tag``."""
    tagger = _tagger()
    lemma, _ = tagger.analyze(word, pos=tag, taglevel=1)
    lemma = LEMMA_FIXES.get(lemma, lemma)
    if "-" in word and tag in NOUN_TAGS:  # HanTa lowercases "INF-Vertrag" to "Inf-vertrag"
        cut = word.rindex("-") + 2  # keep the word's spelling up to the head's first letter
        lemma = word[:cut] + lemma[cut:]
    particle = ""
    if tag.startswith("VV"):
        _, morphemes, _ = tagger.analyze(word, pos=tag, taglevel=3)
        particle = "".join(m for m, kind in morphemes if kind == "PTKVZ_SEP")
        if particle not in SEPARABLE_PARTICLES or not lemma.startswith(particle):
            particle = ""
    return lemma, particle


def _best_reading(word: str, allowed: Iterable[str]) -> str | None:
    allowed = set(allowed)
    return next((tag for tag, _ in _tagger().tag_word(word) if tag in allowed), None)


@cache
def tag_words(words: tuple[str, ...]) -> tuple[Tagged, ...]:
    """Tag a SpkAtt cue's tokens with HanTa, out of their sentence.

    Without context HanTa reads some verbs as names or adjectives ("weiß", "formulierte"); a
    cue word is far more often a verb, so a lowercase word is never a noun, and an inflected
    adjective (or an uninflected one whose best reading is a participle) with a verb reading
    is taken as that verb.
    """
    tagged = []
    for word, _, tag in _tagger().tag_sent(list(words)):
        if word.islower() and tag in (*NOUN_TAGS, "NE"):
            tag = _best_reading(word, ("VV(FIN)", "VV(PP)", "VV(INF)", "ADJ(D)", "ADV")) or tag
        elif tag == "ADJ(A)" or (tag == "ADJ(D)" and _tagger().tag_word(word)[0][0] == "VV(PP)"):
            tag = _best_reading(word, ("VV(FIN)", "VV(PP)")) or tag
        tagged.append((word, _analyze(word, tag)[0], tag))
    return tuple(tagged)


def _rw_tag(word: str, stts: str) -> str:
    """HanTa tag for a Redewiedergabe word; STTS NN also covers nominalised infinitives."""
    if stts == "NN":
        return _best_reading(word, NOUN_TAGS) or "NN"
    return STTS_TO_HANTA.get(stts, stts)


def _separated_particle(tokens: list[Tagged], verb_index: int) -> str:
    """The particle of a split particle verb: after the finite verb, or before a participle."""
    _, lemma, tag = tokens[verb_index]
    candidates = []
    if tag.endswith("(FIN)"):
        for i in range(verb_index + 1, len(tokens)):
            w, _, t = tokens[i]
            last = i == len(tokens) - 1  # a preposition ending the cue has no object in it
            if t == "PTKVZ" or (last and t in ("APPR", "ADV", "APZR", "ADJ(D)")):
                candidates.append(w.lower())
    elif verb_index > 0 and tokens[verb_index - 1][0].lower() in PREVERBAL_PARTICLES:
        candidates.append(tokens[verb_index - 1][0].lower())
    for particle in reversed(candidates):
        if particle in SEPARABLE_PARTICLES and (lemma, particle) not in PREPOSITIONAL_OBJECTS:
            return particle
    return ""


def reduce_cue(tagged: Iterable[Tagged]) -> list[Hit]:
    """The cue heads of one annotation: usually one; a noun beside a full verb gives two."""
    tokens = [t for t in tagged if not t[2].startswith("$")]
    hits = [Hit(w.lower(), "preposition") for w, _, tag in tokens
            if w.lower() in QUOTATIVE_PREPOSITIONS and tag != "PTKVZ"]  # fmt: skip
    hits += [Hit(lemma, "noun") for _, lemma, tag in tokens if tag in NOUN_TAGS]
    companions = [t for t in tokens if t[2] in NOUN_TAGS or t[2].startswith("ADJ")]

    verbs = [i for i, t in enumerate(tokens) if t[2].startswith("VV")]
    if verbs:
        non_finite = [i for i in verbs if not tokens[i][2].endswith("(FIN)")]
        index = (non_finite or verbs)[-1]
        word, lemma, tag = tokens[index]
        particle = _analyze(word, tag)[1]
        if not particle:
            particle = _separated_particle(tokens, index)
            lemma = particle + lemma
        if not (companions and lemma in SUPPORT_VERBS):
            reflexive = any(t[2] == "PRF" for t in tokens)
            hits.append(Hit(lemma, "verb", particle, reflexive))
        return hits
    if hits:
        return hits
    modals = [lemma for _, lemma, tag in tokens if tag.startswith("VM")]
    if modals:
        return [Hit(modals[-1], "other")]
    rest = [lemma.lower() for w, lemma, tag in tokens
            if tag in ADVERB_TAGS and w.lower() not in FUNCTION_WORDS]  # fmt: skip
    return [Hit(rest[-1], "other")] if rest else []


Cue = tuple[str, list[str], tuple[Tagged, ...]]  # source, surface tokens, tagged tokens


def spkatt_cues(directory: Path, source: str, drop_dev: bool) -> Iterator[Cue]:
    """Every SpkAtt cue annotation of a folder, dev documents left out where asked."""
    for name, words, _ in read_cue_annotations(directory):
        if drop_dev and is_dev(name):
            continue
        yield source, words, tag_words(tuple(words))


def rw_cues(directory: Path) -> Iterator[Cue]:
    """Every Redewiedergabe ``intexpr`` (the tokens linked to one STWR ID), dev files left out.

    Lemmas come from HanTa on the normalised token read with the corpus' STTS tag: the lemma
    column often keeps the historical form ("weiß", "las", "sann").
    """
    for path in rw_files(directory):
        if is_dev(path.stem):
            continue
        groups: dict[str, list[RWToken]] = defaultdict(list)
        for token in iter_rw_tokens(path):
            for cue_id in token.intexpr:
                groups[cue_id].append(token)
        for cue_id in sorted(groups, key=int):
            tokens = groups[cue_id]
            tagged = []
            for t in tokens:
                word = t.normtok or t.tok
                tag = _rw_tag(word, t.pos)
                tagged.append((word, _analyze(word, tag)[0], tag))
            yield "rw", [t.tok for t in tokens], tuple(tagged)


def collect(data_dir: Path) -> tuple[dict[tuple[str, str], Tally], Counter]:
    """Tally every cue head of the three inputs by (lemma, kind); also annotations per source."""
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    annotations: Counter = Counter()
    streams = [
        spkatt_cues(data_dir / CORPUS_DIRS["spkatt-news"], "spkatt-news", drop_dev=True),
        spkatt_cues(data_dir / CORPUS_DIRS["spkatt-gepade"], "spkatt-gepade", drop_dev=False),
        rw_cues(data_dir / CORPUS_DIRS["redewiedergabe"]),
    ]
    for stream in streams:
        for source, words, tagged in stream:
            annotations[source] += 1
            for hit in reduce_cue(tagged):
                tally = tallies[(hit.lemma, hit.kind)]
                tally.counts[source] += 1
                tally.forms[" ".join(words)] += 1
                tally.particles[hit.particle] += 1
                tally.reflexive += hit.reflexive
    return tallies, annotations


def _row(lemma: str, kind: str, tally: Tally, manual_particle: str | None) -> dict[str, str]:
    """One cues.tsv row; ``manual_particle`` is set where the hand list keeps the entry."""
    particle = max(tally.particles.items(), key=lambda kv: (kv[1], kv[0]))[0] if tally.total else ""
    if manual_particle is not None and tally.total == 0:
        particle = manual_particle
    elif manual_particle is not None and manual_particle != particle:
        raise ValueError(f"MANUAL gives {lemma!r} particle {manual_particle!r}, data {particle!r}")
    reflexive = (
        kind == "verb"
        and tally.reflexive >= MIN_COUNT
        and tally.reflexive / tally.total >= REFLEXIVE_SHARE
    )
    forms = sorted(tally.forms.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FORMS]
    sources = [s for s in SOURCES if tally.counts[s]]
    if manual_particle is not None:
        sources.append(MANUAL_SOURCE)
    return {
        "lemma": lemma,
        "kind": kind,
        "particle": particle,
        "reflexive": "sich" if reflexive else "",
        "count_spkatt_news": str(tally.counts["spkatt-news"]),
        "count_spkatt_gepade": str(tally.counts["spkatt-gepade"]),
        "count_rw": str(tally.counts["rw"]),
        "forms": "|".join(form for form, _ in forms),
        "source": ";".join(sources),
    }


def select(tallies: dict[tuple[str, str], Tally]) -> list[dict[str, str]]:
    """Entries seen ``MIN_COUNT`` times and not stopped, plus the hand list; sorted.

    A hand-listed entry gets source ``manual`` only where the hand list is why it is kept
    (unseen, or seen once); an entry the corpora already keep is left as they give it.
    """
    manual = {(lemma, kind): particle for lemma, kind, particle in MANUAL}
    rows = []
    for key in sorted(tallies.keys() | manual.keys()):
        lemma, kind = key
        tally = tallies.get(key, Tally())
        frequent = tally.total >= MIN_COUNT and lemma not in STOP[kind]
        if frequent:
            rows.append(_row(lemma, kind, tally, None))
        elif key in manual:
            rows.append(_row(lemma, kind, tally, manual[key]))
    total = lambda row: sum(int(row[c]) for c in CUE_COLUMNS if c.startswith("count_"))  # noqa: E731
    return sorted(rows, key=lambda row: (KINDS.index(row["kind"]), -total(row), row["lemma"]))


def _write_tsv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> None:
    lines = ["\t".join(columns)] + ["\t".join(row[c] for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def summary_table(rows: list[dict[str, str]]) -> str:
    """Markdown table: entries per kind, and how many of them each source attests."""
    header = ["kind", "entries", *SOURCES, MANUAL_SOURCE]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for kind in (*KINDS, "all"):
        chosen = [r for r in rows if kind in (r["kind"], "all")]
        cells = [kind, str(len(chosen))]
        cells += [str(sum(s in r["source"].split(";") for r in chosen)) for s in header[2:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_readme(path: Path, rows: list[dict[str, str]], acts: int, annotations: Counter) -> None:
    path.write_text(
        README.format(
            table=summary_table(rows),
            entries=len(rows),
            acts=acts,
            news=annotations["spkatt-news"],
            gepade=annotations["spkatt-gepade"],
            rw=annotations["rw"],
            min_count=MIN_COUNT,
            max_forms=MAX_FORMS,
        ),
        encoding="utf-8",
    )


README = """# quotestance/resources/cues — the cue lexicon

Generated by `training/build_cue_lexicon.py`; do not edit by hand (edit the script's hand
lists and rerun). Loaded by `quotestance.detect.lexicon.CueLexicon.load()`.

## Files

`cues.tsv` ({entries} entries), one row per (lemma, kind), header line first, tab-separated:

- `lemma`: HanTa lemma; particle verbs with their particle (`mitteilen`).
- `kind`: `verb`; `noun` (Angabe, Vorwurf); `preposition` (laut, zufolge, nach, gemäß);
  `other` (reportative adverbs and modals: so, demnach, angeblich, sollen; adjectives of
  copula cues: bekannt, einig).
- `particle`: separable particle of a particle verb (`mit` for `mitteilen`), so that
  "teilte ... mit" matches base `teilen` + `mit`.
- `reflexive`: `sich` where at least a third (and at least {min_count}) of the verb's cues
  carry a reflexive pronoun (äußern, einigen, erhoffen).
- `count_spkatt_news`, `count_spkatt_gepade`, `count_rw`: how many gold cue annotations of
  each input have this head.
- `forms`: up to {max_forms} most frequent surface forms of the whole annotated cue,
  separated by a vertical bar.
- `source`: the inputs that attest it, `;`-separated (`spkatt-news`, `spkatt-gepade`, `rw`),
  plus `manual` where a hand addition is why the entry is kept (unseen, or seen once).

`speech_acts.tsv` ({acts} rows): cues that name a stance act themselves
(`shared/spec/stance-labels.md`: "Kerry drohte mit ..." is a threat by its cue). Columns
`lemma`, `pattern` (the other words of the construction, e.g. `mit` for "drohen mit",
`geben an` for "jdm. die Mitschuld geben an"; empty where the lemma alone names the act),
`act` (`threat`, `accusation`, `cooperation`, `none`), `source` (all `manual`). "warnen vor" is
`none`: it is a threat only when the warned-of step is the speaker's own, which the stance
stage has to decide from the object.

## How it was built

    .venv/bin/python training/build_cue_lexicon.py          # from the repository root

Inputs (shared/data, found as `quotestance.corpora.split.shared_data_dir()`):
SpkAtt news train without its dev split ({news} cue annotations), SpkAtt GePaDe train, all of
it ({gepade}), Redewiedergabe main without its dev split ({rw} `intexpr` cues). Dev documents
(`quotestance.corpora.split.is_dev`) never contribute. Each annotated cue is tagged with HanTa
(Redewiedergabe words read with the corpus' STTS tag) and reduced to its head: the full verb
with a separated particle reattached, the noun of a noun cue or support-verb construction
("übte Kritik" gives Kritik, not üben), a quotative preposition, or a reportative adverb or
modal. Heads seen at least {min_count} times are kept, less a reviewed stop list (verbs of
motion or appointment from idioms and fiction, parliament document nouns such as Antrag,
Gesetz, Debatte, lemma errors); a hand list adds common news cues the corpora miss. QUiTE's
verb list (no licence) was not used. Output is sorted (kind, then count, then lemma): reruns
give identical files.

Counts (entries per kind; the source columns count entries attested by each input):

{table}

Limits: a multi-word cue is reduced to one head, so "deutlich machen" or "zur Sprache
bringen" leave no entry; GePaDe and Redewiedergabe count thought and perception verbs (wissen,
glauben, sehen) and fiction speech verbs (rufen, murmeln) that are rarer in news; lemmas follow
HanTa, including its old spellings (Beschluß, Schluß); punctuation cues (the colon before a
quote, Redewiedergabe's dashes) are left to the detector's punctuation rules.

## Licences

Derived data. The counts, lemma lists and surface forms come from SpkAtt news (GermEval 2023
task 2, CC BY-NC-SA 4.0), Redewiedergabe (CC BY-NC-SA 4.0) and SpkAtt GePaDe (CC BY-SA 4.0),
so these files are shared under **CC BY-NC-SA 4.0**: attribution to the three corpora,
non-commercial use only, same licence for derivatives. Keep them out of anything shipped
commercially (a commercial build would have to rebuild from GePaDe and the hand lists alone).
`speech_acts.tsv` and the `manual` rows are hand-written and hold no corpus content. Cite
Rehbein et al. (GermEval 2023 SpkAtt) and Brunner et al. (LREC 2020).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="the shared/data folder (default: found)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder")
    parser.add_argument("--candidates", type=Path, help="also write every candidate, for review")
    args = parser.parse_args(argv)
    tallies, annotations = collect(args.data or shared_data_dir())
    rows = select(tallies)
    args.out.mkdir(parents=True, exist_ok=True)
    _write_tsv(args.out / CUES_FILE, CUE_COLUMNS, rows)
    acts = [
        dict(zip(SPEECH_ACT_COLUMNS, (*act, MANUAL_SOURCE), strict=True)) for act in SPEECH_ACTS
    ]
    _write_tsv(args.out / SPEECH_ACTS_FILE, SPEECH_ACT_COLUMNS, acts)
    write_readme(args.out / "README.md", rows, len(acts), annotations)
    if args.candidates:
        candidates = [_row(lemma, kind, t, None) for (lemma, kind), t in sorted(tallies.items())]
        _write_tsv(args.candidates, CUE_COLUMNS, candidates)
    print(f"{len(rows)} cues, {len(acts)} speech acts -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
