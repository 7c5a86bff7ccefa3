"""Training data for the tagger: the train splits of the gold corpora as tagged subword windows.

Three corpora, train part only (``quotestance.corpora.split.is_dev`` documents are never read):

- ``spkatt-news``: SpkAtt task 2 train, less its dev split; all four roles, message forms;
- ``spkatt-gepade``: SpkAtt task 1 (parliament) train, less the same hash split: the 20% of
  GePaDe that evaluation holds out is chosen by the same rule on file names. GePaDe has no
  forms: a message that opens with a quotation mark is taken as ``Direct``, every other as
  ``Indirect`` (``guess_form``). A first model trained with GePaDe's messages ignored found
  almost no quotes in parliament speeches (quote F1 0.02 on its held-out part), so the
  boundaries are worth a guessed form. Annotations without a Message (cue and source only)
  still give cue, source and addressee tags;
- ``redewiedergabe``: the main corpus less its dev split; it does not annotate addressees,
  so the addressee role is ``IGNORE`` there rather than a false ``O``.

``training/train_tagger.py`` reads the windows through Hugging Face ``datasets``
(``quotestance.hf_data.tagger_windows``: the same documents and windows, cached as Arrow files
in ``data/cache/hf/``); ``training/build_tagger_data.py`` still writes them as plain lists
(``torch.save``) with their counts, keyed by a hash of the tokenizer and the window settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from quotestance.corpora.base import AnnotatedDocument, GoldQuote
from quotestance.corpora.redewiedergabe import read_rw_file, rw_files
from quotestance.corpora.spkatt import _read_json, read_spkatt_file
from quotestance.corpora.split import CORPUS_DIRS, is_dev, shared_data_dir
from quotestance.detect.labels import IGNORE, ROLES, TAGS
from quotestance.detect.windows import (
    Window,
    document_words,
    gold_word_tags,
    make_windows,
    sentence_starts,
)

CORPORA = ("spkatt-news", "spkatt-gepade", "redewiedergabe")
# a role a corpus does not annotate is IGNORE there, not O
ANNOTATED_ROLES: dict[str, tuple[str, ...]] = {
    "spkatt-news": ROLES,
    "spkatt-gepade": ROLES,
    "redewiedergabe": ("message", "cue", "source"),
}
CACHE_DIR = Path(__file__).resolve().parents[2] / "data" / "cache"
DATA_VERSION = 2  # bump when the labels or windows change, so old caches are not reused
SURVIVAL_ROLES = ("message", "cue", "source", "addressee")
_WINDOW_FIELDS = ("input_ids", "word_index", "doc_id", "first_word", "last_word", "truncated")


class TrainingDocument(NamedTuple):
    """A gold document with its words (character spans), tags per word and sentence starts."""

    ann: AnnotatedDocument
    words: list[tuple[int, int]]
    word_tags: dict[str, list[int]]
    sentence_starts: list[int]


def message_less_annotations(path: str | Path) -> list[GoldQuote]:
    """SpkAtt annotations without a Message (GePaDe has many) as quotes with an empty message,
    so that their cue, source and addressee still count as gold for training."""
    out = []
    for ann in _read_json(Path(path)).get("Annotations", []):
        if ann.get("Message"):
            continue
        roles = {"cue": "Cue", "source": "Source", "addressee": "Addr"}
        ids = {role: set(ann.get(key) or []) for role, key in roles.items()}
        if any(ids.values()):
            out.append(GoldQuote(message=set(), form="", **ids))
    return out


def corpus_files(corpus: str, data_dir: str | Path | None = None) -> list[Path]:
    """Every file of the corpus, dev split included, sorted by name."""
    root = Path(data_dir) if data_dir is not None else shared_data_dir()
    folder = root / CORPUS_DIRS[corpus]
    if corpus == "redewiedergabe":
        paths = rw_files(folder)
    elif corpus in ("spkatt-news", "spkatt-gepade"):
        paths = sorted(folder.glob("*.json"))
    else:
        raise ValueError(f"no training data from {corpus!r}; choose from {CORPORA}")
    if not paths:
        raise FileNotFoundError(f"no {corpus} files in {folder}")
    return list(paths)


def train_files(corpus: str, data_dir: str | Path | None = None) -> list[Path]:
    """The corpus' files outside the dev split, sorted by name."""
    return [p for p in corpus_files(corpus, data_dir) if not is_dev(p.stem)]


def training_document(corpus: str, path: Path) -> TrainingDocument:
    """One gold document with gold tags per word (see the module docstring)."""
    if corpus == "redewiedergabe":
        ann, extra = read_rw_file(path), []
    else:
        ann = read_spkatt_file(path, corpus=corpus)
        extra = message_less_annotations(path)
    if corpus == "spkatt-gepade":
        ann = dataclasses.replace(ann, gold=[guess_form(ann, q) for q in ann.gold])
    doc = ann.to_document()
    words = document_words(doc)
    tagged = dataclasses.replace(ann, gold=[*ann.gold, *extra]) if extra else ann
    tags = gold_word_tags(tagged, words)
    for role in ROLES:
        if role not in ANNOTATED_ROLES[corpus]:
            tags[role] = [IGNORE] * len(words)
    return TrainingDocument(ann, words, tags, sentence_starts(doc))


