"""Score the morphological mood analyser on UD German (gold) and Redewiedergabe (silver).

Gold: UD ``Mood=Sub|Tense=Pres`` is Konjunktiv I (subj1), ``Mood=Sub|Tense=Past`` Konjunktiv II
(subj2), ``Mood=Ind`` indicative, ``Mood=Imp`` imperative; only words with a Mood feature
(finite verbs) are gold verbs. Redewiedergabe's ``rfpos`` (RFTagger, automatic, so silver)
is read the same way (``VFIN.*.Pres.Subj`` subj1, ``VFIN.*.Past.Subj`` subj2, ``.Ind``, ``VIMP``).

The analyser is fed UD's *surface* tokens ("zum", not "zu dem"), since that is what the
pipeline's tokenizer produces and HanTa tags contractions as APPRART; German multiword tokens
are preposition+article contractions, so no verb is lost by this.

Rows: the analyser; the same mood logic on HanTa's own (slow) ``tag_sent`` as a reference for
the fast tagger's accuracy cost; a naive list of 12 common Konjunktiv I forms. Writes
``reports/mood.md`` and ``reports/mood.json``.

Run: ``.venv/bin/python training/score_mood.py``
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quotestance import morphology  # noqa: E402
from quotestance.corpora.spkatt import iter_spkatt  # noqa: E402
from quotestance.corpora.split import corpus_path  # noqa: E402
from quotestance.document import Document  # noqa: E402
from quotestance.text import segment  # noqa: E402

CLASSES = ("subj1", "subj2", "ind", "imp")
LABELS = (*CLASSES, "none")  # "none": no Mood (gold) / non-finite (predicted)
NAIVE_SUBJ1 = frozenset(
    (
        "habe",
        "sei",
        "seien",
        "werde",
        "könne",
        "müsse",
        "gebe",
        "wolle",
        "solle",
        "dürfe",
        "komme",
        "wisse",
    )
)
RW_SAMPLE_EVERY = 10  # every 10th Redewiedergabe file (sorted by name): ~73 files, ~49k tokens
REPORTS = ROOT / "reports"
THROUGHPUT_REPEATS = 5

Analyse = Callable[[list[str]], list[str | None]]


@dataclass
class Sentence:
    """Surface words, gold mood per word ("none" where no Mood) and gold STTS tags if any."""

    words: list[str]
    gold: list[str]
    xpos: list[str | None] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Readers


def _ud_mood(feats: str) -> str:
    parts = dict(f.split("=", 1) for f in feats.split("|") if "=" in f)
    mood = parts.get("Mood")
    if mood == "Sub":
        return "subj2" if parts.get("Tense") == "Past" else "subj1"
    return {"Ind": "ind", "Imp": "imp"}.get(mood or "", "none")


def read_conllu(path: Path, stts: bool = False) -> Iterator[Sentence]:
    """Sentences of surface tokens; a multiword token takes the mood of any verb inside it.

    ``stts``: the XPOS column is STTS (GSD; PUD's is not) and is kept for POS accuracy.
    """
    words: list[str] = []
    gold: list[str] = []
    xpos: list[str | None] = []
    span_end = 0  # last syntactic id covered by the current multiword token
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line:
                if words:
                    yield Sentence(words, gold, xpos)
                words, gold, xpos, span_end = [], [], [], 0
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            ident = cols[0]
            if "." in ident:
                continue
            if "-" in ident:
                last = int(ident.split("-")[1])
                words.append(cols[1])
                gold.append("none")
                xpos.append(None)
                span_end = last
                continue
            mood = _ud_mood(cols[5])
            if int(ident) <= span_end:
                if mood != "none":
                    gold[-1] = mood
                continue
            words.append(cols[1])
            gold.append(mood)
            xpos.append(cols[4] if stts else None)
    if words:
        yield Sentence(words, gold, xpos)


def _rf_mood(rfpos: str) -> str:
    if rfpos.startswith("VIMP"):
        return "imp"
    if not rfpos.startswith("VFIN"):
        return "none"
    if rfpos.endswith(".Subj"):
        return "subj2" if ".Past." in rfpos else "subj1"
    return "ind" if rfpos.endswith(".Ind") else "none"


def read_redewiedergabe(directory: Path, every: int = RW_SAMPLE_EVERY) -> Iterator[Sentence]:
    """Sentences (``sentstart == yes``) of every ``every``-th file, gold mood from ``rfpos``."""
    files = sorted(p for p in directory.glob("*.tsv") if p.name != "metadata.tsv")
    for path in files[::every]:
        words: list[str] = []
        gold: list[str] = []
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split("\t")
            col = {name: i for i, name in enumerate(header)}
            for line in handle:
                cols = line.rstrip("\n").split("\t")
                if len(cols) < len(header) or not cols[col["tok"]]:
                    continue
                if cols[col["sentstart"]] == "yes" and words:
                    yield Sentence(words, gold)
                    words, gold = [], []
                words.append(cols[col["tok"]])
                gold.append(_rf_mood(cols[col["rfpos"]]))
        if words:
            yield Sentence(words, gold)


# --------------------------------------------------------------------------------------------
# Systems


def fast_system(analyser: morphology.MoodAnalyser) -> Callable[[list[str]], list[tuple]]:
    return analyser.analyse


def hanta_reference_system() -> Callable[[list[str]], list[tuple]]:
    """HanTa's own ``tag_sent`` (full HMM + analyser per word) with the same mood logic."""
    hanta = morphology._shared_tagger().hanta

    def run(words: list[str]) -> list[tuple]:
        tagged = hanta.tag_sent(words)
        pos = [morphology._stts(tag) for _, _, tag in tagged]
        lemmas = [lemma for _, lemma, _ in tagged]
        moods = morphology.sentence_moods(words, pos, lemmas)
        return list(zip(lemmas, pos, moods, strict=True))

    return run


def naive_system(words: list[str]) -> list[tuple]:
    """subj1 for 12 listed forms, "ind" for every other word (finite-verb detection is free)."""
    return [(w, "", "subj1" if w.lower() in NAIVE_SUBJ1 else "ind") for w in words]


# --------------------------------------------------------------------------------------------
# Scoring


def score(
    sentences: list[Sentence], system: Callable[[list[str]], list[tuple]], naive: bool = False
) -> dict:
    """Per-class P/R/F1 and the confusion matrix; the naive row is scored on gold verbs only."""
    confusion: Counter[tuple[str, str]] = Counter()
    pos_total = pos_right = 0
    errors: Counter[tuple[str, str, str]] = Counter()
    tokens = 0
    start = time.process_time()
    for sent in sentences:
        out = system(sent.words)
        tokens += len(sent.words)
        for i, (_lemma, pos, mood) in enumerate(out):
            gold = sent.gold[i]
            pred = mood or "none"
            if naive and gold == "none":
                continue
            confusion[(gold, pred)] += 1
            if gold != pred and "subj1" in (gold, pred):
                errors[(sent.words[i], gold, pred)] += 1
            if sent.xpos and sent.xpos[i] is not None and not naive:
                pos_total += 1
                pos_right += pos == sent.xpos[i] or (pos, sent.xpos[i]) == ("NN", "NE")
    seconds = time.process_time() - start
    result: dict = {"classes": {}, "tokens": tokens, "seconds": round(seconds, 3)}
    for c in CLASSES:
        tp = confusion[(c, c)]
        fp = sum(v for (g, p), v in confusion.items() if p == c and g != c)
        fn = sum(v for (g, p), v in confusion.items() if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        result["classes"][c] = {
            "precision": round(prec, 3),
            "recall": round(rec, 3),
            "f1": round(f1, 3),
            "support": tp + fn,
        }
    gold_finite = sum(v for (g, _), v in confusion.items() if g in CLASSES)
    result["finite_as_nonfinite"] = sum(
        v for (g, p), v in confusion.items() if g in CLASSES and p == "none"
    )
    result["gold_finite"] = gold_finite
    result["confusion"] = {g: {p: confusion[(g, p)] for p in LABELS} for g in LABELS}
    if pos_total:
        result["pos_accuracy_gsd"] = round(pos_right / pos_total, 4)
    result["top_subj1_errors"] = [
        {"form": w, "gold": g, "pred": p, "count": n} for (w, g, p), n in errors.most_common(15)
    ]
    return result


def _cold_run(docs: list[Document]) -> tuple[float, float, float, float]:
    """(load, cold, cold wall, warm rerun) seconds, from a fresh tagger and empty caches."""
    morphology._shared_tagger.cache_clear()
    morphology._mood_cached.cache_clear()
    morphology.paradigm.cache_clear()
    t0 = time.process_time()
    analyser = morphology.MoodAnalyser()
    load = time.process_time() - t0
    t1, w1 = time.process_time(), time.perf_counter()
    for doc in docs:
        analyser(doc)
    cold, wall = time.process_time() - t1, time.perf_counter() - w1
    t2 = time.process_time()
    for doc in docs:
        analyser(doc)
    return load, cold, wall, time.process_time() - t2


def throughput_spkatt(repeats: int = THROUGHPUT_REPEATS) -> dict:
    """MoodAnalyser over the SpkAtt-news train articles, from a fresh tagger and caches.

    Timed in process CPU time; the machine is shared and single runs vary by ±30 %, so the
    cold run is repeated and the median reported with the range (wall time beside it).
    """
    docs = []
    for gold_doc in iter_spkatt(corpus_path("spkatt-news")):
        doc = Document(text=gold_doc.text, name=gold_doc.name)
        doc.sentences = segment(doc.text)
        docs.append(doc)
    runs = sorted((_cold_run(docs) for _ in range(repeats)), key=lambda run: run[1])
    load, cold, wall, warm = runs[len(runs) // 2]
    tokens = sum(len(s.tokens) for d in docs for s in d.sentences)
    return {
        "articles": len(docs),
        "tokens": tokens,
        "repeats": repeats,
        "load_seconds": round(load, 3),
        "cold_seconds": round(cold, 3),
        "cold_seconds_range": [round(runs[0][1], 3), round(runs[-1][1], 3)],
        "cold_wall_seconds": round(wall, 3),
        "articles_per_s": round(len(docs) / cold, 1),
        "tokens_per_s": round(tokens / cold),
        "warm_seconds": round(warm, 3),
        "warm_articles_per_s": round(len(docs) / warm, 1),
    }


# --------------------------------------------------------------------------------------------
# Report


def _table(rows: dict[str, dict]) -> list[str]:
    lines = [
        "| data | system | subj1 P | subj1 R | subj1 F1 | subj2 P | subj2 R | subj2 F1 "
        "| ind P | ind R | ind F1 | finite→non-finite | tokens/s (CPU) |",
        "|---|---|" + "---|" * 11,
    ]
    for name, res in rows.items():
        data, system = name.split(" / ")
        cells = []
        for c in ("subj1", "subj2", "ind"):
            m = res["classes"][c]
            cells += [f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}"]
        nonfinite = f"{res['finite_as_nonfinite']}/{res['gold_finite']}"
        speed = f"{res['tokens'] / res['seconds']:.0f}" if res["seconds"] else "-"
        lines.append(f"| {data} | {system} | " + " | ".join(cells) + f" | {nonfinite} | {speed} |")
    return lines


def _confusion(res: dict) -> list[str]:
    lines = ["| gold \\ pred | " + " | ".join(LABELS) + " |", "|---|" + "---|" * len(LABELS)]
    for g in LABELS:
        row = res["confusion"][g]
        lines.append(f"| {g} | " + " | ".join(str(row[p]) for p in LABELS) + " |")
    return lines


def render(results: dict) -> str:
    rows = results["scores"]
    out = [
        "# Verb mood (quotestance.morphology)",
        "",
        "Per class precision / recall / F1 over finite verbs (gold: UD Mood / RFTagger rfpos; "
        "predictions on words without gold Mood count as false positives). "
        "`naive` = 12 listed Konjunktiv I forms, scored on gold finite verbs only. "
        "`hanta-tag_sent` = same mood logic on HanTa's own slow tagger.",
        "",
    ]
    out += _table(rows)
    out += [
        "",
        "POS accuracy on GSD dev (STTS XPOS, NE/NN merged): "
        + ", ".join(
            f"{k.split(' / ')[1]} {v['pos_accuracy_gsd']:.4f}"
            for k, v in rows.items()
            if k.startswith("GSD")
        ),
        "",
    ]
    tp = results["throughput"]
    out += [
        "## Throughput (MoodAnalyser, SpkAtt-news train, cold caches, one core)",
        "",
        f"{tp['articles']} articles, {tp['tokens']} tokens, CPU time, median of "
        f"{tp['repeats']} fresh runs: load {tp['load_seconds']} s, cold {tp['cold_seconds']} s "
        f"(range {tp['cold_seconds_range'][0]}-{tp['cold_seconds_range'][1]} s; wall "
        f"{tp['cold_wall_seconds']} s) = {tp['articles_per_s']} articles/s, "
        f"{tp['tokens_per_s']} tokens/s; warm rerun {tp['warm_seconds']} s "
        f"({tp['warm_articles_per_s']} articles/s).",
        "",
    ]
    for name in ("UD (GSD dev + PUD) / morphology", "Redewiedergabe sample / morphology"):
        out += [f"## Confusion: {name}", "", *_confusion(rows[name]), ""]
        out += [
            "Top subj1 errors (form, gold, pred, count): "
            + "; ".join(
                f"{e['form']} {e['gold']}→{e['pred']} ×{e['count']}"
                for e in rows[name]["top_subj1_errors"]
            ),
            "",
        ]
    return "\n".join(out)


def main() -> None:
    throughput = throughput_spkatt()
    gsd = list(read_conllu(corpus_path("ud-gsd-dev"), stts=True))
    ud = gsd + list(read_conllu(corpus_path("ud-pud")))
    rw = list(read_redewiedergabe(corpus_path("redewiedergabe")))
    analyser = morphology.MoodAnalyser()
    reference = hanta_reference_system()
    scores = {
        "UD (GSD dev + PUD) / morphology": score(ud, fast_system(analyser)),
        "UD (GSD dev + PUD) / hanta-tag_sent": score(ud, reference),
        "UD (GSD dev + PUD) / naive": score(ud, naive_system, naive=True),
        "GSD dev / morphology": score(gsd, fast_system(analyser)),
        "GSD dev / hanta-tag_sent": score(gsd, reference),
        "Redewiedergabe sample / morphology": score(rw, fast_system(analyser)),
        "Redewiedergabe sample / naive": score(rw, naive_system, naive=True),
    }
    results = {
        "throughput": throughput,
        "scores": scores,
        "data": {
            "ud_sentences": len(ud),
            "rw_sentences": len(rw),
            "rw_files_every": RW_SAMPLE_EVERY,
        },
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "mood.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    text = render(results)
    (REPORTS / "mood.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
