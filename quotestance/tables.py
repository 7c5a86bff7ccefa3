"""Table inputs: JSON Lines, CSV and Parquet files with one document per row.

Both engines read tables here (``annotate`` on one machine and ``--engine ray``'s driver), so
a row becomes the same document, or the same error, on either. Nothing here imports Ray;
pyarrow is imported for Parquet files only.

- A table is a file given by name whose suffix is ``.jsonl``, ``.ndjson``, ``.csv`` or
  ``.parquet`` (a directory still means every ``*.txt`` below it).
- The text is in ``text_column`` (default ``text``); the document's name (the ``file`` field
  of every output) in ``id_column``, else an ``id`` column, else ``name``, else ``FILE#N``
  (N: the line number of a JSONL file, the record number from 1 of a CSV file, not counting
  its header, the row number from 1 of a Parquet file).
- Rows are read one at a time (Parquet: 256 at a time); nothing holds the whole table. The
  one thing kept per row is its name, to find duplicates.
- A row that is no document is an error row, and the others go on: a line that is not UTF-8
  or not a JSON object, a text or name that is not a string (a name may be an integer) or
  holds a lone surrogate, a name with a control character or over ``NAME_CHARS``
  characters, a row without text, a text over the size limit (a line or field too long for
  one is skipped, not parsed), a second row with a name an earlier row of the same table
  had (the later one fails, named ``FILE#N``). A text with NUL bytes fails later, as a
  binary file does (``formats.decode``).
- A CSV or Parquet table whose header lacks ``text_column`` or ``id_column`` is refused as a
  whole before anything runs (``column_problem``; the command line exits 2). A JSON Lines
  file has no header: each row without the column is an error row.
- CSV: UTF-8 (a BOM is removed), the first record is the header, the ``csv`` module's
  default dialect (``,``, ``"``-quoted fields may span lines). ``csv.field_size_limit`` is
  set to the size limit + 1 character while a CSV file is read: a longer field is an error
  row (the module counts characters, and a text of more characters than the limit has more
  bytes too), and a physical line longer than twice the limit + 1 MiB (a quoted text of the
  limit doubles its quotes at most) is skipped up to its end, as an error row.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quotestance.formats import TooLong, read_lines

TABLE_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")
NAME_CHARS = 1024  # longest document name taken from a row
DEFAULT_TEXT_COLUMN = "text"
NAME_COLUMNS = ("id", "name")  # the name's columns when no id column is given
PARQUET_BATCH = 256  # Parquet rows decoded together


@dataclass
class Row:
    """One row of a table: a document (``text``) or an error (``error``, one line that
    starts with ``name``)."""

    name: str
    text: str | None = None
    error: str | None = None


def is_table(path: str | Path) -> bool:
    """Whether ``path`` names a table by its suffix (whether or not it exists)."""
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def _limit_text(max_bytes: int) -> str:
    return f"{max_bytes / 2**20:g} MiB"


# ---------------------------------------------------------------- columns


def header(path: Path) -> list[str] | None:
    """The column names of a CSV or Parquet table (None for JSON Lines, which has none, and
    for a file that cannot be read: that is reported when its rows are read). An empty CSV
    file has no columns and no rows."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                return list(pq.ParquetFile(path).schema_arrow.names)
            except pa.ArrowException:
                return None
        if suffix == ".csv":
            with _csv_text(path) as handle:
                first = next(csv.reader(_Lines(handle, 2**20)), None)
            return None if first is None else first
    except (OSError, csv.Error, _LineTooLong):
        return None
    return None


def column_problem(path: str | Path, text_column: str, id_column: str | None) -> str | None:
    """Why a CSV or Parquet table lacks a column it needs (one line), or None. Raises
    ``ImportError`` for a Parquet file when pyarrow is not installed."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet  # noqa: F401  # the ml extra; ImportError for the caller
    columns = header(path)
    if columns is None or (not columns and path.suffix.lower() == ".csv"):
        return None
    for option, column in (("--text-column", text_column), ("--id-column", id_column)):
        if column is not None and column not in columns:
            shown = ", ".join(repr(c) for c in columns[:20]) + (", ..." * (len(columns) > 20))
            return f"{path}: no column {column!r} ({option}; the columns are {shown})"
    return None


# ---------------------------------------------------------------- rows


def string_problem(value: str) -> str | None:
    """Why ``value`` cannot go into a UTF-8 output, or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"not valid Unicode (a lone surrogate at character {err.start})"
    return None


