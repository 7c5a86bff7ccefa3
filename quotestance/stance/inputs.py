"""The classifier's input text for one quote: speaker, cue, quote and its sentence context.

The same function builds training inputs (from the annotated rows) and inference inputs
(from a pipeline ``Document`` or a ``classify`` record), so both see one format.
"""

from __future__ import annotations

from quotestance.document import Document, Quote

MAX_CONTEXT_CHARS = 600


def stance_text(quote: str, context: str = "", cue: str = "", speaker: str = "") -> str:
    """``Sprecher: … | Verb: … | Zitat: … | Kontext: …`` (context shortened around the quote)."""
    parts = [
        f"Sprecher: {speaker.strip() or '-'}",
        f"Verb: {cue.strip() or '-'}",
        f"Zitat: {quote.strip()}",
    ]
    context = context.strip()
    if context and context != quote.strip():
        if len(context) > MAX_CONTEXT_CHARS:
            at = max(0, context.find(quote.strip()[:40]))
            start = max(0, min(at - MAX_CONTEXT_CHARS // 2, len(context) - MAX_CONTEXT_CHARS))
            context = context[start : start + MAX_CONTEXT_CHARS]
        parts.append(f"Kontext: {context}")
    return " | ".join(parts)


def document_context(doc: Document, quote: Quote) -> str:
    """The sentences the quote touches and the sentence before (as the annotators saw it)."""
    touched = doc.sentences_overlapping(quote.start, quote.end)  # a binary search, not a scan
    if not touched:
        return quote.text
    first = max(0, touched[0] - 1)
    return doc.text[doc.sentences[first].start : doc.sentences[touched[-1]].end]


def quote_input(doc: Document, quote: Quote) -> str:
    return stance_text(
        quote.text,
        document_context(doc, quote),
        quote.cue.text if quote.cue else "",
        quote.speaker.text if quote.speaker else "",
    )
