"""Overlapping subword windows over a document, for training and running the tagger.

The tagger labels *words* (the tokens of the text layer, ``quotestance.text.segment``), but a
transformer reads subwords, and an article is longer than its context. So a document is
tokenised once, cut into windows of at most ``max_len`` subwords that overlap by
``max_len - stride``, never inside a word, preferably at sentence starts. Only a word's first
subword carries a label (``IGNORE`` elsewhere), and at inference each word takes the logits of
its first subword from the window where it has the most context on both sides.

torch is imported only by ``collate``: the rest works on plain lists.
"""

from __future__ import annotations

import bisect
import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from quotestance.corpora.base import AnnotatedDocument, TokenId
from quotestance.detect.labels import FORMS, IGNORE, ROLES, TAGS, spans_to_tags
from quotestance.document import Document
from quotestance.text import segment

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

WordSpans = Sequence[tuple[int, int]]


@dataclass
class Window:
    """One model input: subword ids with special tokens, and where each word's first subword is."""

    input_ids: list[int]  # with special tokens, no padding
    word_index: list[int | None]  # document word index on a word's first subword, else None
    labels: dict[str, list[int]] | None  # per role, per subword; None at inference
    doc_id: int  # index of the document in the batch or corpus
    first_word: int  # words [first_word, last_word) are in this window
    last_word: int
    truncated: int = 0  # words longer than a window, cut to fit (0 or 1)


# ---------------------------------------------------------------- words and gold tags


def document_words(doc: Document) -> list[tuple[int, int]]:
    """Character spans of the document's words; runs the text layer when it has not run yet."""
    if not doc.sentences:
        doc.sentences = segment(doc.text)
    return [(tok.start, tok.end) for sent in doc.sentences for tok in sent.tokens]


def sentence_starts(doc: Document) -> list[int]:
    """Indices (into ``document_words``) of the first word of each sentence, for windowing."""
    if not doc.sentences:
        doc.sentences = segment(doc.text)
    starts, index = [], 0
    for sent in doc.sentences:
        starts.append(index)
        index += len(sent.tokens)
    return starts