def row_name(row: dict, id_column: str | None) -> tuple[str | None, str | None]:
    """``(name, problem)``: the ``id_column`` value, else an ``id`` or ``name`` value, else
    None (the caller uses ``FILE#N``). A name must be a string or an integer, valid Unicode,
    one line without control characters and at most ``NAME_CHARS`` long; a given
    ``id_column`` must have a value."""
    for column in (id_column,) if id_column else NAME_COLUMNS:
        value = row.get(column)
        if value is None or value == "":
            if id_column:
                return None, f"no value in the id column {column!r}"
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None, f"the name in {column!r} is a {type(value).__name__}, not a string"
        name = str(value)
        problem = string_problem(name)
        problem = f"is {problem}" if problem else None
        if problem is None and any(unicodedata.category(c) == "Cc" for c in name):
            problem = "holds a control character (a line break, NUL, ...)"
        if problem is None and len(name) > NAME_CHARS:
            problem = f"is longer than {NAME_CHARS} characters"
        return (None, f"the name in {column!r} {problem}") if problem else (name, None)
    return None, None


def row_entry(
    row: Any, row_id: str, text_column: str, id_column: str | None, max_bytes: int
) -> Row:
    """The document (or error) of one row (a dict of its values); ``row_id`` is ``FILE#N``."""
    if not isinstance(row, dict):
        return Row(row_id, error=f"{row_id}: not a JSON object")
    name, problem = row_name(row, id_column)
    if problem:
        return Row(row_id, error=f"{row_id}: {problem}")
    name = name or row_id
    text = row.get(text_column)
    if not isinstance(text, str):
        return Row(name, error=f"{name}: no text in column {text_column!r}")
    problem = string_problem(text)
    if problem:
        return Row(name, error=f"{name}: the text in {text_column!r} is {problem}")
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        return Row(name, error=f"{name}: input over the {_limit_text(max_bytes)} limit")
    return Row(name, text=text)


