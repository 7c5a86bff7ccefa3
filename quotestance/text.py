"""Text layer: sentences and tokens with character offsets.

A regex tokenizer plus a small rule-based sentence splitter, written for German news. It
replaced syntok (measured in ``reports/text.md``, made by ``training/benchmark_text.py``):
syntok split ``z.B.``, split sentences after ordinals (``am 3. Oktober``) and missed
boundaries after a closing quote (``„Nein.“ Er ging.``), and at 2-3 ms per article it used
the whole time budget of the text layer. SoMaJo splits about as well as these rules but is
~40x slower (~25 ms per article).

Conventions: abbreviations keep their period (``Dr.``, ``z.B.``), ordinals too (``3.``);
hyphenated compounds stay whole (``US-Außenminister``), a truncation hyphen stays on its word
(``Außen- und``); quotation marks are tokens of their own. A sentence never starts with a
closing quote mark, and it never ends at ``:`` or ``;``. Blank lines separate paragraphs.
"""

from __future__ import annotations

import re

from quotestance.document import Document, Sentence, Token

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")

# Tried in order at each position. Inside a word: hyphen, slash or & joins compounds; an
# apostrophe before a letter (People's, geht’s); . , : between digits (1.000,5 14:30
# 12.10.2005); a dot before two letters (ver.di, ndr.de). A word keeps a truncation hyphen
# when a conjunction or comma follows (Außen- und, Fernseh-, Radio-).
_TOKEN = re.compile(
    r"""
    (?P<url>(?:https?://|www\.)[^\s"“”„»«<>]*[^\s"“”„»«<>.,;:!?)\]'])
  | (?P<mail>[\w.+-]+@\w[\w-]*(?:\.\w[\w-]*)+)
  | (?P<dotted>(?:[^\W\d_]{1,2}\.){2,})
  | (?P<word>\w+(?:(?:[-‐‑/&]|['’](?=[^\W\d_])|(?<=\d)[.,:](?=\d)|\.(?=[^\W\d_]{2}))\w+)*
        (?:-(?=,|\s+(?:und|oder|bis|sowie|wie|als|noch|bzw\.|beziehungsweise)\b))?)
  | (?P<punct>[!?]+|\.\.+|''|``|,,|\S)
    """,
    re.VERBOSE,
)

# Token kinds; _ABBR_END is an abbreviation that may end a sentence ("usw.").
_WORD, _NUM, _ABBR, _ABBR_END, _DOT, _END, _OPEN, _CLOSE, _OTHER = range(9)

_OPENING = frozenset({"„", "‚", ",,", "(", "[", "{"})
_CLOSING = frozenset({")", "]", "}"})
_QUOTES = frozenset({'"', "'", "«", "»", "“", "”", "‘", "’", "''", "``"})  # open or close
_ROMAN = re.compile(r"[IVXLC]{2,}")  # "I." is an initial


def _words(listing: str) -> frozenset[str]:
    """A word list written as whitespace-separated text (easier to read and extend)."""
    return frozenset(listing.split())


# Abbreviations, case-sensitive, without their period; a lowercase one is also accepted
# capitalised (sentence-initial "Ca."). Single letters and dotted forms (z.B.) need no entry.
_ABBREVIATIONS = _words(
    """
    abzgl allg bspw bzgl bzw ca dgl dt ebd ehem einschl engl entspr etc evtl exkl frz gegr
    geb gem ggf gest hrsg inkl insb jährl kath evang lt mind mtl näml rd sog tägl ugs urspr
    usw usf vgl vorm nachm zzgl zzt ff stellv stv verh jun sen lat griech ital span russ
    brit amerik österr schweiz franz niederl vs
    Mio Mrd Tsd Std Min Sek Jh Jhd Jhdt Chr Nr Bd Abs Abb Abschn Kap Ziff Tab Anh Anm Aufl
    Dr Prof Dipl Ing Hr Hrn Fr Frl St Jr Sr Mr Mrs Ms Mt Ft Gen Lt Sgt Capt Col Adm Gov Sen
    Rep Pres Rev Hl Pfr Abg Vors Präs Co Corp Inc Ltd Bros Str Tel Bhf Hbf Univ Inst Ges Kr
    Lkr Bez Reg Hrsg Vol Feb Mär Apr Jun Jul Aug Sep Sept Okt Nov Dez
    """
)
_ABBREVIATIONS |= {a[0].upper() + a[1:] for a in _ABBREVIATIONS if a.islower()}
_ABBREVIATIONS_BEFORE_NUMBER = frozenset({"Art"})  # "Art. 5 GG", but "auf diese Art. Er …"
# Abbreviations that often end a sentence: after them a capitalised word starts a new one.
_FINAL_ABBREVIATIONS = _words(
    """
    usw. etc. usf. Chr. Jh. Jhd. Jhdt. Inc. Corp. Ltd. Bros. Jr. Sr. ff. u.ä. u.Ä. u.v.m.
    u.s.w. e.V. v.Chr. n.Chr.
    """
)
_MONTHS = _words(
    """
    Januar Jänner Februar März April Mai Juni Juli August September Oktober November
    Dezember Jan Feb Mär Apr Jun Jul Aug Sep Sept Okt Nov Dez
    """
)
# Words before a number that make "<number>. <Capitalised>" an ordinal ("der 1. FC Köln",
# "zum 16. Deutschen Bundestag", "seinem 80. Geburtstag"), not a sentence end.
_ORDINAL_CUES = _words(
    """
    am im vom zum zur beim ans ins der die das den dem des ein eine einem einen einer eines
    sein seine seinem seinen seiner seines ihr ihre ihrem ihren ihrer ihres unser unsere
    unserem unseren unserer dieser diese diesem diesen dieses jeder jede jedem jeden jedes , - – /
    """
)
# Nouns that follow an ordinal whatever comes before it ("des späten 15. Jahrhunderts").
_ORDINAL_NOUN = re.compile(
    r"(?:Jahrhundert|Jahrtausend|Jahrestag|Geburtstag|Jubiläum|Jahrgang|Lebensjahr|Spieltag)"
)


