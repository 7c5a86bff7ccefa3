"""Convert step: a sample of named speakers from real news, for labelling their affiliation.

Runs the default pipeline (no stance) over the 10kGNAD test articles (Der Standard, CC BY-NC-SA
4.0; no speaker or actor component is trained on them), keeps the persons with a name of two
or more words that speak at least one quote, and draws a fixed sample (seeded; at most two
persons an article). Each row carries up to 700 characters before the person's first mention
and 300 after it (within its paragraph and the one before), so that a reader can label the
affiliation without the system's answer.

Run: ``python training/build_affiliation_sample.py [--size 240]``
Writes ``data/affiliation/items.jsonl`` (committed: the sample depends on the release that drew
it; gold labels in ``data/affiliation/gold.tsv``).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training"))

from build_stance_items import gnad_documents, write_jsonl  # noqa: E402

from quotestance.pipeline import Pipeline  # noqa: E402

SECTIONS = ("International", "Inland", "Panorama", "Wirtschaft", "Etat", "Web", "Sport",
            "Wissenschaft", "Kultur")  # fmt: skip
OUT = REPO / "data" / "affiliation" / "items.jsonl"
WINDOW_BEFORE, WINDOW_AFTER = 700, 300  # characters of context kept around the mention


def paragraph_context(text: str, offset: int) -> tuple[int, str]:
    """The paragraph around ``offset`` and the one before it, with the start offset."""
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    start = text.rfind("\n", 0, offset)
    start = text.rfind("\n", 0, max(start, 0)) + 1 if start > 0 else 0
    return start, text[start:end]


def named_speakers(doc) -> list[dict]:
    """Persons with a name of two or more words who speak a quote, at their first mention."""
    speaking = {q.speaker.actor for q in doc.quotes if q.speaker is not None}
    rows = []
    for actor in doc.actors:
        if actor.type != "person" or len(actor.name.split()) < 2 or actor.name not in speaking:
            continue
        first = min(actor.mentions, key=lambda m: m.start)
        start, context = paragraph_context(doc.text, first.start)
        cut = max(0, first.start - start - WINDOW_BEFORE)  # a window around the mention
        context = context[cut : first.end - start + WINDOW_AFTER]
        start += cut
        rows.append({
            "id": f"{doc.name}:{first.start}",
            "document": doc.name,
            "name": actor.name,
            "mention": first.text,
            "mention_start": first.start,
            "mention_end": first.end,
            "context_start": start,
            "context": context,
            "licence": "CC BY-NC-SA 4.0 (10kGNAD, Der Standard)",
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=240)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    pipeline = Pipeline.default(stance=False)
    rng = random.Random(args.seed)
    candidates: list[dict] = []
    for doc in pipeline.pipe(gnad_documents(SECTIONS), batch_size=16):
        rows = named_speakers(doc)
        candidates += rng.sample(rows, min(2, len(rows)))
    sample = sorted(rng.sample(candidates, min(args.size, len(candidates))), key=lambda r: r["id"])
    write_jsonl(args.out, sample)
    print(f"{len(candidates)} named speakers, {len(sample)} sampled -> {args.out}")


if __name__ == "__main__":
    main()