def read_table(
    path: str | Path,
    text_column: str = DEFAULT_TEXT_COLUMN,
    id_column: str | None = None,
    max_bytes: int = 20 * 1024 * 1024,
    label: str | None = None,
) -> Iterator[Row]:
    """The rows of one table in order, streamed; see the module docstring. ``label``: how
    the file is named in ``FILE#N`` and messages (default: the path as given)."""
    path = Path(path)
    label = label or str(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        rows = _parquet_rows(path, label, text_column, id_column, max_bytes)
    elif suffix == ".csv":
        rows = _csv_rows(path, label, text_column, id_column, max_bytes)
    else:
        rows = _jsonl_rows(path, label, text_column, id_column, max_bytes)
    first: dict[str, int] = {}  # name -> the row number that had it first
    for number, row in rows:
        if row.name in first:
            row_id = f"{label}#{number}"
            yield Row(row_id, error=f"{row_id}: the name {row.name!r} is already the name "
                      f"of row {first[row.name]}")  # fmt: skip
            continue
        if number:
            first[row.name] = number
        yield row


def _jsonl_rows(
    path: Path, label: str, text_column: str, id_column: str | None, max_bytes: int
) -> Iterator[tuple[int, Row]]:
    # a JSON line holds a text of at most max_bytes, escaped (\uXXXX: 6 bytes a character)
    limit = 6 * max_bytes + 2**20
    try:
        with path.open("rb") as handle:
            for number, line in read_lines(handle, limit):
                row_id = f"{label}#{number}"
                if isinstance(line, TooLong):
                    yield number, Row(row_id, error=f"{row_id}: line over the limit for a "
                                      f"{_limit_text(max_bytes)} text")  # fmt: skip
                    continue
                if not line.strip():
                    continue
                try:
                    row = json.loads(line.decode("utf-8"))
                except UnicodeDecodeError as err:
                    yield number, Row(row_id, error=f"{row_id}: not UTF-8 (byte {err.start})")
                    continue
                except (ValueError, RecursionError) as err:
                    yield number, Row(row_id, error=f"{row_id}: not JSON ({err})")
                    continue
                yield number, row_entry(row, row_id, text_column, id_column, max_bytes)
    except OSError as err:
        yield 0, Row(label, error=f"{label}: cannot read ({err.strerror or err})")


class _LineTooLong(Exception):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number  # the physical line


class _Lines:
    """The physical lines of a text file for ``csv.reader``, each at most ``cap``
    characters: a longer one is skipped to its end and raises ``_LineTooLong`` once (the
    reader then starts a new record at the next line)."""

    def __init__(self, handle: io.TextIOBase, cap: int) -> None:
        self.handle, self.cap, self.number = handle, cap, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(self.cap + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > self.cap and not line.endswith("\n"):
            while line and not line.endswith("\n"):
                line = self.handle.readline(2**20)
            raise _LineTooLong(self.number)
        return line


def _csv_text(path: Path) -> io.TextIOWrapper:
    # bytes that are not UTF-8 become lone surrogates (U+DC80..U+DCFF), found per field
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _csv_rows(
    path: Path, label: str, text_column: str, id_column: str | None, max_bytes: int
) -> Iterator[tuple[int, Row]]:
    field_limit = max_bytes + 1
    cap = 2 * max_bytes + 2**20
    try:
        with _csv_text(path) as handle:
            lines = _Lines(handle, cap)
            reader = csv.reader(lines)
            csv.field_size_limit(max(field_limit, 2**20))  # the header may be long
            try:
                columns = next(reader, None)
            except (csv.Error, _LineTooLong) as err:
                yield 0, Row(label, error=f"{label}: cannot read the CSV header ({err})")
                return
            if columns is None:
                return  # an empty file: no rows
            missing = [c for c in (text_column, id_column) if c and c not in columns]
            if missing:
                yield 0, Row(label, error=f"{label}: no column {missing[0]!r}")
                return
            index = {name: k for k, name in reversed(list(enumerate(columns)))}
            wanted = [c for c in (text_column, id_column, *NAME_COLUMNS) if c in index]
            number = 0
            while True:
                csv.field_size_limit(field_limit)  # set again: other code may change it
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except _LineTooLong:
                    number += 1
                    row_id = f"{label}#{number}"
                    yield number, Row(row_id, error=f"{row_id}: line over the limit for a "
                                      f"{_limit_text(max_bytes)} text")  # fmt: skip
                    continue
                except csv.Error as err:
                    number += 1
                    row_id = f"{label}#{number}"
                    reason = (
                        f"a field over the {_limit_text(max_bytes)} limit"
                        if "field limit" in str(err)
                        else f"not CSV ({err})"
                    )
                    yield number, Row(row_id, error=f"{row_id}: {reason}")
                    continue
                if not record:
                    continue  # a blank line
                number += 1
                row_id = f"{label}#{number}"
                row = {c: record[index[c]] for c in wanted if index[c] < len(record)}
                bad = next((c for c, v in row.items() if string_problem(v)), None)
                if bad is not None:
                    yield number, Row(row_id, error=f"{row_id}: not UTF-8 (in {bad!r})")
                    continue
                yield number, row_entry(row, row_id, text_column, id_column, max_bytes)
    except OSError as err:
        yield 0, Row(label, error=f"{label}: cannot read ({err.strerror or err})")


def _parquet_rows(
    path: Path, label: str, text_column: str, id_column: str | None, max_bytes: int
) -> Iterator[tuple[int, Row]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
        names = set(source.schema_arrow.names)
        for column in (text_column, id_column):
            if column and column not in names:
                yield 0, Row(label, error=f"{label}: no column {column!r}")
                return
        columns = [c for c in (text_column, id_column, *NAME_COLUMNS) if c in names]
        number = 0
        for batch in source.iter_batches(
            columns=list(dict.fromkeys(columns)), batch_size=PARQUET_BATCH
        ):
            try:
                rows = batch.to_pylist()
            except (UnicodeDecodeError, pa.ArrowException):  # invalid UTF-8: row by row
                rows = [_parquet_row(batch, k) for k in range(batch.num_rows)]
            for row in rows:
                number += 1
                row_id = f"{label}#{number}"
                if isinstance(row, Exception):
                    yield number, Row(row_id, error=f"{row_id}: unreadable row ({row})")
                else:
                    yield number, row_entry(row, row_id, text_column, id_column, max_bytes)
    except (OSError, pa.ArrowException) as err:
        yield 0, Row(label, error=f"{label}: cannot read as Parquet ({err})")


def _parquet_row(batch: Any, k: int) -> dict | Exception:
    import pyarrow as pa

    try:
        return batch.slice(k, 1).to_pylist()[0]
    except (UnicodeDecodeError, pa.ArrowException) as err:
        return err