def content_words(text: str) -> list[str]:
    """The whitespace-separated pieces of ``text`` that hold a letter or digit (words, not
    dashes or stray punctuation): how the detectors count a span's length in words."""
    return [w for w in text.split() if any(ch.isalnum() for ch in w)]


def paragraph_bounds(text: str) -> list[tuple[int, int]]:
    """Blank-line separated blocks as (start, end) offsets, whitespace trimmed."""
    bounds, pos = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        bounds.append((pos, match.start()))
        pos = match.end()
    bounds.append((pos, len(text)))
    out = []
    for start, end in bounds:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def _raw_tokens(text: str, start: int, end: int) -> list[list[int]]:
    """[start, end, kind] for each regex token of ``text[start:end]``."""
    out = []
    for match in _TOKEN.finditer(text, start, end):
        s, e = match.span()
        group = match.lastgroup
        if group == "word":
            first = text[s]
            kind = _NUM if first.isdigit() or _ROMAN.fullmatch(text, s, e) else _WORD
        elif group == "dotted":
            kind = _ABBR
        elif group != "punct":
            kind = _WORD
        else:
            tok = text[s:e]
            if tok == ".":
                kind = _DOT
            elif tok[0] in "!?." or tok == "…":
                # "[…]" and "(...)" mark an omission, not an end
                kind = _OTHER if s > start and text[s - 1] in "[(" else _END
            elif tok in _OPENING:
                kind = _OPEN
            elif tok in _CLOSING:
                kind = _CLOSE
            elif tok in _QUOTES:
                kind = _quote_kind(text, s, e, start, end)
            else:
                kind = _OTHER
        out.append([s, e, kind])
    return out


def _quote_kind(text: str, s: int, e: int, start: int, end: int) -> int:
    """Does a quote mark that may open or close (" » “ …) open or close here: it opens after a
    space, closes after a letter or digit, and after other marks opens only before a word
    (``sagte:"Wir``, but ``kommen."``)."""
    before = text[s - 1] if s > start else " "
    if before.isspace():
        return _OPEN
    if before.isalnum():
        return _CLOSE
    return _OPEN if e < end and text[e].isalnum() else _CLOSE


def _starts_sentence(text: str, tok: list[int] | None) -> bool:
    """Can ``tok`` begin a sentence: a capital, a digit, an opening quote or bracket, or a
    name like "eBay"."""
    if tok is None:
        return False
    kind = tok[2]
    if kind in (_OPEN, _NUM):
        return True
    if kind == _ABBR:
        return text[tok[0]].isupper()
    return kind == _WORD and (text[tok[0]].isupper() or not text[tok[0] : tok[1]].islower())


def _is_ordinal(text: str, toks: list[list[int]], i: int) -> bool:
    """Is the number ``toks[i]``, followed by a glued ".", an ordinal rather than a sentence end."""
    after = toks[i + 2] if i + 2 < len(toks) else None
    if after is None or after[2] == _CLOSE:
        return False
    if not _starts_sentence(text, after):
        return True
    if after[2] == _WORD and (
        text[after[0] : after[1]] in _MONTHS or _ORDINAL_NOUN.match(text, after[0], after[1])
    ):
        return True
    s, e, _ = toks[i]
    roman = _ROMAN.fullmatch(text, s, e)
    if roman and text[after[0]] == "(":
        return True  # "König Rama IX. (Bhumibol Adulyadej)"
    if after[2] == _NUM or e - s > 3 or not (text[s:e].isdigit() or roman):
        return False  # "bis 2005. Danach", "Platz 3. 25 Menschen", "mit 2:0. Beide"
    before = toks[i - 1] if i else None
    if before is None or before[2] in (_DOT, _END, _OPEN):
        return True  # enumerations, "1. FC Köln" at the start, "(3. Liga)"
    return text[before[0] : before[1]].lower() in _ORDINAL_CUES


