"""Reader for the Corpus REDEWIEDERGABE TSV files (Brunner et al., LREC 2020).

One token per line under the header ``tok normtok lemma pos rfpos sentstart stwr frame speaker
intexpr note``. An ``stwr`` cell holds one label per nesting level, joined by ``|``, each
``type.medium.ID[.attr...]`` where type and medium may be several words (``indirect
freeIndirect``, ``speech writing``). The ``frame``/``speaker``/``intexpr`` cells link a token to
STWR IDs: ``speaker.3`` or ``speaker.3_7`` (one token shared by two instances), levels joined by
``|``. IDs are unique per file. The corpus marks sentences but not paragraphs, so a document is
one paragraph.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from quotestance.corpora.base import AnnotatedDocument, GoldQuote, TokenId, detokenize

CORPUS = "redewiedergabe"
COLUMNS = (
    "tok", "normtok", "lemma", "pos", "rfpos", "sentstart", "stwr", "frame", "speaker", "intexpr",
    "note",
)  # fmt: skip
_METADATA_FILE = "metadata.tsv"


@dataclass(frozen=True)
class StwrLabel:
    """One nesting level of an ``stwr`` cell, e.g. ``indirect.thought.3.nonfact``."""

    type: str  # direct, indirect, reported, freeIndirect, or several joined by a space
    medium: str  # speech, thought, writing, or several joined by a space
    id: str
    attributes: tuple[str, ...] = ()  # nonfact, prag, metaph, border=...

    @property
    def form(self) -> str:
        """SpkAtt's name for the type: ``indirect freeIndirect`` -> ``IndirectFreeIndirect``."""
        return "".join(word[0].upper() + word[1:] for word in self.type.split())

    @property
    def stwr(self) -> str:
        """SpkAtt's name for the medium: ``speech`` -> ``Speech``, ``speech writing`` -> ``SW``."""
        words = self.medium.split()
        if len(words) == 1:
            return words[0].capitalize()
        return "".join(word[0].upper() for word in words)


@dataclass(frozen=True)
class RWToken:
    """One row of a Redewiedergabe TSV with its token id and the STWR labels and links parsed."""

    token_id: TokenId  # "sentence:token", both counted from 0 as in SpkAtt
    tok: str
    normtok: str
    lemma: str
    pos: str  # STTS
    rfpos: str  # RFTagger morphology, e.g. VFIN.Full.3.Sg.Pres.Subj
    sentstart: bool
    stwr: tuple[StwrLabel, ...]  # outermost level first
    frame: tuple[str, ...]  # STWR ids this token frames
    speaker: tuple[str, ...]  # STWR ids whose speaker this token is part of
    intexpr: tuple[str, ...]  # STWR ids whose introducing expression (cue) this token is part of
    note: str


def _error(path: Path, line: int, message: str) -> ValueError:
    return ValueError(f"{path}:{line}: {message}")


def _parse_stwr(cell: str, path: Path, line: int) -> tuple[StwrLabel, ...]:
    if cell == "-":
        return ()
    labels = []
    for level in cell.split("|"):
        parts = level.split(".")
        if len(parts) < 3 or not parts[2].isdigit():
            raise _error(path, line, f"malformed stwr label {level!r}")
        labels.append(StwrLabel(parts[0], parts[1], parts[2], tuple(parts[3:])))
    return tuple(labels)


def _parse_links(cell: str, column: str, path: Path, line: int) -> tuple[str, ...]:
    """``speaker.3_7|speaker.9`` -> ("3", "7", "9"); empty parts (``speaker.3_``) are ignored."""
    if cell == "-":
        return ()
    ids: list[str] = []
    for level in cell.split("|"):
        prefix, _, numbers = level.partition(".")
        if prefix != column:
            raise _error(path, line, f"malformed {column} link {level!r}")
        for number in numbers.split("_"):
            if number and not number.isdigit():
                raise _error(path, line, f"malformed {column} link {level!r}")
            if number and number not in ids:
                ids.append(number)
    return tuple(ids)


def iter_rw_tokens(path: str | Path) -> Iterator[RWToken]:
    """The rows of one Redewiedergabe TSV, in order, with token ids as ``detokenize`` gets them.

    A new sentence starts at ``sentstart`` = yes (and at the first row, which in some samples
    starts mid-sentence).
    """
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if tuple(header) != COLUMNS:
            raise _error(path, 1, f"unexpected header {header!r}, expected {list(COLUMNS)!r}")
        sentence, token = -1, 0
        for line_no, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            cells = line.split("\t")
            if len(cells) != len(COLUMNS):
                raise _error(path, line_no, f"{len(cells)} columns, expected {len(COLUMNS)}")
            row = dict(zip(COLUMNS, cells, strict=True))
            if row["sentstart"] == "yes" or sentence < 0:
                sentence, token = sentence + 1, 0
            yield RWToken(
                token_id=f"{sentence}:{token}",
                tok=row["tok"],
                normtok=row["normtok"],
                lemma=row["lemma"],
                pos=row["pos"],
                rfpos=row["rfpos"],
                sentstart=row["sentstart"] == "yes",
                stwr=_parse_stwr(row["stwr"], path, line_no),
                frame=_parse_links(row["frame"], "frame", path, line_no),
                speaker=_parse_links(row["speaker"], "speaker", path, line_no),
                intexpr=_parse_links(row["intexpr"], "intexpr", path, line_no),
                note=row["note"],
            )
            token += 1


def read_rw_file(path: str | Path) -> AnnotatedDocument:
    """One TSV as an ``AnnotatedDocument``: one ``GoldQuote`` per STWR ID, in order of first token.

    Message = the tokens labelled with the ID at any nesting level, cue = its ``intexpr``
    tokens, source = its ``speaker`` tokens. Links to an ID with no STWR tokens in the file
    (a few exist) are dropped.
    """
    path = Path(path)
    tokens = list(iter_rw_tokens(path))
    text, spans = detokenize([((t.token_id, t.tok) for t in tokens)])
    quotes: dict[str, GoldQuote] = {}
    for t in tokens:
        for label in t.stwr:
            quote = quotes.get(label.id)
            if quote is None:
                quote = quotes[label.id] = GoldQuote(
                    message=set(), form=label.form, medium=label.stwr
                )
            quote.message.add(t.token_id)
    for t in tokens:
        for quote_id in t.intexpr:
            if quote_id in quotes:
                quotes[quote_id].cue.add(t.token_id)
        for quote_id in t.speaker:
            if quote_id in quotes:
                quotes[quote_id].source.add(t.token_id)
    return AnnotatedDocument(
        name=path.stem, text=text, token_spans=spans, gold=list(quotes.values()), corpus=CORPUS
    )


def rw_files(directory: str | Path) -> list[Path]:
    """The sample TSVs of a Redewiedergabe folder, sorted by name (``metadata.tsv`` left out)."""
    return sorted(p for p in Path(directory).glob("*.tsv") if p.name != _METADATA_FILE)


def iter_redewiedergabe(directory: str | Path) -> Iterator[AnnotatedDocument]:
    """All samples of a Redewiedergabe ``tsv`` folder as ``AnnotatedDocument``s, sorted by name."""
    for path in rw_files(directory):
        yield read_rw_file(path)
