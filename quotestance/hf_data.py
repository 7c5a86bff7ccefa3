"""Training data through Hugging Face ``datasets``: load, split by document, map, tokenise, cache.

Used by the training scripts (``training/``), not at run time; needs the ``ml`` extra
(``datasets==5.2.0``). Every step is a ``datasets`` operation, so its result is cached as Arrow
files under ``data/cache/hf/`` and reused while its inputs and code are unchanged:

- **load**: ``Dataset.from_generator`` over the source files (the generator's arguments carry a
  fingerprint of the files, so a changed file is read again), or ``Dataset.from_list`` for rows
  already in memory (tests);
- **split by document**: a split column computed from the document's name (the salted sha256
  rules of ``quotestance.corpora.split`` and ``quotestance.stance.data``), then ``.filter``;
- **map / tokenise**: ``.map(batched=True)``: the stance inputs tokenised (no padding: batches
  are padded when they are drawn), the tagger's documents cut into subword windows.

What the models see is the same as with the plain-list code these functions replaced
(``training/check_datasets.py`` compares both, example by example, and the losses of a short
seeded run).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

CACHE_DIR = Path(__file__).resolve().parents[1] / "data" / "cache" / "hf"
STANCE_SPLITS = ("train", "calibration", "test", "seed")


def _datasets():
    import datasets

    datasets.disable_progress_bars()
    return datasets


def file_fingerprint(paths: Iterable[Path], content: bool = False) -> str:
    """16 hex digits naming a set of files: names, sizes and modification times (and, with
    ``content``, their bytes), so that a cached dataset is rebuilt when a file changes."""
    h = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        stat = path.stat()
        h.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        if content:
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------- stance rows


def _stance_rows(path: str, fingerprint: str) -> Iterator[dict[str, Any]]:
    """The rows of ``stance.jsonl`` as written (``fingerprint`` only keys the cache)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def _add_split_and_text(row: dict[str, Any], style: str = "repeat") -> dict[str, Any]:
    from quotestance.stance.data import row_text, split_of

    split = row.get("stance_split") or split_of(row)  # rows in memory may bring their own
    return {"stance_split": split, "input_text": row_text(row, style)}


def stance_dataset(
    rows: list[dict[str, Any]] | None = None,
    path: str | Path | None = None,
    cache_dir: str | Path | None = CACHE_DIR,
    style: str = "repeat",
) -> Any:
    """All stance rows as one ``datasets.Dataset`` with ``stance_split`` (by document) and
    ``input_text`` (the classifier's input in ``style``) added. ``rows`` in memory, else
    ``path`` (default ``data/stance/stance.jsonl``) through ``from_generator``, cached."""
    ds = _datasets()
    kwargs = {"fn_kwargs": {"style": style}}
    if rows is not None:
        dataset = ds.Dataset.from_list([dict(r) for r in rows])
        return dataset.map(_add_split_and_text, **kwargs)
    from quotestance.stance.data import STANCE_DATA

    source = Path(path) if path is not None else STANCE_DATA
    dataset = ds.Dataset.from_generator(
        _stance_rows,
        gen_kwargs={"path": str(source), "fingerprint": file_fingerprint([source], True)},
        cache_dir=str(cache_dir) if cache_dir else None,
    )
    return dataset.map(_add_split_and_text, **kwargs)


def stance_splits(dataset: Any, limit: int | None = None) -> dict[str, Any]:
    """``{split: Dataset}`` by ``.filter`` on the document-based split; ``limit`` keeps the
    first N rows of each (smoke tests)."""
    out = {}
    for name in STANCE_SPLITS:
        part = dataset.filter(lambda split, name=name: split == name, input_columns="stance_split")
        if limit:
            part = part.select(range(min(limit, len(part))))
        if len(part):
            out[name] = part
    return out


def tokenize_stance(part: Any, tokenizer: Any, max_len: int, prefix: str = "") -> Any:
    """``input_ids``/``attention_mask`` per row (truncated to ``max_len``, not padded), by a
    batched map (cached beside a file-backed dataset)."""

    def encode(texts: list[str]) -> dict[str, Any]:
        enc = tokenizer([prefix + t for t in texts], truncation=True, max_length=max_len)
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    return part.map(encode, batched=True, batch_size=256, input_columns="input_text")


