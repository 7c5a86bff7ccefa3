"""The actor registry: known actors (countries, organisations, people) and how text names them.

Built from ``quotestance/resources/actors/builtin.yaml`` (countries with capitals, government
metonyms, adjectives and compound prefixes; international organisations), every other country
Babel knows by its German name, and optionally a user's YAML file in the same format
(``--actors FILE``), whose entries are added last and win on conflicts.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quotestance.resources import resource_path

BUILTIN = resource_path("actors", "builtin.yaml")
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


MAX_ACTOR_BYTES = 5 * 1024 * 1024  # a 5 MiB file is ~40 000 actors and parses in seconds
MAX_DEPTH = 16  # an actor file nests 4 deep (actors -> entry -> aliases)
LIST_FIELDS = ("aliases", "adjectives", "prefixes")
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_KIND_OF_TAG = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:merge": "a merge key (<<)",
}


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


class _Other:
    """A YAML scalar that is neither a string nor null (a number, a boolean, a tagged value):
    never used in an actor file, kept only as what it is for the message."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


def _what(value: Any) -> str:
    """A short description of a user value for a message: a cut preview of a string, else
    its kind; never the value itself expanded."""
    if isinstance(value, str):
        preview = repr(value[:40])
        return f"{preview}…" if len(value) > 40 else preview
    if value is None:
        return "null"
    if isinstance(value, _Other):
        return value.kind
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _load_yaml(text: str, source: str) -> Any:
    """The YAML document, built from parser events: strings, null, lists and mappings only
    (other scalars become ``_Other``). Aliases are refused, so no alias bomb can expand, and
    nesting is capped; libyaml's parser where installed (fast), else PyYAML's."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
    resolver = yaml.resolver.Resolver()
    stack: list[tuple[Any, list]] = []  # (container, [pending mapping key]) per open level
    document: Any = None
    documents = 0

    def fail(problem: str, mark: Any) -> ActorFileError:
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return ActorFileError(f"{source}: YAML error{where}: {problem}")

    def add(value: Any) -> None:
        nonlocal document
        if not stack:
            document = value
            return
        container, key = stack[-1]
        if isinstance(container, list):
            container.append(value)
        elif not key:
            key.append(value)
        else:
            name = key.pop()
            try:
                container[name] = value
            except TypeError:  # an unhashable key (a list or mapping used as a key)
                container[_Other("a list or mapping used as a key")] = value

    try:
        for event in yaml.parse(text, Loader=loader or yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise fail("aliases (*name) are not allowed in actor files", event.start_mark)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise fail("more than one document (---)", event.start_mark)
            elif isinstance(event, yaml.ScalarEvent):
                if event.tag in (None, "!") and event.implicit[0]:
                    tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
                else:
                    tag = _STR_TAG if event.tag in (None, "!") else event.tag
                if tag == _STR_TAG:
                    add(event.value)
                elif tag == _NULL_TAG:
                    add(None)
                else:
                    add(_Other(_KIND_OF_TAG.get(tag, "a tagged value")))
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise fail(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
                container: Any = [] if isinstance(event, yaml.SequenceStartEvent) else {}
                add(container)
                stack.append((container, []))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                stack.pop()
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise fail(problem[:120], getattr(exc, "problem_mark", None)) from None
    return document


def _entries_from_yaml(text: str, source: str) -> list[ActorEntry]:
    data = _load_yaml(text, source)
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


def _text_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a name, alias, adjective, prefix or affiliation, if it cannot."""
    if not isinstance(value, str):
        return f"must be a non-empty string, not {_what(value)}"
    if not value.strip():
        return "must be a non-empty string"
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        return f"contains a control character (U+{ord(bad):04X})"
    return None


