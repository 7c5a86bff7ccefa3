"""Output files that never destroy what the user had.

- A new output ``NAME`` is written to ``.NAME.partial`` beside it and renamed into place
  when the run ends, so a run that fails (a full disk, an interruption, a kill) leaves the
  previous ``NAME`` as it was. An interrupted or killed JSON Lines run leaves its partial
  file: ``--resume`` continues it (it supersedes the older ``NAME``) and renames it into
  place at the end.
- ``--resume`` appends to a JSON Lines output, one whole record per write. It first keeps
  the complete records of the file and drops what a rerun redoes (a last line cut off by an
  interruption, error records, second copies of a document), rewriting the file atomically;
  lines are split on ``\\n`` only (JSON strings may hold U+2028 and other line breaks that
  ``str.splitlines`` would split on).
- A device or pipe (``-o /dev/null``, ``-o /dev/stdout``) is written directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO


class OutputError(Exception):
    """An output that cannot be used; the message is one line for the user."""


def _describe(err: OSError) -> str:
    return err.strerror or str(err)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (hard links and symbolic links included)."""
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def read_finished(path: Path) -> tuple[set[str], list[bytes] | None]:
    """The documents a JSON Lines output already holds, and its complete, unique, error-free
    lines if the file needs rewriting (None when it is fine as it is).

    Raises ``OutputError`` when the file is not an ``annotate`` JSON Lines output: resuming
    would append records to something else."""
    done: set[str] = set()
    kept: list[bytes] = []
    changed = False
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return done, None
    except OSError as err:
        raise OutputError(f"{path}: cannot read for --resume ({_describe(err)})") from None
    with handle:
        for number, raw in enumerate(handle, 1):  # binary lines: split on b"\n" only
            if not raw.endswith(b"\n"):  # the last line, cut off by an interruption
                changed = True
                break
            if not raw.strip():
                changed = True
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("file"), str):
                raise OutputError(
                    f"{path}: line {number} is not an annotate JSON Lines record; "
                    "--resume continues only a --format jsonl output"
                )
            if record.get("error") or record["file"] in done:
                changed = True  # failed documents are tried again; a second copy is dropped
                continue
            done.add(record["file"])
            kept.append(raw)
    return done, kept if changed else None


class OutputFile:
    """The ``-o`` file of ``annotate``: opened after every check, committed at the end.

    A run writes ``.NAME.partial`` beside ``NAME`` and renames it into place when it ends.
    ``open`` returns the handle to write (text, or binary for Parquet); ``commit`` puts the
    result into place; ``abort`` removes the partial file, except an interrupted JSON Lines
    stream, which stays for ``--resume`` to continue (``NAME`` is untouched either way)."""

    def __init__(self, path: Path, resume: bool = False, fmt: str = "jsonl") -> None:
        self.path, self.resume, self.fmt = path, resume, fmt
        self.partial = path.with_name(f".{path.name}.partial")
        self.temp: Path | None = None  # the file being written, renamed to ``path`` at the end
        self.handle: IO | None = None
        self.finished: set[str] = set()
        self.direct = False
        self._continues: Path | None = None  # the file --resume appends to
        self._rewrite: list[bytes] | None = None

    def check(self) -> None:
        """What can be found out before anything is written (and before models load)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            info = None
        except OSError as err:
            raise OutputError(f"{self.path}: cannot write ({_describe(err)})") from None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{self.path}: is a directory; -o takes a file")
        parent = self.path.parent
        if info is None and not parent.is_dir():
            raise OutputError(f"{self.path}: cannot write (no directory {parent})")
        self.direct = info is not None and not stat.S_ISREG(info.st_mode)
        if self.direct and self.resume:
            raise OutputError(f"{self.path}: --resume needs a regular file")
        if self.resume:
            # an interrupted run's stream supersedes the older complete output
            self._continues = self.partial if self.partial.is_file() else self.path
            self.finished, self._rewrite = read_finished(self._continues)

    def open(self) -> IO:
        binary = self.fmt == "parquet"
        text = {} if binary else {"encoding": "utf-8", "newline": ""}
        try:
            if self.direct:
                self.handle = open(self.path, "wb" if binary else "w", **text)  # noqa: SIM115
            elif self.resume:
                if self._rewrite is not None:
                    _replace(self._continues, self._rewrite)
                if self._continues == self.partial:
                    self.temp = self.partial
                # the writer writes each record as one line and flushes it
                self.handle = open(self._continues, "a", **text)  # noqa: SIM115
            else:
                self.temp = self.partial
                self.handle = open(self.partial, "wb" if binary else "w", **text)  # noqa: SIM115
        except OSError as err:
            raise OutputError(f"{self.path}: cannot write ({_describe(err)})") from None
        return self.handle

    def commit(self) -> None:
        """Close and put the output into place (raises ``OutputError`` on a write error)."""
        try:
            if self.handle is not None and not self.handle.closed:
                self.handle.close()
            if self.temp is not None:
                if self.path.exists():  # keep the permissions the user gave the old file
                    os.chmod(self.temp, stat.S_IMODE(self.path.stat().st_mode))
                os.replace(self.temp, self.path)
                self.temp = None
        except OSError as err:
            self.abort()
            raise OutputError(f"{self.path}: cannot write ({_describe(err)})") from None

    def abort(self, interrupted: bool = False) -> bool:
        """Give up the output; True when an interrupted JSON Lines stream was kept (in
        ``self.partial``) for ``--resume``."""
        try:
            if self.handle is not None and not self.handle.closed:
                self.handle.close()
        except OSError:
            pass
        if self.temp is None:
            return False
        if interrupted and self.fmt == "jsonl":
            return True
        self.temp.unlink(missing_ok=True)
        self.temp = None
        return False


@contextlib.contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A hidden temporary path beside ``path`` to write; renamed over ``path`` when the block
    ends well, removed when it fails: readers see the old file or the new one, never half."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _replace(path: Path, lines: list[bytes]) -> None:
    """Rewrite ``path`` with ``lines`` atomically, keeping its permissions."""
    mode = stat.S_IMODE(path.stat().st_mode)
    with replaced_atomically(path) as temp:
        with temp.open("wb") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
