"""Text layer: sentences and tokens with character offsets.

Built on syntok (fast, offset-preserving, handles German abbreviations and ordinals). SoMaJo
was measured too (see ``training/benchmark_text.py``); syntok was kept for speed. syntok
splits hyphenated compounds (``US-Außenminister`` -> ``US``, ``Außenminister``) and
drops the hyphen; those pieces are glued back here, since names and titles must stay whole.
"""

from __future__ import annotations

import re

import syntok.segmenter as segmenter

from quotestance.document import Document, Sentence, Token

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_JOINERS = {"-", "‐", "‑", "/"}


def _paragraph_bounds(text: str) -> list[tuple[int, int]]:
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


def _glue(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge pieces that syntok split at a hyphen or slash inside a word."""
    merged: list[tuple[int, int]] = []
    for start, end in pieces:
        if merged:
            prev_start, prev_end = merged[-1]
            gap = text[prev_end:start]
            touching = gap == "" or (gap in _JOINERS and start == prev_end + 1)
            if touching and _wordlike(text[prev_start:prev_end]) and _wordlike(text[start:end]):
                merged[-1] = (prev_start, end)
                continue
            if gap in _JOINERS and start == prev_end + 1 and _wordlike(text[prev_start:prev_end]):
                # "Außen- und" : keep the truncation hyphen on the first word
                merged[-1] = (prev_start, prev_end + 1)
        merged.append((start, end))
    return merged


def _wordlike(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def segment(text: str) -> list[Sentence]:
    """Split ``text`` into sentences of tokens; offsets index ``text`` itself."""
    sentences: list[Sentence] = []
    for para_index, (para_start, para_end) in enumerate(_paragraph_bounds(text)):
        block = text[para_start:para_end]
        for para in segmenter.analyze(block):
            for raw in para:
                pieces = [
                    (para_start + tok.offset, para_start + tok.offset + len(tok.value))
                    for tok in raw
                    if tok.value
                ]
                pieces = _glue(text, pieces)
                if not pieces:
                    continue
                tokens = [
                    Token(start, end, text[start:end], index=i)
                    for i, (start, end) in enumerate(pieces)
                ]
                start, end = tokens[0].start, tokens[-1].end
                sentences.append(
                    Sentence(
                        start,
                        end,
                        text[start:end],
                        tokens,
                        paragraph=para_index,
                        index=len(sentences),
                    )
                )
    return sentences


class TextSegmenter:
    """Pipeline stage: adds the sentence and token layer."""

    name = "text"

    def __call__(self, doc: Document) -> Document:
        doc.sentences = segment(doc.text)
        return doc