def rows_of(part: Any) -> list[dict[str, Any]]:
    """A split as plain row dicts (what the scripts and reports read)."""
    return part.to_list()


# ---------------------------------------------------------------------- tagger windows


def _tagger_documents(
    corpus: str, data_dir: str | None, fingerprint: str
) -> Iterator[dict[str, Any]]:
    """Every document of the corpus (dev split included, marked), with its words, gold tags
    per word and sentence starts (``fingerprint`` only keys the cache)."""
    from quotestance.corpora.split import is_dev
    from quotestance.detect.labels import ROLES
    from quotestance.detect.tagger_data import corpus_files, training_document

    for path in corpus_files(corpus, data_dir):
        item = training_document(corpus, path)
        yield {
            "name": item.ann.name,
            "dev": is_dev(path.stem),
            "words_text": [item.ann.text[s:e] for s, e in item.words],
            **{f"tags_{role}": list(item.word_tags[role]) for role in ROLES},
            "sentence_starts": list(item.sentence_starts),
        }


def tagger_documents(
    corpus: str, data_dir: str | Path | None = None, cache_dir: str | Path | None = CACHE_DIR
) -> Any:
    """The corpus' documents as a ``Dataset`` (cached), dev split included (column ``dev``)."""
    from quotestance.corpora.split import CORPUS_DIRS, shared_data_dir
    from quotestance.detect.tagger_data import DATA_VERSION, corpus_files

    root = Path(data_dir) if data_dir is not None else shared_data_dir()
    files = corpus_files(corpus, root)
    fingerprint = f"v{DATA_VERSION}-{file_fingerprint(files)}-{CORPUS_DIRS[corpus]}"
    return _datasets().Dataset.from_generator(
        _tagger_documents,
        gen_kwargs={"corpus": corpus, "data_dir": str(root), "fingerprint": fingerprint},
        cache_dir=str(cache_dir) if cache_dir else None,
    )


def tagger_windows(
    corpus: str,
    tokenizer: Any,
    max_len: int = 256,
    stride: int = 192,
    prefix: str = "",
    data_dir: str | Path | None = None,
    limit: int | None = None,
    cache_dir: str | Path | None = CACHE_DIR,
) -> Any:
    """The train documents' windows as a ``Dataset``, one row per window: the dev split
    removed by ``.filter``, ``limit`` keeps the first N train documents, and a batched map
    tokenises each document into windows (``doc_id`` = the document's index among the train
    documents, as in ``build_corpus``)."""
    from quotestance.detect.labels import ROLES
    from quotestance.detect.windows import make_windows

    documents = tagger_documents(corpus, data_dir, cache_dir)
    train = documents.filter(lambda dev: not dev, input_columns="dev")
    if limit is not None:
        train = train.select(range(min(limit, len(train))))

    def to_windows(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        out: dict[str, list] = {
            k: []
            for k in ("input_ids", "word_index", "doc_id", "first_word", "last_word", "truncated")
        }
        for role in ROLES:
            out[f"labels_{role}"] = []
        for k, doc_id in enumerate(indices):
            tags = {role: batch[f"tags_{role}"][k] for role in ROLES}
            for w in make_windows(
                batch["words_text"][k], tags, tokenizer, doc_id, max_len, stride, prefix,
                sentence_starts=batch["sentence_starts"][k],
            ):  # fmt: skip
                for name in ("input_ids", "word_index", "doc_id", "first_word", "last_word"):
                    out[name].append(getattr(w, name))
                out["truncated"].append(w.truncated)
                for role in ROLES:
                    out[f"labels_{role}"].append(w.labels[role])
        return out

    return train.map(
        to_windows,
        batched=True,
        batch_size=16,
        with_indices=True,
        remove_columns=train.column_names,
    )


def windows_of(dataset: Any) -> list:
    """``Window`` objects from a ``tagger_windows`` dataset (the trainer's batches)."""
    from quotestance.detect.labels import ROLES
    from quotestance.detect.tagger_data import windows_from_columns

    columns = dataset.to_dict()
    columns["labels"] = {role: columns.pop(f"labels_{role}") for role in ROLES}
    return windows_from_columns(columns)
