"""The actor registry: known actors (countries, organisations, people) and how text names them.

Built from ``data/actors/builtin.yaml`` (countries with capitals, government metonyms,
adjectives and compound prefixes; international organisations), every other country Babel
knows by its German name, and optionally a user's YAML file in the same format
(``--actors FILE``), whose entries are added last and win on conflicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILTIN = Path(__file__).resolve().parents[2] / "data" / "actors" / "builtin.yaml"
TYPES = ("person", "organisation", "country", "other")
FIELDS = {"name", "type", "affiliation", "aliases", "adjectives", "prefixes"}
ARTICLES = {
    "der",
    "die",
    "das",
    "des",
    "dem",
    "den",
    "ein",
    "eine",
    "einer",
    "eines",
    "einem",
    "einen",
}


class ActorFileError(ValueError):
    """An actor file that cannot be used; the message names the file and the place."""


@dataclass
class ActorEntry:
    name: str
    type: str = "other"
    affiliation: str | None = None
    aliases: list[str] = field(default_factory=list)
    adjectives: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """Lower-case, quotes and articles stripped, whitespace collapsed: the lookup key."""
    words = re.sub(r"[„“”\"»«‚‘’()]", " ", text).split()
    while words and words[0].lower() in ARTICLES:
        words = words[1:]
    return " ".join(words).lower()


def _entries_from_yaml(text: str, source: str) -> list[ActorEntry]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ActorFileError(f"{source}: YAML error{where}: {problem}") from None
    if data is None:
        return []
    if (
        not isinstance(data, dict)
        or set(data) != {"actors"}
        or not isinstance(data["actors"], list)
    ):
        raise ActorFileError(f"{source}: expected a mapping with one key 'actors' holding a list")
    entries = []
    for number, raw in enumerate(data["actors"], 1):
        entries.append(_entry(raw, f"{source}: actor {number}"))
    return entries


def _entry(raw: Any, where: str) -> ActorEntry:
    if not isinstance(raw, dict):
        raise ActorFileError(f"{where}: expected a mapping with at least 'name'")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise ActorFileError(
            f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(FIELDS))})"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ActorFileError(f"{where}: 'name' must be a non-empty string")
    kind = raw.get("type", "other")
    if kind not in TYPES:
        raise ActorFileError(f"{where} ({name}): type {kind!r} is not one of {', '.join(TYPES)}")
    lists = {}
    for key in ("aliases", "adjectives", "prefixes"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ActorFileError(f"{where} ({name}): '{key}' must be a list of strings")
        lists[key] = value
    affiliation = raw.get("affiliation")
    if affiliation is not None and not isinstance(affiliation, str):
        raise ActorFileError(f"{where} ({name}): 'affiliation' must be a string")
    return ActorEntry(name.strip(), kind, affiliation, **lists)


def read_actor_file(path: str | Path) -> list[ActorEntry]:
    """A user's actor file; raises ``ActorFileError`` with a one-line reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ActorFileError(f"{path}: actor file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ActorFileError(f"{path}: cannot read actor file ({exc})") from None
    return _entries_from_yaml(text, str(path))


def _babel_countries() -> list[ActorEntry]:
    try:
        from babel import Locale
    except ImportError:  # the registry still works from the YAML file alone
        return []
    names = Locale("de").territories
    return [
        ActorEntry(name, "country")
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "UN", "EZ", "QO")
    ]


class ActorRegistry:
    """Lookup of actors by mention text, adjective or compound prefix."""

    def __init__(self, entries: list[ActorEntry]) -> None:
        self.entries: dict[str, ActorEntry] = {}
        self._alias: dict[str, ActorEntry] = {}
        self._adjective: list[tuple[str, ActorEntry]] = []
        self._prefix: dict[str, ActorEntry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: ActorEntry) -> None:
        self.entries[entry.name] = entry
        for alias in (entry.name, *entry.aliases):
            self._alias[normalise(alias)] = entry
        for stem in entry.adjectives:
            self._adjective.append((stem.lower(), entry))
        self._adjective.sort(key=lambda x: -len(x[0]))  # longest stem first ("us-amerikanisch")
        for prefix in entry.prefixes:
            self._prefix[prefix.lower()] = entry

    @classmethod
    def default(cls, user_file: str | Path | None = None) -> ActorRegistry:
        entries = _babel_countries()
        entries += _entries_from_yaml(BUILTIN.read_text(encoding="utf-8"), str(BUILTIN))
        if user_file is not None:
            entries += read_actor_file(user_file)
        return cls(entries)

    def lookup(self, text: str) -> ActorEntry | None:
        """The actor a whole mention names ("Der Kreml" -> Russland), if any."""
        key = normalise(text)
        if key in self._alias:
            return self._alias[key]
        if key.endswith("s") and key[:-1] in self._alias:  # genitive: "Russlands"
            return self._alias[key[:-1]]
        return None

    def country_of_word(self, word: str) -> ActorEntry | None:
        """A country or organisation a single word points to: its name, an adjective
        ("russischen"), or a compound prefix ("US-Außenminister")."""
        lower = word.lower().strip("„“\"'")
        if "-" in lower:
            head = lower.split("-", 1)[0]
            if head in self._prefix:
                return self._prefix[head]
        for stem, entry in self._adjective:
            if lower.startswith(stem) and len(lower) - len(stem) <= 2:
                return entry
        entry = self._alias.get(lower)
        if entry is not None and entry.type in ("country", "organisation"):
            return entry
        return None
