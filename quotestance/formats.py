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
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from quotestance.document import Document

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
STDIN = "-"


class InputError(Exception):
    """An input that cannot be annotated; the message is one line for the user."""


@dataclass
class Source:
    """One input to annotate: its name as given and a way to read its text."""

    name: str
    path: Path | None  # None for stdin


def expand_inputs(args: Iterable[str]) -> Iterator[Source | InputError]:
    """Files as given, directories as all ``*.txt`` below them (sorted), ``-`` as stdin.

    Problems are yielded as ``InputError`` in place, so a batch goes on past them.
    """
    for arg in args:
        if arg == STDIN:
            yield Source(STDIN, None)
            continue
        path = Path(arg)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if not files:
                yield InputError(f"{arg}: directory has no .txt files")
            for file in files:
                yield Source(str(file), file)
        elif path.exists():
            yield Source(arg, path)
        else:
            yield InputError(f"{arg}: no such file or directory")


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return control / len(sample) > 0.05


def decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """Bytes to text by the input policy above; returns the text and any warnings."""
    if _looks_binary(data):
        raise InputError(f"{name}: binary file, not text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        warning = (
            f"{name}: not valid UTF-8 (byte {err.start}); decoded as cp1252, check the offsets"
        )
    try:
        return data.decode("cp1252"), [warning]
    except UnicodeDecodeError:
        return data.decode("latin-1"), [warning]


def read_source(source: Source, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, list[str]]:
    """The decoded text of one input, or ``InputError`` with a one-line reason."""
    try:
        if source.path is None:
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            if source.path.stat().st_size > max_bytes:
                size_mib = source.path.stat().st_size / 2**20
                raise InputError(
                    f"{source.name}: {size_mib:.1f} MiB is over the {max_bytes / 2**20:g} MiB "
                    "limit (raise it with --max-mb, or split the file)"
                )
            data = source.path.read_bytes()
    except PermissionError:
        raise InputError(f"{source.name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{source.name}: is a directory") from None
    except OSError as err:
        raise InputError(f"{source.name}: cannot read ({err.strerror or err})") from None
    if len(data) > max_bytes:
        raise InputError(f"{source.name}: input over the {max_bytes / 2**20:g} MiB limit")
    return decode(data, source.name)


# ---------------------------------------------------------------- writers


def error_record(name: str, message: str) -> dict:
    """What jsonl/json outputs hold for an input that failed: no quotes, and why."""
    return {"file": name, "quotes": [], "error": message}


QUOTE_COLUMNS = [
    "file", "id", "kind", "start", "end", "text", "cue", "speaker", "speaker_actor",
    "speaker_affiliation", "addressee", "addressee_actor", "target", "target_actor", "stance",
    "score_threat", "score_cooperation", "score_accusation", "score_none", "error",
]  # fmt: skip


def quote_rows(record: dict) -> Iterator[dict]:
    """One flat row per quote of a document record (a failed document: one row with its
    error), for spreadsheets and Parquet."""
    if record.get("error"):
        yield {**dict.fromkeys(QUOTE_COLUMNS), "file": record["file"], "error": record["error"]}
        return
    for q in record["quotes"]:
        scores = q.get("stance_scores") or {}
        row = {
            "file": record["file"], "id": q["id"], "kind": q["kind"], "start": q["start"],
            "end": q["end"], "text": q["text"], "stance": q.get("stance"), "error": None,
        }  # fmt: skip
        for role, prefix in (("cue", "cue"), ("speaker", "speaker"), ("addressee", "addressee"),
                             ("target", "target")):  # fmt: skip
            span = q.get(role) or {}
            row[prefix] = span.get("text")
            if role != "cue":
                row[f"{prefix}_actor"] = span.get("actor")
        row["speaker_affiliation"] = (q.get("speaker") or {}).get("affiliation")
        for label in ("threat", "cooperation", "accusation", "none"):
            row[f"score_{label}"] = scores.get(label)
        yield {column: row.get(column) for column in QUOTE_COLUMNS}


def quote_schema():
    """The Arrow schema of ``quote_rows`` (fixed, so that every Parquet file of a run agrees
    even where a batch has no value in a column)."""
    import pyarrow as pa

    types = {"start": pa.int64(), "end": pa.int64()} | {
        f"score_{label}": pa.float64() for label in ("threat", "cooperation", "accusation", "none")
    }
    return pa.schema([(c, types.get(c, pa.string())) for c in QUOTE_COLUMNS])


class Writer:
    """Streams results in one format; ``write`` per document, ``close`` at the end.

    ``parquet`` writes to ``path`` (a binary file; rows go out in row groups as they come)."""

    def __init__(self, out: TextIO | None, fmt: str, path: Path | None = None) -> None:
        self.out, self.fmt = out, fmt
        self._first = True
        self._rows: list[dict] = []
        if fmt == "parquet":
            import pyarrow.parquet as pq

            if path is None:
                raise ValueError("parquet output needs a file (-o OUT.parquet)")
            self._schema = quote_schema()
            self._parquet = pq.ParquetWriter(str(path), self._schema)
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

    def _write_csv(self, record: dict, _doc: Document | None) -> None:
        for row in quote_rows(record):
            self._csv.writerow(row)

    def _write_parquet(self, record: dict, _doc: Document | None) -> None:
        self._rows.extend(quote_rows(record))
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
        self.out.write(render_html_article(doc))


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


def render_html_article(doc: Document) -> str:
    """The article with quotes coloured by stance, cues underlined, speaker mentions linked
    to the document's actor list (hover a quote for kind, speaker, scores and target)."""
    anchor = "".join(ch if ch.isalnum() else "-" for ch in doc.name) or "doc"
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
