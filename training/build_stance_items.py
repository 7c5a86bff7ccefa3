"""Convert step of the stance data: the quotes that annotators label, one JSON object each.

Sources (licence per row):
- SpkAtt-news (train and dev, every gold message; CC BY-NC-SA 4.0). Dev rows are the test set.
- GePaDe (Bundestag speeches, CC BY-SA 4.0): a seeded random sample of gold messages, plus
  messages *selected* for annotation because their words suggest a threat or an offer of
  cooperation (threat and cooperation are rare in news). The keywords only choose which items
  people read; they never assign a label, and every row records how it was selected.
- 10kGNAD test (Der Standard, CC BY-NC-SA 4.0), International and Inland articles: quotes found by
  quotestance's own detector (no gold quotes exist there), marked ``origin: detected``.
- The seed article's quotes, found by the detector.

Writes ``data/stance/items.jsonl``. Run: ``python training/build_stance_items.py``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from quotestance.corpora.base import AnnotatedDocument, GoldQuote, token_order
from quotestance.corpora.spkatt import iter_spkatt
from quotestance.corpora.split import corpus_path, is_dev, shared_data_dir
from quotestance.document import Document

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "stance" / "items.jsonl"
NC = "CC BY-NC-SA 4.0"
SEED = 13

# Selection of GePaDe messages for annotation only (see module docstring).
ENRICH = re.compile(
    r"droh|warn|sanktion|konsequenz|ultimat|abbruch|abbrech|klage|verklag|vergelt|strafe"
    r"|zusammenarb|kooper|unterstütz|bereit|angebot|gemeinsam|einig|verhandl|partner|hilfe"
    r"|helfen|dialog|gespräch|vereinbar|abkommen|bündnis",
    re.IGNORECASE,
)


# A second, threat-focused selection (threat is the rarest label), over the GePaDe messages
# and 10kGNAD quotes not yet selected; again for choosing items only.
ENRICH_THREAT = re.compile(
    r"droh|warn|ultimat|sanktion|konsequenz|bestraf|strafe\b|klage|verklag|vergelt|rache|streik"
    r"|abbruch|abbrech|aufkündig|entzieh|aussetz|einfrier|blockier|boykott|zurückschlag|entlass"
    r"|ausschluss|ausschließ|misstrauen|nicht hinnehm|nicht dulden|nicht zulassen|sonst"
    r"|andernfalls|es sei denn|notfalls|gegebenenfalls|zwingen|vorgehen gegen|gegen .* vorgehen",
    re.IGNORECASE,
)
OTHER_GNAD = ("Wirtschaft", "Panorama", "Etat", "Web", "Sport", "Wissenschaft", "Kultur")


def _sentence_spans(doc: AnnotatedDocument) -> dict[int, tuple[int, int]]:
    spans: dict[int, tuple[int, int]] = {}
    for token_id, (start, end) in doc.token_spans.items():
        sentence = token_order(token_id)[0]
        low, high = spans.get(sentence, (start, end))
        spans[sentence] = (min(low, start), max(high, end))
    return spans


def _role_text(doc: AnnotatedDocument, ids: set[str]) -> str:
    """Tokens of a role in order; gaps in a discontinuous role become " … "."""
    parts: list[str] = []
    previous: tuple[int, int] | None = None
    for token_id in sorted(ids, key=token_order):
        key = token_order(token_id)
        if previous is not None and parts:
            contiguous = key[0] == previous[0] and key[1] == previous[1] + 1
            contiguous |= key[0] == previous[0] + 1 and key[1] == 0
            parts.append(" " if contiguous else " … ")
        parts.append(doc.token_text(token_id))
        previous = key
    return "".join(parts)


def _message_text(doc: AnnotatedDocument, quote: GoldQuote) -> tuple[str, int, int]:
    ordered = sorted(quote.message, key=token_order)
    start = doc.token_spans[ordered[0]][0]
    end = doc.token_spans[ordered[-1]][1]
    return _role_text(doc, quote.message), start, end


def _context(text: str, sentences: list[tuple[int, int]], start: int, end: int) -> str:
    """The sentences the quote touches, with the sentence before (for continued speakers)."""
    touched = [i for i, (s, e) in enumerate(sentences) if s < end and e > start]
    if not touched:
        return text[start:end]
    first = max(0, touched[0] - 1)
    return text[sentences[first][0] : sentences[touched[-1]][1]]


def gold_items(corpus: str, licence: str) -> Iterator[dict]:
    key = "spkatt-news" if corpus == "news" else "spkatt-gepade"
    for doc in iter_spkatt(corpus_path(key), corpus=corpus):
        sentence_spans = _sentence_spans(doc)
        ordered = [sentence_spans[k] for k in sorted(sentence_spans)]
        quotes = sorted(doc.gold, key=lambda q: min(token_order(t) for t in q.message))
        for number, quote in enumerate(quotes, 1):
            text, start, end = _message_text(doc, quote)
            yield {
                "id": f"{corpus}:{doc.name}:{number}",
                "corpus": key,
                "document": doc.name,
                "split": "test" if corpus == "news" and is_dev(doc.name) else "train",
                "origin": "gold",
                "message_tokens": sorted(quote.message, key=token_order),
                "start": start,
                "end": end,
                "form": quote.form,
                "quote": text,
                "context": _context(doc.text, ordered, start, end),
                "cue": _role_text(doc, quote.cue),
                "speaker": _role_text(doc, quote.source),
                "addressee": _role_text(doc, quote.addressee),
                "licence": licence,
                "selection": "all",
            }


def detected_items(documents: list[Document], corpus: str, split: str, licence: str):
    from quotestance.pipeline import Pipeline

    pipeline = Pipeline.default()
    for doc in pipeline.pipe(documents, batch_size=16):
        ordered = [(s.start, s.end) for s in doc.sentences]
        for quote in doc.quotes:
            yield {
                "id": f"{corpus}:{doc.name}:{quote.id}",
                "corpus": corpus,
                "document": doc.name,
                "split": split,
                "origin": "detected",
                "message_tokens": [],
                "start": quote.start,
                "end": quote.end,
                "form": quote.kind,
                "quote": quote.text,
                "context": _context(doc.text, ordered, quote.start, quote.end),
                "cue": quote.cue.text if quote.cue else "",
                "speaker": quote.speaker.text if quote.speaker else "",
                "addressee": quote.addressee.text if quote.addressee else "",
                "licence": licence,
                "selection": "all",
            }


def gnad_documents(categories: tuple[str, ...]) -> list[Document]:
    path = shared_data_dir() / "10kgnad" / "test.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";", quotechar="'"))
    return [
        Document(text=text, name=f"10kgnad-test-{index:04d}")
        for index, (label, text) in enumerate(rows)
        if label in categories
    ]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """One JSON object a line (UTF-8, non-ASCII kept), the folder made if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def count_by(rows: list[dict], *fields: str) -> dict[str, int]:
    """How many rows share each ``a/b/…`` combination of ``fields``, sorted."""
    counts: dict[str, int] = {}
    for row in rows:
        key = "/".join(str(row[f]) for f in fields)
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def gepade_selection(items: list[dict], sample: int, enriched: int) -> list[dict]:
    rng = random.Random(SEED)
    shuffled = items[:]
    rng.shuffle(shuffled)
    chosen = shuffled[:sample]
    for item in chosen:
        item["selection"] = "random"
    rest = [i for i in shuffled[sample:] if ENRICH.search(i["quote"] + " " + i["cue"])]
    for item in rest[:enriched]:
        item["selection"] = "keyword-enriched"
    return chosen + rest[:enriched]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gepade-sample", type=int, default=600)
    parser.add_argument("--gepade-enriched", type=int, default=600)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    items = list(gold_items("news", NC))
    gepade = list(gold_items("gepade", "CC BY-SA 4.0"))
    chosen = gepade_selection(gepade, args.gepade_sample, args.gepade_enriched)
    items += chosen
    gnad = gnad_documents(("International", "Inland"))
    items += list(detected_items(gnad, "10kgnad", "train", NC))
    seed_path = REPO / "seeds" / "000_fe90af5ba305cfe1.txt"
    seed = Document(text=seed_path.read_text(encoding="utf-8"), name=seed_path.stem)
    items += list(detected_items([seed], "seed", "seed", NC))
    # second round: threat- and cooperation-rich items from what was not selected yet
    taken = {item["id"] for item in chosen}
    extra = [
        i
        for i in gepade
        if i["id"] not in taken and ENRICH_THREAT.search(i["quote"] + " " + i["cue"])
    ]
    for item in detected_items(gnad_documents(OTHER_GNAD), "10kgnad", "train", NC):
        words = item["quote"] + " " + item["cue"]
        if ENRICH_THREAT.search(words) or ENRICH.search(words):
            extra.append(item)
    for item in extra:
        item["selection"] = "keyword-enriched-2"
    items += extra
    write_jsonl(args.out, items)
    counts = count_by(items, "corpus", "split", "selection")
    print(json.dumps(counts, indent=1), f"\n{len(items)} items -> {args.out}")


if __name__ == "__main__":
    main()
