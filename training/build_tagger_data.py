"""Build the tagger's training windows from the gold corpora: a convert step, no training.

Inputs (declared; nothing else is read), train parts only, dev split left out everywhere:
  - SpkAtt news train (task 2), minus the dev split of ``quotestance.corpora.split``
  - SpkAtt GePaDe train (task 1), minus the same hash split (GePaDe's held-out 20%)
  - Redewiedergabe main (``main/tsv``), minus the dev split
Output: data/cache/tagger-<hash>.pt (a cache, ignored by git), hash of the tokenizer and the
window settings; read it with ``quotestance.detect.tagger_data.load_tagger_data``.

usage: python training/build_tagger_data.py [--tokenizer PATH] [--data DIR] [--out DIR]
                                            [--max-len N] [--stride N] [--prefix TEXT]

Without ``--tokenizer`` the default backbone's tokenizer (``quotestance.backbone``) and its
text prefix are used. Prints counts per corpus, label distributions and the share of gold
tokens that start one of the text layer's words (the rest cannot be tagged).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from quotestance.detect.labels import ROLES
from quotestance.detect.tagger_data import (
    CACHE_DIR,
    CORPORA,
    SURVIVAL_ROLES,
    build_corpus,
    tokenizer_hash,
)


def load_tokenizer(name_or_path: str | None) -> tuple[Any, str, str]:
    """The tokenizer, its name and the text prefix its model expects."""
    from quotestance.backbone import DEFAULT_BACKBONE, load_backbone, text_prefix

    if name_or_path is None:
        return load_backbone()[1], DEFAULT_BACKBONE, text_prefix(None)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if not tokenizer.is_fast:
        raise TypeError(f"{name_or_path}: need a fast tokenizer (word ids)")
    return tokenizer, name_or_path, text_prefix(name_or_path)


def _table(corpora: dict[str, dict[str, Any]]) -> str:
    """Counts, forms, labels and survival per corpus as a Markdown table."""
    names = list(corpora)
    rows: list[tuple[str, list[str]]] = []
    for key in ("documents", "words", "windows", "subwords", "truncated words"):
        rows.append((key, [f"{corpora[c]['counts'].get(key, 0):,}" for c in names]))
    forms = sorted({f for c in names for f in corpora[c]["forms"]})
    for form in forms:
        rows.append((f"quotes {form}", [f"{corpora[c]['forms'].get(form, 0):,}" for c in names]))
    for role in ROLES:
        tags = sorted({t for c in names for t in corpora[c]["labels"][role]})
        for tag in tags:
            cells = [f"{corpora[c]['labels'][role].get(tag, 0):,}" for c in names]
            rows.append((f"{role} {tag}", cells))
    for role in SURVIVAL_ROLES:
        cells = []
        for c in names:
            kept, total = corpora[c]["survival"][role]
            cells.append(f"{kept / total:.2%} of {total:,}" if total else "-")
        rows.append((f"gold {role} tokens kept", cells))
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokenizer", help="a fast tokenizer's folder (default: the backbone's)")
    parser.add_argument("--data", help="shared data folder (default: quotestance.corpora.split)")
    parser.add_argument("--out", type=Path, default=CACHE_DIR, help="cache folder")
    parser.add_argument("--max-len", type=int, default=256)
    parser.add_argument("--stride", type=int, default=192)
    parser.add_argument("--prefix", help="text before every window (default: the model's own)")
    parser.add_argument("--corpora", nargs="+", choices=CORPORA, default=list(CORPORA))
    args = parser.parse_args(argv)

    import torch

    start = time.perf_counter()
    tokenizer, name, prefix = load_tokenizer(args.tokenizer)
    if args.prefix is not None:
        prefix = args.prefix
    settings = {"max_len": args.max_len, "stride": args.stride, "prefix": prefix}
    corpora = {}
    for corpus in args.corpora:
        t0 = time.perf_counter()
        corpora[corpus] = build_corpus(corpus, tokenizer, data_dir=args.data, **settings)
        print(f"{corpus}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    digest = tokenizer_hash(tokenizer, corpora=sorted(args.corpora), **settings)
    args.out.mkdir(parents=True, exist_ok=True)
    ignore = args.out / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# a cache, rebuilt by training/build_tagger_data.py\n*\n")
    path = args.out / f"tagger-{digest}.pt"
    torch.save({"tokenizer": name, **settings, "corpora": corpora}, path)
    print(f"tokenizer {name}, prefix {prefix!r}, max_len {args.max_len}, stride {args.stride}")
    print(_table(corpora))
    size, seconds = path.stat().st_size / 2**20, time.perf_counter() - start
    print(f"wrote {path} ({size:.1f} MiB) in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
