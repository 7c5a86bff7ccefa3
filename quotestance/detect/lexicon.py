"""The cue lexicon: speech, thought and writing cues mined from gold annotations, as data.

``quotestance/resources/cues/cues.tsv`` (built by ``training/build_cue_lexicon.py``) lists
lemmas that introduce quotations, each with its kind (verb, noun, preposition, other), the separable
particle of particle verbs, and how often each corpus annotated it as a cue; the detector looks
words up here instead of carrying its own word lists. ``speech_acts.tsv`` names the cues whose
meaning is itself a stance act (threat, accusation, cooperation), for the stance stage.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from quotestance.resources import resource_path

DATA_DIR = resource_path("cues")
CUES_FILE = "cues.tsv"
SPEECH_ACTS_FILE = "speech_acts.tsv"

KINDS = ("verb", "noun", "preposition", "other")
ACTS = ("threat", "accusation", "cooperation", "none")
CUE_COLUMNS = (
    "lemma", "kind", "particle", "reflexive", "count_spkatt_news", "count_spkatt_gepade",
    "count_rw", "forms", "source",
)  # fmt: skip
SPEECH_ACT_COLUMNS = ("lemma", "pattern", "act", "source")
_COUNT_COLUMNS = ("count_spkatt_news", "count_spkatt_gepade", "count_rw")


@dataclass(frozen=True)
class CueEntry:
    """One cue lemma of one kind; ``count`` sums the corpora, ``sources`` names where it is from."""

    lemma: str
    kind: str
    particle: str  # separable particle of a particle verb ("mit" in "mitteilen"), else ""
    count: int
    sources: tuple[str, ...]
    reflexive: bool = False  # mostly used with a reflexive pronoun ("sich äußern")
    counts: tuple[int, int, int] = (0, 0, 0)  # spkatt-news, spkatt-gepade, rw

    @property
    def trusted_for_news(self) -> bool:
        """Evidence that the lemma cues quotations in modern news or debate, not only in
        19th-century fiction (Redewiedergabe's thought verbs: *denken*, *wissen*, *fühlen*)."""
        news, gepade, rw = self.counts
        return "manual" in self.sources or news >= 1 or gepade >= 3 or rw >= 25

    @property
    def base(self) -> str:
        """The verb without its separable particle: "mitteilen" -> "teilen"."""
        return self.lemma[len(self.particle) :]


@dataclass(frozen=True)
class SpeechAct:
    """A cue that names a stance act: "drohen" + "mit" is a threat, "Mitschuld" + "geben" blame."""

    lemma: str
    pattern: str  # other words of the construction, space-separated ("mit", "geben an"), or ""
    act: str  # one of ACTS
    source: str


def _read_tsv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a TSV with exactly ``columns`` as header, each with its line number."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines()
    if not lines or tuple(lines[0].split("\t")) != columns:
        raise ValueError(f"{path}:1: header must be {'<TAB>'.join(columns)}")
    rows = []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(columns):
            raise ValueError(f"{path}:{line_no}: {len(cells)} columns, expected {len(columns)}")
        rows.append((line_no, dict(zip(columns, cells, strict=True))))
    return rows


def _parse_entry(path: Path, line_no: int, row: dict[str, str]) -> CueEntry:
    def fail(message: str) -> ValueError:
        return ValueError(f"{path}:{line_no}: {message}")

    if not row["lemma"]:
        raise fail("empty lemma")
    if row["kind"] not in KINDS:
        raise fail(f"kind {row['kind']!r} is not one of {', '.join(KINDS)}")
    if row["particle"] and (row["kind"] != "verb" or not row["lemma"].startswith(row["particle"])):
        raise fail(f"particle {row['particle']!r} is not a prefix of verb {row['lemma']!r}")
    if row["reflexive"] not in ("", "sich"):
        raise fail(f"reflexive must be 'sich' or empty, not {row['reflexive']!r}")
    try:
        counts = [int(row[column]) for column in _COUNT_COLUMNS]
    except ValueError:
        raise fail("counts must be integers") from None
    sources = tuple(s for s in row["source"].split(";") if s)
    if not sources:
        raise fail("empty source")
    return CueEntry(
        lemma=row["lemma"],
        kind=row["kind"],
        particle=row["particle"],
        count=sum(counts),
        sources=sources,
        reflexive=row["reflexive"] == "sich",
        counts=(counts[0], counts[1], counts[2]),
    )


@dataclass
class CueLexicon:
    """Cue lemmas by kind. Load once with ``CueLexicon.load()``; treat the result as read-only."""

    verbs: dict[str, CueEntry] = field(default_factory=dict)
    nouns: dict[str, CueEntry] = field(default_factory=dict)
    prepositions: dict[str, CueEntry] = field(default_factory=dict)
    others: dict[str, CueEntry] = field(default_factory=dict)
    acts: list[SpeechAct] = field(default_factory=list)
    _particle_verbs: dict[tuple[str, str], CueEntry] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> CueLexicon:
        """The lexicon at ``path`` (default: the shipped ``cues.tsv``), read once per process.

        ``speech_acts.tsv`` beside it is read too where it exists.
        """
        return _load_cached(Path(path or DATA_DIR / CUES_FILE).resolve())

    @classmethod
    def from_files(cls, cues: Path, speech_acts: Path | None = None) -> CueLexicon:
        """Parse the files (uncached); a malformed line raises ``ValueError`` naming it."""
        lexicon = cls()
        tables = {
            "verb": lexicon.verbs,
            "noun": lexicon.nouns,
            "preposition": lexicon.prepositions,
            "other": lexicon.others,
        }
        for line_no, row in _read_tsv(cues, CUE_COLUMNS):
            entry = _parse_entry(cues, line_no, row)
            table = tables[entry.kind]
            if entry.lemma in table:
                raise ValueError(f"{cues}:{line_no}: duplicate {entry.kind} {entry.lemma!r}")
            table[entry.lemma] = entry
            if entry.particle:
                lexicon._particle_verbs[(entry.base, entry.particle)] = entry
        if speech_acts is not None:
            for line_no, row in _read_tsv(speech_acts, SPEECH_ACT_COLUMNS):
                if not row["lemma"] or row["act"] not in ACTS:
                    raise ValueError(
                        f"{speech_acts}:{line_no}: needs a lemma and an act among {ACTS}"
                    )
                lexicon.acts.append(SpeechAct(**row))
        return lexicon

    def verb(self, lemma: str) -> CueEntry | None:
        return self.verbs.get(lemma)

    def noun(self, lemma: str) -> CueEntry | None:
        return self.nouns.get(lemma)

    def preposition(self, word: str) -> CueEntry | None:
        """Case-insensitive, as prepositions open sentences ("Laut ...")."""
        return self.prepositions.get(word.lower())

    def other(self, word: str) -> CueEntry | None:
        """Adverbs and modals used as cues ("so", "demnach", "sollen"); case-insensitive."""
        return self.others.get(word.lower())

    def particle_verb(self, base_lemma: str, particle: str) -> CueEntry | None:
        """A separated particle verb: ("teilen", "mit") for "teilte ... mit" -> "mitteilen"."""
        return self._particle_verbs.get((base_lemma, particle.lower()))

    def speech_acts(self) -> list[SpeechAct]:
        return list(self.acts)

    def speech_act_of(self, lemma: str, words: list[str]) -> str | None:
        """The act a cue names in this sentence (``words`` lower-cased), or None.

        A row matches when its lemma is the cue's lemma (or a noun of the sentence, for
        *Mitschuld geben*, *Bereitschaft erklären*) and the words of its pattern occur.
        """
        present = set(words)
        for act in self.acts:
            pattern = act.pattern.lower().split()
            if act.lemma[0].isupper():
                # noun-headed act: the noun must be in the sentence, the cue verb in the pattern
                if act.lemma.lower() not in present or not pattern:
                    continue
                verb, *rest = pattern
                if verb != lemma or not all(w in present for w in rest):
                    continue
            elif act.lemma != lemma or not all(w in present for w in pattern):
                continue
            return act.act
        return None


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path) -> CueLexicon:
    acts = path.with_name(SPEECH_ACTS_FILE)
    return CueLexicon.from_files(path, acts if acts.is_file() else None)
