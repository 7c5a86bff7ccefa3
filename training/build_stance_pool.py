"""Active-learning pool of the stance data: unlabelled quotes, scored by the current model.

Convert step of the second annotation round (issue 13). The pools are real German text that
has no stance labels yet (licence per row):

- GePaDe train (Bundestag, CC BY-SA 4.0): every gold message not annotated in round one.
- Redewiedergabe (CC BY-NC-SA 4.0): gold direct and indirect speech (19th/20th-c. fiction and
  newspapers), main corpus.
- SpkAtt-news ``test_blind`` (Wikinews, CC BY-NC-SA 4.0): quotes found by quotestance's detector.
- 10kGNAD test, sections other than International/Inland (CC BY-NC-SA 4.0): detected quotes not
  read in round one.
- GermEval 2026 harmful content (tweets, GPL-3.0): posts labelled as a propensity to violence,
  a call to violence or criticism (their labels are not ours; they only put the posts in the pool).

Not in the pool: GePaDe ``eval`` speeches; they are the texts of ``umanlp/speechact``'s test set,
which this project keeps as its held-out parliament evaluation.

Selection (``selection`` column): the current stance model scores every item; per label the
items with the highest probability of that label, where the model is unsure (1 - max
probability) as a tie-breaker, a keyword hit adding 0.15 to the threat and cooperation
scores (one more signal, never a label), plus the items of highest entropy overall. The
annotators read every selected item and label it under the guideline; the model's label is
not shown to them.

Writes ``data/stance/pool.jsonl`` (every pool item with its scores) and
``data/stance/round2_items.jsonl`` (the selection). Run:
``python training/build_stance_pool.py``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
from pathlib import Path

from quotestance.corpora.redewiedergabe import iter_redewiedergabe
from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import shared_data_dir
from quotestance.document import Document

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # training.* run as a script
from training.build_stance_items import (
    ENRICH,
    ENRICH_THREAT,
    NC,
    OTHER_GNAD,
    _context,
    _message_text,
    _role_text,
    _sentence_spans,
    count_by,
    detected_items,
    gnad_documents,
    gold_items,
    write_jsonl,
)

REPO = Path(__file__).resolve().parents[1]
STANCE_DIR = REPO / "data" / "stance"
SEED = 13
GPL = "GPL-3.0"


RW_FOLDERS = {
    "main": "main/tsv",
    "samples": "additional/single_annotated/samples/tsv",
    "nonfict": "additional/single_annotated/full_nonfict/tsv",
}


def redewiedergabe_items(
    limit_per_file: int = 40,
    folder: str = "main",
    forms: tuple[str, ...] = ("Direct", "Indirect"),
) -> list[dict]:
    """Gold speech (``forms``; ``Reported`` holds speech acts such as *drohte ihm*) of a
    Redewiedergabe folder, at most ``limit_per_file`` a file."""
    items: list[dict] = []
    directory = shared_data_dir() / "redewiedergabe" / RW_FOLDERS[folder]
    for doc in iter_redewiedergabe(directory):
        spans = _sentence_spans(doc)
        ordered = [spans[k] for k in sorted(spans)]
        kept = 0
        for number, quote in enumerate(doc.gold, 1):
            if quote.form not in forms or quote.medium != "Speech":
                continue
            text, start, end = _message_text(doc, quote)
            if len(text.split()) < 4 or len(text) > 1200:
                continue
            prefix = "rw" if folder == "main" else f"rw-{folder}"
            items.append({
                "id": f"{prefix}:{doc.name}:{number}", "corpus": "redewiedergabe",
                "document": doc.name, "split": "train", "origin": "gold",
                "message_tokens": [], "start": start, "end": end, "form": quote.form,
                "quote": text, "context": _context(doc.text, ordered, start, end),
                "cue": _role_text(doc, quote.cue), "speaker": _role_text(doc, quote.source),
                "addressee": "", "licence": NC, "selection": "pool",
            })  # fmt: skip
            kept += 1
            if kept >= limit_per_file:
                break
    return items


HARMFUL_POOL = {"vio": {"prospensity", "call2violence", "other", "support"}, "dbo": {"criticism"}}


def harmful_items(keep: dict[str, set[str]] = HARMFUL_POOL) -> list[dict]:
    """GermEval harmful-content posts whose own label is in ``keep`` (by default the
    violence-related ones and criticism)."""
    items: list[dict] = []
    base = shared_data_dir() / "germeval-harmful-content" / "GermEval2026"
    for task, labels in keep.items():
        path = base / f"{task}_train_26.csv"
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                if row.get(task) not in labels:
                    continue
                text = " ".join((row.get("description") or "").split())
                if len(text.split()) < 4:
                    continue
                items.append({
                    "id": f"germeval:{task}:{row['id']}", "corpus": "germeval-harmful",
                    "document": f"{task}-{row['id']}", "split": "train", "origin": "post",
                    "message_tokens": [], "start": 0, "end": len(text), "form": "post",
                    "quote": text, "context": text, "cue": "", "speaker": "",
                    "addressee": "", "licence": GPL, "selection": "pool",
                })  # fmt: skip
    return items


def blind_news_documents() -> list[Document]:
    directory = shared_data_dir() / "spkatt-news" / "test_blind" / "task2"
    return [d.to_document() for d in iter_spkatt(directory, corpus="news")]


def build_pool() -> list[dict]:
    with open(STANCE_DIR / "items.jsonl", encoding="utf-8") as handle:
        annotated = {json.loads(line)["id"] for line in handle}
    pool = [i for i in gold_items("gepade", "CC BY-SA 4.0") if i["id"] not in annotated]
    pool += redewiedergabe_items()
    pool += harmful_items()
    blind = list(detected_items(blind_news_documents(), "spkatt-news-blind", "train", NC))
    pool += blind
    gnad = detected_items(gnad_documents(OTHER_GNAD), "10kgnad", "train", NC)
    pool += [i for i in gnad if i["id"] not in annotated]
    for item in pool:
        item["selection"] = "pool"
    return pool


def score(pool: list[dict]) -> None:
    from quotestance.stance.classifier import StanceClassifier

    clf = StanceClassifier.load()
    records = [
        {"text": i["quote"], "context": i["context"], "cue": i["cue"], "speaker": i["speaker"]}
        for i in pool
    ]
    for start in range(0, len(records), 512):
        results = clf.classify_records(records[start : start + 512])
        for item, (_, scores) in zip(pool[start : start + 512], results, strict=True):
            item["model_scores"] = scores
        print(f"scored {min(start + 512, len(records))}/{len(records)}", flush=True)


def select(pool: list[dict], budget: dict[str, int], entropy_budget: int) -> list[dict]:
    """Per label: highest model probability (+0.15 for a keyword hit on threat/cooperation),
    ties broken by uncertainty; then the most uncertain of the rest."""
    chosen: dict[str, dict] = {}
    for label, count in budget.items():

        def priority(item: dict, label: str = label) -> float:
            p = item["model_scores"]
            words = item["quote"] + " " + item["cue"]
            bonus = 0.0
            if label == "threat" and ENRICH_THREAT.search(words):
                bonus = 0.15
            if label == "cooperation" and ENRICH.search(words):
                bonus = 0.15
            return p[label] + bonus + 0.01 * (1 - max(p.values()))

        ranked = sorted((i for i in pool if i["id"] not in chosen), key=priority, reverse=True)
        for item in ranked[:count]:
            item["selection"] = f"active:{label}"
            chosen[item["id"]] = item

    def entropy(item: dict) -> float:
        return -sum(v * math.log(v + 1e-9) for v in item["model_scores"].values())

    rest = sorted((i for i in pool if i["id"] not in chosen), key=entropy, reverse=True)
    for item in rest[:entropy_budget]:
        item["selection"] = "active:uncertain"
        chosen[item["id"]] = item
    selected = list(chosen.values())
    random.Random(SEED).shuffle(selected)
    return selected


def build_round3_pool() -> list[dict]:
    """Round three, for threat and cooperation: Redewiedergabe speech not in round two's
    pool (reported speech acts of the main corpus, the single-annotated samples and
    non-fiction) and the GermEval posts the first pool left out (their label ``nothing``)
    that hold a threat or cooperation keyword."""
    seen: set[str] = set()
    for name in ("items.jsonl", "round2_items.jsonl"):
        path = STANCE_DIR / name
        if path.exists():
            with open(path, encoding="utf-8") as handle:
                seen.update(json.loads(line)["id"] for line in handle)
    pool = redewiedergabe_items(60, "main", ("Reported",))
    pool += redewiedergabe_items(60, "samples", ("Direct", "Indirect", "Reported"))
    pool += redewiedergabe_items(200, "nonfict", ("Direct", "Indirect", "Reported"))
    posts = harmful_items({"vio": {"nothing"}, "dbo": {"nothing"}})
    # 29,000 posts: only those with threat or cooperation words enter (a keyword signal
    # choosing what the model scores; it labels nothing)
    pool += [p for p in posts if ENRICH_THREAT.search(p["quote"]) or ENRICH.search(p["quote"])]
    out, ids = [], set()
    for item in pool:
        if item["id"] not in seen and item["id"] not in ids:
            ids.add(item["id"])
            item["selection"] = "pool"
            out.append(item)
    return out


def build_round4_pool() -> list[dict]:
    """Round four, for cooperation and threat: every item of the round-two and round-three
    pools that no round has read yet, re-scored by the shipped model (trained on rounds one
    to three, so it ranks better than the round-one model that chose before). Detected
    quotes are numbered by the detector of their day, so an item is also left out where its
    span overlaps one already read in the same document."""
    seen: set[str] = set()
    read_spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for name in ("items.jsonl", "round2_items.jsonl", "round3_items.jsonl"):
        with open(STANCE_DIR / name, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                seen.add(row["id"])
                key = (row["corpus"], row["document"])
                read_spans.setdefault(key, []).append((row["start"], row["end"]))

    def read_before(item: dict) -> bool:
        spans = read_spans.get((item["corpus"], item["document"]), [])
        return any(s < item["end"] and e > item["start"] for s, e in spans)

    out, ids = [], set()
    for item in [*build_pool(), *build_round3_pool()]:
        if item["id"] not in seen and item["id"] not in ids and not read_before(item):
            ids.add(item["id"])
            item["selection"] = "pool"
            out.append(item)
    return out


ROUND_POOLS = {2: build_pool, 3: build_round3_pool, 4: build_round4_pool}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round", type=int, choices=sorted(ROUND_POOLS), default=2)
    parser.add_argument("--threat", type=int, default=1300)
    parser.add_argument("--cooperation", type=int, default=900)
    parser.add_argument("--accusation", type=int, default=800)
    parser.add_argument("--uncertain", type=int, default=300)
    args = parser.parse_args(argv)
    pool = ROUND_POOLS[args.round]()
    print(f"pool: {len(pool)} items", flush=True)
    score(pool)
    write_jsonl(STANCE_DIR / f"pool{'' if args.round == 2 else args.round}.jsonl", pool)
    budget = {"threat": args.threat, "cooperation": args.cooperation,
              "accusation": args.accusation}  # fmt: skip
    selected = select(pool, budget, args.uncertain)
    if args.round > 2:
        for item in selected:
            item["selection"] += f"/round{args.round}"
    write_jsonl(STANCE_DIR / f"round{args.round}_items.jsonl", selected)
    counts = count_by(selected, "corpus", "selection")
    print(json.dumps(counts, indent=1), f"\n{len(selected)} selected")


if __name__ == "__main__":
    main()
