"""Gold-annotated documents: text rebuilt from corpus tokens, with token spans and gold quotes.

The text is built by the rules of ``shared/spec/metrics.md``: one space between tokens, none
before closing punctuation and none after opening marks; sentences joined with one space,
paragraphs (where a corpus marks them) with a blank line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from quotestance.document import Document

NO_SPACE_BEFORE = set(".,;:!?)]“‘«%") | {"”", "…"}
NO_SPACE_AFTER = set("„‚([»")

TokenId = str  # "sentence:token" as in SpkAtt, or any stable id


def token_order(token_id: TokenId) -> tuple[int, ...]:
    """Sort key of a token id in text order ("3:12" -> (3, 12)); other parts count as 0."""
    return tuple(int(x) if x.isdigit() else 0 for x in str(token_id).split(":"))


@dataclass
class GoldQuote:
    """One gold quotation: token ids of each role, and its form (Direct, Indirect, ...)."""

    message: set[TokenId]
    form: str
    cue: set[TokenId] = field(default_factory=set)
    source: set[TokenId] = field(default_factory=set)
    addressee: set[TokenId] = field(default_factory=set)
    medium: str = ""  # speech / thought / writing where the corpus says


@dataclass
class AnnotatedDocument:
    """A corpus document: its rebuilt text, each token's character span, and gold quotes."""

    name: str
    text: str
    token_spans: dict[TokenId, tuple[int, int]]
    gold: list[GoldQuote]
    corpus: str = ""

    def to_document(self) -> Document:
        """A fresh, unannotated ``Document`` of the same text, for the pipeline to fill."""
        return Document(text=self.text, name=self.name)

    def token_text(self, token_id: TokenId) -> str:
        start, end = self.token_spans[token_id]
        return self.text[start:end]


def detokenize(
    paragraphs: Iterable[Iterable[tuple[TokenId, str]]],
) -> tuple[str, dict[TokenId, tuple[int, int]]]:
    """Join tokens into text by the metrics.md rules.

    ``paragraphs`` yields paragraphs, each an iterable of (token id, token) pairs in order;
    sentence boundaries inside a paragraph need no marker (a sentence joins with one space,
    which is what the token rule gives anyway).
    """
    parts: list[str] = []
    spans: dict[TokenId, tuple[int, int]] = {}
    pos = 0
    prev: str | None = None
    for p_index, paragraph in enumerate(paragraphs):
        first_in_paragraph = True
        for token_id, token in paragraph:
            if prev is not None:
                if first_in_paragraph and p_index > 0:
                    glue = "\n\n"
                elif token in NO_SPACE_BEFORE or prev in NO_SPACE_AFTER:
                    glue = ""
                else:
                    glue = " "
                parts.append(glue)
                pos += len(glue)
            spans[token_id] = (pos, pos + len(token))
            parts.append(token)
            pos += len(token)
            prev = token
            first_in_paragraph = False
    return "".join(parts), spans