def _is_abbreviation(text: str, toks: list[list[int]], i: int) -> bool:
    """Is the word ``toks[i]``, followed by a glued ".", an abbreviation."""
    s, e, _ = toks[i]
    word = text[s:e]
    if e - s == 1:
        # An initial or "z. B.", but a unit after a number: "165 g.", "400 km/h."
        before = toks[i - 1] if i else None
        unit = before is not None and (before[2] == _NUM or text[before[0] : before[1]] == "/")
        return not (word.islower() and unit)
    if word in _ABBREVIATIONS:
        return True
    if word in _ABBREVIATIONS_BEFORE_NUMBER:
        after = toks[i + 2] if i + 2 < len(toks) else None
        return after is not None and after[2] == _NUM
    return False


def _merge_periods(text: str, toks: list[list[int]]) -> list[list[int]]:
    """Glue a period to the abbreviation or ordinal before it; a lone period becomes _END."""
    out: list[list[int]] = []
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        kind = tok[2]
        nxt = toks[i + 1] if i + 1 < n else None
        if nxt is not None and nxt[2] == _DOT and nxt[0] == tok[1]:
            if kind == _WORD and _is_abbreviation(text, toks, i):
                word = text[tok[0] : nxt[1]]
                out.append([tok[0], nxt[1], _ABBR_END if word in _FINAL_ABBREVIATIONS else _ABBR])
                i += 2
                continue
            if kind == _NUM and _is_ordinal(text, toks, i):
                out.append([tok[0], nxt[1], _NUM])
                i += 2
                continue
        if kind == _ABBR and text[tok[0] : tok[1]] in _FINAL_ABBREVIATIONS:
            tok = [tok[0], tok[1], _ABBR_END]
        elif kind == _DOT:
            tok = [tok[0], tok[1], _END]
        out.append(tok)
        i += 1
    return out


def _sentence_starts(text: str, toks: list[list[int]]) -> list[int]:
    """Token indices where sentences begin: after an end mark and any closing marks after it,
    when what follows can start a sentence (``„Nein.“ Er ging.`` splits after the quote)."""
    starts = [0]
    i, n = 0, len(toks)
    while i < n:
        kind = toks[i][2]
        if kind == _END:
            j = i + 1
            while j < n and toks[j][2] in (_CLOSE, _END):
                j += 1
            if j < n and _starts_sentence(text, toks[j]):
                starts.append(j)
            i = j
        else:
            # "… etc. Die" ends a sentence, "e.V. (CCC)" does not
            nxt = toks[i + 1] if i + 1 < n else None
            if kind == _ABBR_END and nxt and nxt[2] == _WORD and _starts_sentence(text, nxt):
                starts.append(i + 1)
            i += 1
    return starts


# A sentence longer than this many tokens (a list, a table, text without end marks) is cut,
# after a comma, semicolon or colon where one is near the limit: the stages after this one
# look at a sentence as a whole, and would take time quadratic in its length. The longest
# sentence of the 1,728 SpkAtt-news and 10kGNAD articles has 313 tokens.
MAX_SENTENCE_TOKENS = 400
_CLAUSE_MARKS = {",", ";", ":"}


def _bounded(text: str, toks: list[list[int]], starts: list[int]) -> list[int]:
    """``starts`` with more starts inside sentences of over ``MAX_SENTENCE_TOKENS`` tokens."""
    out: list[int] = []
    for first, last in zip(starts, [*starts[1:], len(toks)], strict=True):
        out.append(first)
        while last - first > MAX_SENTENCE_TOKENS:
            cut = first + MAX_SENTENCE_TOKENS
            for k in range(cut - 1, first + MAX_SENTENCE_TOKENS // 2, -1):
                if text[toks[k][0] : toks[k][1]] in _CLAUSE_MARKS:
                    cut = k + 1
                    break
            out.append(cut)
            first = cut
    return out


def segment(text: str) -> list[Sentence]:
    """Split ``text`` into sentences of tokens; offsets index ``text`` itself."""
    sentences: list[Sentence] = []
    for para_index, (para_start, para_end) in enumerate(paragraph_bounds(text)):
        toks = _merge_periods(text, _raw_tokens(text, para_start, para_end))
        starts = _bounded(text, toks, _sentence_starts(text, toks))
        for first, last in zip(starts, [*starts[1:], len(toks)], strict=True):
            tokens = [
                Token(s, e, text[s:e], index=k) for k, (s, e, _) in enumerate(toks[first:last])
            ]
            start, end = tokens[0].start, tokens[-1].end
            sentences.append(
                Sentence(start, end, text[start:end], tokens, para_index, len(sentences))
            )
    return sentences


class TextSegmenter:
    """Pipeline stage: adds the sentence and token layer."""

    name = "text"

    def __call__(self, doc: Document) -> Document:
        doc.sentences = segment(doc.text)
        return doc
