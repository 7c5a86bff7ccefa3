"""Convert step: the Phoenix actor dictionary's person entries -> ``people.tsv.gz``.

Input: ``Phoenix.Countries.actors.txt`` from https://github.com/openeventdata/petrarch2
(``petrarch2/data/dictionaries/``, MIT licence; bring it here with the search tool's
``fetch``). A person entry (marked ``# CountryInfo.txt``, or with dated codes: offices
held) has a name, ``+`` aliases and ``[CODE dates]`` lines; the country is the first three
letters of the latest code, mapped to ISO alpha-2 through Babel's CLDR aliases. Keys are
the full name and the aliases that are plain names (no title word: a token used in 25 or
more different aliases, such as PRESIDENT or MINISTER, counts as a title), and the surname
alone. A key claimed for two
countries (a surname shared by a Russian and a Ukrainian minister) is dropped.

Run: ``python training/build_people.py PATH/Phoenix.Countries.actors.txt``.
"""

from __future__ import annotations

import argparse
import gzip
from collections import Counter, defaultdict
from pathlib import Path

from quotestance.speakers.people import PEOPLE, person_key

TITLE_MIN_ALIASES = 25


def person_entries(text: str) -> list[tuple[str, list[str], str]]:
    """(name, aliases, latest code) of every CountryInfo person entry."""
    entries: list[tuple[str, list[str], str]] = []
    current: list | None = None  # name, aliases, latest code, marked as a person

    def close() -> None:
        if current is not None and current[2] and current[3]:
            entries.append((current[0], current[1], current[2]))

    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("+"):
            if current is not None:
                current[1].append(line[1:].split("#")[0].strip())
        elif line.startswith(("\t", " ")) and line.strip().startswith("["):
            if current is not None:
                code = line.strip()[1:].split("]")[0].split()
                current[2] = code[0]
                current[3] = current[3] or (len(code) > 1 and any(c.isdigit() for c in code[1]))
        else:
            close()
            current = [line.split("#")[0].split("[")[0].strip(), [], "", "CountryInfo" in line]
    close()
    return entries


def iso2(code: str) -> str | None:
    from babel.core import get_global

    aliases = get_global("territory_aliases")
    target = aliases.get(code[:3])
    return target[0] if target and len(target[0]) == 2 else None


def build(text: str) -> dict[str, str]:
    entries = person_entries(text)
    token_use = Counter(tok for _, aliases, _ in entries for a in aliases for tok in set(
        person_key(a).split()))  # fmt: skip
    titles = {tok for tok, n in token_use.items() if n >= TITLE_MIN_ALIASES}
    claims: dict[str, set[str]] = defaultdict(set)
    for name, aliases, code in entries:
        country = iso2(code)
        full = person_key(name)
        if country is None or len(full.split()) < 2:
            continue
        claims[full].add(country)
        claims[full.split()[-1]].add(country)  # the surname alone, kept if unambiguous
        for alias in aliases:
            key = person_key(alias)
            words = key.split()
            if words and not set(words) & titles and words[-1] == full.split()[-1]:
                claims[key].add(country)
    return {key: next(iter(c)) for key, c in sorted(claims.items()) if len(c) == 1}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=PEOPLE)
    args = parser.parse_args(argv)
    people = build(args.source.read_text(encoding="utf-8", errors="replace"))
    with gzip.GzipFile(args.out, "wb", mtime=0) as raw:  # reproducible bytes
        raw.write("".join(f"{k}\t{v}\n" for k, v in people.items()).encode("utf-8"))
    singles = sum(1 for k in people if len(k.split()) == 1)
    print(f"{len(people)} names ({singles} surnames alone) -> {args.out}")
    print("examples:", {k: people[k] for k in ("LAVROV", "ERDOGAN", "XI YINPING") if k in people})


if __name__ == "__main__":
    main()