def iter_training_documents(
    corpus: str, data_dir: str | Path | None = None
) -> Iterator[TrainingDocument]:
    """Train documents of ``corpus`` with gold tags per word (see the module docstring)."""
    for path in train_files(corpus, data_dir):
        yield training_document(corpus, path)


QUOTE_OPENERS = set("„‚»«\"'“")


def guess_form(ann: AnnotatedDocument, quote: GoldQuote) -> GoldQuote:
    """A form for a message of a corpus without forms: Direct when it opens with a mark."""
    if not quote.message or quote.form != "Unknown":
        return quote
    first = min(quote.message, key=lambda t: ann.token_spans[t][0])
    form = "Direct" if ann.token_text(first)[:1] in QUOTE_OPENERS else "Indirect"
    return dataclasses.replace(quote, form=form)


def token_survival(
    ann: AnnotatedDocument, words: Sequence[tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    """Per role, (gold tokens that start one of our words, all gold tokens): a gold token
    whose first character starts no word cannot get its own tag, and is lost."""
    starts = {start for start, _end in words}
    out = {}
    for role in SURVIVAL_ROLES:
        ids = {t for quote in ann.gold for t in getattr(quote, role)}
        kept = sum(ann.token_spans[t][0] in starts for t in ids)
        out[role] = (kept, len(ids))
    return out


def tokenizer_hash(tokenizer: Any, **settings: Any) -> str:
    """12 hex digits naming the tokenizer (its full JSON) and the window settings."""
    h = hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode("utf-8"))
    h.update(json.dumps({**settings, "version": DATA_VERSION}, sort_keys=True).encode("utf-8"))
    return h.hexdigest()[:12]


def build_corpus(
    corpus: str,
    tokenizer: Any,
    max_len: int = 256,
    stride: int = 192,
    prefix: str = "",
    data_dir: str | Path | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """One corpus' windows (as columns of plain lists), document names and counts.

    ``limit`` keeps the first N documents (smoke tests)."""
    names: list[str] = []
    windows: list[Window] = []
    counts: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    labels = {role: Counter() for role in ROLES}
    survival = {role: [0, 0] for role in SURVIVAL_ROLES}
    for doc_id, item in enumerate(iter_training_documents(corpus, data_dir)):
        if limit is not None and doc_id >= limit:
            break
        names.append(item.ann.name)
        words_text = [item.ann.text[s:e] for s, e in item.words]
        doc_windows = make_windows(
            words_text, item.word_tags, tokenizer, doc_id, max_len, stride, prefix,
            sentence_starts=item.sentence_starts,
        )  # fmt: skip
        windows.extend(doc_windows)
        counts["documents"] += 1
        counts["words"] += len(item.words)
        counts["windows"] += len(doc_windows)
        counts["subwords"] += sum(len(w.input_ids) for w in doc_windows)
        counts["truncated words"] += sum(w.truncated for w in doc_windows)
        forms.update(q.form for q in item.ann.gold)
        for role in ROLES:
            labels[role].update(
                "ignored" if t == IGNORE else TAGS[role][t] for t in item.word_tags[role]
            )
        for role, (kept, total) in token_survival(item.ann, item.words).items():
            survival[role][0] += kept
            survival[role][1] += total
    columns: dict[str, Any] = {name: [getattr(w, name) for w in windows] for name in _WINDOW_FIELDS}
    columns["labels"] = {role: [w.labels[role] for w in windows] for role in ROLES}
    return {
        "documents": names,
        "windows": columns,
        "counts": dict(counts),
        "forms": dict(forms.most_common()),
        "labels": {role: dict(sorted(c.items())) for role, c in labels.items()},
        "survival": {role: tuple(v) for role, v in survival.items()},
    }


def windows_from_columns(columns: dict[str, Any]) -> list[Window]:
    """``Window`` objects from the cached columns of ``build_corpus``."""
    roles = list(columns["labels"])
    return [
        Window(
            input_ids=columns["input_ids"][i],
            word_index=columns["word_index"][i],
            labels={role: columns["labels"][role][i] for role in roles},
            doc_id=columns["doc_id"][i],
            first_word=columns["first_word"][i],
            last_word=columns["last_word"][i],
            truncated=columns["truncated"][i],
        )
        for i in range(len(columns["input_ids"]))
    ]


def load_tagger_data(path: str | Path) -> tuple[dict[str, Any], dict[str, list[Window]]]:
    """A cache file of ``training/build_tagger_data.py``: its settings and counts, and the
    windows of each corpus (``Window.doc_id`` indexes ``meta["corpora"][c]["documents"]``)."""
    import torch

    data = torch.load(path, weights_only=True)
    windows = {c: windows_from_columns(d.pop("windows")) for c, d in data["corpora"].items()}
    return data, windows