def _entry(raw: Any, where: str) -> ActorEntry:
    if not isinstance(raw, dict):
        raise ActorFileError(f"{where}: expected a mapping with at least 'name', not {_what(raw)}")
    for key in raw:
        if not isinstance(key, str):
            raise ActorFileError(f"{where}: field names must be strings, not {_what(key)}")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise ActorFileError(
            f"{where}: unknown field {_what(unknown[0])} (allowed: {', '.join(sorted(FIELDS))})"
        )
    name = raw.get("name")
    problem = _text_problem(name)
    if problem:
        raise ActorFileError(f"{where}: 'name' {problem}")
    where = f"{where} ({_what(name)})"
    kind = raw.get("type", "other")
    if kind not in TYPES:
        raise ActorFileError(f"{where}: type {_what(kind)} is not one of {', '.join(TYPES)}")
    lists = {}
    for key in LIST_FIELDS:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise ActorFileError(f"{where}: '{key}' must be a list of strings, not {_what(value)}")
        for number, item in enumerate(value, 1):
            problem = _text_problem(item)
            if problem:
                raise ActorFileError(f"{where}: '{key}' entry {number} {problem}")
        lists[key] = [item.strip() for item in value]
    affiliation = raw.get("affiliation")
    if affiliation is not None:
        problem = _text_problem(affiliation)
        if problem:
            raise ActorFileError(f"{where}: 'affiliation' {problem}")
        affiliation = affiliation.strip()
    return ActorEntry(name.strip(), kind, affiliation, **lists)


_CACHE: dict[tuple[int, int, int, int], tuple[ActorEntry, ...]] = {}
_CACHE_FILES = 8


def _read_capped(path: Path) -> str:
    """At most ``MAX_ACTOR_BYTES`` of the file (a FIFO or a device is read only that far)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_ACTOR_BYTES + 1)
    except FileNotFoundError:
        raise ActorFileError(f"{path}: actor file not found") from None
    except OSError as exc:
        raise ActorFileError(f"{path}: cannot read actor file ({exc.strerror or exc})") from None
    if len(data) > MAX_ACTOR_BYTES:
        try:
            info = os.stat(path)
            regular = stat.S_ISREG(info.st_mode)
        except OSError:
            regular = False
        size = f"{info.st_size} bytes" if regular else f"more than {MAX_ACTOR_BYTES} bytes"
        raise ActorFileError(
            f"{path}: actor file too large ({size}; the cap is {MAX_ACTOR_BYTES} bytes, "
            f"{MAX_ACTOR_BYTES // 1024 // 1024} MiB)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ActorFileError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from None


def _cache_key(path: Path) -> tuple[int, int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def read_actor_file(path: str | Path) -> list[ActorEntry]:
    """A user's actor file; raises ``ActorFileError`` with a one-line reason.

    Parsed once per process: the result is kept per (file, size, modification time), so the
    CLI's check and every pipeline build after it share one parse. The entries are shared
    between callers: do not modify them."""
    path = Path(path)
    before = _cache_key(path)
    if before is not None and before in _CACHE:
        return list(_CACHE[before])
    entries = _entries_from_yaml(_read_capped(path), str(path))
    after = _cache_key(path)  # a FIFO's time moves while it is written: keep what follows
    regular = os.path.isfile(path)
    key = before if regular else after
    if key is not None and (not regular or before == after):
        if len(_CACHE) >= _CACHE_FILES:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = tuple(entries)
    return list(entries)


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
        entries += read_actor_file(BUILTIN)
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
        ("russischen"), or a compound prefix ("US-Außenminister"); or a region, city or party
        with an affiliation ("Tiroler", "Vorarlbergs")."""
        lower = word.lower().strip("„“\"'")
        if "-" in lower:
            head = lower.split("-", 1)[0]
            if head in self._prefix:
                return self._prefix[head]
        for stem, entry in self._adjective:
            if lower.startswith(stem) and len(lower) - len(stem) <= 2:
                return entry
        entry = self._alias.get(lower)
        if entry is None and lower.endswith("s"):  # genitive: "Vorarlbergs Landeshauptmann"
            entry = self._alias.get(lower[:-1])
        if entry is not None and (entry.type in ("country", "organisation") or entry.affiliation):
            return entry
        return None

    def country_name_of_word(self, word: str) -> str | None:
        """The country a single word places its sentence in: a country's name, adjective or
        prefix, or the country of a region, city or party ("Tiroler", "SPÖ-Chef")."""
        entry = self.country_of_word(word)
        if entry is None:
            return None
        if entry.type == "country":
            return entry.name
        country = self.lookup(entry.affiliation) if entry.affiliation else None
        return country.name if country is not None and country.type == "country" else None