def _token_runs(
    token_ids: Iterable[TokenId], rank: Mapping[TokenId, int], ranked: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Character spans of the contiguous runs of ``token_ids``; ``rank`` gives a token's place
    in text order, ``ranked`` the character spans in that order."""
    runs: list[tuple[int, int]] = []
    run_start = run_end = -2
    for r in sorted(rank[t] for t in token_ids if t in rank):
        if r != run_end + 1:
            if run_start >= 0:
                runs.append((ranked[run_start][0], ranked[run_end][1]))
            run_start = r
        run_end = r
    if run_start >= 0:
        runs.append((ranked[run_start][0], ranked[run_end][1]))
    return runs


def gold_word_tags(ann: AnnotatedDocument, words: WordSpans) -> dict[str, list[int]]:
    """Per role, one tag id per word from the gold quotes.

    Each contiguous run of a quote's tokens is a span of its own (a message interrupted by
    its frame gives two ``B``-started spans of the quote's form). A message whose form is not
    one of ``FORMS`` (GePaDe has no forms) is ``IGNORE`` on its words: its boundaries are
    known, its form is not, and guessing one would teach the wrong form. Spans are applied in
    text order, longer first at the same start, so a nested quote wins inside its own words.
    """
    in_order = sorted(ann.token_spans, key=ann.token_spans.__getitem__)
    rank = {t: r for r, t in enumerate(in_order)}
    ranked = [ann.token_spans[t] for t in in_order]
    spans: dict[str, list[tuple[int, int, str]]] = {role: [] for role in ROLES}
    unknown: list[tuple[int, int]] = []
    for quote in ann.gold:
        for role in ROLES:
            runs = _token_runs(getattr(quote, role), rank, ranked)
            if role == "message" and quote.form not in FORMS:
                unknown.extend(runs)
                continue
            spans[role].extend((s, e, quote.form) for s, e in runs)
    tags = {}
    for role in ROLES:
        role_spans = sorted(spans[role], key=lambda span: (span[0], -span[1]))
        tags[role] = spans_to_tags(role, words, role_spans)
    for start, end in unknown:
        for i, (w_start, _w_end) in enumerate(words):
            if start <= w_start < end:
                tags["message"][i] = IGNORE
    return tags


# ---------------------------------------------------------------- windows


def _special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after a sequence (its own template,
    e.g. ``<s> … </s>`` or ``[CLS] … [SEP]``), else its bos/cls and eos/sep ids."""
    enc = tokenizer(["x"], is_split_into_words=True, add_special_tokens=True)
    ids, word_ids = enc["input_ids"], enc.word_ids()
    inside = [i for i, w in enumerate(word_ids) if w is not None]
    if inside and len(ids) > len(inside):
        return list(ids[: inside[0]]), list(ids[inside[-1] + 1 :])
    head = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    tail = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    return ([head] if head is not None else []), ([tail] if tail is not None else [])


def make_windows(
    words_text: Sequence[str],
    word_tags: Mapping[str, Sequence[int]] | None,
    tokenizer: Any,
    doc_id: int,
    max_len: int = 256,
    stride: int = 192,
    prefix: str = "",
    sentence_starts: Sequence[int] | None = None,
) -> list[Window]:
    """Cut one document into windows of at most ``max_len`` subwords (special tokens included).

    Windows start ``stride`` subwords apart, moved back to a word start (or to a sentence
    start in the second half of the stride, when ``sentence_starts`` is given), so windows
    overlap by about ``max_len - stride`` subwords or more, and no word is cut in two. A word
    longer than a window gets a window of its own, truncated (logged, in ``Window.truncated``).
    ``prefix`` (e5's "query: ") is tokenised and put after the leading special token.
    """
    if not words_text:
        return []
    head, tail = _special_tokens(tokenizer)
    prefix_ids = list(tokenizer(prefix, add_special_tokens=False)["input_ids"]) if prefix else []
    head = head + prefix_ids
    body = max_len - len(head) - len(tail)
    if body < 1 or stride < 1:
        raise ValueError(f"max_len {max_len} leaves no room for words, or stride {stride} < 1")
    enc = tokenizer(
        list(words_text), is_split_into_words=True, add_special_tokens=False, verbose=False
    )
    ids: list[int] = list(enc["input_ids"])
    word_ids = enc.word_ids()
    n_words = len(words_text)
    # first subword of each word; a word the tokenizer drops has none (length 0)
    starts = [len(ids)] * (n_words + 1)
    for pos in range(len(ids) - 1, -1, -1):
        starts[word_ids[pos]] = pos
    for w in range(n_words - 1, -1, -1):
        starts[w] = min(starts[w], starts[w + 1])
    first_sub = {pos for pos in range(len(ids)) if pos == starts[word_ids[pos]]}
    sent_starts = sorted(sentence_starts) if sentence_starts else []

    windows: list[Window] = []
    first = 0
    while first < n_words:
        last = first
        while last < n_words and starts[last + 1] - starts[first] <= body:
            last += 1
        truncated = 0
        if last == first:
            last, truncated = first + 1, 1
            n_sub = starts[first + 1] - starts[first]
            log.warning("document %d: word %d (%d subwords) cut to %d", doc_id, first, n_sub, body)
        lo, hi = starts[first], min(starts[last], starts[first] + body)
        window_word_index: list[int | None] = [None] * len(head)
        window_word_index += [word_ids[p] if p in first_sub else None for p in range(lo, hi)]
        window_word_index += [None] * len(tail)
        labels = None
        if word_tags is not None:
            labels = {
                role: [IGNORE if w is None else int(tags[w]) for w in window_word_index]
                for role, tags in word_tags.items()
            }
        input_ids = head + ids[lo:hi] + tail
        windows.append(Window(input_ids, window_word_index, labels, doc_id, first, last, truncated))
        if last >= n_words:
            break
        # next start: the last word start at or before first's start + stride, no gap
        target = starts[first] + stride
        nxt = bisect.bisect_right(starts, target, first + 1, last + 1) - 1
        nxt = max(nxt, first + 1)
        k = bisect.bisect_right(sent_starts, nxt) - 1
        if k >= 0 and sent_starts[k] > first and starts[sent_starts[k]] >= lo + stride // 2:
            nxt = sent_starts[k]
        first = nxt
    return windows


# ---------------------------------------------------------------- batches


def length_sorted_batches(
    windows: Sequence[Window], batch_size: int, seed: int | None = None
) -> list[list[int]]:
    """Batches of window indices, each of windows of about the same length (little padding).

    With a ``seed`` (training) equal lengths are ordered at random and the batches shuffled,
    both reproducibly; without one (inference) batches come in length order and the caller
    puts each window's output back at its index.
    """
    rng = random.Random(seed) if seed is not None else None
    tiebreak = [rng.random() for _ in windows] if rng else list(range(len(windows)))
    order = sorted(range(len(windows)), key=lambda i: (len(windows[i].input_ids), tiebreak[i]))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def collate(
    windows: Sequence[Window], pad_id: int, width: int | None = None
) -> dict[str, torch.Tensor]:
    """Pad a batch to ``width`` (default: its longest window): ``input_ids``,
    ``attention_mask`` and, when every window has labels, ``labels_<role>`` padded with
    ``IGNORE``."""
    import torch

    width = width or max(len(w.input_ids) for w in windows)
    input_ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for row, window in enumerate(windows):
        input_ids[row, : len(window.input_ids)] = torch.tensor(window.input_ids)
        mask[row, : len(window.input_ids)] = 1
    batch = {"input_ids": input_ids, "attention_mask": mask}
    if all(w.labels is not None for w in windows):
        for role in windows[0].labels or {}:
            labels = torch.full((len(windows), width), IGNORE, dtype=torch.long)
            for row, window in enumerate(windows):
                labels[row, : len(window.input_ids)] = torch.tensor(window.labels[role])
            batch[f"labels_{role}"] = labels
    return batch


# ---------------------------------------------------------------- inference


def merge_window_predictions(
    windows: Sequence[Window],
    logits_per_window: Mapping[str, Sequence[np.ndarray]],
    n_words: int,
) -> dict[str, np.ndarray]:
    """Per role, a (n_words, n_tags) array: each word gets the logits of its first subword from
    the window where it is farthest from a cut edge (a window edge at the document's start
    or end is no cut: there is no context to miss). Ties go to the earlier window; a word no
    window reaches (the tokenizer dropped it) gets logits that say ``O``.

    ``windows`` are one document's, ``logits_per_window[role][i]`` is window i's
    (length >= len(input_ids), n_tags) output, padding allowed. A key that is no role (the
    encoder's ``hidden`` states) is merged the same way; a word no window reaches gets zeros.
    """
    best = np.full(n_words, -1.0)
    source = np.full((n_words, 2), -1, dtype=np.int64)  # (window, position)
    for i, window in enumerate(windows):
        edge = len(window.input_ids) - 1
        for pos, word in enumerate(window.word_index):
            if word is None:
                continue
            left = pos if window.first_word > 0 else np.inf
            right = edge - pos if window.last_word < n_words else np.inf
            score = min(left, right)
            if score > best[word]:
                best[word], source[word] = score, (i, pos)
    missing = int((source[:, 0] < 0).sum())
    if missing:
        log.warning("%d of %d words are in no window; they are tagged O", missing, n_words)
    out = {}
    for role, per_window in logits_per_window.items():
        n_tags = len(TAGS[role]) if role in TAGS else np.asarray(per_window[0]).shape[-1]
        merged = np.full((n_words, n_tags), -1e4, dtype=np.float32)
        if role in TAGS:
            merged[:, 0] = 0.0
        else:  # not logits (the encoder's states): a missing word gets zeros
            merged[:] = 0.0
        for word in np.flatnonzero(source[:, 0] >= 0):
            window_i, pos = source[word]
            merged[word] = np.asarray(per_window[window_i])[pos]
        out[role] = merged
    return out
