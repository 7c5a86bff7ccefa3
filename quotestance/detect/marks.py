"""Quotation-mark pairing: which marks open and close direct speech, nested and over paragraphs.

German news uses „…“ (also closed by ” or a straight "), ‚…‘ for quotes inside quotes,
»…« (and Swiss «…»), straight "…" and '…', and English-style “…”. Pairing works on the
raw text with a stack, so nested quotes stay inside their outer quote. A quote still open at
the end of a paragraph continues only when the next paragraph reopens with an opening mark
(the German convention for multi-paragraph quotes); otherwise its opening mark is treated as
stray, so a lone mark never swallows the rest of the document.
"""

from __future__ import annotations

from dataclasses import dataclass

# opening mark -> the marks that may close it
_PAIRS: dict[str, tuple[str, ...]] = {
    "„": ("“", "”", '"'),
    "‚": ("‘", "’"),
    "»": ("«",),
    "«": ("»",),
    "“": ("”", "“"),
    '"': ('"',),
    "'": ("'",),
}
_ALL_MARKS = set("„“”‚‘’»«\"'")
# closing mark -> the opening marks it may close
_CLOSES: dict[str, tuple[str, ...]] = {
    ch: tuple(m for m, closers in _PAIRS.items() if ch in closers) for ch in _ALL_MARKS
}
_PARAGRAPH = "\n\n"


@dataclass
class QuotedSpan:
    """A paired stretch of quoted text, marks included; ``depth`` 0 is outermost."""

    start: int
    end: int
    open_mark: str
    depth: int
    paragraphs: int = 1  # how many paragraphs the quote runs over

    @property
    def inner_start(self) -> int:
        return self.start + 1

    @property
    def inner_end(self) -> int:
        return self.end - 1


def _is_word(ch: str) -> bool:
    return ch.isalnum()


def _can_open(text: str, i: int) -> bool:
    """A symmetric mark (" ' “) opens when it starts a word: no letter before, text after."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if after.isspace():
        return False
    return not _is_word(before) and before not in ".,;:!?"


def _can_close(text: str, i: int) -> bool:
    """A symmetric mark closes when it ends a word: text before, no letter after."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if before.isspace():
        return False
    return not _is_word(after)


def _is_apostrophe(text: str, i: int) -> bool:
    """’ or ' between letters (geht’s, Bush’ Politik, 'n) is an apostrophe, not a quote mark."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return _is_word(before) and (_is_word(after) or text[i] == "'")


def _guillemet_style(text: str) -> str:
    """German »…« or Swiss/French «…»: decided by which of the two first opens a word."""
    for i, ch in enumerate(text):
        if ch in "»«" and i + 1 < len(text) and not text[i + 1].isspace():
            return ch
    return "»"


def pair_marks(text: str) -> tuple[list[QuotedSpan], list[int]]:
    """Pair the quotation marks of ``text``.

    Returns the paired spans (outer and nested) sorted by start, and the offsets of marks left
    unpaired (stray or unbalanced), which callers may report.
    """
    guillemet_open = _guillemet_style(text)
    # (open mark, offset, reopened paragraphs before it was opened): a quote has crossed
    # 1 + reopens - that many paragraphs, so a reopening does not touch every open quote
    stack: list[tuple[str, int, int]] = []
    on_stack: dict[str, int] = dict.fromkeys(_PAIRS, 0)  # open marks on the stack, by mark
    reopens = 0
    spans: list[QuotedSpan] = []
    stray: list[int] = []

    def push(mark: str, offset: int) -> None:
        stack.append((mark, offset, reopens))
        on_stack[mark] += 1

    def pop() -> tuple[str, int, int]:
        mark, offset, before = stack.pop()
        on_stack[mark] -= 1
        return mark, offset, 1 + reopens - before

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith(_PARAGRAPH, i):
            # paragraph break: open quotes continue only if the next paragraph reopens
            j = i
            while j < n and text[j].isspace():
                j += 1
            if stack:
                if j < n and text[j] in '„»«‚"“' and text[j] != _closing_guard(stack):
                    reopens += 1
                    i = j + 1  # the reopening mark is consumed
                    continue
                stray.extend(o for _, o, _ in stack)
                stack.clear()
                on_stack.update(dict.fromkeys(_PAIRS, 0))
            i = j
            continue
        if ch not in _ALL_MARKS or (ch in "’'" and _is_apostrophe(text, i)):
            i += 1
            continue
        if ch == '"' and _spaced(text, i):
            # ' " ' with spaces on both sides (tokenised text): alternate open and close
            if (stack and stack[-1][0] == '"') or (stack and stack[-1][0] == "„"):
                mark, offset, paras = pop()
                spans.append(QuotedSpan(offset, i + 1, mark, len(stack), paras))
            else:
                push(ch, i)
            i += 1
            continue
        if stack and ch in _PAIRS[stack[-1][0]] and _closes(text, i, stack[-1][0]):
            mark, offset, paras = pop()
            spans.append(QuotedSpan(offset, i + 1, mark, len(stack), paras))
        elif _opens(text, i, guillemet_open):
            push(ch, i)
        elif stack and any(on_stack[m] for m in _CLOSES[ch]):
            # closes an outer quote: inner ones were never closed and are stray
            while stack and ch not in _PAIRS[stack[-1][0]]:
                stray.append(pop()[1])
            mark, offset, paras = pop()
            spans.append(QuotedSpan(offset, i + 1, mark, len(stack), paras))
        elif ch not in "’'":
            stray.append(i)
        i += 1
    stray.extend(o for _, o, _ in stack)
    spans.sort(key=lambda s: (s.start, -s.end))
    return spans, sorted(stray)


def _spaced(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return before.isspace() and after.isspace()


def _closing_guard(stack: list[tuple[str, int, int]]) -> str:
    """The mark that would close the innermost open quote (a reopen must not be a close)."""
    return _PAIRS[stack[-1][0]][0]


def _opens(text: str, i: int, guillemet_open: str) -> bool:
    ch = text[i]
    if ch in "„‚":
        return i + 1 < len(text) and not text[i + 1].isspace()
    if ch in "»«":
        return ch == guillemet_open and i + 1 < len(text) and not text[i + 1].isspace()
    if ch in "\"'“":
        return _can_open(text, i)
    return False


def _closes(text: str, i: int, open_mark: str) -> bool:
    ch = text[i]
    if ch in "\"'“’" or open_mark in "\"'":
        return _can_close(text, i)
    return True
