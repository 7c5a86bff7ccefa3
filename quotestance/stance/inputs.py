"""The classifier's input text for one quote: speaker, cue, quote and its sentence context.

The same function builds training inputs (from the annotated rows) and inference inputs
(from a pipeline ``Document`` or a ``classify`` record), so both see one format.
"""

from __future__ import annotations

from quotestance.document import Document, Quote

MAX_CONTEXT_CHARS = 600
# Input styles: "repeat" gives the quote and then its context (which holds it again);
# "markers" gives the context once, with the quote inside it between QUOTE_OPEN/QUOTE_CLOSE.
INPUT_STYLES = ("repeat", "markers")
QUOTE_OPEN, QUOTE_CLOSE = "[Z]", "[/Z]"


def stance_text(
    quote: str, context: str = "", cue: str = "", speaker: str = "", style: str = "repeat"
) -> str:
    """``Sprecher: … | Verb: … | Zitat: … | Kontext: …`` (context shortened around the quote),
    or with ``style="markers"`` ``Sprecher: … | Verb: … | Text: … [Z] quote [/Z] …``."""
    if style == "markers":
        return _marked_text(quote, context, cue, speaker)
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


def _marked_text(quote: str, context: str, cue: str, speaker: str) -> str:
    """The context once, the quote marked inside it (found by its text; else the context
    follows the marked quote), cut to ``MAX_CONTEXT_CHARS`` around the quote."""
    quote, context = quote.strip(), context.strip()
    at = context.find(quote) if quote else -1
    if at < 0:
        before, after = (context + " ") if context and context != quote else "", ""
    else:
        before, after = context[:at], context[at + len(quote) :]
    room = max(0, MAX_CONTEXT_CHARS - len(quote))
    keep_before = min(len(before), room // 2 + max(0, room // 2 - len(after)))
    before = before[len(before) - keep_before :]
    after = after[: max(0, room - keep_before)]
    text = f"{before}{QUOTE_OPEN} {quote} {QUOTE_CLOSE}{after}".strip()
    return f"Sprecher: {speaker.strip() or '-'} | Verb: {cue.strip() or '-'} | Text: {text}"


def document_context(doc: Document, quote: Quote) -> str:
    """The sentences the quote touches and the sentence before (as the annotators saw it)."""
    touched = doc.sentences_overlapping(quote.start, quote.end)  # a binary search, not a scan
    if not touched:
        return quote.text
    first = max(0, touched[0] - 1)
    return doc.text[doc.sentences[first].start : doc.sentences[touched[-1]].end]


def quote_input(doc: Document, quote: Quote, style: str = "repeat") -> str:
    return stance_text(
        quote.text,
        document_context(doc, quote),
        quote.cue.text if quote.cue else "",
        quote.speaker.text if quote.speaker else "",
        style,
    )
