"""Reading inputs (files, directories, stdin) and writing results (table, json, jsonl, tsv, html).

Input policy, documented in the README:
- UTF-8 is expected; a BOM is removed; line ends are left untouched (offsets index the text as
  decoded, as ``shared/spec/interface.md`` requires).
- Text that is not valid UTF-8 is decoded as cp1252 (the usual culprit: Windows-saved German
  text), with a warning, since refusing would lose the work; bytes that cp1252 cannot map fall
  back to latin-1.
- Binary files (NUL bytes or many control characters) and files over the size limit are
  refused with a one-line message. An empty file is valid and has no quotes.
"""

from __future__ import annotations

import html
import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from quotestance.cells import spreadsheet_safe
from quotestance.document import Document

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
STDIN = "-"


class InputError(Exception):
    """An input that cannot be annotated; the message is one line for the user, ``name``
    the input it is about (as given, or the directory that could not be read)."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name or message.split(":", 1)[0]


@dataclass
class Source:
    """One input to annotate: its name as given and a way to read its text."""

    name: str
    path: Path | None  # None for stdin
    data: bytes | None = None  # standard input, read before the models load


def _walk_txt(root: Path) -> tuple[list[Path], list[InputError]]:
    """Every ``*.txt`` regular file below ``root`` (sorted), and a one-line error for each
    sub-directory that cannot be read (``rglob`` would skip those without a word)."""
    files: list[Path] = []
    errors: list[InputError] = []

    def unreadable(err: OSError) -> None:
        message = f"{err.filename}: cannot read directory ({err.strerror})"
        errors.append(InputError(message, str(err.filename)))

    for folder, subfolders, names in os.walk(root, onerror=unreadable, followlinks=False):
        subfolders.sort()
        for name in names:
            if name.endswith(".txt"):
                path = Path(folder, name)
                if path.is_file():
                    files.append(path)
    return sorted(files), errors


def _excluded(path: Path, exclude: Sequence[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == out or out in resolved.parents for out in exclude)


def expand_inputs(
    args: Iterable[str], exclude: Iterable[Path] = ()
) -> Iterator[Source | InputError]:
    """Files as given, directories as all ``*.txt`` below them (sorted), ``-`` as stdin.

    Problems are yielded as ``InputError`` in place, so a batch goes on past them. Paths in
    ``exclude`` (the run's own outputs) and anything below them are never read as inputs; a
    device, pipe or socket is refused (``-`` reads standard input)."""
    exclude = [Path(p).resolve() for p in exclude]
    for arg in args:
        if arg == STDIN:
            yield Source(STDIN, None)
            continue
        path = Path(arg)
        try:
            info = path.stat()
        except FileNotFoundError:
            yield InputError(f"{arg}: no such file or directory", arg)
            continue
        except OSError as err:
            yield InputError(f"{arg}: cannot read ({err.strerror})", arg)
            continue
        if stat.S_ISDIR(info.st_mode):
            files, errors = _walk_txt(path)
            yield from errors
            files = [file for file in files if not _excluded(file, exclude)]
            if not files and not errors:
                yield InputError(f"{arg}: directory has no .txt files", arg)
            for file in files:
                yield Source(str(file), file)
        elif not stat.S_ISREG(info.st_mode):
            yield InputError(
                f"{arg}: not a regular file (a device, pipe or socket); use - for standard input",
                arg,
            )
        elif _excluded(path, exclude):
            continue  # the run's own output
        else:
            yield Source(arg, path)


_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _looks_binary(text: str) -> bool:
    """NUL anywhere, or many control characters at the start: not a text file."""
    if "\x00" in text:
        return True
    sample = text[:8192]
    if not sample:
        return False
    control = sum(1 for ch in sample if ch < " " and ch not in "\t\n\x0c\r\x1b")
    return control / len(sample) > 0.05


def decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """Bytes to text by the input policy above; returns the text and any warnings."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as err:
                raise InputError(
                    f"{name}: starts with a {codec.upper()} byte order mark but is not valid "
                    f"{codec.upper()} (byte {err.start + len(bom)})"
                ) from None
            if _looks_binary(text):
                raise InputError(f"{name}: binary file, not text")
            return text, []
    if b"\x00" in data:
        raise InputError(f"{name}: binary file, not text")
    try:
        text, warnings = data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        warning = (
            f"{name}: not valid UTF-8 (byte {err.start}); decoded as cp1252, check the offsets"
        )
        try:
            text, warnings = data.decode("cp1252"), [warning]
        except UnicodeDecodeError:
            text, warnings = data.decode("latin-1"), [warning]
    if _looks_binary(text):
        raise InputError(f"{name}: binary file, not text")
    return text, warnings


def over_limit(name: str, max_bytes: int, size: int | None = None) -> InputError:
    what = f"{size / 2**20:.1f} MiB is" if size is not None else "input is"
    return InputError(
        f"{name}: {what} over the {max_bytes / 2**20:g} MiB limit "
        "(raise it with --max-mb, or split the file)"
    )


def read_stdin(max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of standard input (``InputError`` if it is closed)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputError(f"{STDIN}: standard input is closed")
    try:
        return stream.read(max_bytes + 1)
    except (OSError, ValueError) as err:
        raise InputError(f"{STDIN}: cannot read standard input ({err})") from None


def check_size(source: Source, max_bytes: int) -> None:
    """Refuse a file that ``stat`` already shows to be too large, before any model loads
    (``read_source`` still checks what is read: a file can grow)."""
    if source.path is not None:
        try:
            size = source.path.stat().st_size
        except OSError:
            return  # reported when it is read
        if size > max_bytes:
            raise over_limit(source.name, max_bytes, size)


def read_source(source: Source, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, list[str]]:
    """The decoded text of one input, or ``InputError`` with a one-line reason. At most
    ``max_bytes + 1`` bytes are read, whatever the file claims to be."""
    try:
        if source.data is not None:
            data = source.data
        elif source.path is None:
            data = read_stdin(max_bytes)
        else:
            with open(source.path, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise InputError(f"{source.name}: not a regular file")
                data = handle.read(max_bytes + 1)
    except PermissionError:
        raise InputError(f"{source.name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{source.name}: is a directory") from None
    except OSError as err:
        raise InputError(f"{source.name}: cannot read ({err.strerror or err})") from None
    if len(data) > max_bytes:
        raise over_limit(source.name, max_bytes)
    return decode(data, source.name)


LINE_CHUNK = 64 * 1024  # what the rest of a too-long line is skipped by


class TooLong:
    """Stands for a line longer than the cap; its bytes were read past, never held."""

    def __init__(self, size: int) -> None:
        self.size = size


def read_lines(stream: BinaryIO, cap: int) -> Iterator[tuple[int, bytes | TooLong]]:
    """(line number, bytes) for every line of a binary stream (split on ``\\n`` only); a line
    over ``cap`` bytes is read past in chunks and given as ``TooLong``, so memory stays
    bounded whatever the line length (``classify`` records, JSON Lines tables)."""
    number = 0
    while True:
        line = stream.readline(cap + 1)
        if not line:
            return
        number += 1
        if len(line) <= cap or line.endswith(b"\n"):
            yield number, line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(LINE_CHUNK)
            if not line:
                break
            size += len(line)
        yield number, TooLong(size)


# ---------------------------------------------------------------- writers


def error_record(name: str, message: str) -> dict:
    """What jsonl/json outputs hold for an input that failed: no quotes, and why."""
    return {"file": name, "quotes": [], "error": message}


ROLES = ("cue", "speaker", "addressee", "target")  # the spans a quote points to

QUOTE_COLUMNS = [
    "file", "id", "kind", "start", "end", "text",
    "cue", "cue_start", "cue_end",
    "speaker", "speaker_start", "speaker_end", "speaker_actor", "speaker_affiliation",
    "addressee", "addressee_start", "addressee_end", "addressee_actor",
    "target", "target_start", "target_end", "target_actor",
    "stance", "score_threat", "score_cooperation", "score_accusation", "score_none",
    "evidence", "model_version", "error",
]  # fmt: skip
"""The columns of ``--format csv|parquet`` and of ``quotestance.to_dataframe``, in order.
``ROLE_start``/``ROLE_end`` are the role span's offsets (like ``start``/``end``), ``evidence``
a list of the rules and models that fired (joined by ``;`` in CSV), ``model_version`` the
short hashes of the weight files that produced the row (empty when only rules ran)."""

OFFSET_COLUMNS = ["start", "end"] + [f"{role}_{end}" for role in ROLES for end in ("start", "end")]
SCORE_COLUMNS = [f"score_{label}" for label in ("threat", "cooperation", "accusation", "none")]


def quote_rows(record: dict, model_version: str | None = None) -> Iterator[dict]:
    """One flat row per quote of a document record (``Document.to_dict()``, or an annotate
    JSON Lines record; a failed document: one row with its error), for spreadsheets, Parquet
    and pandas. ``model_version``: the pipeline's (``Document.model_version``), else the
    record's ``model_version`` if it has one."""
    model_version = model_version or record.get("model_version")
    if record.get("error"):
        yield {**dict.fromkeys(QUOTE_COLUMNS), "file": record["file"], "error": record["error"]}
        return
    for q in record["quotes"]:
        scores = q.get("stance_scores") or {}
        row = {
            "file": record["file"], "id": q["id"], "kind": q["kind"], "start": q["start"],
            "end": q["end"], "text": q["text"], "stance": q.get("stance"),
            "evidence": list(q.get("evidence") or []), "model_version": model_version,
            "error": None,
        }  # fmt: skip
        for role in ROLES:
            span = q.get(role) or {}
            row[role] = span.get("text")
            row[f"{role}_start"], row[f"{role}_end"] = span.get("start"), span.get("end")
            if role != "cue":
                row[f"{role}_actor"] = span.get("actor")
        row["speaker_affiliation"] = (q.get("speaker") or {}).get("affiliation")
        for column in SCORE_COLUMNS:
            row[column] = scores.get(column.removeprefix("score_"))
        yield {column: row.get(column) for column in QUOTE_COLUMNS}


def quote_schema():
    """The Arrow schema of ``quote_rows`` (fixed, so that every Parquet file of a run agrees
    even where a batch has no value in a column)."""
    import pyarrow as pa

    types = (
        dict.fromkeys(OFFSET_COLUMNS, pa.int64())
        | dict.fromkeys(SCORE_COLUMNS, pa.float64())
        | {"evidence": pa.list_(pa.string())}
    )
    return pa.schema([(c, types.get(c, pa.string())) for c in QUOTE_COLUMNS])


class Writer:
    """Streams results in one format; ``write`` per document, ``close`` at the end.

    ``parquet`` writes to ``path`` (a binary file; rows go out in row groups as they come)."""

    def __init__(self, out: IO | None, fmt: str, path: Path | None = None) -> None:
        self.out, self.fmt = out, fmt
        self._first = True
        self._written = 0
        self._rows: list[dict] = []
        if fmt == "parquet":
            import pyarrow.parquet as pq

            if path is None and out is None:
                raise ValueError("parquet output needs a file (-o OUT.parquet)")
            self._schema = quote_schema()
            self._parquet = pq.ParquetWriter(str(path) if path else out, self._schema)
        elif fmt == "csv":
            import csv

            self._csv = csv.DictWriter(out, fieldnames=QUOTE_COLUMNS)
            self._csv.writeheader()
        elif fmt == "json":
            out.write("[")
        elif fmt == "tsv":
            out.write(
                "file\tid\tkind\tstart\tend\tcue\tspeaker\tstance\ttext"
                "\tactor\taffiliation\taddressee\n"
            )
        elif fmt == "html":
            out.write(_HTML_HEAD)

    def write(self, doc: Document) -> None:
        getattr(self, f"_write_{self.fmt}")(doc.to_dict(), doc)
        if self.out is not None:
            self.out.flush()

    def write_error(self, name: str, message: str) -> None:
        record = error_record(name, message)
        if self.fmt in ("json", "jsonl", "csv", "parquet"):
            getattr(self, f"_write_{self.fmt}")(record, None)

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if not self._first else "]\n")
        elif self.fmt == "html":
            self.out.write("</body></html>\n")
        elif self.fmt == "parquet":
            self._flush_parquet()
            self._parquet.close()
            return
        self.out.flush()

    def _write_csv(self, record: dict, doc: Document | None) -> None:
        for row in quote_rows(record, _model_version(doc)):
            if row["evidence"] is not None:
                row["evidence"] = ";".join(row["evidence"])
            # no cell a spreadsheet would run as a formula
            self._csv.writerow({key: spreadsheet_safe(value) for key, value in row.items()})

    def _write_parquet(self, record: dict, doc: Document | None) -> None:
        self._rows.extend(quote_rows(record, _model_version(doc)))
        if len(self._rows) >= 5000:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._parquet.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def _write_jsonl(self, record: dict, _doc: Document | None) -> None:
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _write_json(self, record: dict, _doc: Document | None) -> None:
        self.out.write(("\n" if self._first else ",\n") + json.dumps(record, ensure_ascii=False))
        self._first = False

    def _write_tsv(self, record: dict, _doc: Document | None) -> None:
        for q in record["quotes"]:
            row = [
                record["file"],
                q["id"],
                q["kind"],
                str(q["start"]),
                str(q["end"]),
                (q["cue"] or {}).get("text", ""),
                (q["speaker"] or {}).get("text", ""),
                q.get("stance") or "",
                q["text"],
                (q["speaker"] or {}).get("actor") or "",
                (q["speaker"] or {}).get("affiliation") or "",
                (q["addressee"] or {}).get("text", ""),
            ]
            self.out.write("\t".join(_tsv_cell(c) for c in row) + "\n")

    def _write_table(self, record: dict, _doc: Document | None) -> None:
        quotes = record["quotes"]
        self.out.write(f"{record['file']}: {len(quotes)} quote(s)\n")
        if quotes:
            self.out.write(
                f"  {'id':>4} {'kind':<13} {'cue':<12} {'speaker':<26} {'stance':<11} quote\n"
            )
        for q in quotes:
            cue = (q["cue"] or {}).get("text", "-")
            speaker_info = q["speaker"] or {}
            speaker = speaker_info.get("actor") or speaker_info.get("text", "-")
            stance = q.get("stance") or "-"
            text = _shorten(q["text"], 90)
            self.out.write(
                f"  {q['id']:>4} {q['kind']:<13} {_shorten(cue, 12):<12} "
                f"{_shorten(speaker, 26):<26} {stance:<11} {text}\n"
            )

    def _write_html(self, record: dict, doc: Document | None) -> None:
        assert doc is not None
        self._written += 1  # the position makes ids unique: "a b.txt" and "a-b.txt" differ
        self.out.write(render_html_article(doc, anchor=f"d{self._written}"))


def _model_version(doc: Document | None) -> str | None:
    return doc.model_version if doc is not None else None


def _tsv_cell(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _shorten(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


_HTML_HEAD = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">
<title>quotestance</title><style>
body{font-family:Georgia,serif;max-width:52em;margin:2em auto;line-height:1.5}
.q{border-radius:3px;padding:0 2px;border-bottom:2px solid #9ca3af}
.stance-threat{background:#fecaca}.stance-accusation{background:#fed7aa}
.stance-cooperation{background:#bbf7d0}.stance-none{background:#e5e7eb}
.stance-unknown{background:#fde68a}
.cue{text-decoration:underline 2px #b91c1c}
a.spk{color:#1e3a8a;font-weight:bold;text-decoration:none;border-bottom:1px dotted #1e3a8a}
.legend span{margin-right:1em;padding:0 4px}
article{white-space:pre-wrap;border-top:1px solid #ccc;padding-top:1em}
ol.actors{font-size:90%;color:#374151}
</style></head><body>
<p class="legend"><span class="q stance-threat">threat</span>
<span class="q stance-accusation">accusation</span>
<span class="q stance-cooperation">cooperation</span><span class="q stance-none">none</span>
<span class="cue">cue</span><a class="spk">speaker → actor</a>
(hover a quote for its kind, speaker, stance scores and target)</p>
"""


def _quote_title(q) -> str:
    parts = [f"{q.id} {q.kind}", f"speaker: {q.speaker.text if q.speaker else '-'}"]
    if q.speaker is not None and q.speaker.actor:
        parts.append(f"actor: {q.speaker.actor} ({q.speaker.affiliation or '?'})")
    if q.stance:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in (q.stance_scores or {}).items())
        parts.append(f"stance: {q.stance} [{scores}]")
    if q.target is not None:
        parts.append(f"target: {q.target.text}")
    return "; ".join(parts)


def render_html_article(doc: Document, anchor: str = "doc") -> str:
    """The article with quotes coloured by stance, cues underlined, speaker mentions linked
    to the document's actor list (hover a quote for kind, speaker, scores and target).
    ``anchor`` prefixes the element ids: unique per article of a page."""
    anchor += "-" + "".join(ch if ch.isalnum() else "-" for ch in doc.name)
    actor_ids = {actor.name: f"{anchor}-{actor.id}" for actor in doc.actors}
    # (offset, 0 = close / 1 = open, order among equals, markup): at one offset, closings
    # come first, inner ones before outer ones; openings outer (longer) first
    events: list[tuple[int, int, int, str]] = []

    def mark(start: int, end: int, opening: str, closing: str) -> None:
        events.append((start, 1, -(end - start), opening))
        events.append((end, 0, end - start, closing))

    spans = [(q.start, q.end) for q in doc.quotes]
    speakers_done: set[tuple[int, int]] = set()
    for q in doc.quotes:
        cls = f"q stance-{q.stance or 'unknown'} kind-{q.kind}"
        mark(
            q.start,
            q.end,
            f'<span class="{cls}" title="{html.escape(_quote_title(q))}">',
            "</span>",
        )
        if q.cue is not None:
            mark(q.cue.start, q.cue.end, f'<span class="cue" title="cue of {q.id}">', "</span>")
        spk = q.speaker
        if spk is None or (spk.start, spk.end) in speakers_done:
            continue
        crosses = any(s < spk.end and spk.start < e and not (s <= spk.start and spk.end <= e)
                      for s, e in spans)  # fmt: skip
        if crosses or (q.cue is not None and q.cue.start < spk.end and spk.start < q.cue.end):
            continue  # would not nest; the quote's title still names the speaker
        speakers_done.add((spk.start, spk.end))
        href = actor_ids.get(spk.actor or "", "")
        title = html.escape(f"{spk.actor or spk.text} ({spk.affiliation or '?'})")
        mark(spk.start, spk.end, f'<a class="spk" href="#{href}" title="{title}">', "</a>")
    events.sort()
    parts, pos = [], 0
    for offset, _, _, tag in events:
        parts.append(html.escape(doc.text[pos:offset]))
        parts.append(tag)
        pos = offset
    parts.append(html.escape(doc.text[pos:]))
    actors = "".join(
        f'<li id="{actor_ids[a.name]}">{html.escape(a.name)} — {a.type}'
        f"{', ' + html.escape(a.affiliation) if a.affiliation else ''}: "
        f"{html.escape(', '.join(sorted({m.text for m in a.mentions})))}</li>"
        for a in doc.actors
    )
    listing = f'<ol class="actors">{actors}</ol>\n' if actors else ""
    return f"<h2>{html.escape(doc.name)}</h2>\n<article>{''.join(parts)}</article>\n{listing}"
