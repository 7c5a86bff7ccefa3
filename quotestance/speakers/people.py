"""Well-known people and their country, for speakers the article does not describe.

A name such as *Lawrow* or *Erdoğan* often stands without a title in German news. The list
comes from the CountryInfo person entries of the Phoenix actor dictionary (petrarch2, MIT
licence; politicians and officials up to 2014), converted by ``training/build_people.py`` into
``resources/actors/people.tsv.gz``: one normalised name and a two-letter country code per line.

Names are compared in a spelling-neutral key: accents dropped, and German transliterations of
Slavic and Arabic names brought to the English ones (*Lawrow* → LAVROV, *Netanjahu* →
NETANYAHU, *Poroschenko* → POROSHENKO).
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from pathlib import Path

from quotestance.resources import resource_path

PEOPLE = resource_path("actors", "people.tsv.gz")
_SPELLING = (("TSCH", "CH"), ("SCH", "SH"), ("W", "V"), ("J", "Y"), ("Ü", "U"), ("Ö", "O"))


def person_key(name: str) -> str:
    """``"Sergej Lawrow"`` and ``"SERGEY_LAVROV_"`` -> comparable upper-case keys."""
    text = unicodedata.normalize("NFKD", name.replace("_", " ").upper())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ß", "SS")
    for old, new in _SPELLING:
        text = text.replace(old, new)
    return " ".join(re.findall(r"[A-Z0-9]+", text))


class PeopleList:
    """Lookup of a person's country (ISO 3166 alpha-2) by full name or listed surname."""

    def __init__(self, countries: dict[str, str]) -> None:
        self.countries = countries

    @classmethod
    @functools.cache
    def default(cls, path: Path = PEOPLE) -> PeopleList:
        """The shipped list (empty when it is not installed)."""
        if not Path(path).is_file():
            return cls({})
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows = (line.rstrip("\n").split("\t") for line in handle if "\t" in line)
            return cls({key: code for key, code in rows})

    def country_code(self, name: str) -> str | None:
        """By the name as written, then with German umlauts spelled out (*Pröll* -> PROELL,
        as English sources write it)."""
        code = self.countries.get(person_key(name))
        if code is None and any(ch in name for ch in "äöüÄÖÜ"):
            spelled = name
            for umlaut, plain in zip("äöüÄÖÜ", ("ae", "oe", "ue", "Ae", "Oe", "Ue"), strict=True):
                spelled = spelled.replace(umlaut, plain)
            code = self.countries.get(person_key(spelled))
        return code

    def country_name(self, name: str) -> str | None:
        """The German name of the person's country (*Lawrow* -> *Russland*), if listed."""
        code = self.country_code(name)
        return german_country_names().get(code) if code else None


@functools.cache
def german_country_names() -> dict[str, str]:
    """ISO alpha-2 code -> German country name (Babel; empty without it)."""
    try:
        from babel import Locale
    except ImportError:
        return {}
    return dict(Locale("de").territories)
