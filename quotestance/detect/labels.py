"""The tagger's label scheme: BIO tags per role, over subword tokens.

Four roles, one classification head each, because roles overlap (a cue lies inside a
frame, a source may sit inside a message of a nested quote):

- ``message``: BIO with the quote's form, ``B-Direct`` ... ``I-Reported`` (5 forms), so the
  tagger says what kind of quote a span is;
- ``cue``, ``source``, ``addressee``: plain BIO.

Only the first subword of a word carries a label in training (the rest are ignored with
-100), and at inference a word takes the tag of its first subword; spans are built over
character offsets, so they map back to the text exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

FORMS = ("Direct", "Indirect", "FreeIndirect", "IndirectFreeIndirect", "Reported")
ROLES = ("message", "cue", "source", "addressee")
IGNORE = -100

MESSAGE_TAGS = ("O", *(f"{p}-{form}" for form in FORMS for p in ("B", "I")))
PLAIN_TAGS = ("O", "B", "I")
TAGS: dict[str, tuple[str, ...]] = {
    "message": MESSAGE_TAGS,
    "cue": PLAIN_TAGS,
    "source": PLAIN_TAGS,
    "addressee": PLAIN_TAGS,
}

# the detector's quote kinds for each corpus form
KIND_OF_FORM = {
    "Direct": "direct",
    "Indirect": "indirect",
    "FreeIndirect": "free_indirect",
    "IndirectFreeIndirect": "free_indirect",
    "Reported": "reported",
}


def tag_id(role: str, tag: str) -> int:
    return TAGS[role].index(tag)


def spans_to_tags(
    role: str, word_spans: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str]]
) -> list[int]:
    """Tag ids for words given gold character spans ``(start, end, form)``.

    A word is inside a span when its first character is; the first word of each span gets
    ``B``. Later spans overwrite earlier ones where they overlap (nested quotes: the inner
    quote wins inside its own words).
    """
    tags = [0] * len(word_spans)
    for start, end, form in spans:
        first = True
        for i, (w_start, _w_end) in enumerate(word_spans):
            if start <= w_start < end:
                prefix = "B" if first else "I"
                tag = f"{prefix}-{form}" if role == "message" else prefix
                tags[i] = tag_id(role, tag)
                first = False
    return tags


def tags_to_spans(
    role: str, word_spans: Sequence[tuple[int, int]], tags: Sequence[int]
) -> list[tuple[int, int, str]]:
    """Character spans ``(start, end, form)`` from word tag ids (``form`` is "" for plain roles).

    An ``I`` after ``O`` opens a span (lenient BIO); an ``I`` of another form continues the
    open span, whose form is the one of its first word.
    """
    names = TAGS[role]
    out: list[tuple[int, int, str]] = []
    current: list[int] | None = None  # [start, end]
    form = ""
    for (w_start, w_end), tag in zip(word_spans, tags, strict=True):
        name = names[tag]
        if name == "O":
            if current is not None:
                out.append((current[0], current[1], form))
                current = None
            continue
        prefix, _, tag_form = name.partition("-")
        if prefix == "B" or current is None:
            if current is not None:
                out.append((current[0], current[1], form))
            current, form = [w_start, w_end], tag_form
        else:
            current[1] = w_end
    if current is not None:
        out.append((current[0], current[1], form))
    return out
