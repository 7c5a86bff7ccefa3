"""The JSON Lines records of ``quotestance classify``: read with a cap on the line length,
checked one by one, written back as valid UTF-8 JSON.

Each problem is one record's problem: a line that is too long, not UTF-8, not JSON (or nested
too deeply for the parser), not an object with a string ``text``, or holding something JSON
cannot write back (a lone surrogate, a number out of range) becomes a ``RecordError`` for that
line, and every other line is still classified.
"""

from __future__ import annotations

import json
from typing import Any

from quotestance.formats import TooLong

MAX_LINE_BYTES = 1024 * 1024  # one record; a quote with its context is a few kB


class RecordError(ValueError):
    """Why one input line is no record; the message names no value of the line."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_record(line: bytes | TooLong, cap: int = MAX_LINE_BYTES) -> dict[str, Any]:
    """The record of one line, or ``RecordError`` with the reason."""
    if isinstance(line, TooLong):
        raise RecordError(f"longer than {cap} bytes (the limit for one record): {line.size} bytes")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RecordError(f"not UTF-8 text (byte {err.start + 1})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        record = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise RecordError("JSON nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, an integer of too many digits, NaN
        raise RecordError(f"not JSON ({str(err).splitlines()[0][:100]})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise RecordError("expected a JSON object with a string 'text'")
    dump(record)  # what cannot be written back is refused now, not after classifying
    return record


def dump(record: dict[str, Any]) -> str:
    """One output line (with the newline): JSON that is valid UTF-8, or ``RecordError``."""
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError("a lone surrogate (\\ud800-\\udfff): not valid Unicode") from None
    except RecursionError:
        raise RecordError("JSON nested too deeply") from None
    except ValueError:
        raise RecordError("a number out of range (infinite as a float)") from None
    return line + "\n"


def error_line(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False) + "\n"
