"""The list of well-known people: spelling-neutral keys and the convert step's rules."""

from __future__ import annotations

import sys
from pathlib import Path

from quotestance.speakers.people import PeopleList, person_key

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from build_people import build

DICTIONARY = """\
# a comment
SERGEY_LAVROV_  # CountryInfo.txt
+SERGEY_VIKTOROVICH_LAVROV_
+LAVROV
+FOREIGN_MINISTER_LAVROV
\t[RUSGOV 19940922-20040712]
\t[RUSGOV >20040309]
JOHN_KERRY_ # no CountryInfo mark, but dated offices
+SECRETARY_KERRY_
\t[USAGOV >130201]
AFGHAN_NATIONAL_ARMY
+ANA
\t[AFGMIL]
ANNA_PETROVA_  # CountryInfo.txt
\t[RUSGOV 040101-050101]
IVAN_PETROVA_  # CountryInfo.txt
\t[UKRGOV 040101-050101]
"""


def test_keys_ignore_german_and_english_spelling():
    assert person_key("Sergej Lawrow") == person_key("SERGEY_LAVROV_") == "SERGEY LAVROV"
    assert person_key("Recep Tayyip Erdoğan") == person_key("RECEP_TAYYIP_ERDOGAN_")
    assert person_key("Benjamin Netanjahu") == person_key("BENJAMIN_NETANYAHU")
    assert person_key("Petro Poroschenko") == person_key("PETRO_POROSHENKO")


def test_convert_keeps_people_names_and_unambiguous_surnames(monkeypatch):
    import build_people

    monkeypatch.setattr(build_people, "TITLE_MIN_ALIASES", 1)  # every alias word is a title
    people = build(DICTIONARY)
    assert people["SERGEY LAVROV"] == "RU" and people["LAVROV"] == "RU"
    assert people["YOHN KERRY"] == "US" and people["KERRY"] == "US"
    assert "AFGHAN NATIONAL ARMY" not in people  # no dated office: not a person
    assert not any("MINISTER" in key or "SECRETARY" in key for key in people)
    assert "PETROVA" not in people  # a surname of two countries is nobody's
    assert people["ANNA PETROVA"] == "RU" and people["IVAN PETROVA"] == "UA"


def test_lookup_spells_out_umlauts_and_names_the_country():
    people = PeopleList({"YOSEF PROELL": "AT", "SERGEY LAVROV": "RU"})
    assert people.country_code("Josef Pröll") == "AT"
    assert people.country_name("Sergej Lawrow") == "Russland"
    assert people.country_name("Niemand Bekannt") is None


def test_shipped_list_is_small_and_knows_leaders():
    from quotestance.speakers.people import PEOPLE

    assert PEOPLE.stat().st_size < 1_000_000
    people = PeopleList.default()
    assert people.country_name("Wladimir Putin") == "Russland"
    assert people.country_name("Recep Tayyip Erdoğan") == "Türkei"
