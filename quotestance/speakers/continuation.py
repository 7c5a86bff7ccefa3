"""Carrying a speaker from quote to quote when no learned linker runs (the rules pipeline).

Detectors only propose sources (a cue's subject, a tagged source span); whether a quote
without a cue continues someone who spoke before is the speaker stage's choice. With the
tagger, the linker (``speakers/linker.py``) makes it, weighing the previous speaker against
the other candidates. Without it, this stage applies the rule below.
"""

from __future__ import annotations

from quotestance.detect.clauses import embedded_report
from quotestance.document import Document, Quote


class SpeakerContinuation:
    """Pipeline stage: a quote without cue or speaker continues the speaker who holds the
    floor: the speaker of the quote just before it (at most one blank line away), or, when
    that quote's own frame is reported (*Kerry habe Lawrow gesagt, dass ...*), the reporter
    before it."""

    name = "speakers"

    def __call__(self, doc: Document) -> Document:
        previous: Quote | None = None
        floor: Quote | None = None
        for quote in sorted(doc.quotes, key=lambda q: (q.start, q.end)):
            if quote.speaker is None and quote.cue is None and previous is not None:
                gap = doc.text[previous.end : quote.start]
                reported = floor is not None and embedded_report(doc, previous)
                holder = floor if reported else previous
                if gap.count("\n\n") <= 1 and holder.speaker is not None:
                    quote.speaker = holder.speaker
                    quote.evidence.append("continues_speaker")
            if not embedded_report(doc, quote):
                floor = quote
            previous = quote
        return doc
