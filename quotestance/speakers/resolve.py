"""Resolve speaker, addressee and target mentions to canonical actors (in-document coreference).

For each mention a quote points to, in text order:
1. the registry: countries, capitals, metonyms, organisations ("Der Kreml" -> Russland);
2. a personal name ("US-Außenminister John Kerry" -> John Kerry): name parts join one person
   ("Kerry" = "John Kerry"), the fullest form in the document is the canonical name;
3. a pronoun ("er", "sie"): the latest person or group before it whose gender agrees (first
   names by ``gender-guesser``, title nouns by the feminine suffix *-in*);
4. a title or description ("der Minister", "der US-Außenminister"): the latest person whose
   title ends in that noun; otherwise the description itself becomes the actor.
Affiliations come from the actor file, else from the person's own words in any of their
mentions ("US-Außenminister", "der russische General", "(SPÖ)", "UN-Generalsekretär"), else
from a list of well-known people (``speakers.people``: *Lawrow* -> Russland, marked
``"people"``), else, as a fallback marked ``affiliation_source: "context"``, from the latest
country named outside quotes earlier in the paragraph, or the country the document names most.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from quotestance.detect.clauses import tag
from quotestance.document import Actor, Document, Mention, Span
from quotestance.intervals import IntervalIndex
from quotestance.speakers.actors import ARTICLES, ActorEntry, ActorRegistry
from quotestance.speakers.mentions import first_name_gender, is_name_word, mentions_of
from quotestance.speakers.people import PeopleList

ORG_HEADS = re.compile(
    r"(ministerium|regierung|partei|fraktion|zeitung|agentur|gericht|polizei|behörde|amt"
    r"|kommission|rat|verband|gewerkschaft|konzern|unternehmen|bank|armee|militär|staatsanwaltschaft"
    r"|organisation|institut|verein|bündnis|koalition|opposition|union|stiftung|ausschuss|kreml)$",
    re.IGNORECASE,
)
PRONOUN_GENDER = {
    "er": "male",
    "ihm": "male",
    "ihn": "male",
    "sie": "female/plural",
    "ihr": "female",
}
PLURAL_TYPES = ("organisation", "group")
# countries a plural or feminine pronoun may stand for ("die USA … sie", "die Türkei … sie");
# other country names are neuter ("Deutschland … es") and no antecedent of "er" or "sie"
SHE_COUNTRIES = {"USA", "Niederlande", "Philippinen", "Vereinigte Arabische Emirate", "Türkei",
                 "Ukraine", "Schweiz", "Slowakei", "Mongolei", "Europäische Union"}  # fmt: skip
# nouns that, with a country adjective, stand for the country's government
SIDE_NOUNS = {"seite", "regierung", "führung", "staatsführung", "behörden", "partner",
              "partnern", "administration", "staat"}  # fmt: skip


def noun_gender(noun: str) -> str | None:
    """Gender of a person noun used as a title, by its last compound part: the German
    feminine suffix *-in* (Sprecherin, US-Außenministerin, Kanzlerin) is female, other
    person nouns male. (The german-nouns list gave the same answers for titles but costs
    240 MB and 1.3 s per process, which every worker of a corpus run would pay.)"""
    word = noun.split("-")[-1].lower()
    if len(word) < 4 or not word[:1].isalpha():
        return None
    if word.endswith("in") and not word.endswith(("ein", "main", "berlin")):
        return "female"
    return "male"


def paragraph_country(
    doc: Document,
    offset: int,
    registry: ActorRegistry,
    index: ParagraphCountries | None = None,
) -> str | None:
    """The latest country named before ``offset`` in its paragraph, outside quotes.

    A stage that asks for many offsets of one document passes the document's
    ``ParagraphCountries`` (built once), so each question is a binary search."""
    return (index or ParagraphCountries(doc, registry)).before(offset)


class ParagraphCountries:
    """The country words of a document's paragraphs outside quotes, found once per paragraph
    (on its first question) and searched by offset. ``doc.quotes`` must not change while it
    is used; ``memo`` (word -> country or None) may be shared by the documents of a stage."""

    def __init__(
        self, doc: Document, registry: ActorRegistry, memo: dict[str, str | None] | None = None
    ) -> None:
        self.doc, self.registry = doc, registry
        self.memo = memo if memo is not None else {}
        self.quoted = IntervalIndex(doc.quotes)
        self.blocks: dict[int, tuple[list[int], list[str]]] = {}
        self._most: str | None = None
        self._counts: dict[str, int] = {}
        self._most_counted = False
        self.first_of: list[int] = []  # per sentence: the first sentence of its paragraph run
        for k, sent in enumerate(doc.sentences):
            same = k > 0 and doc.sentences[k - 1].paragraph == sent.paragraph
            self.first_of.append(self.first_of[-1] if same else k)

    def _country(self, word: str) -> str | None:
        if word not in self.memo:
            if len(self.memo) >= 200_000:
                self.memo.clear()
            self.memo[word] = self.registry.country_name_of_word(word)
        return self.memo[word]

    def _block(self, first: int) -> tuple[list[int], list[str]]:
        if first not in self.blocks:
            starts: list[int] = []
            names: list[str] = []
            sentences = self.doc.sentences
            k = first
            while k < len(sentences) and sentences[k].paragraph == sentences[first].paragraph:
                for tok in sentences[k].tokens:
                    name = self._country(tok.text)
                    if name is not None and not self.quoted.covers(tok.start):
                        starts.append(tok.start)
                        names.append(name)
                k += 1
            self.blocks[first] = (starts, names)
        return self.blocks[first]

    def most_named(self) -> str | None:
        """The country named most often outside quotes in the whole document (the first one
        named on a tie): where a paragraph names none before a person."""
        if not self._most_counted:
            self._most_counted = True
            counts: dict[str, int] = {}
            for k, first in enumerate(self.first_of):
                if first == k:
                    for name in self._block(first)[1]:
                        counts[name] = counts.get(name, 0) + 1
            self._most = max(counts, key=counts.__getitem__, default=None)
            self._counts = counts
        return self._most

    def named(self, country: str) -> bool:
        """Whether the document names ``country`` outside quotes."""
        self.most_named()
        return country in self._counts

    def before(self, offset: int) -> str | None:
        sent = self.doc.sentence_at(offset)
        if sent is None:
            return None
        starts, names = self._block(self.first_of[sent.index])
        k = bisect_left(starts, offset)  # later sentences of the paragraph start after offset
        return names[k - 1] if k else None


@dataclass
class Entity:
    """An actor being built for one document."""

    name: str
    type: str
    affiliation: str | None = None
    affiliation_source: str | None = None  # registry, description or context
    gender: str | None = None
    titles: list[str] = field(default_factory=list)
    mentions: list[Span] = field(default_factory=list)
    last_seen: int = 0
    spans: set[tuple[int, int]] = field(default_factory=set)  # (start, end) of the mentions


class Entities(list):
    """The entities of one document in creation order, with the indexes the resolver asks
    instead of scanning them all for every mention: by name, the first person of a surname,
    the latest entity of each kind a pronoun may stand for, and the latest person bearing a
    title that ends in a word. Entities join with ``append`` and are renamed with ``rename``;
    ``touch`` marks one as the latest seen (after its titles and gender are set)."""

    def __init__(self) -> None:
        super().__init__()
        self.seq: dict[int, int] = {}  # id(entity) -> creation position
        self.by_name: dict[str, list[Entity]] = {}
        self.by_surname: dict[str, Entity] = {}
        self.recent: dict[str, dict[int, Entity]] = {}  # pronoun class -> entities by recency
        self.kind_of: dict[int, str | None] = {}
        self.titled: dict[str, Entity] = {}  # title suffix (lower case) -> latest person

    def append(self, entity: Entity) -> None:
        self.seq[id(entity)] = len(self)
        super().append(entity)
        self.by_name.setdefault(entity.name, []).append(entity)
        if entity.type == "person" and entity.name.split():
            self.by_surname.setdefault(entity.name.split()[-1], entity)

    def named(self, name: str) -> Entity | None:
        found = self.by_name.get(name)
        return found[0] if found else None

    def rename(self, entity: Entity, name: str) -> None:
        group = self.by_name[entity.name]
        del group[next(k for k, e in enumerate(group) if e is entity)]
        entity.name = name
        group = self.by_name.setdefault(name, [])
        group.insert(bisect_left([self.seq[id(e)] for e in group], self.seq[id(entity)]), entity)

    def person_with_surname(self, surname: str) -> Entity | None:
        return self.by_surname.get(surname)

    @staticmethod
    def _pronoun_class(entity: Entity) -> str | None:
        if entity.type == "person":
            return {"male": "male", None: "male", "female": "female"}.get(entity.gender)
        if entity.type in PLURAL_TYPES or entity.name in SHE_COUNTRIES:
            return "plural"
        return None

    def touch(self, entity: Entity, order: int) -> None:
        entity.last_seen = order
        key = id(entity)
        old = self.kind_of.get(key)
        if old is not None:
            del self.recent[old][key]
        new = self.kind_of[key] = self._pronoun_class(entity)
        if new is not None:
            self.recent.setdefault(new, {})[key] = entity
        if entity.type == "person":
            for title in entity.titles:
                lower = title.lower()
                for k in range(len(lower) - 3):
                    self.titled[lower[k:]] = entity

    def latest(self, *classes: str) -> Entity | None:
        found = [next(reversed(self.recent[c].values())) for c in classes if self.recent.get(c)]
        return max(found, key=lambda e: e.last_seen, default=None)

    def latest_titled(self, head: str) -> Entity | None:
        """The latest person with a title ending in ``head`` (longer than three letters)."""
        return self.titled.get(head.lower()) if len(head) > 3 else None


def actor_type(entity: Entity) -> str:
    """``person``, ``organisation``, ``country``, or ``other`` (a description that names no
    actor: *die Verantwortlichen*, *eigenen Angaben*)."""
    return entity.type if entity.type in ("person", "organisation", "country") else "other"


class ActorResolver:
    """Pipeline stage: fills ``actor``/``affiliation`` of quote mentions and ``doc.actors``.

    A document's actors depend on that document alone. ``remember_names=True`` (opt-in, off
    in the CLI) keeps a memory of full personal names across the documents of a batch, used
    when a document names a person by surname only: *Kerry* becomes *John Kerry* if an
    earlier document of the same batch named him in full. Its results then depend on the
    batch (``--batch-size``, which files come together), which is why it is off by default.
    """

    name = "actors"

    def __init__(self, registry: ActorRegistry | None = None, remember_names: bool = False) -> None:
        self.registry = registry or ActorRegistry.default()
        self.people = PeopleList.default()
        self.remember_names = remember_names
        self.known_people: dict[str, tuple[str, str | None]] = {}
        self._country_memo: dict[str, str | None] = {}  # word -> country, for every document
        self._breaks: set[int] = set()  # the current document's name breaks
        self._full_names: dict[str, tuple[str, list[str]]] = {}

    # -- mention analysis -------------------------------------------------------------
    def _tokens(self, doc: Document, span: Span):
        sent = doc.sentence_at(span.start)
        if sent is None:
            return []
        return [t for t in sent.tokens if t.start < span.end and t.end > span.start]

    def _split_name(self, tokens) -> tuple[list[str], list[str], list[str]]:
        """(description words, name words, words in brackets) of a mention: the name is the
        first run of name words, cut where a second name starts ("US-Außenminister John
        Kerry"; "Lech Kaczyński" of "Lech Kaczyński Wałęsa"); "(SPÖ)" is in brackets."""
        words, bracketed, depth = [], [], 0
        for tok in tokens:
            if tok.text in ("(", "["):
                depth += 1
            elif tok.text in (")", "]"):
                depth = max(0, depth - 1)
            elif depth:
                bracketed.append(tok.text)
            elif tok.text != ",":
                words.append(tok)
        last = max((k for k, t in enumerate(words) if is_name_word(t)), default=-1)
        first = last
        while first > 0 and is_name_word(words[first - 1]):
            first -= 1
        cut = next((k for k in range(first + 1, last + 1) if words[k].start in self._breaks), None)
        if cut is not None:
            last = cut - 1
        name = [t.text for t in words[first : last + 1]] if last >= 0 else []
        described = [t.text for t in words[:first] if t.text.lower() not in ARTICLES]
        if len(name) == 1 and len(words) == 1 and tag(words[0]) != "NE":
            return described, [], bracketed
        return described, name, bracketed

    def _country_in(self, words: list[str]) -> ActorEntry | None:
        for word in words:
            entry = self.registry.country_of_word(word)
            if entry is not None:
                return entry
        return None

    def _context_country(self, doc: Document, offset: int) -> str | None:
        return paragraph_country(doc, offset, self.registry)

    def _listed_country(self, name: str, countries: ParagraphCountries) -> str | None:
        """The country of a well-known person (``speakers.people``): by full name, or by
        surname alone when the document names that country too (a bare *Müller* is no
        minister of the Marshall Islands)."""
        german = self.people.country_name(name)
        entry = self.registry.lookup(german) if german else None
        if entry is None or entry.type != "country":
            return None
        if len(name.split()) == 1 and not countries.named(entry.name):
            return None
        return entry.name

    # -- resolution ---------------------------------------------------------------------
    def _resolve(
        self, doc: Document, span: Span, entities: Entities, plural: bool | None = None
    ) -> Entity | None:
        tokens = self._tokens(doc, span)
        text = span.text.strip()
        lower = text.lower()
        entry = self.registry.lookup(text)
        if entry is not None:
            return self._entity(
                entities,
                entry.name,
                entry.type,
                entry.affiliation or (entry.name if entry.type == "country" else None),
            )
        if len(tokens) == 1 and lower in PRONOUN_GENDER:
            return self._pronoun(doc, span, entities, PRONOUN_GENDER[lower], plural)
        described, name, bracketed = self._split_name(tokens)
        if name:
            entry = self.registry.lookup(" ".join(name))
            if entry is not None:
                affiliation = entry.affiliation or (entry.name if entry.type == "country" else None)
                return self._entity(entities, entry.name, entry.type, affiliation)
            return self._person(entities, described, name, bracketed)
        head = tokens[-1].text if tokens else text
        titled = entities.latest_titled(head)
        if titled is not None:
            return titled
        words = [t.text for t in tokens]
        while words and words[0].lower() in ARTICLES:
            words = words[1:]
        label = " ".join(words) or text
        kind = "organisation" if ORG_HEADS.search(head) else "other"
        country = self._country_in(words)
        affiliation = (country.affiliation or country.name) if country is not None else None
        if country is not None and head.lower() in SIDE_NOUNS:
            # "die amerikanische Seite", "die russische Regierung": the country itself
            return self._entity(entities, country.name, country.type, country.name)
        return self._entity(entities, label, kind, affiliation, "description")

    def _entity(
        self,
        entities: Entities,
        name: str,
        kind: str,
        affiliation: str | None,
        source: str = "registry",
    ) -> Entity:
        entity = entities.named(name)
        if entity is not None:
            return entity
        entity = Entity(name, kind, affiliation, source if affiliation else None)
        entities.append(entity)
        return entity

    def _person(
        self,
        entities: Entities,
        described: list[str],
        name: list[str],
        bracketed: list[str],
    ) -> Entity:
        surname = name[-1]
        match = entities.person_with_surname(surname)
        written, written_titles = self._full_names.get(surname, ("", []))
        if match is None:
            full = " ".join(name)
            if len(name) == 1:
                full = written or self.known_people.get(surname, (full,))[0]
            match = Entity(full, "person")
            entities.append(match)
        elif len(name) > len(match.name.split()):
            entities.rename(match, " ".join(name))
        titles = [t for t in (*described, *written_titles) if t[:1].isupper()]
        match.titles.extend(t for t in titles if t not in match.titles)
        name = match.name.split()
        # the person's own words: "US-Außenminister", "der serbische Präsident", "(SPÖ)"
        country = self._country_in([*bracketed, *described, *written_titles])
        if country is not None and match.affiliation_source in (None, "context", "people"):
            match.affiliation = country.affiliation or country.name
            match.affiliation_source = "description"
        if match.gender is None:
            match.gender = first_name_gender(name[0]) if len(name) > 1 else None
            if match.gender is None and titles:
                match.gender = noun_gender(titles[-1])
        return match

    @staticmethod
    def _antecedent(entities: Entities, wanted: str, plural: bool | None) -> Entity | None:
        """The latest person or group whose gender and number agree: a male (or unknown)
        person for "er", a female person for "ihr", a female person or a group for "sie" —
        only a group when the cue verb is plural ("betonten sie"), only a woman when it is
        singular ("betonte sie"). Places and things are never antecedents."""
        if wanted == "male":
            return entities.latest("male")
        if wanted != "female/plural" or plural is False:
            return entities.latest("female")
        if plural:
            return entities.latest("plural")
        return entities.latest("female", "plural")

    def _pronoun(
        self, doc: Document, span: Span, entities: Entities, wanted: str, plural: bool | None
    ) -> Entity | None:
        """The actor a personal pronoun stands for: the nearer of the latest agreeing actor
        of the quotes so far and the latest agreeing person named in the text before it
        (the mention layer, up to two sentences back); None when nobody agrees (a pronoun
        never becomes an actor of its own, nor a place)."""
        known = self._antecedent(entities, wanted, plural)
        known_at = max(
            (m.start for m in (known.mentions if known else ()) if m.start < span.start),
            default=-1,
        )
        named = None if wanted == "female/plural" and plural else self._named_before(
            doc, span, entities, known_at, "male" if wanted == "male" else "female"
        )  # fmt: skip
        return named or known

    def _named_before(
        self, doc: Document, span: Span, entities: Entities, after: int, gender: str
    ) -> Entity | None:
        """The latest person named between ``after`` and ``span`` whose gender is ``gender``:
        known by a first name, a title (*Sprecherin*) or an earlier mention of the same
        person. A bare name of unknown gender is passed over: it may be a place."""
        sent = doc.sentence_at(span.start)
        if sent is None:
            return None
        layer = mentions_of(doc)
        k = bisect_left(layer.starts, span.start)  # built once per document, not per pronoun
        while k > 0:
            k -= 1
            cand = layer[k]
            if cand.end > span.start or cand.kind != "name":
                continue
            if cand.start <= after or cand.sentence < sent.index - 2:
                return None
            tokens = self._tokens(doc, Span(cand.start, cand.end, cand.text))
            described, name, bracketed = self._split_name(tokens)
            if not name or self.registry.lookup(" ".join(name)) is not None:
                continue
            found = entities.person_with_surname(name[-1])
            guess = found.gender if found is not None else None
            if guess is None and len(name) > 1:
                guess = first_name_gender(name[0])
            if guess is None and described:
                guess = noun_gender(described[-1])
            if guess is None and found is None:
                continue  # a bare name of unknown gender may be a place: "in Aleppo"
            if guess == gender or (gender == "male" and guess is None and found is not None):
                entity = self._person(entities, described, name, bracketed)
                if (cand.start, cand.end) not in entity.spans:
                    entity.spans.add((cand.start, cand.end))
                    entity.mentions.append(Span(cand.start, cand.end, cand.text))
                return entity
        return None

    @staticmethod
    def _plural_verb(cue: Span | None) -> bool | None:
        """Whether a quote's cue verb is plural (*sagten*, *betonen*), singular (*sagte*,
        *betont*), or unknown (no cue)."""
        words = cue.text.split() if cue is not None else []
        if not words or not words[0][:1].islower():
            return None
        return words[0].lower().endswith("en")

    @staticmethod
    def full_names(
        doc: Document, breaks: set[int] | None = None
    ) -> dict[str, tuple[str, list[str]]]:
        """Surname -> (the longest personal name written anywhere in the document, the title
        nouns written right before it): "US-Außenministerin Hillary Clinton". A run of names
        is cut where a second name starts (the mention layer's ``breaks``)."""
        breaks = mentions_of(doc).breaks if breaks is None else breaks
        names: dict[str, tuple[str, list[str]]] = {}
        for sent in doc.sentences:
            tokens = sent.tokens
            k = 0
            while k < len(tokens):
                end = k
                while (
                    end < len(tokens)
                    and tag(tokens[end]) == "NE"
                    and is_name_word(tokens[end])
                    and (end == k or tokens[end].start not in breaks)
                ):
                    end += 1
                if end == k:
                    k += 1
                    continue
                run = [t.text for t in tokens[k:end]]
                titles = [
                    t.text
                    for t in tokens[max(0, k - 2) : k]
                    if tag(t) == "NN" and t.text[:1].isupper()
                ]
                known = names.get(run[-1])
                if len(run) >= 2 and (known is None or len(run) > len(known[0].split())):
                    names[run[-1]] = (" ".join(run), titles or (known[1] if known else []))
                elif known is not None and titles:
                    known[1].extend(t for t in titles if t not in known[1])
                k = end
        return names

    def __call__(self, doc: Document) -> Document:
        entities = Entities()
        countries = ParagraphCountries(doc, self.registry, self._country_memo)
        self._breaks = mentions_of(doc).breaks
        self._full_names = self.full_names(doc, self._breaks)
        order = 0
        for quote in sorted(doc.quotes, key=lambda q: (q.start, q.end)):
            for role in ("speaker", "addressee", "target"):
                mention: Mention | None = getattr(quote, role)
                if mention is None:
                    continue
                order += 1
                plural = self._plural_verb(quote.cue) if role == "speaker" else None
                entity = self._resolve(doc, mention, entities, plural)
                if entity is None:
                    mention.actor = None  # a pronoun nobody before it agrees with
                    continue
                entities.touch(entity, order)
                if (mention.start, mention.end) not in entity.spans:
                    entity.spans.add((mention.start, mention.end))
                    entity.mentions.append(Span(mention.start, mention.end, mention.text))
                if entity.affiliation is None and entity.type == "person":
                    entity.affiliation = self._listed_country(entity.name, countries)
                    entity.affiliation_source = "people" if entity.affiliation else None
                if entity.affiliation is None and entity.type in (
                    "person",
                    "other",
                    "organisation",
                ):
                    entity.affiliation = countries.before(mention.start) or countries.most_named()
                    entity.affiliation_source = "context" if entity.affiliation else None
                mention.actor = entity.name
        by_name = {e.name: e for e in entities}
        for quote in doc.quotes:
            for role in ("speaker", "addressee", "target"):
                mention = getattr(quote, role)
                if mention is not None and mention.actor in by_name:
                    entity = by_name[mention.actor]
                    mention.affiliation = entity.affiliation
                    mention.affiliation_source = entity.affiliation_source
                    mention.actor_type = actor_type(entity)
        for entity in entities if self.remember_names else ():
            if entity.type == "person" and len(entity.name.split()) > 1:
                self.known_people[entity.name.split()[-1]] = (entity.name, entity.affiliation)
        doc.actors = [
            Actor(
                name=e.name,
                type=actor_type(e),
                affiliation=e.affiliation,
                affiliation_source=e.affiliation_source,
                aliases=sorted({m.text for m in e.mentions} - {e.name}),
                mentions=sorted(e.mentions, key=lambda m: m.start),
                id=f"a{k}",
            )
            for k, e in enumerate(entities, 1)
        ]
        return doc

    def batch(self, docs: list[Document]) -> list[Document]:
        """With ``remember_names``, a batch shares the memory of full names; it starts empty
        for every batch."""
        self.known_people.clear()
        return [self(doc) for doc in docs]
